// Shapes and index geometry of every supported op, shared by the float reference evaluator and
// the circuit lowering so both read attributes and check shapes the same way. Each function
// throws ModelError naming the node when attributes or shapes do not fit.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "zkinfer/compiler/graph.h"

namespace zkinfer::compiler {

// Numpy-style broadcasting of two shapes.
Shape broadcast_shape(const Node& n, const Shape& a, const Shape& b);
// For each element of `out` (row-major), the index into a tensor of shape `in` broadcast to it.
std::vector<size_t> broadcast_index(const Shape& in, const Shape& out);

// PRelu: for each element of x, the index of its slope (slope broadcast to x's shape, one way).
std::vector<size_t> slope_index(const Node& n, const Shape& x, const Shape& slope);

// Row-major strides.
std::vector<size_t> strides_of(const Shape& s);

// Conv and the pools on 2-D images [N, C, H, W], and on 1-D sequences [N, C, L] as images of
// height 1 (same memory layout; attributes with one entry per spatial axis).
struct Window2d {
  int64_t n = 0, c = 0, h = 0, w = 0;   // input
  int64_t oc = 0, oh = 0, ow = 0;       // output channels and size
  int64_t kh = 0, kw = 0;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t group = 1;
  bool one_d = false;  // a [N, C, L] input: the output has no height axis either
  // [n, channels, oh, ow], or [n, channels, ow] for 1-D.
  Shape out_shape(int64_t channels) const { return one_d ? Shape{n, channels, ow} : Shape{n, channels, oh, ow}; }
  // Input row/column of output (oy, ox) at kernel offset (ky, kx); may be out of [0, h) x [0, w).
  int64_t in_y(int64_t oy, int64_t ky) const { return oy * sh - pad_top + ky * dh; }
  int64_t in_x(int64_t ox, int64_t kx) const { return ox * sw - pad_left + kx * dw; }
  // ConvTranspose, the other way: output row oy = iy * sh - pad_top + ky * dh, so the input row
  // that reaches oy through kernel row ky, or -1 where none does (likewise columns).
  int64_t src_y(int64_t oy, int64_t ky) const { return source(oy + pad_top - ky * dh, sh, h); }
  int64_t src_x(int64_t ox, int64_t kx) const { return source(ox + pad_left - kx * dw, sw, w); }
  static int64_t source(int64_t num, int64_t s, int64_t size) {
    return num < 0 || num % s != 0 || num / s >= size ? -1 : num / s;
  }
};
Window2d conv_geometry(const Node& n, const Shape& x, const Shape& w);
// ConvTranspose: x [N, C, H, W] (or [N, C, L]), weights [C, M/group, kH, kW]; oc = M. Output size
// from strides, pads, dilations and output_padding, or from output_shape; auto_pad VALID or
// NOTSET (SAME_* is refused: runtimes disagree on where its padding goes).
Window2d conv_transpose_geometry(const Node& n, const Shape& x, const Shape& w);
// MaxPool, AveragePool (kernel_shape, strides, pads, dilations, ceil_mode, auto_pad).
Window2d pool_geometry(const Node& n, const Shape& x);
// GlobalAveragePool and GlobalMaxPool over every spatial axis of [N, C, ...]: N C groups of `area` elements, and
// the output shape [N, C, 1, ...].
struct GlobalPool {
  size_t groups = 0, area = 0;
  Shape shape;
};
GlobalPool global_pool_geometry(const Node& n, const Shape& x);

// Gemm: Y[M,N] = alpha * op(A)[M,K] op(B)[K,N] + beta * C (C broadcast to [M,N]).
struct GemmDims {
  int64_t m = 0, k = 0, n = 0;
  bool trans_a = false, trans_b = false;
  double alpha = 1, beta = 1;
};
GemmDims gemm_dims(const Node& node, const Shape& a, const Shape& b);

// MatMul of A[..., M, K] and B[..., K, N] (batch dims broadcast; 1-D operands promoted).
struct MatMulDims {
  Shape out;
  int64_t batch = 1, m = 0, k = 0, n = 0;
  std::vector<size_t> a_batch, b_batch;  // batch index -> batch index of A and of B
  bool a_vec = false, b_vec = false;
};
MatMulDims matmul_dims(const Node& node, const Shape& a, const Shape& b);

Shape flatten_shape(const Node& n, const Shape& x);
// `target` from the shape input (0 copies a dimension unless allowzero, -1 is inferred).
Shape reshape_shape(const Node& n, const Shape& x, const std::vector<double>& target);
std::vector<int64_t> transpose_perm(const Node& n, const Shape& x);
Shape transpose_shape(const Shape& x, const std::vector<int64_t>& perm);
// Concat along a (normalised) axis.
int64_t concat_axis(const Node& n, const std::vector<Shape>& ins, Shape* out);
// Softmax / ArgMax axis, normalised to [0, rank).
int64_t normalized_axis(const Node& n, int64_t axis, size_t rank);

// The lines an op works along one axis (ArgMax, Softmax): outer x inner lines of len elements;
// element k of line (o, i) is at (o len + k) inner + i.
struct AxisLines {
  size_t outer = 1, len = 1, inner = 1;
  size_t at(size_t o, size_t i, size_t k) const { return (o * len + k) * inner + i; }
};
// Along `axis` (normalised); with `to_end`, the axes from it to the last taken as one.
AxisLines axis_lines(const Shape& x, int64_t axis, bool to_end = false);
// Softmax's lines: its axis attribute (default 1 before opset 13, -1 from it); before opset 13
// the input is coerced to 2-D at the axis.
AxisLines softmax_lines(const Node& n, const Shape& x, int64_t opset);

// LayerNormalization (opset 17) and RMSNormalization (opset 23, no B, not centred): each line of
// `len` elements (the axes from `axis` to the last) is normalized; Scale and B (B optional)
// broadcast to those axes, scale_at / bias_at giving the index of element k's factor. Only the
// first output (Y) may be used.
struct LayerNorm {
  AxisLines lines;
  double epsilon = 1e-5;
  std::vector<size_t> scale_at, bias_at;  // bias_at empty without B
};
LayerNorm layer_norm_geometry(const Node& n, int64_t opset, const Shape& x, const Shape& scale, const Shape* bias);

// InstanceNormalization: x [N, C, ...] normalized over the spatial axes of each (n, c): N C lines
// of the spatial size; scale and B are [C], line o taking channel o % channels.
struct InstanceNorm {
  AxisLines lines;
  double epsilon = 1e-5;
  size_t channels = 1;
};
InstanceNorm instance_norm_geometry(const Node& n, const Shape& x, const Shape& scale, const Shape& bias);

// ---- data movement and reductions (the ops exporters write around the layers) -----------------
// Their operands (axes, pads, starts, split sizes, indices) are constants; `ConstInput(i)` gives
// input i of the node as a constant, nullptr where the input is omitted, and throws where it is
// computed. Several moved from attributes to inputs at some opset; both are read.
using ConstInput = std::function<const Tensor*(size_t)>;

// Where each output element comes from: a row-major index into the input, or -1 for the fill
// value (Pad in constant mode). Unsqueeze, Squeeze, Slice, Gather, Pad, Expand, Tile, output
// `output` of Split, DepthToSpace, SpaceToDepth, and Resize/Upsample in nearest mode.
struct Movement {
  Shape shape;
  std::vector<int64_t> from;
};
Movement movement(const Node& n, const Shape& x, int64_t opset, const ConstInput& c, size_t output = 0);
// Resize (opset 10+; scales or sizes, opset 18's axes) and Upsample (opset 9): the output shape,
// each axis's scale (float32, as runtimes compute it), the mode ("nearest", "linear" or, from
// opset 11, "cubic") and how output coordinates map back (coordinate_transformation_mode; before
// opset 11 "asymmetric"; opset 19 adds "half_pixel_symmetric") and round (nearest_mode; "legacy"
// truncation before opset 11, upsampling only); cubic mode's kernel parameter (cubic_coeff_a,
// float32 as given, -0.75 by default) and exclude_outside. antialias (opset 18) is refused when downsampling in linear
// or cubic mode; upsampling, it is the plain kernel. Computed once per node, then passed to resize_nearest or
// resize_terms.
struct ResizePlan {
  Shape out;
  std::vector<float> scale;
  std::string mode, coordinates, nearest;
  double cubic_a = -0.75;
  bool exclude_outside = false;
};
ResizePlan resize_plan(const Node& n, const Shape& x, int64_t opset, const ConstInput& c);
// The input coordinate output index o of axis d maps to (float32, unclamped).
float resize_coordinate(const ResizePlan& p, size_t d, int64_t o, int64_t in);
// Nearest mode: the input index output index o of axis d takes, clamped to [0, in).
int64_t resize_nearest_source(const ResizePlan& p, size_t d, int64_t o, int64_t in);
// Nearest mode as a Movement (what movement() gives for Resize and Upsample).
Movement resize_nearest(const Node& n, const ResizePlan& p, const Shape& x);

// Linear and cubic modes: each output element (row-major) as a weighted sum of input elements,
// the product over axes of per-axis 1-D terms. Linear: the two neighbours' weights (1 - f, f) at
// the coordinate clamped to [0, in - 1]. Cubic (ONNX opset 11+, as onnxruntime computes it): the
// coordinate x is not clamped; taps floor(x) - 1 .. floor(x) + 2 with the Keys kernel's weights
// for cubic_coeff_a; taps outside [0, in) take the edge element (their weights added to its), or,
// with exclude_outside, weigh 0 and the rest are divided by their sum. Cubic weights can be
// negative, and their absolute values sum to more than 1.
struct ResizeTerms {
  Shape shape;
  std::vector<std::vector<std::pair<size_t, double>>> terms;
};
ResizeTerms resize_terms(const Node& n, const ResizePlan& p, const Shape& x);

// Pad's fill value (constant mode; reflect, edge and wrap modes move elements only).
double pad_value(const Node& n, int64_t opset, const ConstInput& c);

// ReduceSum, ReduceMean, ReduceMax, ReduceMin: the input elements reduced into each output
// element, row-major.
struct Reduction {
  Shape shape;
  std::vector<std::vector<size_t>> groups;
};
Reduction reduction(const Node& n, const Shape& x, const ConstInput& c);

// CumSum: sums along `lines` (the axis, a constant input holding one integer); element k of a
// line sums elements 0..k, or k..len-1 with reverse, k itself left out with exclusive.
struct CumSum {
  AxisLines lines;
  bool exclusive = false, reverse = false;
  // The first and one-past-last line positions output position k sums.
  size_t from(size_t k) const { return reverse ? k + exclusive : 0; }
  size_t to(size_t k) const { return reverse ? lines.len : k + !exclusive; }
};
CumSum cumsum_geometry(const Node& n, const Shape& x, const ConstInput& c);

// `s` as the shape of an op's output, refused (naming the node) past 2^28 elements: operands
// from the file (pads, repeats, a ConstantOfShape's dimensions) could otherwise ask for any
// amount of memory.
Shape bounded_shape(const Node& n, Shape s);

// Shape's output (opset 15 start and end included).
std::vector<int64_t> shape_of(const Node& n, const Shape& x);

// An integer from a double holding an ONNX int64 (INT64_MAX and INT64_MIN come back as doubles
// just outside the int64 range, used as "to the end" by Slice).
int64_t saturated_int(double v);

}  // namespace zkinfer::compiler
