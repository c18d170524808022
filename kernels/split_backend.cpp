#include "split_backend.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

namespace zkinfer {
namespace {

// [lo[j], lo[j + 1]) is part j's range of n indices: equal shares, the first parts one larger.
std::vector<size_t> shares(size_t n, size_t parts) {
  std::vector<size_t> lo(parts + 1, 0);
  for (size_t j = 0; j < parts; ++j) lo[j + 1] = lo[j] + n / parts + (j < n % parts ? 1 : 0);
  return lo;
}

// Runs fn(j) for every part j on its own thread (part 0 on this one) and rethrows the first
// failure after all have finished.
template <class Fn>
void each_part(size_t parts, Fn&& fn) {
  std::vector<std::exception_ptr> errors(parts);
  std::vector<std::thread> threads;
  for (size_t j = 1; j < parts; ++j)
    threads.emplace_back([&, j] {
      try {
        fn(j);
      } catch (...) {
        errors[j] = std::current_exception();
      }
    });
  try {
    fn(0);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// A point array held in slices, slice j on part j; made only by SplitBackend.
template <class A>
class SplitPoints final : public ResidentArray<A> {
 public:
  SplitPoints(const A* host, size_t n, const void* owner, std::vector<size_t> lo,
              std::vector<std::shared_ptr<const ResidentArray<A>>> slices)
      : ResidentArray<A>(host, n), owner_(owner), lo_(std::move(lo)), slices_(std::move(slices)) {}
  size_t device_bytes() const override {
    size_t b = 0;
    for (const auto& s : slices_) b += s->device_bytes();
    return b;
  }
  const void* owner() const { return owner_; }
  size_t lo(size_t j) const { return lo_[j]; }
  const ResidentArray<A>& slice(size_t j) const { return *slices_[j]; }

 private:
  const void* owner_;
  std::vector<size_t> lo_;
  std::vector<std::shared_ptr<const ResidentArray<A>>> slices_;
};

// Scalars held whole by every part; made only by SplitBackend.
class SplitScalars final : public ResidentFr {
 public:
  SplitScalars(const Fr* host, size_t n, const void* owner, std::vector<std::shared_ptr<const ResidentFr>> copies)
      : ResidentFr(host, n), owner_(owner), copies_(std::move(copies)) {}
  // Scalars the parts computed (h), with no host array: read() takes part 0's copy.
  SplitScalars(DeviceOnly tag, size_t n, const void* owner, std::vector<std::shared_ptr<const ResidentFr>> copies)
      : ResidentFr(tag, n), owner_(owner), copies_(std::move(copies)) {}
  void read(Fr* out) const override {
    if (has_host())
      ResidentFr::read(out);
    else
      copies_[0]->read(out);
  }
  size_t device_bytes() const override {
    size_t b = 0;
    for (const auto& c : copies_) b += c->device_bytes();
    return b;
  }
  const void* owner() const { return owner_; }
  const ResidentFr& copy(size_t j) const { return *copies_[j]; }

 private:
  const void* owner_;
  std::vector<std::shared_ptr<const ResidentFr>> copies_;
};

class SplitBackend final : public Backend {
 public:
  explicit SplitBackend(std::vector<std::unique_ptr<Backend>> parts) : parts_(std::move(parts)) {
    name_ = "split(";
    for (size_t j = 0; j < parts_.size(); ++j) name_ += (j ? ", " : "") + parts_[j]->name();
    name_ += ")";
  }

  std::string name() const override { return name_; }

  void msm_g1(G1Jacobian& out, const Fr* s, const G1Affine* p, size_t n) override { plain_msm(out, s, p, n); }
  void msm_g2(G2Jacobian& out, const Fr* s, const G2Affine* p, size_t n) override { plain_msm(out, s, p, n); }

  std::shared_ptr<const ResidentG1> resident_g1(const G1Affine* p, size_t n) override { return resident(p, n); }
  std::shared_ptr<const ResidentG2> resident_g2(const G2Affine* p, size_t n) override { return resident(p, n); }
  void msm_g1(G1Jacobian& out, const Fr* s, const ResidentG1& p, size_t first, size_t n) override {
    const ResidentFr view(s, n);
    resident_msm(out, view, 0, p, first, n);
  }
  void msm_g2(G2Jacobian& out, const Fr* s, const ResidentG2& p, size_t first, size_t n) override {
    const ResidentFr view(s, n);
    resident_msm(out, view, 0, p, first, n);
  }

  std::shared_ptr<const ResidentFr> resident_fr(const Fr* values, size_t n) override {
    std::vector<std::shared_ptr<const ResidentFr>> copies(parts_.size());
    each_part(parts_.size(), [&](size_t j) { copies[j] = parts_[j]->resident_fr(values, n); });
    return std::make_shared<const SplitScalars>(values, n, this, std::move(copies));
  }
  void msm_g1(G1Jacobian& out, const ResidentFr& s, size_t s_first, const ResidentG1& p, size_t first,
              size_t n) override {
    resident_msm(out, s, s_first, p, first, n);
  }
  void msm_g2(G2Jacobian& out, const ResidentFr& s, size_t s_first, const ResidentG2& p, size_t first,
              size_t n) override {
    resident_msm(out, s, s_first, p, first, n);
  }

  std::shared_ptr<const ResidentRows> resident_rows(const SparseRows& m) override {
    return parts_[0]->resident_rows(m);
  }
  void constraint_quotient(Fr* h_out, const ResidentRows& rows, const ResidentFr& z, size_t n,
                           const Fr& shift) override {
    parts_[0]->constraint_quotient(h_out, rows, scalars_for(z, 0), n, shift);
  }
  // h computed where part 0 keeps it (on a GPU: its device memory) and copied from there to every
  // other part (GPU to GPU where both are GPUs: resident_copy), not through a host vector.
  std::shared_ptr<const ResidentFr> constraint_quotient_resident(const ResidentRows& rows, const ResidentFr& z,
                                                                 size_t n, const Fr& shift) override {
    std::vector<std::shared_ptr<const ResidentFr>> copies(parts_.size());
    copies[0] = parts_[0]->constraint_quotient_resident(rows, scalars_for(z, 0), n, shift);
    const ResidentFr& h = *copies[0];
    each_part(parts_.size() - 1, [&](size_t j) { copies[j + 1] = parts_[j + 1]->resident_copy(h); });
    if (h.has_host()) return std::make_shared<const SplitScalars>(h.host(), n, this, std::move(copies));
    return std::make_shared<const SplitScalars>(ResidentFr::DeviceOnly{}, n, this, std::move(copies));
  }
  void ntt(Fr* data, size_t n, NttKind kind, const Fr& shift) override { parts_[0]->ntt(data, n, kind, shift); }
  void coset_quotient(Fr* a, Fr* b, Fr* c, size_t n, const Fr& shift) override {
    parts_[0]->coset_quotient(a, b, c, n, shift);
  }

 private:
  template <class C>
  static void part_msm(Backend& be, Jacobian<C>& out, const Fr* s, const Affine<C>* p, size_t n) {
    if constexpr (std::is_same_v<C, G1Curve>)
      be.msm_g1(out, s, p, n);
    else
      be.msm_g2(out, s, p, n);
  }
  template <class C>
  static void part_msm(Backend& be, Jacobian<C>& out, const ResidentFr& s, size_t s_first,
                       const ResidentArray<Affine<C>>& p, size_t first, size_t n) {
    if constexpr (std::is_same_v<C, G1Curve>)
      be.msm_g1(out, s, s_first, p, first, n);
    else
      be.msm_g2(out, s, s_first, p, first, n);
  }
  template <class C>
  static std::shared_ptr<const ResidentArray<Affine<C>>> part_resident(Backend& be, const Affine<C>* p, size_t n) {
    if constexpr (std::is_same_v<C, G1Curve>)
      return be.resident_g1(p, n);
    else
      return be.resident_g2(p, n);
  }

  template <class C>
  void plain_msm(Jacobian<C>& out, const Fr* s, const Affine<C>* p, size_t n) {
    const std::vector<size_t> lo = shares(n, parts_.size());
    std::vector<Jacobian<C>> part(parts_.size(), Jacobian<C>::infinity());
    each_part(parts_.size(), [&](size_t j) { part_msm(*parts_[j], part[j], s + lo[j], p + lo[j], lo[j + 1] - lo[j]); });
    out = Jacobian<C>::infinity();
    for (const auto& r : part) out += r;
  }

  template <class C>
  std::shared_ptr<const ResidentArray<Affine<C>>> resident(const Affine<C>* p, size_t n) {
    if (!p && n) throw std::invalid_argument("resident array: null host array");
    std::vector<size_t> lo = shares(n, parts_.size());
    std::vector<std::shared_ptr<const ResidentArray<Affine<C>>>> slices(parts_.size());
    each_part(parts_.size(), [&](size_t j) { slices[j] = part_resident(*parts_[j], p + lo[j], lo[j + 1] - lo[j]); });
    return std::make_shared<const SplitPoints<Affine<C>>>(p, n, this, std::move(lo), std::move(slices));
  }

  // Part j's view of scalars: its own copy where this backend made them, else the array itself
  // (which part j reads through its host array).
  const ResidentFr& scalars_for(const ResidentFr& s, size_t j) const {
    const auto* split = dynamic_cast<const SplitScalars*>(&s);
    return split && split->owner() == this ? split->copy(j) : s;
  }

  // Part j takes the points of [first, first + n) that lie in its slice (points made resident
  // here), or an equal share of the range (points made elsewhere, read by each part from host).
  template <class C>
  void resident_msm(Jacobian<C>& out, const ResidentFr& s, size_t s_first, const ResidentArray<Affine<C>>& p,
                    size_t first, size_t n) {
    s.check_range(s_first, n);
    p.check_range(first, n);
    const auto* split = dynamic_cast<const SplitPoints<Affine<C>>*>(&p);
    const bool ours = split && split->owner() == this;
    const std::vector<size_t> even = shares(n, parts_.size());
    std::vector<Jacobian<C>> part(parts_.size(), Jacobian<C>::infinity());
    each_part(parts_.size(), [&](size_t j) {
      size_t a, b;  // this part's indices of the whole array
      if (ours) {
        a = std::clamp(split->lo(j), first, first + n);
        b = std::clamp(split->lo(j) + split->slice(j).size(), first, first + n);
      } else {
        a = first + even[j];
        b = first + even[j + 1];
      }
      if (a >= b) return;  // nothing of the range here: the part's sum stays at infinity
      const ResidentFr& sj = scalars_for(s, j);
      if (ours)
        part_msm(*parts_[j], part[j], sj, s_first + (a - first), split->slice(j), a - split->lo(j), b - a);
      else
        part_msm(*parts_[j], part[j], sj, s_first + (a - first), p, a, b - a);
    });
    out = Jacobian<C>::infinity();
    for (const auto& r : part) out += r;
  }

  std::vector<std::unique_ptr<Backend>> parts_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Backend> make_split_backend(std::vector<std::unique_ptr<Backend>> parts) {
  if (parts.empty()) throw std::invalid_argument("split backend: no parts");
  for (const auto& p : parts)
    if (!p) throw std::invalid_argument("split backend: a part is null");
  if (parts.size() == 1) return std::move(parts.front());
  return std::make_unique<SplitBackend>(std::move(parts));
}

}  // namespace zkinfer
