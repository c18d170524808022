pragma circom 2.1.0;
include "mulchain.circom";

// 70,000 constraints: above 2^16, so the proving domain is 2^17.
component main {public [x]} = MulChain(70000);
