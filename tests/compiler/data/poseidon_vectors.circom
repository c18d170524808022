pragma circom 2.1.0;
include "circomlib/circuits/poseidon.circom";

// Known answers for zkinfer's Poseidon (compiler/src/poseidon.cpp), computed by circomlib's own
// Poseidon template; regen_poseidon_vectors.sh compiles this with circom2, computes the witness
// with snarkjs and prints the outputs that tests/compiler/test_poseidon.cpp stores.
//   small[n-1] = Poseidon(n)(a[0..n))     for n = 1..16
//   large[n-1] = Poseidon(n)(b[0..n))     for n = 1..16
//   commit17   = zkinfer's poseidon_commit of c[0..17): h0 = 17,
//                h1 = Poseidon(16)(h0, c[0..15)), h2 = Poseidon(16)(h1, c[15], c[16], 0 x 13)
//   commit0    = poseidon_commit of the empty vector: Poseidon(16)(0, 0 x 15)
template PoseidonVectors() {
    signal input a[16];
    signal input b[16];
    signal input c[17];
    signal output small[16];
    signal output large[16];
    signal output commit17;
    signal output commit0;

    component ps[16];
    component pl[16];
    for (var n = 1; n <= 16; n++) {
        ps[n - 1] = Poseidon(n);
        pl[n - 1] = Poseidon(n);
        for (var i = 0; i < n; i++) {
            ps[n - 1].inputs[i] <== a[i];
            pl[n - 1].inputs[i] <== b[i];
        }
        small[n - 1] <== ps[n - 1].out;
        large[n - 1] <== pl[n - 1].out;
    }

    component h1 = Poseidon(16);
    h1.inputs[0] <== 17;
    for (var i = 0; i < 15; i++) h1.inputs[1 + i] <== c[i];
    component h2 = Poseidon(16);
    h2.inputs[0] <== h1.out;
    h2.inputs[1] <== c[15];
    h2.inputs[2] <== c[16];
    for (var i = 3; i < 16; i++) h2.inputs[i] <== 0;
    commit17 <== h2.out;

    component e = Poseidon(16);
    for (var i = 0; i < 16; i++) e.inputs[i] <== 0;
    commit0 <== e.out;
}

component main = PoseidonVectors();
