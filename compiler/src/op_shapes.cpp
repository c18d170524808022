#include "zkinfer/compiler/op_shapes.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace zkinfer::compiler {

namespace {
[[noreturn]] void fail(const Node& n, const std::string& why) { throw ModelError(n.where() + ": " + why); }
}  // namespace

std::vector<size_t> strides_of(const Shape& s) {
  std::vector<size_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * size_t(s[i]);
  return st;
}

Shape broadcast_shape(const Node& n, const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(n, "shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
    out[i] = std::max(da, db);
  }
  return out;
}

std::vector<size_t> broadcast_index(const Shape& in, const Shape& out) {
  const size_t total = element_count(out), lead = out.size() - in.size();
  std::vector<size_t> in_strides = strides_of(in), idx(total);
  std::vector<int64_t> pos(out.size(), 0);
  for (size_t e = 0; e < total; ++e) {
    size_t k = 0;
    for (size_t d = 0; d < in.size(); ++d)
      if (in[d] != 1) k += size_t(pos[lead + d]) * in_strides[d];
    idx[e] = k;
    for (size_t d = out.size(); d-- > 0;) {
      if (++pos[d] < out[d]) break;
      pos[d] = 0;
    }
  }
  return idx;
}

namespace {
// Pads and output size along one axis; auto_pad SAME_* and VALID as the ONNX spec defines them.
void axis_geometry(const Node& n, const std::string& auto_pad, int64_t in, int64_t k, int64_t s, int64_t d,
                   bool ceil_mode, int64_t& pad_lo, int64_t& pad_hi, int64_t& out) {
  const int64_t ek = (k - 1) * d + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    out = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>(0, (out - 1) * s + ek - in);
    pad_lo = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    pad_hi = total - pad_lo;
    return;
  }
  if (auto_pad == "VALID") pad_lo = pad_hi = 0;
  else if (auto_pad != "NOTSET" && !auto_pad.empty()) fail(n, "auto_pad '" + auto_pad + "' is not supported");
  const int64_t span = in + pad_lo + pad_hi - ek;
  if (span < 0) fail(n, "the kernel is larger than the padded input");
  out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // ceil_mode: the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * s >= in + pad_lo) --out;
}

Window2d window_common(const Node& n, const Shape& x, int64_t kh, int64_t kw, bool allow_ceil) {
  if (x.size() != 4) fail(n, "only 2-D images [N,C,H,W] are supported, got input shape " + shape_str(x));
  Window2d g;
  g.n = x[0], g.c = x[1], g.h = x[2], g.w = x[3];
  g.kh = kh, g.kw = kw;
  auto strides = n.get_ints("strides", {1, 1});
  auto dil = n.get_ints("dilations", {1, 1});
  auto pads = n.get_ints("pads", {0, 0, 0, 0});
  if (strides.size() != 2 || dil.size() != 2 || pads.size() != 4)
    fail(n, "strides, dilations and pads must have 2, 2 and 4 entries for a 2-D op");
  g.sh = strides[0], g.sw = strides[1], g.dh = dil[0], g.dw = dil[1];
  g.pad_top = pads[0], g.pad_left = pads[1], g.pad_bottom = pads[2], g.pad_right = pads[3];
  if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || kh < 1 || kw < 1)
    fail(n, "strides, dilations and kernel sizes must be positive");
  for (int64_t p : pads)
    if (p < 0) fail(n, "negative pads are not supported");
  const int64_t ceil_mode = n.get_int("ceil_mode", 0);
  if (ceil_mode && !allow_ceil) fail(n, "ceil_mode is not defined for this op");
  const std::string auto_pad = n.get_string("auto_pad", "NOTSET");
  axis_geometry(n, auto_pad, g.h, kh, g.sh, g.dh, ceil_mode != 0, g.pad_top, g.pad_bottom, g.oh);
  axis_geometry(n, auto_pad, g.w, kw, g.sw, g.dw, ceil_mode != 0, g.pad_left, g.pad_right, g.ow);
  return g;
}
}  // namespace

Window2d conv_geometry(const Node& n, const Shape& x, const Shape& w) {
  if (w.size() != 4) fail(n, "weights must be [M, C/group, kH, kW], got " + shape_str(w));
  auto ks = n.get_ints("kernel_shape", {w[2], w[3]});
  if (ks.size() != 2 || ks[0] != w[2] || ks[1] != w[3]) fail(n, "kernel_shape does not match the weights");
  Window2d g = window_common(n, x, w[2], w[3], false);
  g.group = n.get_int("group", 1);
  g.oc = w[0];
  if (g.group < 1 || g.c % g.group || g.oc % g.group || w[1] != g.c / g.group)
    fail(n, "group " + std::to_string(g.group) + " does not fit input " + shape_str(x) + " and weights " +
                shape_str(w));
  return g;
}

Window2d pool_geometry(const Node& n, const Shape& x) {
  auto ks = n.get_ints("kernel_shape");
  if (ks.size() != 2) fail(n, "kernel_shape must have 2 entries (2-D pooling)");
  Window2d g = window_common(n, x, ks[0], ks[1], true);
  g.oc = g.c;
  return g;
}

GemmDims gemm_dims(const Node& node, const Shape& a, const Shape& b) {
  if (a.size() != 2 || b.size() != 2) fail(node, "A and B must be matrices, got " + shape_str(a) + " and " + shape_str(b));
  GemmDims d;
  d.trans_a = node.get_int("transA", 0) != 0;
  d.trans_b = node.get_int("transB", 0) != 0;
  d.alpha = node.get_float("alpha", 1.0);
  d.beta = node.get_float("beta", 1.0);
  d.m = d.trans_a ? a[1] : a[0];
  d.k = d.trans_a ? a[0] : a[1];
  const int64_t kb = d.trans_b ? b[1] : b[0];
  d.n = d.trans_b ? b[0] : b[1];
  if (kb != d.k) fail(node, "inner dimensions differ: " + shape_str(a) + " x " + shape_str(b));
  return d;
}

MatMulDims matmul_dims(const Node& node, const Shape& a_in, const Shape& b_in) {
  MatMulDims d;
  Shape a = a_in, b = b_in;
  if (a.empty() || b.empty()) fail(node, "MatMul operands must have rank >= 1");
  if (a.size() == 1) d.a_vec = true, a.insert(a.begin(), 1);
  if (b.size() == 1) d.b_vec = true, b.push_back(1);
  d.m = a[a.size() - 2], d.k = a.back(), d.n = b.back();
  if (b[b.size() - 2] != d.k) fail(node, "inner dimensions differ: " + shape_str(a_in) + " x " + shape_str(b_in));
  Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape batch = broadcast_shape(node, ab, bb);
  d.batch = int64_t(element_count(batch));
  d.a_batch = broadcast_index(ab, batch);
  d.b_batch = broadcast_index(bb, batch);
  d.out = batch;
  if (!d.a_vec) d.out.push_back(d.m);
  if (!d.b_vec) d.out.push_back(d.n);
  return d;
}

Shape flatten_shape(const Node& n, const Shape& x) {
  int64_t axis = n.get_int("axis", 1);
  if (axis < 0) axis += int64_t(x.size());
  if (axis < 0 || axis > int64_t(x.size())) fail(n, "axis out of range for shape " + shape_str(x));
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < int64_t(x.size()); ++i) (i < axis ? outer : inner) *= x[size_t(i)];
  return {outer, inner};
}

Shape reshape_shape(const Node& n, const Shape& x, const std::vector<double>& target) {
  const bool allowzero = n.get_int("allowzero", 0) != 0;
  Shape out;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = int64_t(target[i]);
    if (double(d) != target[i]) fail(n, "the target shape holds a non-integer");
    if (d == 0 && !allowzero) {
      if (i >= x.size()) fail(n, "target dimension 0 copies a dimension the input does not have");
      d = x[i];
    }
    if (d == -1) {
      if (infer >= 0) fail(n, "the target shape has more than one -1");
      infer = int(i);
      out.push_back(1);
      continue;
    }
    if (d < 0) fail(n, "the target shape holds " + std::to_string(d));
    out.push_back(d);
    known *= d;
  }
  const int64_t total = int64_t(element_count(x));
  if (infer >= 0) {
    if (known == 0 || total % known) fail(n, "cannot infer -1 reshaping " + shape_str(x));
    out[size_t(infer)] = total / known;
  }
  if (int64_t(element_count(out)) != total)
    fail(n, "cannot reshape " + shape_str(x) + " to " + shape_str(out));
  return out;
}

std::vector<int64_t> transpose_perm(const Node& n, const Shape& x) {
  std::vector<int64_t> perm = n.get_ints("perm");
  if (perm.empty()) {
    for (size_t i = x.size(); i-- > 0;) perm.push_back(int64_t(i));
  }
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != int64_t(i) || sorted.size() != x.size())
      fail(n, "perm is not a permutation of the " + std::to_string(x.size()) + " axes");
  return perm;
}

Shape transpose_shape(const Shape& x, const std::vector<int64_t>& perm) {
  Shape out;
  for (int64_t p : perm) out.push_back(x[size_t(p)]);
  return out;
}

int64_t concat_axis(const Node& n, const std::vector<Shape>& ins, Shape* out) {
  if (ins.empty()) fail(n, "Concat needs at least one input");
  if (!n.has("axis")) fail(n, "Concat needs an axis");
  const int64_t axis = normalized_axis(n, n.get_int("axis", 0), ins[0].size());
  Shape s = ins[0];
  for (size_t i = 1; i < ins.size(); ++i) {
    if (ins[i].size() != s.size()) fail(n, "inputs have different ranks");
    for (size_t d = 0; d < s.size(); ++d) {
      if (int64_t(d) == axis) continue;
      if (ins[i][d] != s[d]) fail(n, "input shapes " + shape_str(ins[0]) + " and " + shape_str(ins[i]) + " differ off the axis");
    }
    s[size_t(axis)] += ins[i][size_t(axis)];
  }
  *out = s;
  return axis;
}

int64_t normalized_axis(const Node& n, int64_t axis, size_t rank) {
  const int64_t r = int64_t(rank);
  if (axis < -r || axis >= r) fail(n, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(r));
  return axis < 0 ? axis + r : axis;
}

}  // namespace zkinfer::compiler
