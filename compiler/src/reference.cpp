#include "zkinfer/compiler/reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "zkinfer/compiler/op_shapes.h"

namespace zkinfer::compiler {

namespace {

[[noreturn]] void fail(const Node& n, const std::string& why) { throw ModelError(n.where() + ": " + why); }

const Tensor& input(const Node& n, const TensorMap& t, size_t i) {
  if (i >= n.inputs.size() || n.inputs[i].empty()) fail(n, "input " + std::to_string(i) + " is missing");
  auto it = t.find(n.inputs[i]);
  if (it == t.end()) fail(n, "input '" + n.inputs[i] + "' is not defined");
  return it->second;
}
const Tensor* optional_input(const Node& n, const TensorMap& t, size_t i) {
  if (i >= n.inputs.size() || n.inputs[i].empty()) return nullptr;
  return &input(n, t, i);
}

Tensor elementwise(const Node& n, const Tensor& a, const Tensor& b, double (*f)(double, double)) {
  Tensor out;
  out.shape = broadcast_shape(n, a.shape, b.shape);
  out.integer = a.integer && b.integer;
  const auto ia = broadcast_index(a.shape, out.shape), ib = broadcast_index(b.shape, out.shape);
  out.data.resize(ia.size());
  for (size_t e = 0; e < ia.size(); ++e) out.data[e] = f(a.data[ia[e]], b.data[ib[e]]);
  return out;
}

// Sum, Mean, Max and Min of one or more inputs, all broadcast together.
Tensor variadic(const Node& n, const TensorMap& t) {
  if (n.inputs.empty()) fail(n, "needs at least one input");
  using Fn = double (*)(double, double);
  const Fn f = n.op == "Max"   ? Fn([](double a, double b) { return std::max(a, b); })
               : n.op == "Min" ? Fn([](double a, double b) { return std::min(a, b); })
                               : Fn([](double a, double b) { return a + b; });
  Tensor out = input(n, t, 0);
  for (size_t i = 1; i < n.inputs.size(); ++i) out = elementwise(n, out, input(n, t, i), f);
  if (n.op == "Mean") {
    for (double& v : out.data) v /= double(n.inputs.size());
    out.integer = false;
  }
  return out;
}

// Where(condition, X, Y) with numpy broadcasting of all three.
Tensor where(const Node& n, const Tensor& c, const Tensor& x, const Tensor& y) {
  Tensor out;
  out.shape = broadcast_shape(n, broadcast_shape(n, c.shape, x.shape), y.shape);
  out.integer = x.integer && y.integer;
  const auto ic = broadcast_index(c.shape, out.shape), ix = broadcast_index(x.shape, out.shape),
             iy = broadcast_index(y.shape, out.shape);
  for (size_t e = 0; e < ic.size(); ++e) out.data.push_back(c.data[ic[e]] != 0 ? x.data[ix[e]] : y.data[iy[e]]);
  return out;
}

Tensor unary(const Tensor& x, auto f) {
  Tensor out = x;
  for (double& v : out.data) v = f(v);
  return out;
}

// Clip bounds: attributes before opset 11, optional inputs from 11 on.
void clip_bounds(const Node& n, const TensorMap& t, int64_t opset, double& lo, double& hi) {
  lo = -std::numeric_limits<double>::infinity();
  hi = std::numeric_limits<double>::infinity();
  if (opset < 11) {
    lo = n.get_float("min", lo);
    hi = n.get_float("max", hi);
    return;
  }
  if (const Tensor* m = optional_input(n, t, 1)) {
    if (m->data.size() != 1) fail(n, "min must be a scalar");
    lo = m->data[0];
  }
  if (const Tensor* m = optional_input(n, t, 2)) {
    if (m->data.size() != 1) fail(n, "max must be a scalar");
    hi = m->data[0];
  }
}

Tensor gemm(const Node& n, const TensorMap& t) {
  const Tensor& a = input(n, t, 0);
  const Tensor& b = input(n, t, 1);
  const GemmDims d = gemm_dims(n, a.shape, b.shape);
  Tensor out{{d.m, d.n}, std::vector<double>(size_t(d.m * d.n), 0.0)};
  for (int64_t i = 0; i < d.m; ++i)
    for (int64_t j = 0; j < d.n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < d.k; ++k) {
        const double av = d.trans_a ? a.data[size_t(k * d.m + i)] : a.data[size_t(i * d.k + k)];
        const double bv = d.trans_b ? b.data[size_t(j * d.k + k)] : b.data[size_t(k * d.n + j)];
        s += av * bv;
      }
      out.data[size_t(i * d.n + j)] = d.alpha * s;
    }
  if (const Tensor* c = optional_input(n, t, 2)) {
    const Shape mn{d.m, d.n};
    if (broadcast_shape(n, c->shape, mn) != mn) fail(n, "C of shape " + shape_str(c->shape) + " does not broadcast to " + shape_str(mn));
    const auto ic = broadcast_index(c->shape, mn);
    for (size_t e = 0; e < ic.size(); ++e) out.data[e] += d.beta * c->data[ic[e]];
  }
  return out;
}

Tensor matmul(const Node& n, const TensorMap& t) {
  const Tensor& a = input(n, t, 0);
  const Tensor& b = input(n, t, 1);
  const MatMulDims d = matmul_dims(n, a.shape, b.shape);
  Tensor out{d.out, std::vector<double>(size_t(d.batch * d.m * d.n), 0.0)};
  for (int64_t bi = 0; bi < d.batch; ++bi) {
    const double* ap = a.data.data() + d.a_batch[size_t(bi)] * size_t(d.m * d.k);
    const double* bp = b.data.data() + d.b_batch[size_t(bi)] * size_t(d.k * d.n);
    double* op = out.data.data() + size_t(bi * d.m * d.n);
    for (int64_t i = 0; i < d.m; ++i)
      for (int64_t j = 0; j < d.n; ++j) {
        double s = 0;
        for (int64_t k = 0; k < d.k; ++k) s += ap[i * d.k + k] * bp[k * d.n + j];
        op[i * d.n + j] = s;
      }
  }
  return out;
}

// Conv, and ConvTranspose as a gather: each output pixel sums the input pixels whose scattered
// kernel reaches it (the same arithmetic as scattering, summed in a fixed order). Conv weights
// are [M, C/group, kH, kW], ConvTranspose weights [C, M/group, kH, kW].
Tensor conv(const Node& n, const TensorMap& t, bool transposed) {
  const Tensor& x = input(n, t, 0);
  const Tensor& w = input(n, t, 1);
  const Window2d g = transposed ? conv_transpose_geometry(n, x.shape, w.shape) : conv_geometry(n, x.shape, w.shape);
  const Tensor* b = optional_input(n, t, 2);
  if (b && (b->shape.size() != 1 || b->shape[0] != g.oc)) fail(n, "bias must have shape [" + std::to_string(g.oc) + "]");
  Tensor out{g.out_shape(g.oc), std::vector<double>(size_t(g.n * g.oc * g.oh * g.ow))};
  const int64_t cpg = g.c / g.group, opg = g.oc / g.group;
  size_t e = 0;
  for (int64_t ni = 0; ni < g.n; ++ni)
    for (int64_t m = 0; m < g.oc; ++m)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          double s = b ? b->data[size_t(m)] : 0.0;
          const int64_t c0 = (m / opg) * cpg;
          for (int64_t c = 0; c < cpg; ++c)
            for (int64_t ky = 0; ky < g.kh; ++ky)
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t iy = transposed ? g.src_y(oy, ky) : g.in_y(oy, ky);
                const int64_t ix = transposed ? g.src_x(ox, kx) : g.in_x(ox, kx);
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const int64_t wi = transposed ? ((c0 + c) * opg + m % opg) : (m * cpg + c);
                s += w.data[size_t((wi * g.kh + ky) * g.kw + kx)] *
                     x.data[size_t(((ni * g.c + c0 + c) * g.h + iy) * g.w + ix)];
              }
          out.data[e++] = s;
        }
  return out;
}

Tensor pool(const Node& n, const Tensor& x, bool is_max) {
  const Window2d g = pool_geometry(n, x.shape);
  const bool include_pad = n.get_int("count_include_pad", 0) != 0;
  Tensor out{g.out_shape(g.c), std::vector<double>(size_t(g.n * g.c * g.oh * g.ow))};
  size_t e = 0;
  for (int64_t nc = 0; nc < g.n * g.c; ++nc)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
        int64_t count = 0;
        for (int64_t ky = 0; ky < g.kh; ++ky)
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int64_t iy = g.in_y(oy, ky), ix = g.in_x(ox, kx);
            const bool inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
            // count_include_pad counts the explicit padding, not the ceil_mode overhang.
            const bool in_padded = iy < g.h + g.pad_bottom && ix < g.w + g.pad_right;
            if (!inside) {
              if (!is_max && include_pad && in_padded) ++count;
              continue;
            }
            const double v = x.data[size_t((nc * g.h + iy) * g.w + ix)];
            if (is_max) acc = std::max(acc, v);
            else acc += v, ++count;
          }
        out.data[e++] = is_max ? acc : acc / double(count);
      }
  return out;
}

// GlobalAveragePool and GlobalMaxPool over each (n, c)'s spatial elements.
Tensor global_pool(const Node& n, const Tensor& x, bool is_max) {
  const GlobalPool p = global_pool_geometry(n, x.shape);
  const size_t nc = p.groups, hw = p.area;
  Tensor out{p.shape, std::vector<double>(nc)};
  for (size_t i = 0; i < nc; ++i) {
    const double* in = x.data.data() + i * hw;
    double s = is_max ? in[0] : 0.0;
    for (size_t j = 0; j < hw; ++j) s = is_max ? std::max(s, in[j]) : s + in[j];
    out.data[i] = is_max ? s : s / double(hw);
  }
  return out;
}

Tensor transpose(const Node& n, const Tensor& x) {
  const auto perm = transpose_perm(n, x.shape);
  Tensor out{transpose_shape(x.shape, perm), std::vector<double>(x.data.size()), x.integer};
  const auto in_st = strides_of(x.shape);
  std::vector<int64_t> pos(out.shape.size(), 0);
  for (size_t e = 0; e < out.data.size(); ++e) {
    size_t k = 0;
    for (size_t d = 0; d < perm.size(); ++d) k += size_t(pos[d]) * in_st[size_t(perm[d])];
    out.data[e] = x.data[k];
    for (size_t d = pos.size(); d-- > 0;) {
      if (++pos[d] < out.shape[d]) break;
      pos[d] = 0;
    }
  }
  return out;
}

Tensor concat(const Node& n, const TensorMap& t) {
  std::vector<Shape> shapes;
  for (size_t i = 0; i < n.inputs.size(); ++i) shapes.push_back(input(n, t, i).shape);
  Tensor out;
  const int64_t axis = concat_axis(n, shapes, &out.shape);
  out.integer = true;
  for (size_t i = 0; i < n.inputs.size(); ++i) out.integer = out.integer && input(n, t, i).integer;
  size_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= size_t(out.shape[size_t(d)]);
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const Tensor& x = input(n, t, i);
      const size_t chunk = x.data.size() / outer;
      out.data.insert(out.data.end(), x.data.begin() + long(o * chunk), x.data.begin() + long((o + 1) * chunk));
    }
  return out;
}

Tensor batch_norm(const Node& n, const TensorMap& t) {
  if (n.get_int("training_mode", 0) != 0) fail(n, "training_mode is not supported");
  const Tensor& x = input(n, t, 0);
  if (x.shape.size() < 2) fail(n, "input must have a channel axis");
  const int64_t c = x.shape[1];
  const Tensor* p[4];
  for (size_t i = 0; i < 4; ++i) {
    p[i] = &input(n, t, i + 1);
    if (p[i]->data.size() != size_t(c)) fail(n, "scale, B, mean and var must have " + std::to_string(c) + " values");
  }
  const double eps = n.get_float("epsilon", 1e-5);
  size_t inner = 1;
  for (size_t d = 2; d < x.shape.size(); ++d) inner *= size_t(x.shape[d]);
  Tensor out = x;
  for (size_t e = 0; e < out.data.size(); ++e) {
    const size_t ch = (e / inner) % size_t(c);
    const double a = p[0]->data[ch] / std::sqrt(p[3]->data[ch] + eps);
    out.data[e] = (x.data[e] - p[2]->data[ch]) * a + p[1]->data[ch];
  }
  return out;
}

// Softmax over `axis`: before opset 13 the input is coerced to 2-D at the axis.
Tensor softmax(const Node& n, const Tensor& x, int64_t opset) {
  const AxisLines l = softmax_lines(n, x.shape, opset);
  const size_t len = l.len;
  Tensor out = x;
  for (size_t o = 0; o < l.outer; ++o)
    for (size_t i = 0; i < l.inner; ++i) {
      auto at = [&](size_t k) -> double& { return out.data[l.at(o, i, k)]; };
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (size_t k = 0; k < len; ++k) mx = std::max(mx, at(k));
      for (size_t k = 0; k < len; ++k) sum += (at(k) = std::exp(at(k) - mx));
      for (size_t k = 0; k < len; ++k) at(k) /= sum;
    }
  return out;
}

// LayerNormalization: y = (x - mean) / sqrt(var + epsilon) * Scale + B over each line;
// RMSNormalization: y = x / sqrt(mean(x^2) + epsilon) * Scale (the mean taken as 0).
// Each line of x (contiguous, `lines.inner` 1) normalized: (x - mean) / sqrt(var + eps), times
// gamma(o, k) plus beta(o, k) for element k of line o.
template <class Gamma, class Beta>
Tensor normalize_lines(const Tensor& x, const AxisLines& lines, double epsilon, bool centered, Gamma gamma, Beta beta) {
  Tensor out{x.shape, std::vector<double>(x.data.size()), false};
  const size_t len = lines.len;
  for (size_t o = 0; o < lines.outer; ++o) {
    const double* in = x.data.data() + o * len;
    double mean = 0, var = 0;
    if (centered) {
      for (size_t k = 0; k < len; ++k) mean += in[k];
      mean /= double(len);
    }
    for (size_t k = 0; k < len; ++k) var += (in[k] - mean) * (in[k] - mean);
    const double inv = 1.0 / std::sqrt(var / double(len) + epsilon);
    for (size_t k = 0; k < len; ++k) out.data[o * len + k] = (in[k] - mean) * inv * gamma(o, k) + beta(o, k);
  }
  return out;
}

Tensor layer_norm(const Node& n, const TensorMap& t, int64_t opset) {
  const Tensor& x = input(n, t, 0);
  const Tensor& scale = input(n, t, 1);
  const bool centered = n.op == "LayerNormalization";
  const Tensor* bias = centered ? optional_input(n, t, 2) : nullptr;
  const LayerNorm g = layer_norm_geometry(n, opset, x.shape, scale.shape, bias ? &bias->shape : nullptr);
  return normalize_lines(
      x, g.lines, g.epsilon, centered, [&](size_t, size_t k) { return scale.data[g.scale_at[k]]; },
      [&](size_t, size_t k) { return bias ? bias->data[g.bias_at[k]] : 0.0; });
}

Tensor instance_norm(const Node& n, const TensorMap& t) {
  const Tensor& x = input(n, t, 0);
  const Tensor& scale = input(n, t, 1);
  const Tensor& bias = input(n, t, 2);
  const InstanceNorm g = instance_norm_geometry(n, x.shape, scale.shape, bias.shape);
  return normalize_lines(
      x, g.lines, g.epsilon, true, [&](size_t o, size_t) { return scale.data[o % g.channels]; },
      [&](size_t o, size_t) { return bias.data[o % g.channels]; });
}

Tensor argmax(const Node& n, const Tensor& x) {
  const int64_t axis = normalized_axis(n, n.get_int("axis", 0), x.shape.size());
  const bool keep = n.get_int("keepdims", 1) != 0, last = n.get_int("select_last_index", 0) != 0;
  const AxisLines l = axis_lines(x.shape, axis);
  Tensor out;
  for (size_t d = 0; d < x.shape.size(); ++d)
    if (int64_t(d) != axis) out.shape.push_back(x.shape[d]);
    else if (keep) out.shape.push_back(1);
  for (size_t o = 0; o < l.outer; ++o)
    for (size_t i = 0; i < l.inner; ++i) {
      size_t best = 0;
      for (size_t k = 1; k < l.len; ++k) {
        const double v = x.data[l.at(o, i, k)], b = x.data[l.at(o, i, best)];
        if (v > b || (last && v == b)) best = k;
      }
      out.data.push_back(double(best));
    }
  return out;
}

ConstInput operands(const Node& n, const TensorMap& t) {
  return [&n, &t](size_t i) { return optional_input(n, t, i); };
}

// Unsqueeze, Squeeze, Slice, Gather, Pad, Expand, Tile, DepthToSpace, SpaceToDepth and Split
// (output `output`).
Tensor moved(const Node& n, const TensorMap& t, int64_t opset, size_t output = 0) {
  const Tensor& x = input(n, t, 0);
  const Movement m = movement(n, x.shape, opset, operands(n, t), output);
  const double fill = n.op == "Pad" ? pad_value(n, opset, operands(n, t)) : 0.0;
  Tensor out{m.shape, {}, x.integer};
  out.data.reserve(m.from.size());
  for (int64_t k : m.from) out.data.push_back(k < 0 ? fill : x.data[size_t(k)]);
  return out;
}

// Resize/Upsample: nearest mode moves elements, linear and cubic modes sum taps with their weights.
Tensor resize(const Node& n, const TensorMap& t, int64_t opset) {
  const Tensor& x = input(n, t, 0);
  const ResizePlan p = resize_plan(n, x.shape, opset, operands(n, t));
  if (p.mode == "nearest") {
    const Movement m = resize_nearest(n, p, x.shape);
    Tensor out{m.shape, {}, x.integer};
    out.data.reserve(m.from.size());
    for (int64_t k : m.from) out.data.push_back(x.data[size_t(k)]);
    return out;
  }
  const ResizeTerms r = resize_terms(n, p, x.shape);
  Tensor out{r.shape, std::vector<double>(r.terms.size(), 0.0)};
  for (size_t e = 0; e < r.terms.size(); ++e)
    for (const auto& [i, w] : r.terms[e]) out.data[e] += w * x.data[i];
  return out;
}

Tensor reduce(const Node& n, const TensorMap& t) {
  const Tensor& x = input(n, t, 0);
  const Reduction r = reduction(n, x.shape, operands(n, t));
  const bool mean = n.op == "ReduceMean", max = n.op == "ReduceMax", min = n.op == "ReduceMin";
  Tensor out{r.shape, {}, x.integer && !mean};
  for (const auto& grp : r.groups) {
    if (grp.empty()) fail(n, "reduces an empty axis");
    double s = max || min ? x.data[grp[0]] : 0.0;
    for (size_t i : grp) s = max ? std::max(s, x.data[i]) : min ? std::min(s, x.data[i]) : s + x.data[i];
    out.data.push_back(mean ? s / double(grp.size()) : s);
  }
  return out;
}

Tensor cumsum(const Node& n, const TensorMap& t) {
  const Tensor& x = input(n, t, 0);
  const CumSum g = cumsum_geometry(n, x.shape, operands(n, t));
  const AxisLines& l = g.lines;
  Tensor out{x.shape, std::vector<double>(x.data.size(), 0.0), x.integer};
  for (size_t o = 0; o < l.outer; ++o)
    for (size_t i = 0; i < l.inner; ++i)
      for (size_t k = 0; k < l.len; ++k)
        for (size_t j = g.from(k); j < g.to(k); ++j) out.data[l.at(o, i, k)] += x.data[l.at(o, i, j)];
  return out;
}

Tensor constant_of_shape(const Node& n, const TensorMap& t) {
  const Tensor& dims = input(n, t, 0);
  if (dims.shape.size() != 1) fail(n, "the shape input must be 1-D");
  Tensor out{{}, {}, false};
  for (double d : dims.data) {
    if (d < 0 || d != std::floor(d) || d > double(uint64_t{1} << 28))
      fail(n, "the shape input holds " + std::to_string(d));
    out.shape.push_back(int64_t(d));
  }
  out.shape = bounded_shape(n, out.shape);
  double v = 0;
  if (n.has("value")) {
    const Attribute& a = n.attrs.at("value");
    if (a.kind != Attribute::Kind::kTensor || a.tensor.data.size() != 1) fail(n, "value must be a one-element tensor");
    v = a.tensor.data[0];
    out.integer = a.tensor.integer;
  }
  out.data.assign(element_count(out.shape), v);
  return out;
}

// Cast to a float or integer type (ONNX TensorProto element types); integers truncate toward
// zero, as onnxruntime casts, and must fit the target type.
Tensor cast(const Node& n, const Tensor& x) {
  const int64_t to = n.get_int("to", 0);
  Tensor out = x;
  if (to == 1) {  // FLOAT
    for (double& v : out.data) v = double(float(v));
    out.integer = false;
    return out;
  }
  if (to == 11) {  // DOUBLE
    out.integer = false;
    return out;
  }
  struct Range {
    int64_t type;
    double lo, hi;
  };
  constexpr Range kInts[] = {
      {2, 0, 255},                             // UINT8
      {3, -128, 127},                          // INT8
      {4, 0, 65535},                           // UINT16
      {5, -32768, 32767},                      // INT16
      {6, -2147483648.0, 2147483647.0},        // INT32
      {7, -9.2233720368547758e18, 9.2233720368547758e18},  // INT64
      {9, 0, 1},                               // BOOL
      {12, 0, 4294967295.0},                   // UINT32
      {13, 0, 1.8446744073709552e19},          // UINT64
  };
  for (const Range& r : kInts) {
    if (r.type != to) continue;
    for (double& v : out.data) {
      v = to == 9 ? double(v != 0) : std::trunc(v);
      if (v < r.lo || v > r.hi) fail(n, "value " + std::to_string(v) + " does not fit the target type " + std::to_string(to));
    }
    out.integer = true;
    return out;
  }
  fail(n, "cast to element type " + std::to_string(to) + " is not supported (float, double, integers and bool are)");
}

Tensor shape_tensor(const Node& n, const Shape& x) {
  const std::vector<int64_t> dims = shape_of(n, x);
  return Tensor{{int64_t(dims.size())}, std::vector<double>(dims.begin(), dims.end()), true};
}

}  // namespace

Tensor evaluate_node(const Node& n, const TensorMap& t, int64_t opset) {
  const std::string& op = n.op;
  Tensor out;
  if (op == "Gemm") out = gemm(n, t);
  else if (op == "MatMul") out = matmul(n, t);
  else if (op == "Add") out = elementwise(n, input(n, t, 0), input(n, t, 1), [](double a, double b) { return a + b; });
  else if (op == "Sum" || op == "Mean" || op == "Max" || op == "Min") out = variadic(n, t);
  else if (op == "Sub") out = elementwise(n, input(n, t, 0), input(n, t, 1), [](double a, double b) { return a - b; });
  else if (op == "Mul") out = elementwise(n, input(n, t, 0), input(n, t, 1), [](double a, double b) { return a * b; });
  else if (op == "Div") {
    out = elementwise(n, input(n, t, 0), input(n, t, 1), [](double a, double b) { return a / b; });
    if (out.integer) {  // ONNX integer division truncates
      for (double& v : out.data) {
        if (!std::isfinite(v)) fail(n, "integer division by zero");
        v = std::trunc(v);
      }
    }
  }
  else if (op == "Relu") out = unary(input(n, t, 0), [](double v) { return v > 0 ? v : 0.0; });
  else if (op == "LeakyRelu") {
    const double alpha = n.get_float("alpha", 0.01);
    out = unary(input(n, t, 0), [alpha](double v) { return v >= 0 ? v : alpha * v; });
  } else if (op == "PRelu") {
    const Tensor &x = input(n, t, 0), &slope = input(n, t, 1);
    const auto at = slope_index(n, x.shape, slope.shape);
    out = Tensor{x.shape, x.data, false};
    for (size_t e = 0; e < x.data.size(); ++e)
      if (x.data[e] < 0) out.data[e] = slope.data[at[e]] * x.data[e];
  } else if (op == "Clip") {
    double lo, hi;
    clip_bounds(n, t, opset, lo, hi);
    out = unary(input(n, t, 0), [lo, hi](double v) { return std::min(std::max(v, lo), hi); });
  } else if (op == "Sigmoid") out = unary(input(n, t, 0), [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
  else if (op == "Tanh") out = unary(input(n, t, 0), [](double v) { return std::tanh(v); });
  else if (op == "Erf") out = unary(input(n, t, 0), [](double v) { return std::erf(v); });
  else if (op == "HardSigmoid") {
    const double alpha = n.get_float("alpha", 0.2), beta = n.get_float("beta", 0.5);
    out = unary(input(n, t, 0), [=](double v) { return std::clamp(alpha * v + beta, 0.0, 1.0); });
  } else if (op == "HardSwish")
    out = unary(input(n, t, 0), [](double v) { return v * std::clamp(v / 6 + 0.5, 0.0, 1.0); });
  else if (op == "Conv" || op == "ConvTranspose") out = conv(n, t, op == "ConvTranspose");
  else if (op == "Resize" || op == "Upsample") out = resize(n, t, opset);
  else if (op == "MaxPool") out = pool(n, input(n, t, 0), true);
  else if (op == "AveragePool") out = pool(n, input(n, t, 0), false);
  else if (op == "GlobalAveragePool") out = global_pool(n, input(n, t, 0), false);
  else if (op == "GlobalMaxPool") out = global_pool(n, input(n, t, 0), true);
  else if (op == "Flatten") out = {flatten_shape(n, input(n, t, 0).shape), input(n, t, 0).data, input(n, t, 0).integer};
  else if (op == "Reshape")
    out = {reshape_shape(n, input(n, t, 0).shape, input(n, t, 1).data), input(n, t, 0).data, input(n, t, 0).integer};
  else if (op == "Transpose") out = transpose(n, input(n, t, 0));
  else if (op == "Concat") out = concat(n, t);
  else if (op == "BatchNormalization") out = batch_norm(n, t);
  else if (op == "LayerNormalization" || op == "RMSNormalization") out = layer_norm(n, t, opset);
  else if (op == "InstanceNormalization") out = instance_norm(n, t);
  else if (op == "Softmax") out = softmax(n, input(n, t, 0), opset);
  else if (op == "ArgMax") out = argmax(n, input(n, t, 0));
  else if (op == "Identity" || op == "Dropout") out = input(n, t, 0);
  else if (op == "Unsqueeze" || op == "Squeeze" || op == "Slice" || op == "Gather" || op == "Pad" || op == "Split" ||
           op == "Expand" || op == "Tile" || op == "DepthToSpace" || op == "SpaceToDepth")
    out = moved(n, t, opset);
  else if (op == "ReduceSum" || op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin") out = reduce(n, t);
  else if (op == "Neg") out = unary(input(n, t, 0), [](double v) { return -v; });
  else if (op == "CumSum") out = cumsum(n, t);
  else if (op == "Where") out = where(n, input(n, t, 0), input(n, t, 1), input(n, t, 2));
  else if (op == "Greater" || op == "Less" || op == "GreaterOrEqual" || op == "LessOrEqual" || op == "Equal" ||
           op == "And" || op == "Or" || op == "Xor") {
    using Cmp = double (*)(double, double);
    const Cmp f = op == "Greater"          ? Cmp([](double a, double b) { return double(a > b); })
                  : op == "Less"           ? Cmp([](double a, double b) { return double(a < b); })
                  : op == "GreaterOrEqual" ? Cmp([](double a, double b) { return double(a >= b); })
                  : op == "LessOrEqual"    ? Cmp([](double a, double b) { return double(a <= b); })
                  : op == "Equal"          ? Cmp([](double a, double b) { return double(a == b); })
                  : op == "And"            ? Cmp([](double a, double b) { return double(a != 0 && b != 0); })
                  : op == "Or"             ? Cmp([](double a, double b) { return double(a != 0 || b != 0); })
                                           : Cmp([](double a, double b) { return double((a != 0) != (b != 0)); });
    out = elementwise(n, input(n, t, 0), input(n, t, 1), f);
    out.integer = true;  // BOOL
  } else if (op == "Not") {
    out = unary(input(n, t, 0), [](double v) { return double(v == 0); });
    out.integer = true;
  } else if (op == "Abs") out = unary(input(n, t, 0), [](double v) { return std::fabs(v); });
  else if (op == "Sqrt") out = unary(input(n, t, 0), [](double v) { return std::sqrt(v); });
  else if (op == "Reciprocal") out = unary(input(n, t, 0), [](double v) { return 1.0 / v; });
  else if (op == "Pow") out = elementwise(n, input(n, t, 0), input(n, t, 1), [](double a, double b) { return std::pow(a, b); });
  else if (op == "Shape") out = shape_tensor(n, input(n, t, 0).shape);
  else if (op == "ConstantOfShape") out = constant_of_shape(n, t);
  else if (op == "Cast") out = cast(n, input(n, t, 0));
  else fail(n, "op is not supported");
  return out;
}

std::vector<Tensor> evaluate_outputs(const Node& n, const TensorMap& t, int64_t opset) {
  if (n.op != "Split") return {evaluate_node(n, t, opset)};
  std::vector<Tensor> outs;
  for (size_t i = 0; i < n.outputs.size(); ++i) outs.push_back(moved(n, t, opset, i));
  return outs;
}

TensorMap evaluate_reference(const Graph& g, const TensorMap& inputs) {
  TensorMap t;
  for (const auto& [name, c] : g.constants) t[name] = c;
  for (const auto& in : g.inputs) {
    auto it = inputs.find(in.name);
    if (it == inputs.end()) throw ModelError("input '" + in.name + "' is missing");
    if (it->second.shape != in.shape)
      throw ModelError("input '" + in.name + "' has shape " + shape_str(it->second.shape) + ", the model expects " +
                       shape_str(in.shape));
    t[in.name] = it->second;
  }
  for (const Node& n : g.nodes) {
    if (n.outputs.empty() || n.outputs[0].empty()) fail(n, "has no output");
    std::vector<Tensor> outs = evaluate_outputs(n, t, g.opset);
    for (size_t i = 0; i < outs.size(); ++i)
      if (!n.outputs[i].empty()) t[n.outputs[i]] = std::move(outs[i]);
  }
  for (const auto& o : g.outputs)
    if (!t.count(o.name)) throw ModelError("graph output '" + o.name + "' was not computed");
  return t;
}

ZeroRun::ZeroRun(const Graph& g, const std::function<bool(const Node&)>& expands) : opset_(g.opset) {
  for (size_t k = g.nodes.size(); k-- > 0;) {  // the producers of a node come before it
    const Node& n = g.nodes[k];
    if (expands(n) || needed(n)) needed_.insert(n.inputs.begin(), n.inputs.end());
  }
  for (const auto& [name, t] : g.constants) {
    if (needed_.count(name)) values_[name] = t;  // (a large model's weights are not held twice)
    fixed_.insert(name);
  }
  for (const auto& in : g.inputs)
    values_[in.name] = {in.shape, std::vector<double>(element_count(in.shape), 0.0), in.integer};
}

bool ZeroRun::needed(const Node& n) const {
  return std::any_of(n.outputs.begin(), n.outputs.end(), [&](const std::string& o) { return needed_.count(o) != 0; });
}

void ZeroRun::evaluate(const Node& n) {
  const bool from_constants =
      std::all_of(n.inputs.begin(), n.inputs.end(), [&](const std::string& i) { return i.empty() || fixed_.count(i); });
  if (from_constants || n.op == "Shape")  // shapes are static
    for (const auto& o : n.outputs) fixed_.insert(o);
  std::vector<Tensor> outs = evaluate_outputs(n, values_, opset_);
  for (size_t i = 0; i < outs.size() && i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty()) values_[n.outputs[i]] = std::move(outs[i]);
}

void ZeroRun::adopt_constants(const Graph& g, bool with_values) {
  for (const auto& [name, t] : g.constants)
    if (fixed_.insert(name).second && with_values) values_[name] = t;
}

std::set<std::string> defined_names(const Graph& g) {
  std::set<std::string> names;
  for (const auto& [name, t] : g.constants) names.insert(name);
  for (const auto& in : g.inputs) names.insert(in.name);
  for (const Node& n : g.nodes) {
    names.insert(n.name);
    names.insert(n.outputs.begin(), n.outputs.end());
  }
  return names;
}

std::string ExpansionNames::fresh(const std::string& stem) {
  std::string name = n_.name + "/" + stem;
  for (int k = 2; names_.count(name); ++k) name = n_.name + "/" + stem + "#" + std::to_string(k);
  names_.insert(name);
  return name;
}

std::string ExpansionNames::constant(const std::string& stem, Tensor t) {
  const std::string name = fresh(stem);
  g_.constants[name] = std::move(t);
  return name;
}

std::map<std::string, Shape> infer_shapes(const Graph& g) {
  TensorMap zeros;
  for (const auto& in : g.inputs) zeros[in.name] = {in.shape, std::vector<double>(element_count(in.shape), 0.0)};
  std::map<std::string, Shape> shapes;
  for (auto& [name, t] : evaluate_reference(g, zeros)) shapes[name] = t.shape;
  return shapes;
}

}  // namespace zkinfer::compiler
