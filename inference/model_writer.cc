#include "inference/model_writer.h"

#include <cstring>

#include "inference/schema_internal.h"

namespace triage::inference {
namespace {

namespace fb = flatbuffers;
using tflite::ActivationFunctionType;

ActivationFunctionType Act(kernels::Activation a) { return static_cast<ActivationFunctionType>(a); }
tflite::Padding Pad(kernels::Padding p) {
  return p == kernels::Padding::kSame ? tflite::Padding::SAME : tflite::Padding::VALID;
}

struct OptionsOut {
  tflite::BuiltinOptions type = tflite::BuiltinOptions::NONE;
  fb::Offset<void> offset;
};

OptionsOut WriteOptions(fb::FlatBufferBuilder& b, int32_t code, const writer::Options& options) {
  OptionsOut out;
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, writer::Conv>) {
          out.type = tflite::BuiltinOptions::Conv2DOptions;
          out.offset = tflite::CreateConv2DOptions(b, Pad(o.padding), o.stride_w, o.stride_h, Act(o.activation),
                                                   o.dilation_w, o.dilation_h)
                           .Union();
        } else if constexpr (std::is_same_v<T, writer::Depthwise>) {
          out.type = tflite::BuiltinOptions::DepthwiseConv2DOptions;
          out.offset = tflite::CreateDepthwiseConv2DOptions(b, Pad(o.padding), o.stride_w, o.stride_h,
                                                            o.depth_multiplier, Act(o.activation), o.dilation_w,
                                                            o.dilation_h)
                           .Union();
        } else if constexpr (std::is_same_v<T, writer::Pool>) {
          out.type = tflite::BuiltinOptions::Pool2DOptions;
          out.offset = tflite::CreatePool2DOptions(b, Pad(o.padding), o.stride_w, o.stride_h, o.filter_w, o.filter_h,
                                                   Act(o.activation))
                           .Union();
        } else if constexpr (std::is_same_v<T, writer::FullyConnected>) {
          out.type = tflite::BuiltinOptions::FullyConnectedOptions;
          out.offset = tflite::CreateFullyConnectedOptions(b, Act(o.activation),
                                                           tflite::FullyConnectedOptionsWeightsFormat::DEFAULT,
                                                           o.keep_num_dims)
                           .Union();
        } else if constexpr (std::is_same_v<T, writer::Softmax>) {
          out.type = tflite::BuiltinOptions::SoftmaxOptions;
          out.offset = tflite::CreateSoftmaxOptions(b, o.beta).Union();
        } else if constexpr (std::is_same_v<T, writer::Add>) {
          out.type = tflite::BuiltinOptions::AddOptions;
          out.offset = tflite::CreateAddOptions(b, Act(o.activation)).Union();
        } else if constexpr (std::is_same_v<T, writer::Mul>) {
          out.type = tflite::BuiltinOptions::MulOptions;
          out.offset = tflite::CreateMulOptions(b, Act(o.activation)).Union();
        } else if constexpr (std::is_same_v<T, writer::Reshape>) {
          out.type = tflite::BuiltinOptions::ReshapeOptions;
          out.offset = tflite::CreateReshapeOptions(b, b.CreateVector(o.new_shape)).Union();
        } else if constexpr (std::is_same_v<T, writer::Reducer>) {
          out.type = tflite::BuiltinOptions::ReducerOptions;
          out.offset = tflite::CreateReducerOptions(b, o.keep_dims).Union();
        } else if constexpr (std::is_same_v<T, writer::Concatenation>) {
          out.type = tflite::BuiltinOptions::ConcatenationOptions;
          out.offset = tflite::CreateConcatenationOptions(b, o.axis, Act(o.activation)).Union();
        } else if constexpr (std::is_same_v<T, writer::Squeeze>) {
          out.type = tflite::BuiltinOptions::SqueezeOptions;
          out.offset = tflite::CreateSqueezeOptions(b, b.CreateVector(o.squeeze_dims)).Union();
        } else if constexpr (std::is_same_v<T, writer::Empty>) {
          switch (static_cast<BuiltinOp>(code)) {
            case BuiltinOp::kPad:
              out.type = tflite::BuiltinOptions::PadOptions;
              out.offset = tflite::CreatePadOptions(b).Union();
              break;
            case BuiltinOp::kQuantize:
              out.type = tflite::BuiltinOptions::QuantizeOptions;
              out.offset = tflite::CreateQuantizeOptions(b).Union();
              break;
            case BuiltinOp::kDequantize:
              out.type = tflite::BuiltinOptions::DequantizeOptions;
              out.offset = tflite::CreateDequantizeOptions(b).Union();
              break;
            case BuiltinOp::kHardSwish:
              out.type = tflite::BuiltinOptions::HardSwishOptions;
              out.offset = tflite::CreateHardSwishOptions(b).Union();
              break;
            default:
              break;
          }
        }
      },
      options);
  return out;
}

}  // namespace

namespace writer {

WriterTensor Tensor(std::string name, DataType type, std::vector<int32_t> shape, float scale,
                    int64_t zero_point) {
  WriterTensor t;
  t.name = std::move(name);
  t.type = type;
  t.shape = std::move(shape);
  if (scale > 0.0f) {
    t.scales = {scale};
    t.zero_points = {zero_point};
  }
  return t;
}

WriterOperator Operator(BuiltinOp code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                        Options options, int version) {
  WriterOperator op;
  op.code = static_cast<int32_t>(code);
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  op.options = std::move(options);
  op.version = version;
  return op;
}

}  // namespace writer

int ModelWriter::AddTensor(const WriterTensor& tensor) {
  tensors_.push_back(tensor);
  return static_cast<int>(tensors_.size() - 1);
}

void ModelWriter::AddOperator(const WriterOperator& op) { operators_.push_back(op); }

void ModelWriter::AddMetadata(std::string name, std::vector<uint8_t> bytes) {
  metadata_.emplace_back(std::move(name), std::move(bytes));
}

std::vector<uint8_t> ModelWriter::Build() const {
  fb::FlatBufferBuilder b(1024);
  // Buffer 0 is the conventional empty sentinel.
  std::vector<fb::Offset<tflite::Buffer>> buffers;
  buffers.push_back(tflite::CreateBuffer(b));
  auto add_buffer = [&](const std::vector<uint8_t>& bytes) {
    b.ForceVectorAlignment(bytes.size(), sizeof(uint8_t), 16);
    auto data = b.CreateVector(bytes);
    buffers.push_back(tflite::CreateBuffer(b, data));
    return static_cast<uint32_t>(buffers.size() - 1);
  };

  std::vector<fb::Offset<tflite::Tensor>> tensors;
  for (const WriterTensor& t : tensors_) {
    const uint32_t buffer = t.data.empty() ? 0 : add_buffer(t.data);
    fb::Offset<tflite::QuantizationParameters> quant;
    if (!t.scales.empty()) {
      quant = tflite::CreateQuantizationParameters(b, 0, 0, b.CreateVector(t.scales), b.CreateVector(t.zero_points),
                                                   tflite::QuantizationDetails::NONE, 0, t.quantized_dimension);
    }
    tensors.push_back(tflite::CreateTensor(b, b.CreateVector(t.shape), static_cast<tflite::TensorType>(t.type), buffer,
                                           b.CreateString(t.name), quant, t.is_variable));
  }

  // One OperatorCode per distinct (code, version, custom) in first-use order.
  struct CodeKey {
    int32_t code;
    int version;
    std::string custom;
  };
  std::vector<CodeKey> codes;
  std::vector<fb::Offset<tflite::Operator>> ops;
  for (const WriterOperator& op : operators_) {
    uint32_t code_index = 0;
    for (; code_index < codes.size(); ++code_index) {
      const CodeKey& k = codes[code_index];
      if (k.code == op.code && k.version == op.version && k.custom == op.custom_code) break;
    }
    if (code_index == codes.size()) codes.push_back({op.code, op.version, op.custom_code});
    const OptionsOut options = WriteOptions(b, op.code, op.options);
    ops.push_back(tflite::CreateOperator(b, code_index, b.CreateVector(op.inputs), b.CreateVector(op.outputs),
                                         options.type, options.offset));
  }
  std::vector<fb::Offset<tflite::OperatorCode>> code_tables;
  for (const CodeKey& k : codes) {
    const int8_t deprecated = static_cast<int8_t>(k.code < 127 ? k.code : 127);
    code_tables.push_back(tflite::CreateOperatorCode(b, deprecated,
                                                     k.custom.empty() ? 0 : b.CreateString(k.custom), k.version,
                                                     static_cast<tflite::BuiltinOperator>(k.code)));
  }

  std::vector<fb::Offset<tflite::SubGraph>> subgraphs;
  subgraphs.push_back(tflite::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(inputs_),
                                             b.CreateVector(outputs_), b.CreateVector(ops), b.CreateString("main")));
  for (int i = 0; i < extra_subgraphs_; ++i) subgraphs.push_back(tflite::CreateSubGraph(b));

  std::vector<fb::Offset<tflite::Metadata>> metadata;
  for (const auto& [name, bytes] : metadata_) {
    const uint32_t buffer = add_buffer(bytes);
    metadata.push_back(tflite::CreateMetadata(b, b.CreateString(name), buffer));
  }
  auto model = tflite::CreateModel(b, version_, b.CreateVector(code_tables), b.CreateVector(subgraphs),
                                   b.CreateString(description_), b.CreateVector(buffers), 0,
                                   b.CreateVector(metadata));
  tflite::FinishModelBuffer(b, model);
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

AlignedBuffer ToAligned(const std::vector<uint8_t>& bytes) {
  AlignedBuffer buffer(bytes.size());
  if (!bytes.empty()) std::memcpy(buffer.data(), bytes.data(), bytes.size());
  return buffer;
}

}  // namespace triage::inference
