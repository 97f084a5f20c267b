#include "inference/introspection.h"

namespace triage::inference {

int64_t OperatorMacs(const Model& model, int op_index) {
  if (op_index < 0 || static_cast<size_t>(op_index) >= model.operators().size()) return 0;
  const OperatorSpec& op = model.operators()[static_cast<size_t>(op_index)];
  const auto tensors = model.tensors();
  auto tensor = [&](Span<const int32_t> list, size_t i) -> const TensorSpec* {
    return i < list.size() && list[i] >= 0 ? &tensors[static_cast<size_t>(list[i])] : nullptr;
  };
  const TensorSpec* out = tensor(op.outputs, 0);
  const TensorSpec* filter = tensor(op.inputs, 1);
  if (!out) return 0;
  const int64_t out_elems = out->shape.FlatSize();
  switch (static_cast<BuiltinOp>(op.code)) {
    case BuiltinOp::kConv2d:
      // Each output element sums filter H x W x in-channels products.
      if (filter && filter->shape.rank == 4)
        return out_elems * filter->shape.dims[1] * filter->shape.dims[2] * filter->shape.dims[3];
      return 0;
    case BuiltinOp::kDepthwiseConv2d:
      if (filter && filter->shape.rank == 4) return out_elems * filter->shape.dims[1] * filter->shape.dims[2];
      return 0;
    case BuiltinOp::kFullyConnected:
      if (filter && filter->shape.rank == 2) return out_elems * filter->shape.dims[1];
      return 0;
    case BuiltinOp::kAveragePool2d:
    case BuiltinOp::kMean: {
      const TensorSpec* in = tensor(op.inputs, 0);
      return in ? in->shape.FlatSize() : 0;
    }
    case BuiltinOp::kAdd:
    case BuiltinOp::kMul:
    case BuiltinOp::kSoftmax:
    case BuiltinOp::kLogistic:
    case BuiltinOp::kTanh:
    case BuiltinOp::kHardSwish:
      return out_elems;
    default:
      return 0;
  }
}

int64_t TotalMacs(const Model& model) {
  int64_t total = 0;
  for (size_t i = 0; i < model.operators().size(); ++i) total += OperatorMacs(model, static_cast<int>(i));
  return total;
}

}  // namespace triage::inference
