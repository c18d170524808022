pragma circom 2.1.0;
include "circomlib/circuits/poseidon.circom";

// h[0] = seed, h[i] = Poseidon(h[i-1], key): k hashes of circomlib's Poseidon (t = 3). The
// seed is public, the key private, the final hash is the public output.
template PoseidonChain(k) {
    signal input seed;
    signal input key;
    signal output out;

    signal h[k + 1];
    component p[k];
    h[0] <== seed;
    for (var i = 0; i < k; i++) {
        p[i] = Poseidon(2);
        p[i].inputs[0] <== h[i];
        p[i].inputs[1] <== key;
        h[i + 1] <== p[i].out;
    }
    out <== h[k];
}

component main {public [seed]} = PoseidonChain(8);
