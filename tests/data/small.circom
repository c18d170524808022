pragma circom 2.1.0;

include "circomlib/circuits/comparators.circom";

// A small circuit for the format fixtures: public outputs, a public input, private inputs,
// a product chain and a comparator (whose constraints carry coefficients like -1 = r - 1
// and 2^k).
template Small() {
    signal input a;   // public
    signal input b;
    signal input c;
    signal output prod;
    signal output lt;

    signal ab;
    ab <== a * b;
    prod <== ab * c + 3;

    component cmp = LessThan(8);
    cmp.in[0] <== a;
    cmp.in[1] <== b;
    lt <== cmp.out;
}

component main {public [a]} = Small();
