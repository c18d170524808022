pragma circom 2.1.0;
include "circomlib/circuits/poseidon.circom";

// "I know a secret whose hash, stretched by n rounds of Poseidon, is this public digest":
// h[0] = Poseidon(secret, salt), h[i] = Poseidon(h[i-1], salt), digest = h[n-1]. The salt
// and the digest are public; the secret stays private. 64 rounds: about 15,600 constraints,
// a 2^14 proving domain.
template HashPreimage(n) {
    signal input secret;
    signal input salt;
    signal output digest;

    component h[n];
    for (var i = 0; i < n; i++) {
        h[i] = Poseidon(2);
        h[i].inputs[0] <== i == 0 ? secret : h[i - 1].out;
        h[i].inputs[1] <== salt;
    }
    digest <== h[n - 1].out;
}

component main {public [salt]} = HashPreimage(64);
