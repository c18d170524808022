#include "zkinfer/prover/section_view.h"

#include <atomic>

#include "cpu/parallel.h"

namespace zkinfer::prover {

namespace {

bool reduced(const Fq& a) { return u256::less(a.mont(), Fq::MOD); }
bool reduced(const Fq2& a) { return reduced(a.c0) && reduced(a.c1); }

template <class C>
bool point_ok(const Affine<C>& p, bool subgroup) {
  if (!reduced(p.x) || !reduced(p.y)) return false;
  if (p.is_infinity()) return true;
  if (!p.is_on_curve()) return false;
  if constexpr (std::is_same_v<C, G2Curve>) {
    if (subgroup && !g2_in_subgroup(p)) return false;
  }
  return true;
}

}  // namespace

template <class C>
void check_points(std::span<const Affine<C>> pts, const std::string& where, bool subgroup) {
  std::atomic<size_t> first_bad{pts.size()};
  cpu::parallel_for(pts.size(), [&](size_t b, size_t e) {
    for (size_t i = b; i < e && i < first_bad.load(std::memory_order_relaxed); ++i)
      if (!point_ok(pts[i], subgroup)) {
        size_t cur = first_bad.load();
        while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
        }
        return;
      }
  });
  size_t bad = first_bad.load();
  if (bad == pts.size()) return;
  const auto& p = pts[bad];
  const char* why = !(reduced(p.x) && reduced(p.y)) ? "has a coordinate >= p"
                    : !p.is_on_curve()               ? "is not on the curve"
                                                     : "is not in the prime-order subgroup";
  throw FormatError(where + ": point " + std::to_string(bad) + " " + why);
}

template void check_points<G1Curve>(std::span<const G1Affine>, const std::string&, bool);
template void check_points<G2Curve>(std::span<const G2Affine>, const std::string&, bool);

void check_scalars(std::span<const Fr> xs, const std::string& where) {
  for (size_t i = 0; i < xs.size(); ++i)
    if (!u256::less(xs[i].mont(), Fr::MOD))
      throw FormatError(where + ": element " + std::to_string(i) + " is not below the field modulus");
}

}  // namespace zkinfer::prover
