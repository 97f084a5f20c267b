// ModelWriter: builds a standard TensorFlow Lite (.tflite) FlatBuffer through
// our subset schema. Used by tests (synthetic and deliberately malformed
// models, fuzz seeds) and by the ground-side exporter. Ground/tool code: it
// allocates freely and is not for the flight path.
#ifndef TRIAGE_INFERENCE_MODEL_WRITER_H_
#define TRIAGE_INFERENCE_MODEL_WRITER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "inference/model.h"
#include "kernels/types.h"

namespace triage::inference {

struct WriterTensor {
  std::string name;
  DataType type = DataType::kFloat32;
  std::vector<int32_t> shape;
  std::vector<uint8_t> data;          // empty: activation tensor
  std::vector<float> scales;          // empty: not quantized
  std::vector<int64_t> zero_points;
  int quantized_dimension = 0;
  bool is_variable = false;
};

namespace writer {
struct Conv {
  kernels::Padding padding = kernels::Padding::kSame;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  kernels::Activation activation = kernels::Activation::kNone;
};
struct Depthwise {
  kernels::Padding padding = kernels::Padding::kSame;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, depth_multiplier = 1;
  kernels::Activation activation = kernels::Activation::kNone;
};
struct Pool {
  kernels::Padding padding = kernels::Padding::kValid;
  int stride_h = 1, stride_w = 1, filter_h = 1, filter_w = 1;
  kernels::Activation activation = kernels::Activation::kNone;
};
struct FullyConnected {
  kernels::Activation activation = kernels::Activation::kNone;
  bool keep_num_dims = false;
};
struct Softmax {
  float beta = 1.0f;
};
struct Add {
  kernels::Activation activation = kernels::Activation::kNone;
};
struct Mul {
  kernels::Activation activation = kernels::Activation::kNone;
};
struct Reshape {
  std::vector<int32_t> new_shape;
};
struct Reducer {
  bool keep_dims = false;
};
struct Concatenation {
  int axis = 0;
  kernels::Activation activation = kernels::Activation::kNone;
};
struct Squeeze {
  std::vector<int32_t> squeeze_dims;
};
struct Empty {};  // ops whose options table is empty (PAD, QUANTIZE, ...)
using Options = std::variant<std::monostate, Conv, Depthwise, Pool, FullyConnected, Softmax, Add, Mul, Reshape,
                             Reducer, Concatenation, Squeeze, Empty>;
}  // namespace writer

struct WriterOperator {
  int32_t code = 0;      // BuiltinOp value (any int32, to write unknown ops in tests)
  int version = 1;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  writer::Options options;
  std::string custom_code;  // for CUSTOM ops
};

class ModelWriter {
 public:
  // Returns the new tensor's index.
  int AddTensor(const WriterTensor& tensor);
  void AddOperator(const WriterOperator& op);
  void SetInputs(std::vector<int32_t> inputs) { inputs_ = std::move(inputs); }
  void SetOutputs(std::vector<int32_t> outputs) { outputs_ = std::move(outputs); }
  void SetDescription(std::string description) { description_ = std::move(description); }
  // Metadata entries are stored as buffers and referenced by name.
  void AddMetadata(std::string name, std::vector<uint8_t> bytes);
  // Test hooks for malformed files.
  void SetSchemaVersion(uint32_t version) { version_ = version; }
  void SetExtraSubgraphs(int count) { extra_subgraphs_ = count; }

  // Serializes a complete .tflite file (file identifier "TFL3").
  std::vector<uint8_t> Build() const;

  std::vector<WriterTensor>& tensors() { return tensors_; }
  std::vector<WriterOperator>& operators() { return operators_; }

 private:
  std::vector<WriterTensor> tensors_;
  std::vector<WriterOperator> operators_;
  std::vector<int32_t> inputs_, outputs_;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> metadata_;
  std::string description_ = "triage";
  uint32_t version_ = 3;
  int extra_subgraphs_ = 0;
};

// Copies bytes into a 16-byte-aligned buffer (Model::Create needs alignment).
AlignedBuffer ToAligned(const std::vector<uint8_t>& bytes);

namespace writer {
// Shorthands for models built in code (tests, the ground exporter, the fault
// layer's synthetic model).
// A tensor; scale > 0 makes it per-tensor quantized with `zero_point`.
WriterTensor Tensor(std::string name, DataType type, std::vector<int32_t> shape, float scale = 0.0f,
                    int64_t zero_point = 0);
WriterOperator Operator(BuiltinOp code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                        Options options = {}, int version = 1);
// The host (little-endian) bytes of trivially copyable values, for
// WriterTensor::data.
template <typename T>
std::vector<uint8_t> RawBytes(const std::vector<T>& values) {
  static_assert(std::is_trivially_copyable_v<T>, "RawBytes copies bytes");
  std::vector<uint8_t> out(values.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}
}  // namespace writer

}  // namespace triage::inference

#endif  // TRIAGE_INFERENCE_MODEL_WRITER_H_
