// libFuzzer target: parse_onnx (the ONNX loader, compiler/graph.h) over arbitrary bytes. The only
// allowed error is ModelError; an accepted graph must keep the promises graph.h makes to the later
// stages: opset in range, at least one input and output, static positive input shapes whose
// element counts do not overflow, every constant holding exactly the values its shape says,
// supported ops only, every node input defined before the node.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "fuzz_util.h"
#include "zkinfer/compiler/graph.h"

namespace {

using namespace zkinfer::compiler;

// Element count of a shape, or false when a dimension is negative or the product overflows.
bool checked_count(const Shape& s, size_t* n) {
  size_t c = 1;
  for (int64_t d : s) {
    if (d < 0) return false;
    if (d != 0 && c > SIZE_MAX / size_t(d)) return false;
    c *= size_t(d);
  }
  *n = c;
  return true;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_onnx: parse_onnx accepted a graph that breaks graph.h's promise: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return zkinfer::fuzz::run_parser<ModelError>([&] {
    const Graph g = parse_onnx({data, size}, "fuzz.onnx");
    check(g.opset >= kMinOpset && g.opset <= kMaxOpset, "opset out of range");
    check(!g.inputs.empty() && !g.outputs.empty(), "no inputs or no outputs");
    std::set<std::string> defined, ops;
    for (const char* op : supported_ops()) ops.insert(op);
    for (const auto& [name, t] : g.constants) {
      size_t n = 0;
      check(checked_count(t.shape, &n), "a constant's element count overflows");
      check(n == t.data.size(), "a constant holds a different number of values than its shape says");
      defined.insert(name);
    }
    for (const ValueInfo& in : g.inputs) {
      size_t n = 0;
      check(checked_count(in.shape, &n), "an input's element count overflows");
      for (int64_t d : in.shape) check(d > 0, "an input dimension is not positive");
      defined.insert(in.name);
    }
    for (const Node& node : g.nodes) {
      check(ops.count(node.op) != 0, "an unsupported op");
      for (const std::string& in : node.inputs) check(in.empty() || defined.count(in) != 0, "a node input is undefined");
      for (const std::string& out : node.outputs) defined.insert(out);
    }
    for (const ValueInfo& out : g.outputs) check(defined.count(out.name) != 0, "a graph output is not produced");
  });
}
