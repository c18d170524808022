#include "zkinfer/compiler/op_shapes.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

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

std::vector<size_t> slope_index(const Node& n, const Shape& x, const Shape& slope) {
  if (broadcast_shape(n, x, slope) != x)
    fail(n, "slope of shape " + shape_str(slope) + " does not broadcast to the input's shape " + shape_str(x));
  return broadcast_index(slope, x);
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

// Input, kernel, strides, dilations and pads of a windowed op on [N,C,H,W] or [N,C,L] (a 1-D op
// as an image of height 1); output sizes are the caller's.
Window2d window_attributes(const Node& n, const Shape& x, int64_t kh, int64_t kw) {
  if (x.size() != 4 && x.size() != 3)
    fail(n, "only 1-D sequences [N,C,L] and 2-D images [N,C,H,W] are supported, got input shape " + shape_str(x));
  Window2d g;
  g.one_d = x.size() == 3;
  g.n = x[0], g.c = x[1], g.h = g.one_d ? 1 : x[2], g.w = x.back();
  g.kh = kh, g.kw = kw;
  auto strides = n.get_ints("strides", g.one_d ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 1});
  auto dil = n.get_ints("dilations", g.one_d ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 1});
  auto pads = n.get_ints("pads", g.one_d ? std::vector<int64_t>{0, 0} : std::vector<int64_t>{0, 0, 0, 0});
  if (g.one_d) {  // as an image of height 1: [begin, end] pads become [0, begin, 0, end]
    if (strides.size() != 1 || dil.size() != 1 || pads.size() != 2)
      fail(n, "strides, dilations and pads must have 1, 1 and 2 entries for a 1-D op");
    strides.insert(strides.begin(), 1);
    dil.insert(dil.begin(), 1);
    pads = {0, pads[0], 0, pads[1]};
  }
  if (strides.size() != 2 || dil.size() != 2 || pads.size() != 4)
    fail(n, "strides, dilations and pads must have 2, 2 and 4 entries for a 2-D op");
  g.sh = strides[0], g.sw = strides[1], g.dh = dil[0], g.dw = dil[1];
  g.pad_top = pads[0], g.pad_left = pads[1], g.pad_bottom = pads[2], g.pad_right = pads[3];
  if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || kh < 1 || kw < 1)
    fail(n, "strides, dilations and kernel sizes must be positive");
  for (int64_t p : pads)
    if (p < 0) fail(n, "negative pads are not supported");
  return g;
}

Window2d window_common(const Node& n, const Shape& x, int64_t kh, int64_t kw, bool allow_ceil) {
  Window2d g = window_attributes(n, x, kh, kw);
  const int64_t ceil_mode = n.get_int("ceil_mode", 0);
  if (ceil_mode && !allow_ceil) fail(n, "ceil_mode is not defined for this op");
  const std::string auto_pad = n.get_string("auto_pad", "NOTSET");
  axis_geometry(n, auto_pad, g.h, kh, g.sh, g.dh, ceil_mode != 0, g.pad_top, g.pad_bottom, g.oh);
  axis_geometry(n, auto_pad, g.w, kw, g.sw, g.dw, ceil_mode != 0, g.pad_left, g.pad_right, g.ow);
  return g;
}
}  // namespace

Window2d conv_geometry(const Node& n, const Shape& x, const Shape& w) {
  if (x.size() == 3) {
    if (w.size() != 3) fail(n, "weights of a 1-D convolution must be [M, C/group, k], got " + shape_str(w));
  } else if (w.size() != 4) {
    fail(n, "weights must be [M, C/group, kH, kW], got " + shape_str(w));
  }
  const Shape kernel(w.begin() + 2, w.end());
  if (n.get_ints("kernel_shape", kernel) != kernel) fail(n, "kernel_shape does not match the weights");
  Window2d g = window_common(n, x, kernel.size() == 1 ? 1 : kernel[0], kernel.back(), false);
  g.group = n.get_int("group", 1);
  g.oc = w[0];
  if (g.group < 1 || g.c % g.group || g.oc % g.group || w[1] != g.c / g.group)
    fail(n, "group " + std::to_string(g.group) + " does not fit input " + shape_str(x) + " and weights " +
                shape_str(w));
  return g;
}

Window2d conv_transpose_geometry(const Node& n, const Shape& x, const Shape& w) {
  if (x.size() == 3) {
    if (w.size() != 3) fail(n, "weights of a 1-D transposed convolution must be [C, M/group, k], got " + shape_str(w));
  } else if (w.size() != 4) {
    fail(n, "weights must be [C, M/group, kH, kW], got " + shape_str(w));
  }
  const Shape kernel(w.begin() + 2, w.end());
  if (n.get_ints("kernel_shape", kernel) != kernel) fail(n, "kernel_shape does not match the weights");
  Window2d g = window_attributes(n, x, kernel.size() == 1 ? 1 : kernel[0], kernel.back());
  g.group = n.get_int("group", 1);
  if (g.group < 1 || w[0] != g.c || g.c % g.group)
    fail(n, "group " + std::to_string(g.group) + " does not fit input " + shape_str(x) + " and weights " +
                shape_str(w) + " (weights are [C, M/group, ...])");
  g.oc = w[1] * g.group;
  const std::string auto_pad = n.get_string("auto_pad", "NOTSET");
  if (auto_pad == "VALID") g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 0;
  else if (auto_pad != "NOTSET" && !auto_pad.empty())
    fail(n, "auto_pad '" + auto_pad + "' is not supported for ConvTranspose (explicit pads or output_shape are)");
  const size_t axes = g.one_d ? 1 : 2;
  std::vector<int64_t> out_pad = n.get_ints("output_padding", std::vector<int64_t>(axes, 0));
  if (out_pad.size() != axes) fail(n, "output_padding must have " + std::to_string(axes) + " entries");
  if (g.one_d) out_pad.insert(out_pad.begin(), 0);
  // Per axis: the output size s (in - 1) + output_padding + (k - 1) d + 1 - pads, or output_shape
  // with the padding it implies (ONNX: the larger half at the start).
  std::vector<int64_t> out_shape = n.get_ints("output_shape");
  if (!out_shape.empty()) {
    if (out_shape.size() == x.size()) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);  // [N, C, ...] given
    if (out_shape.size() != axes) fail(n, "output_shape must have " + std::to_string(axes) + " entries");
    if (g.one_d) out_shape.insert(out_shape.begin(), 1);
  }
  auto axis = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t op, size_t i, int64_t& lo, int64_t& hi,
                  int64_t& out) {
    if (op < 0 || op >= std::max(s, d))
      fail(n, "output_padding " + std::to_string(op) + " must be in [0, max(stride, dilation))");
    const int64_t full = s * (in - 1) + op + (k - 1) * d + 1;
    if (!out_shape.empty()) {
      out = out_shape[i];
      const int64_t total = full - out;
      if (out < 1 || total < 0)
        fail(n, "output_shape " + std::to_string(out) + " is not in [1, " + std::to_string(full) + "]");
      hi = total / 2;
      lo = total - hi;
    }
    out = full - lo - hi;
    if (out < 1) fail(n, "the pads leave no output");
  };
  axis(g.h, g.kh, g.sh, g.dh, out_pad[0], 0, g.pad_top, g.pad_bottom, g.oh);
  axis(g.w, g.kw, g.sw, g.dw, out_pad[1], 1, g.pad_left, g.pad_right, g.ow);
  return g;
}

Window2d pool_geometry(const Node& n, const Shape& x) {
  auto ks = n.get_ints("kernel_shape");
  if (x.size() == 3) {
    if (ks.size() != 1) fail(n, "kernel_shape must have 1 entry (1-D pooling)");
    ks.insert(ks.begin(), 1);
  } else if (ks.size() != 2) {
    fail(n, "kernel_shape must have 2 entries (2-D pooling)");
  }
  Window2d g = window_common(n, x, ks[0], ks[1], true);
  g.oc = g.c;
  return g;
}

GlobalPool global_pool_geometry(const Node& n, const Shape& x) {
  if (x.size() < 3) fail(n, "the input must be [N,C,...] with at least one spatial axis, got " + shape_str(x));
  if (element_count(x) == 0) fail(n, "the input " + shape_str(x) + " is empty");
  GlobalPool p;
  p.groups = size_t(x[0] * x[1]);
  p.area = element_count(x) / p.groups;
  p.shape = Shape(x.size(), 1);
  p.shape[0] = x[0], p.shape[1] = x[1];
  return p;
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
    int64_t d = saturated_int(target[i]);  // an infinite or huge entry is then no integer below
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
    if (d > 0 && known > INT64_MAX / d) fail(n, "the target shape holds more elements than any tensor");
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

AxisLines axis_lines(const Shape& x, int64_t axis, bool to_end) {
  AxisLines l;
  for (int64_t d = 0; d < int64_t(x.size()); ++d) {
    const size_t s = size_t(x[size_t(d)]);
    if (d < axis) l.outer *= s;
    else if (d == axis || to_end) l.len *= s;
    else l.inner *= s;
  }
  return l;
}

AxisLines softmax_lines(const Node& n, const Shape& x, int64_t opset) {
  return axis_lines(x, normalized_axis(n, n.get_int("axis", opset < 13 ? 1 : -1), x.size()), opset < 13);
}

LayerNorm layer_norm_geometry(const Node& n, int64_t opset, const Shape& x, const Shape& scale, const Shape* bias) {
  const int64_t since = n.op == "RMSNormalization" ? 23 : 17;
  if (opset < since)
    fail(n, n.op + " is an op of opset " + std::to_string(since) + " and later (the model imports opset " +
                std::to_string(opset) + ")");
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty()) fail(n, "only the first output (Y) is supported, not Mean or InvStdDev");
  if (n.op == "RMSNormalization" && n.inputs.size() > 2) fail(n, "takes two inputs, X and scale (no B)");
  LayerNorm g;
  const int64_t axis = normalized_axis(n, n.get_int("axis", -1), x.size());
  g.lines = axis_lines(x, axis, true);
  g.epsilon = n.get_float("epsilon", 1e-5);
  if (!(g.epsilon > 0) || !std::isfinite(g.epsilon)) fail(n, "epsilon must be a positive finite number");
  const Shape normalized(x.begin() + axis, x.end());
  auto index = [&](const Shape& s, const char* what) {
    bool fits = s.size() <= normalized.size();
    for (size_t i = 0; fits && i < s.size(); ++i) {
      const int64_t d = s[s.size() - 1 - i];
      fits = d == 1 || d == normalized[normalized.size() - 1 - i];
    }
    if (!fits)
      fail(n, std::string(what) + " of shape " + shape_str(s) + " does not broadcast to the normalized axes " +
                  shape_str(normalized));
    return broadcast_index(s, normalized);
  };
  g.scale_at = index(scale, "Scale");
  if (bias) g.bias_at = index(*bias, "B");
  return g;
}

InstanceNorm instance_norm_geometry(const Node& n, const Shape& x, const Shape& scale, const Shape& bias) {
  if (x.size() < 3) fail(n, "the input must be [N, C, ...] with at least one spatial axis, got " + shape_str(x));
  InstanceNorm g;
  g.lines = axis_lines(x, 2, true);
  g.channels = size_t(x[1]);
  g.epsilon = n.get_float("epsilon", 1e-5);
  if (!(g.epsilon > 0) || !std::isfinite(g.epsilon)) fail(n, "epsilon must be a positive finite number");
  const Shape c{x[1]};
  if (scale != c) fail(n, "scale has shape " + shape_str(scale) + ", expected " + shape_str(c));
  if (bias != c) fail(n, "B has shape " + shape_str(bias) + ", expected " + shape_str(c));
  return g;
}

int64_t saturated_int(double v) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (v >= kTwo63) return INT64_MAX;
  if (v <= -kTwo63) return INT64_MIN;
  return int64_t(v);
}

namespace {

// The most elements a data-movement op or ConstantOfShape may produce (bounded_shape).
constexpr uint64_t kMaxMovedElements = uint64_t{1} << 28;

}  // namespace

Shape bounded_shape(const Node& n, Shape s) {
  uint64_t count = 1;
  for (int64_t d : s) {
    if (d < 0) fail(n, "output shape " + shape_str(s) + " has a negative dimension");
    if (d != 0 && count > kMaxMovedElements / uint64_t(d))
      fail(n, "output shape " + shape_str(s) + " has more than 2^28 elements");
    count *= uint64_t(d);
  }
  return s;
}

namespace {

// Integer operand: input i where the node has it, else attribute `attr` (the opsets before it
// moved to an input), else nullopt.
std::optional<std::vector<int64_t>> int_operand(const Node& n, const ConstInput& c, size_t i, const char* attr) {
  const Tensor* t = i < n.inputs.size() && !n.inputs[i].empty() ? c(i) : nullptr;
  if (t) {
    std::vector<int64_t> v;
    v.reserve(t->data.size());
    for (double d : t->data) {
      if (d != std::floor(d)) fail(n, "input " + std::to_string(i) + " (" + attr + ") holds a non-integer");
      v.push_back(saturated_int(d));
    }
    return v;
  }
  if (n.has(attr)) return n.get_ints(attr);
  return std::nullopt;
}

// Axes normalised to [0, rank), each at most once.
std::vector<int64_t> distinct_axes(const Node& n, const std::vector<int64_t>& axes, size_t rank) {
  std::vector<int64_t> out;
  for (int64_t a : axes) {
    const int64_t k = normalized_axis(n, a, rank);
    if (std::find(out.begin(), out.end(), k) != out.end()) fail(n, "axis " + std::to_string(a) + " is repeated");
    out.push_back(k);
  }
  return out;
}

// Calls src(position) for each output position in row-major order.
template <class F>
Movement map_positions(const Node& n, Shape shape, F src) {
  Movement m;
  m.shape = bounded_shape(n, std::move(shape));
  const size_t total = element_count(m.shape);
  m.from.resize(total);
  std::vector<int64_t> pos(m.shape.size(), 0);
  for (size_t e = 0; e < total; ++e) {
    m.from[e] = src(pos);
    for (size_t d = pos.size(); d-- > 0;) {
      if (++pos[d] < m.shape[d]) break;
      pos[d] = 0;
    }
  }
  return m;
}

Movement same_order(const Node& n, Shape shape) {
  Movement m;
  m.shape = bounded_shape(n, std::move(shape));
  m.from.resize(element_count(m.shape));
  std::iota(m.from.begin(), m.from.end(), int64_t{0});
  return m;
}

// A strided window of x: per axis a first index, a step and a count.
Movement window(const Node& n, const Shape& x, const std::vector<int64_t>& first, const std::vector<int64_t>& step,
                const Shape& count) {
  const auto st = strides_of(x);
  return map_positions(n, count, [&](const std::vector<int64_t>& pos) {
    int64_t k = 0;
    for (size_t d = 0; d < pos.size(); ++d) k += (first[d] + pos[d] * step[d]) * int64_t(st[d]);
    return k;
  });
}

Movement unsqueeze(const Node& n, const Shape& x, const ConstInput& c) {
  const auto axes_in = int_operand(n, c, 1, "axes");
  if (!axes_in || axes_in->empty()) fail(n, "needs axes");
  const auto axes = distinct_axes(n, *axes_in, x.size() + axes_in->size());
  Shape out(x.size() + axes.size(), 1);
  for (size_t d = 0, i = 0; d < out.size(); ++d)
    if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end()) out[d] = x[i++];
  return same_order(n, out);
}

Movement squeeze(const Node& n, const Shape& x, const ConstInput& c) {
  const auto axes_in = int_operand(n, c, 1, "axes");
  std::vector<int64_t> axes;
  if (axes_in && !axes_in->empty()) {
    axes = distinct_axes(n, *axes_in, x.size());
    for (int64_t a : axes)
      if (x[size_t(a)] != 1)
        fail(n, "cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(x[size_t(a)]) + " in " +
                    shape_str(x));
  } else {
    for (size_t d = 0; d < x.size(); ++d)
      if (x[d] == 1) axes.push_back(int64_t(d));
  }
  Shape out;
  for (size_t d = 0; d < x.size(); ++d)
    if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end()) out.push_back(x[d]);
  return same_order(n, out);
}

// Slice as ONNX defines it: starts and ends clamped per axis, negative steps walking backwards.
Movement slice(const Node& n, const Shape& x, const ConstInput& c) {
  const auto starts = int_operand(n, c, 1, "starts"), ends = int_operand(n, c, 2, "ends");
  if (!starts || !ends) fail(n, "needs starts and ends");
  if (starts->size() != ends->size()) fail(n, "starts and ends differ in length");
  std::vector<int64_t> axes_in(starts->size());
  std::iota(axes_in.begin(), axes_in.end(), int64_t{0});
  if (auto a = int_operand(n, c, 3, "axes")) axes_in = *a;
  std::vector<int64_t> steps(starts->size(), 1);
  if (auto s = int_operand(n, c, 4, "steps")) steps = *s;
  if (axes_in.size() != starts->size() || steps.size() != starts->size())
    fail(n, "starts, ends, axes and steps differ in length");
  const auto axes = distinct_axes(n, axes_in, x.size());
  std::vector<int64_t> first(x.size(), 0), step(x.size(), 1);
  Shape count = x;
  for (size_t i = 0; i < axes.size(); ++i) {
    const size_t a = size_t(axes[i]);
    const int64_t dim = x[a], st = steps[i];
    if (st == 0) fail(n, "a step is 0");
    int64_t b = (*starts)[i], e = (*ends)[i];
    if (b < 0) b = b < -dim ? 0 : b + dim;  // written so that INT64_MIN cannot overflow
    if (e < 0) e = e < -dim ? -1 : e + dim;
    if (st > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count[a] = e > b ? (e - b + st - 1) / st : 0;
    } else {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count[a] = b > e ? (b - e + (-st) - 1) / (-st) : 0;
    }
    first[a] = b;
    step[a] = st;
  }
  return window(n, x, first, step, count);
}

Movement gather(const Node& n, const Shape& x, const ConstInput& c) {
  const Tensor* ind = n.inputs.size() > 1 && !n.inputs[1].empty() ? c(1) : nullptr;
  if (!ind) fail(n, "needs indices");
  const int64_t axis = normalized_axis(n, n.get_int("axis", 0), x.size());
  const int64_t dim = x[size_t(axis)];
  std::vector<int64_t> idx;
  for (double v : ind->data) {
    const int64_t k = saturated_int(v);
    if (double(k) != v || k < -dim || k >= dim)
      fail(n, "index " + std::to_string(v) + " is out of range for axis " + std::to_string(axis) + " of size " +
                  std::to_string(dim));
    idx.push_back(k < 0 ? k + dim : k);
  }
  Shape out(x.begin(), x.begin() + axis);
  out.insert(out.end(), ind->shape.begin(), ind->shape.end());
  out.insert(out.end(), x.begin() + axis + 1, x.end());
  const auto st = strides_of(x), ist = strides_of(ind->shape);
  const size_t q = ind->shape.size();
  return map_positions(n, out, [&](const std::vector<int64_t>& pos) {
    int64_t k = 0, j = 0;
    for (size_t d = 0; d < size_t(axis); ++d) k += pos[d] * int64_t(st[d]);
    for (size_t d = 0; d < q; ++d) j += pos[size_t(axis) + d] * int64_t(ist[d]);
    k += idx[size_t(j)] * int64_t(st[size_t(axis)]);
    for (size_t d = size_t(axis) + 1; d < x.size(); ++d) k += pos[d + q - 1] * int64_t(st[d]);
    return k;
  });
}

// Pad: constant mode fills with the value (-1 in the map); reflect, edge and (opset 19) wrap
// modes take every element from the input. Negative pads crop; as onnxruntime does it, those
// modes pad the cropped extent (a reflection mirrors at the cropped edge, a wrap repeats the
// cropped extent).
Movement pad(const Node& n, const Shape& x, const ConstInput& c, int64_t opset) {
  const std::string mode = n.get_string("mode", "constant");
  if (mode == "wrap" && opset < 19)
    fail(n, "mode 'wrap' is defined from opset 19 on (the model imports opset " + std::to_string(opset) + ")");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    fail(n, "mode '" + mode + "' is not supported (constant, reflect, edge and wrap are)");
  const auto pads_in = int_operand(n, c, 1, "pads");
  if (!pads_in) fail(n, "needs pads");
  std::vector<int64_t> axes(x.size());
  std::iota(axes.begin(), axes.end(), int64_t{0});
  if (auto a = int_operand(n, c, 3, "axes")) axes = distinct_axes(n, *a, x.size());
  if (pads_in->size() != 2 * axes.size())
    fail(n, "pads has " + std::to_string(pads_in->size()) + " values, expected " + std::to_string(2 * axes.size()));
  // Per axis: the pads before and after, and the extent left after cropping, starting at `first`.
  std::vector<int64_t> before(x.size(), 0), first(x.size(), 0), extent = x;
  Shape out = x;
  for (size_t i = 0; i < axes.size(); ++i) {
    const size_t a = size_t(axes[i]);
    const int64_t b = (*pads_in)[i], e = (*pads_in)[i + axes.size()];
    // Each pad is at most the element limit in size, so the sum cannot overflow.
    if (std::llabs(b) > int64_t(kMaxMovedElements) || std::llabs(e) > int64_t(kMaxMovedElements) ||
        x[a] + b + e < 0)
      fail(n, "pads " + std::to_string(b) + ", " + std::to_string(e) + " do not fit axis " + std::to_string(a) +
                  " of size " + std::to_string(x[a]));
    before[a] = b;
    out[a] = x[a] + b + e;
    if (mode == "constant") continue;
    first[a] = std::max<int64_t>(-b, 0);
    extent[a] = x[a] - first[a] - std::max<int64_t>(-e, 0);
    const int64_t most = std::max({b, e, int64_t{0}});
    if (most == 0) continue;
    // A reflection as long as the axis would repeat the edge element: onnxruntime refuses it.
    const std::string axis = "axis " + std::to_string(a) + " of size " + std::to_string(extent[a]) +
                             (extent[a] != x[a] ? " (after cropping)" : "");
    if (extent[a] < 1) fail(n, "cannot pad the empty " + axis + " in " + mode + " mode");
    if (mode == "reflect" && most >= extent[a])
      fail(n, "pad " + std::to_string(most) + " in reflect mode must be less than the size of " + axis);
    // onnxruntime (1.30) gives wrong values for a wrap longer than its axis: refused.
    if (mode == "wrap" && most > extent[a])
      fail(n, "pad " + std::to_string(most) + " in wrap mode must be at most the size of " + axis);
  }
  const auto st = strides_of(x);
  return map_positions(n, out, [&](const std::vector<int64_t>& pos) {
    int64_t k = 0;
    for (size_t d = 0; d < pos.size(); ++d) {
      int64_t i = pos[d] - before[d];
      if (mode == "constant") {
        if (i < 0 || i >= x[d]) return int64_t{-1};
      } else {
        i -= first[d];  // within the cropped extent [0, len)
        const int64_t len = extent[d];
        if (mode == "reflect") i = i < 0 ? -i : i >= len ? 2 * (len - 1) - i : i;
        else if (mode == "wrap") i = i < 0 ? i + len : i >= len ? i - len : i;  // |pad| <= len
        else i = std::clamp<int64_t>(i, 0, len - 1);
        i += first[d];
      }
      k += i * int64_t(st[d]);
    }
    return k;
  });
}

Movement split(const Node& n, const Shape& x, const ConstInput& c, int64_t opset, size_t output) {
  const int64_t axis = normalized_axis(n, n.get_int("axis", 0), x.size());
  const int64_t dim = x[size_t(axis)];
  std::vector<int64_t> sizes;
  if (auto s = int_operand(n, c, 1, "split")) {
    sizes = *s;
  } else if (opset >= 18 && n.has("num_outputs")) {
    const int64_t parts = n.get_int("num_outputs", 0);
    if (parts < 1) fail(n, "num_outputs must be positive");
    const int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t p = 0, left = dim; p < parts; ++p, left -= chunk) sizes.push_back(std::clamp<int64_t>(left, 0, chunk));
  } else {
    const int64_t parts = int64_t(n.outputs.size());
    if (parts < 1 || dim % parts) fail(n, "axis of size " + std::to_string(dim) + " does not split into " +
                                             std::to_string(parts) + " equal parts");
    sizes.assign(size_t(parts), dim / parts);
  }
  if (sizes.size() != n.outputs.size())
    fail(n, std::to_string(sizes.size()) + " split sizes for " + std::to_string(n.outputs.size()) + " outputs");
  int64_t offset = 0, total = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 0 || sizes[i] > dim) fail(n, "split size " + std::to_string(sizes[i]) + " is out of range");
    total += sizes[i];
    if (i < output) offset += sizes[i];
  }
  if (total != dim) fail(n, "split sizes add up to " + std::to_string(total) + ", not the axis size " + std::to_string(dim));
  if (output >= sizes.size()) fail(n, "has no output " + std::to_string(output));
  std::vector<int64_t> first(x.size(), 0), step(x.size(), 1);
  Shape count = x;
  first[size_t(axis)] = offset;
  count[size_t(axis)] = sizes[output];
  return window(n, x, first, step, count);
}

// Expand: x broadcast against the target shape (numpy's rule, both ways).
Movement expand(const Node& n, const Shape& x, const ConstInput& c) {
  const auto target = int_operand(n, c, 1, "shape");
  if (!target) fail(n, "needs a shape");
  const Shape out = bounded_shape(n, broadcast_shape(n, x, *target));
  const auto idx = broadcast_index(x, out);
  return Movement{out, std::vector<int64_t>(idx.begin(), idx.end())};
}

// Tile: x repeated repeats[d] times along each axis.
Movement tile(const Node& n, const Shape& x, const ConstInput& c) {
  const auto reps = int_operand(n, c, 1, "repeats");
  if (!reps || reps->size() != x.size())
    fail(n, "repeats must have one value per axis (" + std::to_string(x.size()) + ")");
  Shape out = x;
  for (size_t d = 0; d < x.size(); ++d) {
    if ((*reps)[d] < 0 || (*reps)[d] > int64_t(kMaxMovedElements))
      fail(n, "repeats " + std::to_string((*reps)[d]) + " is out of range");
    out[d] = x[d] * (*reps)[d];
  }
  const auto st = strides_of(x);
  return map_positions(n, out, [&](const std::vector<int64_t>& pos) {
    int64_t k = 0;
    for (size_t d = 0; d < pos.size(); ++d) k += (pos[d] % x[d]) * int64_t(st[d]);
    return k;
  });
}

// DepthToSpace (DCR or, from opset 11, CRD mode; torch's PixelShuffle exports CRD) and
// SpaceToDepth on [N, C, H, W] with block size b: channel blocks of b x b become pixel blocks and
// back. DCR output (n, c, h b + i, w b + j) is input (n, (i b + j) C / b^2 + c, h, w), CRD's
// (n, c b^2 + i b + j, h, w); SpaceToDepth output (n, (i b + j) C + c, h, w) is input
// (n, c, h b + i, w b + j).
Movement depth_space(const Node& n, const Shape& x) {
  if (x.size() != 4) fail(n, "the input must be [N, C, H, W], got " + shape_str(x));
  if (!n.has("blocksize")) fail(n, "needs a blocksize");
  const int64_t b = n.get_int("blocksize", 1);
  if (b < 1 || b > int64_t(kMaxMovedElements)) fail(n, "blocksize " + std::to_string(b) + " is out of range");
  const int64_t N = x[0], C = x[1], H = x[2], W = x[3];
  const auto st = strides_of(x);
  auto at = [&](int64_t ni, int64_t c, int64_t h, int64_t w) {
    return ni * int64_t(st[0]) + c * int64_t(st[1]) + h * int64_t(st[2]) + w * int64_t(st[3]);
  };
  if (n.op == "SpaceToDepth") {
    if (H % b || W % b)
      fail(n, "blocksize " + std::to_string(b) + " does not divide the height and width of " + shape_str(x));
    return map_positions(n, {N, C * b * b, H / b, W / b}, [&](const std::vector<int64_t>& p) {
      const int64_t c = p[1] % C, i = p[1] / C / b, j = p[1] / C % b;
      return at(p[0], c, p[2] * b + i, p[3] * b + j);
    });
  }
  const std::string mode = n.get_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") fail(n, "mode '" + mode + "' is not supported (DCR and CRD are)");
  if (C % (b * b))
    fail(n, "blocksize " + std::to_string(b) + ": its square " + std::to_string(b * b) +
                " does not divide the channels of " + shape_str(x));
  const int64_t oc = C / (b * b);
  return map_positions(n, {N, oc, H * b, W * b}, [&](const std::vector<int64_t>& p) {
    const int64_t i = p[2] % b, j = p[3] % b;
    const int64_t c = mode == "DCR" ? (i * b + j) * oc + p[1] : p[1] * b * b + i * b + j;
    return at(p[0], c, p[2] / b, p[3] / b);
  });
}

}  // namespace

ResizePlan resize_plan(const Node& n, const Shape& x, int64_t opset, const ConstInput& c) {
  ResizePlan p;
  p.mode = n.get_string("mode", "nearest");
  if (p.mode != "nearest" && p.mode != "linear" && p.mode != "cubic")
    fail(n, "mode '" + p.mode + "' is not supported (nearest, linear and cubic are)");
  const bool legacy = n.op == "Upsample" || opset < 11;  // asymmetric coordinates, no attributes for them
  if (legacy && p.mode == "cubic") fail(n, "mode 'cubic' is defined from opset 11 (Resize) on");
  p.coordinates = legacy ? "asymmetric" : n.get_string("coordinate_transformation_mode", "half_pixel");
  p.nearest = legacy ? "legacy" : n.get_string("nearest_mode", "round_prefer_floor");
  static const char* const kCoordinates[] = {"half_pixel", "pytorch_half_pixel",   "align_corners",
                                             "asymmetric", "tf_half_pixel_for_nn", "half_pixel_symmetric"};
  if (std::find_if(std::begin(kCoordinates), std::end(kCoordinates),
                   [&](const char* m) { return p.coordinates == m; }) == std::end(kCoordinates))
    fail(n, "coordinate_transformation_mode '" + p.coordinates + "' is not supported");
  if (p.coordinates == "half_pixel_symmetric" && opset < 19)
    fail(n, "coordinate_transformation_mode 'half_pixel_symmetric' is defined from opset 19 on (the model imports " +
                std::string("opset ") + std::to_string(opset) + ")");
  if (!legacy && p.nearest != "round_prefer_floor" && p.nearest != "round_prefer_ceil" && p.nearest != "floor" &&
      p.nearest != "ceil")
    fail(n, "nearest_mode '" + p.nearest + "' is not supported");
  if (p.mode != "nearest" && p.coordinates == "tf_half_pixel_for_nn")
    fail(n, "coordinate_transformation_mode 'tf_half_pixel_for_nn' is only defined for nearest");
  if (p.mode == "cubic") {
    p.cubic_a = double(float(n.get_float("cubic_coeff_a", -0.75)));
    if (!std::isfinite(p.cubic_a)) fail(n, "cubic_coeff_a must be a finite number");
    p.exclude_outside = n.get_int("exclude_outside", 0) != 0;
  }
  // Scales (or sizes) for `axes` (opset 18; every axis by default).
  std::vector<int64_t> axes = n.get_ints("axes");
  if (axes.empty())
    for (size_t d = 0; d < x.size(); ++d) axes.push_back(int64_t(d));
  for (int64_t& a : axes) a = normalized_axis(n, a, x.size());
  const size_t si = legacy ? 1 : 2, zi = 3;
  auto operand = [&](size_t i) -> const Tensor* {
    const Tensor* t = i < n.inputs.size() && !n.inputs[i].empty() ? c(i) : nullptr;
    return t && !t->data.empty() ? t : nullptr;
  };
  const Tensor* scales = operand(si);
  const Tensor* sizes = legacy ? nullptr : operand(zi);
  if (!scales == !sizes) fail(n, "exactly one of scales and sizes must be given (non-empty)");
  if (sizes && n.get_string("keep_aspect_ratio_policy", "stretch") != "stretch")
    fail(n, "keep_aspect_ratio_policy '" + n.get_string("keep_aspect_ratio_policy", "") +
                "' is not supported (stretch is)");
  const Tensor& given = scales ? *scales : *sizes;
  if (given.data.size() != axes.size())
    fail(n, std::string(scales ? "scales" : "sizes") + " has " + std::to_string(given.data.size()) + " values for " +
                std::to_string(axes.size()) + " axes");
  p.out = x;
  p.scale.assign(x.size(), 1.0f);
  for (size_t k = 0; k < axes.size(); ++k) {
    const size_t d = size_t(axes[k]);
    const double v = given.data[k];
    if (scales) {
      if (!(v > 0) || v > double(kMaxMovedElements))
        fail(n, "scale " + std::to_string(v) + " is not a positive number");
      p.scale[d] = float(v);
      p.out[d] = int64_t(std::floor(float(x[d]) * p.scale[d]));
    } else {
      if (v < 1 || v != std::floor(v) || v > double(kMaxMovedElements))
        fail(n, "size " + std::to_string(v) + " is not a positive integer");
      p.out[d] = int64_t(v);
      p.scale[d] = float(v) / float(x[d]);
    }
    if (p.out[d] < 1)
      fail(n, "axis " + std::to_string(d) + " would have no elements (" + std::to_string(x[d]) + " x " +
                  std::to_string(v) + ")");
  }
  // Antialiasing (opset 18) widens the kernel by 1 / scale when downsampling; upsampling, it is
  // the plain kernel (onnxruntime's results agree, cubic mode included).
  if (p.mode != "nearest" && n.get_int("antialias", 0) != 0)
    for (float sc : p.scale)
      if (sc < 1) fail(n, "antialias when downsampling is not supported (" + p.mode + " mode)");
  if (legacy && p.mode == "nearest")
    for (float sc : p.scale)
      if (sc < 1) fail(n, "nearest downsampling before opset 11 is not supported (runtimes round it differently)");
  p.out = bounded_shape(n, p.out);
  return p;
}

float resize_coordinate(const ResizePlan& p, size_t d, int64_t o, int64_t in) {
  const float s = p.scale[d], xr = float(o);
  const int64_t out = p.out[d];
  if (p.coordinates == "half_pixel") return (xr + 0.5f) / s - 0.5f;
  if (p.coordinates == "pytorch_half_pixel") return out > 1 ? (xr + 0.5f) / s - 0.5f : 0.0f;
  if (p.coordinates == "align_corners") return out == 1 ? 0.0f : xr * float(in - 1) / float(out - 1);
  if (p.coordinates == "tf_half_pixel_for_nn") return (xr + 0.5f) / s;
  if (p.coordinates == "half_pixel_symmetric") {  // half_pixel, centred when out is in * s rounded down
    const float adjustment = float(out) / (s * float(in));
    const float offset = float(in) / 2 * (1 - adjustment);
    return offset + (xr + 0.5f) / s - 0.5f;
  }
  return xr / s;  // asymmetric
}

int64_t resize_nearest_source(const ResizePlan& p, size_t d, int64_t o, int64_t in) {
  const float xo = resize_coordinate(p, d, o, in);
  int64_t k;
  if (p.nearest == "round_prefer_floor")
    k = xo == float(std::floor(xo)) + 0.5f ? int64_t(std::floor(xo)) : int64_t(std::round(xo));
  else if (p.nearest == "round_prefer_ceil") k = int64_t(std::round(xo));
  else if (p.nearest == "floor") k = int64_t(std::floor(xo));
  else if (p.nearest == "ceil") k = int64_t(std::ceil(xo));
  else k = int64_t(xo);  // legacy (upsampling only): truncation
  return std::clamp<int64_t>(k, 0, in - 1);
}

// Every output element is one input element. The source coordinate is computed in float32 as
// onnxruntime and torch do, so ties (x.5) resolve as they do.
Movement resize_nearest(const Node& n, const ResizePlan& p, const Shape& x) {
  if (p.mode != "nearest") fail(n, "is not a data-movement op in mode '" + p.mode + "'");
  std::vector<std::vector<int64_t>> src(x.size());
  for (size_t d = 0; d < x.size(); ++d)
    for (int64_t o = 0; o < p.out[d]; ++o) src[d].push_back(resize_nearest_source(p, d, o, x[d]));
  const auto st = strides_of(x);
  return map_positions(n, p.out, [&](const std::vector<int64_t>& pos) {
    int64_t k = 0;
    for (size_t d = 0; d < pos.size(); ++d) k += src[d][size_t(pos[d])] * int64_t(st[d]);
    return k;
  });
}

namespace {
using AxisTerms = std::vector<std::pair<int64_t, double>>;

// Linear mode along one axis: the coordinate clamped to [0, in - 1], its two neighbours.
AxisTerms linear_axis_terms(const ResizePlan& p, size_t d, int64_t o, int64_t in) {
  const float xo = std::clamp(resize_coordinate(p, d, o, in), 0.0f, float(in - 1));
  const int64_t i0 = int64_t(xo), i1 = std::min(i0 + 1, in - 1);
  const double f = double(xo - float(i0));
  if (i0 == i1 || f == 0) return {{i0, 1.0}};
  return {{i0, 1.0 - f}, {i1, f}};
}

// The Keys cubic convolution kernel with parameter a, at distance t >= 0 (0 from t = 2 on).
double keys_kernel(double t, double a) {
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

// Cubic mode along one axis: taps floor(x) - 1 .. floor(x) + 2 of the unclamped coordinate x at
// distances 1 + s, s, 1 - s, 2 - s (s = x - floor(x), in float32 as onnxruntime computes it).
// At an integer coordinate the kernel interpolates: weight 1 on that element alone.
AxisTerms cubic_axis_terms(const Node& n, const ResizePlan& p, size_t d, int64_t o, int64_t in) {
  const float xo = resize_coordinate(p, d, o, in);
  const float fl = std::floor(xo);
  const int64_t i0 = int64_t(fl);
  const double s = double(xo - fl);
  AxisTerms t;
  auto add = [&t](int64_t i, double w) {
    for (auto& [k, v] : t)
      if (k == i) {
        v += w;
        return;
      }
    t.push_back({i, w});
  };
  if (s == 0) {
    if (p.exclude_outside && (i0 < 0 || i0 >= in)) fail(n, "exclude_outside leaves an output element no taps");
    add(std::clamp<int64_t>(i0, 0, in - 1), 1.0);
    return t;
  }
  const double dist[4] = {1 + s, s, 1 - s, 2 - s};
  double w[4], sum = 0;
  for (int k = 0; k < 4; ++k) {
    const int64_t i = i0 - 1 + k;
    w[k] = p.exclude_outside && (i < 0 || i >= in) ? 0.0 : keys_kernel(dist[k], p.cubic_a);
    sum += w[k];
  }
  if (p.exclude_outside && !(std::fabs(sum) > 1e-12))
    fail(n, "exclude_outside leaves an output element taps whose weights sum to 0 (cubic_coeff_a " +
                std::to_string(p.cubic_a) + ")");
  for (int k = 0; k < 4; ++k)
    if (w[k] != 0) add(std::clamp<int64_t>(i0 - 1 + k, 0, in - 1), p.exclude_outside ? w[k] / sum : w[k]);
  std::erase_if(t, [](const auto& iw) { return iw.second == 0; });
  return t;
}
}  // namespace

ResizeTerms resize_terms(const Node& n, const ResizePlan& p, const Shape& x) {
  if (p.mode != "linear" && p.mode != "cubic") fail(n, "is not in linear or cubic mode");
  // Per axis and output index: its (input index, weight) terms.
  std::vector<std::vector<AxisTerms>> axis(x.size());
  for (size_t d = 0; d < x.size(); ++d)
    for (int64_t o = 0; o < p.out[d]; ++o)
      axis[d].push_back(p.mode == "linear" ? linear_axis_terms(p, d, o, x[d]) : cubic_axis_terms(n, p, d, o, x[d]));
  ResizeTerms r;
  r.shape = bounded_shape(n, p.out);
  const auto st = strides_of(x);
  const size_t total = element_count(r.shape);
  r.terms.resize(total);
  std::vector<int64_t> pos(r.shape.size(), 0);
  for (size_t e = 0; e < total; ++e) {
    std::vector<std::pair<size_t, double>> t{{0, 1.0}};
    for (size_t d = 0; d < pos.size(); ++d) {
      std::vector<std::pair<size_t, double>> next;
      for (const auto& [k, w] : t)
        for (const auto& [i, v] : axis[d][size_t(pos[d])]) next.push_back({k + size_t(i) * st[d], w * v});
      t = std::move(next);
    }
    r.terms[e] = std::move(t);
    for (size_t d = pos.size(); d-- > 0;) {
      if (++pos[d] < r.shape[d]) break;
      pos[d] = 0;
    }
  }
  return r;
}

Movement movement(const Node& n, const Shape& x, int64_t opset, const ConstInput& c, size_t output) {
  if (n.op == "Unsqueeze") return unsqueeze(n, x, c);
  if (n.op == "Squeeze") return squeeze(n, x, c);
  if (n.op == "Slice") return slice(n, x, c);
  if (n.op == "Gather") return gather(n, x, c);
  if (n.op == "Pad") return pad(n, x, c, opset);
  if (n.op == "Split") return split(n, x, c, opset, output);
  if (n.op == "Expand") return expand(n, x, c);
  if (n.op == "Tile") return tile(n, x, c);
  if (n.op == "DepthToSpace" || n.op == "SpaceToDepth") return depth_space(n, x);
  if (n.op == "Resize" || n.op == "Upsample") return resize_nearest(n, resize_plan(n, x, opset, c), x);
  fail(n, "is not a data-movement op");
}

double pad_value(const Node& n, int64_t opset, const ConstInput& c) {
  if (opset < 11) return n.get_float("value", 0.0);
  const Tensor* v = n.inputs.size() > 2 && !n.inputs[2].empty() ? c(2) : nullptr;
  if (!v) return 0.0;
  if (v->data.size() != 1) fail(n, "constant_value must be a scalar");
  return v->data[0];
}

// Axes: an attribute before opset 13 (ReduceSum) or 18 (the others), an input from then on.
Reduction reduction(const Node& n, const Shape& x, const ConstInput& c) {
  const bool keep = n.get_int("keepdims", 1) != 0;
  const auto axes_in = int_operand(n, c, 1, "axes");
  std::vector<int64_t> axes;
  if (axes_in && !axes_in->empty()) {
    axes = distinct_axes(n, *axes_in, x.size());
  } else if (n.get_int("noop_with_empty_axes", 0) == 0) {
    axes.resize(x.size());
    std::iota(axes.begin(), axes.end(), int64_t{0});
  }
  auto reduced = [&](size_t d) { return std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end(); };
  Reduction r;
  Shape full = x;  // the output shape with reduced axes kept as 1
  for (size_t d = 0; d < x.size(); ++d) {
    if (reduced(d)) full[d] = 1;
    if (!reduced(d)) r.shape.push_back(x[d]);
    else if (keep) r.shape.push_back(1);
  }
  const auto ost = strides_of(full);
  r.groups.resize(element_count(full));
  std::vector<int64_t> pos(x.size(), 0);
  for (size_t e = 0; e < element_count(x); ++e) {
    size_t o = 0;
    for (size_t d = 0; d < x.size(); ++d)
      if (!reduced(d)) o += size_t(pos[d]) * ost[d];
    r.groups[o].push_back(e);
    for (size_t d = pos.size(); d-- > 0;) {
      if (++pos[d] < x[d]) break;
      pos[d] = 0;
    }
  }
  return r;
}

CumSum cumsum_geometry(const Node& n, const Shape& x, const ConstInput& c) {
  const Tensor* axis = n.inputs.size() > 1 && !n.inputs[1].empty() ? c(1) : nullptr;
  if (!axis) fail(n, "needs an axis");
  if (axis->data.size() != 1 || axis->shape.size() > 1)
    fail(n, "the axis must be a single integer, got shape " + shape_str(axis->shape));
  const double a = axis->data[0];
  if (a != std::floor(a)) fail(n, "the axis " + std::to_string(a) + " is not an integer");
  CumSum g;
  g.lines = axis_lines(x, normalized_axis(n, saturated_int(a), x.size()));
  g.exclusive = n.get_int("exclusive", 0) != 0;
  g.reverse = n.get_int("reverse", 0) != 0;
  return g;
}

std::vector<int64_t> shape_of(const Node& n, const Shape& x) {
  const int64_t r = int64_t(x.size());
  auto at = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + r : v, 0, r); };
  const int64_t b = at(n.get_int("start", 0)), e = at(n.get_int("end", r));
  return e > b ? std::vector<int64_t>(x.begin() + b, x.begin() + e) : std::vector<int64_t>{};
}

}  // namespace zkinfer::compiler
