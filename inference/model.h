// Model: a verified, read-only view of a TensorFlow Lite (.tflite) model.
//
// The model is untrusted input (it can arrive by uplink). Create() runs the
// FlatBuffers verifier and then semantic checks before anything else reads
// it: indices in range, buffer sizes equal to shape x element size, sane
// quantization, a valid execution order, one subgraph, no sparsity or
// external buffers. Every rejection names the operator and tensor involved.
// Operator-specific contracts (types, shapes, versions) are checked by the
// interpreter's Prepare, still before any kernel runs.
//
// Ownership and lifetime: the model does not copy the file. The caller owns
// the bytes, which must be 16-byte aligned and outlive the Model and every
// Interpreter built on it. Weights are read in place.
// Phase: Create() is init-time (it allocates the tensor and operator tables).
// Thread safety: a Model is immutable after Create(); any number of
// interpreters on any threads may share it.
#ifndef TRIAGE_INFERENCE_MODEL_H_
#define TRIAGE_INFERENCE_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "kernels/types.h"

namespace triage::inference {

using kernels::DataType;
using kernels::Shape;

// Builtin operator codes, values as in TensorFlow Lite's BuiltinOperator.
enum class BuiltinOp : int32_t {
  kAdd = 0,
  kAveragePool2d = 1,
  kConcatenation = 2,
  kConv2d = 3,
  kDepthwiseConv2d = 4,
  kDequantize = 6,
  kFullyConnected = 9,
  kLogistic = 14,
  kMaxPool2d = 17,
  kMul = 18,
  kRelu = 19,
  kReluN1To1 = 20,
  kRelu6 = 21,
  kReshape = 22,
  kSoftmax = 25,
  kSvdf = 27,
  kTanh = 28,
  kPad = 34,
  kMean = 40,
  kSqueeze = 43,
  kQuantize = 114,
  kHardSwish = 117,
};

// Name of any builtin code ("CONV_2D"), or "BUILTIN_<n>" for codes past our schema.
const char* BuiltinOpName(int32_t code);

struct QuantizationSpec {
  Span<const float> scales;        // empty: not quantized
  Span<const int64_t> zero_points; // same count as scales
  int quantized_dimension = 0;     // meaningful when scales.size() > 1
  bool per_channel() const { return scales.size() > 1; }
};

struct TensorSpec {
  const char* name = "";           // never null
  DataType type = DataType::kFloat32;
  Shape shape;
  size_t bytes = 0;                // flat size x element size
  const uint8_t* data = nullptr;   // constant data inside the model, or null
  QuantizationSpec quant;
  bool is_variable = false;        // stateful tensor (refused at Prepare: no op we run keeps state)
  bool is_constant() const { return data != nullptr; }
};

struct OperatorSpec {
  int32_t code = 0;                // BuiltinOp value
  int version = 1;
  Span<const int32_t> inputs;      // tensor indices; -1 marks an omitted optional input
  Span<const int32_t> outputs;
  const void* flatbuffer_op = nullptr;  // private to inference/ (options)
};

class Model {
 public:
  // Verifies and indexes a model held in caller-owned, 16-byte-aligned bytes.
  // Out of memory is a kResourceExhausted Status, never an exception.
  static Result<Model> Create(Span<const uint8_t> bytes);

  Span<const TensorSpec> tensors() const { return Span<const TensorSpec>(tensors_); }
  Span<const OperatorSpec> operators() const { return Span<const OperatorSpec>(operators_); }
  Span<const int32_t> inputs() const { return inputs_; }
  Span<const int32_t> outputs() const { return outputs_; }
  const char* description() const { return description_; }
  // Model metadata entry by name ("labels", "min_runtime_version", ...);
  // empty span if absent.
  Span<const uint8_t> Metadata(const char* name) const;
  Span<const uint8_t> bytes() const { return bytes_; }
  size_t weight_bytes() const { return weight_bytes_; }

 private:
  Model() = default;
  Status Index();

  Span<const uint8_t> bytes_;
  const void* root_ = nullptr;
  std::vector<TensorSpec> tensors_;
  std::vector<OperatorSpec> operators_;
  Span<const int32_t> inputs_;
  Span<const int32_t> outputs_;
  const char* description_ = "";
  size_t weight_bytes_ = 0;
};

// Reads a whole file into a 16-byte-aligned buffer suitable for Model::Create.
// Init-time helper for tools and the flight app (it allocates).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size);
  uint8_t* data() { return reinterpret_cast<uint8_t*>(storage_.data()); }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(storage_.data()); }
  size_t size() const { return size_; }
  Span<const uint8_t> span() const { return Span<const uint8_t>(data(), size_); }
  Span<uint8_t> mutable_span() { return Span<uint8_t>(data(), size_); }

 private:
  struct alignas(16) Block {
    uint8_t bytes[16];
  };
  std::vector<Block> storage_;
  size_t size_ = 0;
};

Result<AlignedBuffer> ReadFileAligned(const std::string& path, size_t max_bytes = 256u << 20);

}  // namespace triage::inference

#endif  // TRIAGE_INFERENCE_MODEL_H_
