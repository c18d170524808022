#include "cuda/field_ops.h"

namespace zkinfer::gpu {

const char* field_op_name(FieldOp op) {
  switch (op) {
    case FieldOp::Mul:
      return "mul";
    case FieldOp::Add:
      return "add";
    case FieldOp::Sub:
      return "sub";
    case FieldOp::Sqr:
      return "sqr";
    case FieldOp::Inverse:
      return "inverse";
  }
  return "unknown";
}

}  // namespace zkinfer::gpu
