pragma circom 2.0.0;

// zkinfer's setup fixture: public inputs and outputs, linear and non-linear constraints, small,
// negative and full-size coefficients, a signal used by many constraints, an unused input.
template SetupSmall(n) {
    signal input a;
    signal input b;
    signal input c[n];
    signal input unused;
    signal output out;
    signal output lin;

    signal x[n];
    x[0] <== a * b;
    for (var i = 1; i < n; i++) {
        x[i] <== (x[i-1] + 12345678901234567890123 * a - 7 * b) * (c[i] + 3);
    }
    out <== x[n-1] * x[n-2];
    lin <== 3 * a + 5 * b - 21888242871839275222246405745257275088548364400416034343698204186575808495616 * c[0]
            + 987654321987654321987654321987654321987654321 * x[1];
}

component main {public [a, c]} = SetupSmall(6);
