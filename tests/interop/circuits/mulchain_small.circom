pragma circom 2.1.0;
include "mulchain.circom";

component main {public [x]} = MulChain(100);
