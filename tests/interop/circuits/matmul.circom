pragma circom 2.1.0;

// C = A * B for n x n matrices: A private, B public, C public output, so the verification key
// has 2 n^2 public signals (18 for n = 3). One constraint per product term.
template MatMul(n) {
    signal input a[n][n];
    signal input b[n][n];
    signal output c[n][n];

    signal prod[n][n][n];
    for (var i = 0; i < n; i++) {
        for (var j = 0; j < n; j++) {
            var acc = 0;
            for (var k = 0; k < n; k++) {
                prod[i][j][k] <== a[i][k] * b[k][j];
                acc += prod[i][j][k];
            }
            c[i][j] <== acc;
        }
    }
}

component main {public [b]} = MatMul(3);
