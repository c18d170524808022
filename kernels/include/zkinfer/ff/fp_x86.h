// x86-64 host kernels for Fp<P> (4x64-bit Montgomery form, modulus below 2^254) and the
// run-time choice between them. fp.h calls these when it is compiled for an x86-64 host and not
// constant-evaluated; the portable C++ in fp.h serves constant evaluation, other hosts, and
// ZKINFER_CPU_ISA=portable.
//
// Variants (HostIsa), all bit-identical (tests/unit/test_field_isa.cpp):
//   portable  the C++ in fp.h (u128 products).
//   x86_64    MUL/ADC inline asm: runs on every x86-64.
//   adx       MULX + ADCX/ADOX inline asm (BMI2 + ADX: Intel since Broadwell, AMD since Zen).
// Add and subtract use plain x86-64 (ADD/ADC/SUB/SBB/CMOV) in both asm variants. Where host_isa
// is adx and the CPU has AVX-512 IFMA, batches of independent products (cpu/field_batch.h) run
// eight at a time in vector lanes.
//
// Why a run-time branch inside the inline operators rather than one build per ISA: the field
// code is header-only and inlined into every file that does arithmetic, so building hot files
// once per ISA would put differently compiled copies of the same inline functions (pow, inverse,
// curve formulas) into one program, and the linker keeps one of them at random: an ADX copy
// could then run on a CPU without ADX. A branch on a variable that never changes after start-up
// is always predicted: a chain of products through the dispatching operator took 61.6 cycles
// a step against 62 for the bare asm. Every file compiles the same code, so there is nothing
// to mix up, and ZKINFER_CPU_ISA=portable|x86_64|adx runs any test on any variant.
//
// Measured on the AMD EPYC (Zen 4, about 3.65 GHz) of the dev machines, g++ 12 -O3, bench_field
// medians, Fq (Fr the same), ns per dependent operation (latency) / independent (throughput):
//                  before (portable C++ only)   x86_64 (MUL/ADC)   adx (MULX/ADCX/ADOX)
//   mul, sqr       40.4 / 36.4                  31.9 / 23.4        17.8 / 15.9
//   add            12.8 / 11.2                   1.8 /  1.8         1.8 /  1.8
//   sub             8.5 / 10.2                   2.2 /  2.1         2.2 /  2.1
// MULX/ADX is 1.8x faster than MUL/ADC in latency and 1.5x in throughput, so both variants and
// the choice between them are kept; MUL/ADC serves CPUs without ADX. cpu::mul_batch with AVX-512
// IFMA: 6.6 ns a product.
#pragma once

#include <cstdint>

#include "zkinfer/ff/u256.h"

namespace zkinfer {

// Which implementation of the host field arithmetic runs (ordered: each needs the one before).
enum class HostIsa : uint8_t { portable = 0, x86_64 = 1, adx = 2 };

}  // namespace zkinfer

#if ZKINFER_X86_64_HOST

#include <cpuid.h>

#include <cstdlib>
#include <cstring>

namespace zkinfer::x86 {

// The best variant this CPU runs: adx when CPUID reports both BMI2 (MULX) and ADX.
inline HostIsa best_host_isa() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return HostIsa::x86_64;
  return (b & bit_BMI2) && (b & bit_ADX) ? HostIsa::adx : HostIsa::x86_64;
}

// AVX-512 F and IFMA, with the 512-bit register state enabled by the OS (XCR0: SSE, AVX,
// opmask, ZMM0-15 upper halves, ZMM16-31). Asked once, then cached.
inline bool cpu_has_avx512ifma() {
  static const bool has = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if ((b & (bit_AVX512F | bit_AVX512IFMA)) != (bit_AVX512F | bit_AVX512IFMA)) return false;
    unsigned xcr0, xcr0_hi;
    asm("xgetbv" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0));
    return (xcr0 & 0xe6) == 0xe6;
  }();
  return has;
}

// "portable", "x86_64" or "adx"; anything else (or null) gives `fallback`.
inline HostIsa parse_host_isa(const char* s, HostIsa fallback) {
  if (!s) return fallback;
  if (std::strcmp(s, "portable") == 0) return HostIsa::portable;
  if (std::strcmp(s, "x86_64") == 0) return HostIsa::x86_64;
  if (std::strcmp(s, "adx") == 0) return HostIsa::adx;
  return fallback;
}

inline const char* host_isa_name(HostIsa isa) {
  switch (isa) {
    case HostIsa::portable: return "portable";
    case HostIsa::x86_64: return "x86_64";
    case HostIsa::adx: return "adx";
  }
  return "?";
}

// The CPU's best variant, lowered by ZKINFER_CPU_ISA (never raised above what the CPU runs).
inline HostIsa detect_host_isa() {
  HostIsa best = best_host_isa();
  HostIsa want = parse_host_isa(std::getenv("ZKINFER_CPU_ISA"), best);
  return want < best ? want : best;
}

// The variant every Fp operation uses. Set once at start-up; tests and benchmarks switch it
// between measurements (only to values <= best_host_isa()). Static initialisers that do field
// arithmetic before this one has run see the zero-initialised value, portable, which is correct.
inline HostIsa host_isa = detect_host_isa();

// The modulus words and -p^-1 mod 2^64 (mc[0..3], mc[4]), which the asm reads as memory operands.
// Hidden, so that position-independent code reaches them relative to rip too: through the GOT
// each would need a register, and g++ -O2 -fPIC then runs out of registers in mul_adx.
template <class P>
inline constexpr uint64_t kMontConsts[5] __attribute__((visibility("hidden"))) = {
    P::modulus.w[0], P::modulus.w[1], P::modulus.w[2], P::modulus.w[3],
    u256::neg_inv64(P::modulus.w[0])};

// Host-only (fp.h calls these from the host branch of its host/device functions).
#define ZK_X86_INLINE inline __attribute__((always_inline))
// Operand reference in the asm below: ZK_X86_S("t0") -> "%[t0]".
#define ZK_X86_S(x) "%[" x "]"

// ---- add / subtract (plain x86-64) ---------------------------------------------------------

// a + b mod p for a, b < p < 2^254: the sum fits in 256 bits, then one conditional subtraction.
// 1.8 ns latency (portable C++ with g++ 12: 12.8 ns before the carry builtins, 3.2 after).
ZK_X86_INLINE U256 add(const uint64_t* a, const uint64_t* b, const uint64_t (&mc)[5]) {
  uint64_t r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], s0, s1, s2, s3;
  asm("addq %[b0], %[r0]\n\t"
      "adcq %[b1], %[r1]\n\t"
      "adcq %[b2], %[r2]\n\t"
      "adcq %[b3], %[r3]\n\t"
      "movq %[r0], %[s0]\n\t"
      "movq %[r1], %[s1]\n\t"
      "movq %[r2], %[s2]\n\t"
      "movq %[r3], %[s3]\n\t"
      "subq %[p0], %[s0]\n\t"
      "sbbq %[p1], %[s1]\n\t"
      "sbbq %[p2], %[s2]\n\t"
      "sbbq %[p3], %[s3]\n\t"
      // borrow: the sum was below p, keep it
      "cmovcq %[r0], %[s0]\n\t"
      "cmovcq %[r1], %[s1]\n\t"
      "cmovcq %[r2], %[s2]\n\t"
      "cmovcq %[r3], %[s3]\n\t"
      : [r0] "+&r"(r0), [r1] "+&r"(r1), [r2] "+&r"(r2), [r3] "+&r"(r3),
        [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3)
      : [b0] "rm"(b[0]), [b1] "rm"(b[1]), [b2] "rm"(b[2]), [b3] "rm"(b[3]),
        [p0] "m"(mc[0]), [p1] "m"(mc[1]), [p2] "m"(mc[2]), [p3] "m"(mc[3])
      : "cc");
  return U256{{s0, s1, s2, s3}};
}

// a - b mod p: subtract, and where that borrowed take the difference plus p.
ZK_X86_INLINE U256 sub(const uint64_t* a, const uint64_t* b, const uint64_t (&mc)[5]) {
  uint64_t r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], s0, s1, s2, s3, borrow;
  asm("subq %[b0], %[r0]\n\t"
      "sbbq %[b1], %[r1]\n\t"
      "sbbq %[b2], %[r2]\n\t"
      "sbbq %[b3], %[r3]\n\t"
      "sbbq %[br], %[br]\n\t"  // br = borrow ? ~0 : 0; the addition below overwrites CF
      "movq %[r0], %[s0]\n\t"
      "movq %[r1], %[s1]\n\t"
      "movq %[r2], %[s2]\n\t"
      "movq %[r3], %[s3]\n\t"
      "addq %[p0], %[s0]\n\t"
      "adcq %[p1], %[s1]\n\t"
      "adcq %[p2], %[s2]\n\t"
      "adcq %[p3], %[s3]\n\t"
      "testq %[br], %[br]\n\t"
      "cmovzq %[r0], %[s0]\n\t"
      "cmovzq %[r1], %[s1]\n\t"
      "cmovzq %[r2], %[s2]\n\t"
      "cmovzq %[r3], %[s3]\n\t"
      : [r0] "+&r"(r0), [r1] "+&r"(r1), [r2] "+&r"(r2), [r3] "+&r"(r3),
        [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3), [br] "=&r"(borrow)
      : [b0] "rm"(b[0]), [b1] "rm"(b[1]), [b2] "rm"(b[2]), [b3] "rm"(b[3]),
        [p0] "m"(mc[0]), [p1] "m"(mc[1]), [p2] "m"(mc[2]), [p3] "m"(mc[3])
      : "cc");
  return U256{{s0, s1, s2, s3}};
}

// ---- Montgomery multiplication, MULX + ADCX/ADOX ------------------------------------------
//
// CIOS without the extra carry word (the modulus leaves two spare bits, as in fp.h): four rounds
// t = (t + a*b[i] + m*p) / 2^64 with m = t[0] * -p^-1 mod 2^64. MULX leaves the flags alone, and
// ADCX (carry flag) and ADOX (overflow flag) form two independent carry chains, so the low and
// high halves of a row of products go into the accumulator in one pass, 3 instructions per
// 64x64 product. The row of products for b[i+1] is added before the reduction of round i: it
// does not depend on m, and this order measured 62 cycles against 69 for row-then-reduce.
//
// The critical path is the chain of reductions, each m = t0*inv (IMUL, 3 cycles) -> MULX (4)
// -> two adds into the next t0: 9 cycles a round, about 45 for a product with the first row and
// the final subtraction. The 36 multiplications of a product share Zen 4's one 64-bit
// multiplier (one a cycle) and stretch it to 62-65 cycles (17.8 ns); independent products
// overlap little (15.9 ns), as one product fills the scheduler. Measured alternatives that did
// not pay: a dedicated square (products once, SOS reduction) 61 vs 62 cycles and lower
// throughput, so sqr_adx is this product with both operands a; full product then reduction
// (SOS) for mul, 73.

// X0..X3 = a * B, top word in X4.
#define ZK_X86_ADX_ROW_FIRST(B, X0, X1, X2, X3, X4)     \
  "movq %[" B "], %%rdx\n\t"                            \
  "mulxq %[a0], " ZK_X86_S(X0) ", " ZK_X86_S(X1) "\n\t" \
  "mulxq %[a1], %[lo], " ZK_X86_S(X2) "\n\t"            \
  "addq %[lo], " ZK_X86_S(X1) "\n\t"                    \
  "mulxq %[a2], %[lo], " ZK_X86_S(X3) "\n\t"            \
  "adcq %[lo], " ZK_X86_S(X2) "\n\t"                    \
  "mulxq %[a3], %[lo], " ZK_X86_S(X4) "\n\t"            \
  "adcq %[lo], " ZK_X86_S(X3) "\n\t"                    \
  "adcq $0, " ZK_X86_S(X4) "\n\t"

// X0..X3 += a * B, top word into X4 (cleared here). Low halves on the OF chain, high on CF.
#define ZK_X86_ADX_ROW(B, X0, X1, X2, X3, X4) \
  "movq %[" B "], %%rdx\n\t"                  \
  "xorl %k[" X4 "], %k[" X4 "]\n\t"           \
  "mulxq %[a0], %[lo], %[hi]\n\t"             \
  "adoxq %[lo], " ZK_X86_S(X0) "\n\t"         \
  "adcxq %[hi], " ZK_X86_S(X1) "\n\t"         \
  "mulxq %[a1], %[lo], %[hi]\n\t"             \
  "adoxq %[lo], " ZK_X86_S(X1) "\n\t"         \
  "adcxq %[hi], " ZK_X86_S(X2) "\n\t"         \
  "mulxq %[a2], %[lo], %[hi]\n\t"             \
  "adoxq %[lo], " ZK_X86_S(X2) "\n\t"         \
  "adcxq %[hi], " ZK_X86_S(X3) "\n\t"         \
  "mulxq %[a3], %[lo], %[hi]\n\t"             \
  "adoxq %[lo], " ZK_X86_S(X3) "\n\t"         \
  "adcxq %[hi], " ZK_X86_S(X4) "\n\t"         \
  "movl $0, %k[lo]\n\t"                       \
  "adoxq %[lo], " ZK_X86_S(X4) "\n\t"

// Y0..Y4 += m * p with m = Y0 * inv, after which Y0 = 0 (and serves as the zero register).
#define ZK_X86_ADX_REDUCE(Y0, Y1, Y2, Y3, Y4) \
  "movq " ZK_X86_S(Y0) ", %%rdx\n\t"          \
  "imulq %[inv], %%rdx\n\t"                   \
  "xorl %k[lo], %k[lo]\n\t"                   \
  "mulxq %[p0], %[lo], %[hi]\n\t"             \
  "adcxq %[lo], " ZK_X86_S(Y0) "\n\t"         \
  "adoxq %[hi], " ZK_X86_S(Y1) "\n\t"         \
  "mulxq %[p1], %[lo], %[hi]\n\t"             \
  "adcxq %[lo], " ZK_X86_S(Y1) "\n\t"         \
  "adoxq %[hi], " ZK_X86_S(Y2) "\n\t"         \
  "mulxq %[p2], %[lo], %[hi]\n\t"             \
  "adcxq %[lo], " ZK_X86_S(Y2) "\n\t"         \
  "adoxq %[hi], " ZK_X86_S(Y3) "\n\t"         \
  "mulxq %[p3], %[lo], %[hi]\n\t"             \
  "adcxq %[lo], " ZK_X86_S(Y3) "\n\t"         \
  "adoxq %[hi], " ZK_X86_S(Y4) "\n\t"         \
  "adcxq " ZK_X86_S(Y0) ", " ZK_X86_S(Y4) "\n\t"

// The same while the next row already sits in Y1..Y5: both carries also go into Y5.
#define ZK_X86_ADX_REDUCE_AHEAD(Y0, Y1, Y2, Y3, Y4, Y5) \
  ZK_X86_ADX_REDUCE(Y0, Y1, Y2, Y3, Y4)                 \
  "adcxq " ZK_X86_S(Y0) ", " ZK_X86_S(Y5) "\n\t"        \
  "adoxq " ZK_X86_S(Y0) ", " ZK_X86_S(Y5) "\n\t"

// Result (R0..R3) < 2p: subtract p once unless that borrows. Leaves it in lo, hi, rdx, T.
#define ZK_X86_FINAL_SUB(R0, R1, R2, R3, T)    \
  "movq " ZK_X86_S(R0) ", %[lo]\n\t"           \
  "movq " ZK_X86_S(R1) ", %[hi]\n\t"           \
  "movq " ZK_X86_S(R2) ", %%rdx\n\t"           \
  "movq " ZK_X86_S(R3) ", " ZK_X86_S(T) "\n\t" \
  "subq %[p0], %[lo]\n\t"                      \
  "sbbq %[p1], %[hi]\n\t"                      \
  "sbbq %[p2], %%rdx\n\t"                      \
  "sbbq %[p3], " ZK_X86_S(T) "\n\t"            \
  "cmovcq " ZK_X86_S(R0) ", %[lo]\n\t"         \
  "cmovcq " ZK_X86_S(R1) ", %[hi]\n\t"         \
  "cmovcq " ZK_X86_S(R2) ", %%rdx\n\t"         \
  "cmovcq " ZK_X86_S(R3) ", " ZK_X86_S(T) "\n\t"

// The four rounds of mul_adx, the rows taking b's words from operands B0..B3.
#define ZK_X86_ADX_MONT_MUL(B0, B1, B2, B3)                   \
  ZK_X86_ADX_ROW_FIRST(B0, "t0", "t1", "t2", "t3", "t4")      \
  ZK_X86_ADX_ROW(B1, "t1", "t2", "t3", "t4", "t5")            \
  ZK_X86_ADX_REDUCE_AHEAD("t0", "t1", "t2", "t3", "t4", "t5") \
  ZK_X86_ADX_ROW(B2, "t2", "t3", "t4", "t5", "t0")            \
  ZK_X86_ADX_REDUCE_AHEAD("t1", "t2", "t3", "t4", "t5", "t0") \
  ZK_X86_ADX_ROW(B3, "t3", "t4", "t5", "t0", "t1")            \
  ZK_X86_ADX_REDUCE_AHEAD("t2", "t3", "t4", "t5", "t0", "t1") \
  ZK_X86_ADX_REDUCE("t3", "t4", "t5", "t0", "t1")             \
  ZK_X86_FINAL_SUB("t4", "t5", "t0", "t1", "t2")

// a * b * 2^-256 mod p (Montgomery product) for a, b < p. Needs BMI2 and ADX.
//
// Operand constraints: a may sit in registers or memory, b in memory. With registers allowed
// for both, g++ fails ("impossible constraints") where both are compile-time constants (eight
// registers for them plus nine for the asm). b is only loaded into rdx once per row; the
// accumulator window slides one register per round (t0..t5 round-robin).
ZK_X86_INLINE U256 mul_adx(const uint64_t* a, const uint64_t* b, const uint64_t (&mc)[5]) {
  uint64_t t0, t1, t2, t3, t4, t5, lo, hi, dx;
  asm(ZK_X86_ADX_MONT_MUL("b0", "b1", "b2", "b3")
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
        [t5] "=&r"(t5), [lo] "=&r"(lo), [hi] "=&r"(hi), "=&d"(dx)
      : [a0] "rm"(a[0]), [a1] "rm"(a[1]), [a2] "rm"(a[2]), [a3] "rm"(a[3]),
        [b0] "m"(b[0]), [b1] "m"(b[1]), [b2] "m"(b[2]), [b3] "m"(b[3]),
        [p0] "m"(mc[0]), [p1] "m"(mc[1]), [p2] "m"(mc[2]), [p3] "m"(mc[3]), [inv] "m"(mc[4])
      : "cc");
  return U256{{lo, hi, dx, t2}};
}

// a * a * 2^-256 mod p: mul_adx with both operands read from a, so a chain of squares keeps its
// value in registers (as b in memory, the store and reload cost 22.0 against 17.7 ns a step).
ZK_X86_INLINE U256 sqr_adx(const uint64_t* a, const uint64_t (&mc)[5]) {
  uint64_t t0, t1, t2, t3, t4, t5, lo, hi, dx;
  asm(ZK_X86_ADX_MONT_MUL("a0", "a1", "a2", "a3")
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
        [t5] "=&r"(t5), [lo] "=&r"(lo), [hi] "=&r"(hi), "=&d"(dx)
      : [a0] "rm"(a[0]), [a1] "rm"(a[1]), [a2] "rm"(a[2]), [a3] "rm"(a[3]),
        [p0] "m"(mc[0]), [p1] "m"(mc[1]), [p2] "m"(mc[2]), [p3] "m"(mc[3]), [inv] "m"(mc[4])
      : "cc");
  return U256{{lo, hi, dx, t2}};
}

// ---- Montgomery multiplication, MUL/ADC (every x86-64) -------------------------------------
//
// The same CIOS rounds with MUL, which takes rax and writes rdx:rax and the flags: each carry
// has to be caught in a register (adc $0, rdx) before the next MUL, 7 instructions a product.

// X0..X3 = a * B, top word in X4.
#define ZK_X86_MUL_ROW_FIRST(B, X0, X1, X2, X3, X4) \
  "movq 0(%[a]), %%rax\n\t"                         \
  "mulq " B "(%[b])\n\t"                            \
  "movq %%rax, " ZK_X86_S(X0) "\n\t"                \
  "movq %%rdx, " ZK_X86_S(X1) "\n\t"                \
  "movq 8(%[a]), %%rax\n\t"                         \
  "mulq " B "(%[b])\n\t"                            \
  "addq %%rax, " ZK_X86_S(X1) "\n\t"                \
  "adcq $0, %%rdx\n\t"                              \
  "movq %%rdx, " ZK_X86_S(X2) "\n\t"                \
  "movq 16(%[a]), %%rax\n\t"                        \
  "mulq " B "(%[b])\n\t"                            \
  "addq %%rax, " ZK_X86_S(X2) "\n\t"                \
  "adcq $0, %%rdx\n\t"                              \
  "movq %%rdx, " ZK_X86_S(X3) "\n\t"                \
  "movq 24(%[a]), %%rax\n\t"                        \
  "mulq " B "(%[b])\n\t"                            \
  "addq %%rax, " ZK_X86_S(X3) "\n\t"                \
  "adcq $0, %%rdx\n\t"                              \
  "movq %%rdx, " ZK_X86_S(X4) "\n\t"

// X += lo(M * SRC), carrying into rdx; then X += carry word c, the new carry word is rdx.
#define ZK_X86_MUL_STEP(M, SRC, X)  \
  "movq " M ", %%rax\n\t"           \
  "mulq " SRC "\n\t"                \
  "addq %%rax, " ZK_X86_S(X) "\n\t" \
  "adcq $0, %%rdx\n\t"              \
  "addq %[c], " ZK_X86_S(X) "\n\t"  \
  "adcq $0, %%rdx\n\t"

// X0..X3 += a * B, top word into X4.
#define ZK_X86_MUL_ROW(B, X0, X1, X2, X3, X4) \
  "movq 0(%[a]), %%rax\n\t"                   \
  "mulq " B "(%[b])\n\t"                      \
  "addq %%rax, " ZK_X86_S(X0) "\n\t"          \
  "adcq $0, %%rdx\n\t"                        \
  "movq %%rdx, %[c]\n\t"                      \
  ZK_X86_MUL_STEP("8(%[a])", B "(%[b])", X1)  \
  "movq %%rdx, %[c]\n\t"                      \
  ZK_X86_MUL_STEP("16(%[a])", B "(%[b])", X2) \
  "movq %%rdx, %[c]\n\t"                      \
  ZK_X86_MUL_STEP("24(%[a])", B "(%[b])", X3) \
  "movq %%rdx, " ZK_X86_S(X4) "\n\t"

// Y0..Y4 += m * p with m = Y0 * inv; Y0 becomes 0.
#define ZK_X86_MUL_REDUCE(Y0, Y1, Y2, Y3, Y4) \
  "movq " ZK_X86_S(Y0) ", %[m]\n\t"           \
  "imulq 32(%[mc]), %[m]\n\t"                 \
  "movq %[m], %%rax\n\t"                      \
  "mulq 0(%[mc])\n\t"                         \
  "addq %%rax, " ZK_X86_S(Y0) "\n\t"          \
  "adcq $0, %%rdx\n\t"                        \
  "movq %%rdx, %[c]\n\t"                      \
  ZK_X86_MUL_STEP("%[m]", "8(%[mc])", Y1)     \
  "movq %%rdx, %[c]\n\t"                      \
  ZK_X86_MUL_STEP("%[m]", "16(%[mc])", Y2)    \
  "movq %%rdx, %[c]\n\t"                      \
  "movq %[m], %%rax\n\t"                      \
  "mulq 24(%[mc])\n\t"                        \
  "addq %%rax, " ZK_X86_S(Y3) "\n\t"          \
  "adcq $0, %%rdx\n\t"                        \
  "addq %[c], " ZK_X86_S(Y3) "\n\t"           \
  "adcq %%rdx, " ZK_X86_S(Y4) "\n\t"

ZK_X86_INLINE U256 mul_mulq(const uint64_t* a, const uint64_t* b, const uint64_t (&mc)[5]) {
  uint64_t t0, t1, t2, t3, t4, m, c, ax, dx;
  asm(ZK_X86_MUL_ROW_FIRST("0", "t0", "t1", "t2", "t3", "t4")
      ZK_X86_MUL_REDUCE("t0", "t1", "t2", "t3", "t4")
      ZK_X86_MUL_ROW("8", "t1", "t2", "t3", "t4", "t0")
      ZK_X86_MUL_REDUCE("t1", "t2", "t3", "t4", "t0")
      ZK_X86_MUL_ROW("16", "t2", "t3", "t4", "t0", "t1")
      ZK_X86_MUL_REDUCE("t2", "t3", "t4", "t0", "t1")
      ZK_X86_MUL_ROW("24", "t3", "t4", "t0", "t1", "t2")
      ZK_X86_MUL_REDUCE("t3", "t4", "t0", "t1", "t2")
      // result (t4, t0, t1, t2) < 2p
      "movq %[t4], %%rax\n\t"
      "movq %[t0], %%rdx\n\t"
      "movq %[t1], %[m]\n\t"
      "movq %[t2], %[c]\n\t"
      "subq 0(%[mc]), %%rax\n\t"
      "sbbq 8(%[mc]), %%rdx\n\t"
      "sbbq 16(%[mc]), %[m]\n\t"
      "sbbq 24(%[mc]), %[c]\n\t"
      "cmovcq %[t4], %%rax\n\t"
      "cmovcq %[t0], %%rdx\n\t"
      "cmovcq %[t1], %[m]\n\t"
      "cmovcq %[t2], %[c]\n\t"
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
        [m] "=&r"(m), [c] "=&r"(c), "=&a"(ax), "=&d"(dx)
      // Operands through three pointers: with one memory operand each, g++ -O0 runs out of
      // registers (it gives every operand its own address register).
      : [a] "r"(a), [b] "r"(b), [mc] "r"(mc), "m"(*(const uint64_t(*)[4])a),
        "m"(*(const uint64_t(*)[4])b), "m"(mc)
      : "cc");
  return U256{{ax, dx, m, c}};
}

#undef ZK_X86_INLINE
#undef ZK_X86_S
#undef ZK_X86_ADX_ROW_FIRST
#undef ZK_X86_ADX_ROW
#undef ZK_X86_ADX_REDUCE
#undef ZK_X86_ADX_REDUCE_AHEAD
#undef ZK_X86_FINAL_SUB
#undef ZK_X86_ADX_MONT_MUL
#undef ZK_X86_MUL_ROW_FIRST
#undef ZK_X86_MUL_STEP
#undef ZK_X86_MUL_ROW
#undef ZK_X86_MUL_REDUCE

}  // namespace zkinfer::x86

#endif  // ZKINFER_X86_64_HOST
