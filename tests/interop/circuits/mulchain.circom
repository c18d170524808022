pragma circom 2.1.0;

// A chain of n multiplications: c[0] = x, c[i] = c[i-1] * c[i-1] + y (mod r) needs one
// constraint per step, so the constraint count is exactly n. x is public, y private, the last
// link is the public output.
template MulChain(n) {
    signal input x;
    signal input y;
    signal output out;

    signal c[n + 1];
    c[0] <== x;
    for (var i = 1; i <= n; i++) {
        c[i] <== c[i - 1] * c[i - 1] + y;
    }
    out <== c[n];
}
