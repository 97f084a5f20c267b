#include "ground/model_runner.h"

#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "ground/mobilenet.h"

namespace triage::ground {
namespace {

constexpr int kMaxSource = 4096;

std::string MetadataText(const inference::Model& model, const char* name) {
  Span<const uint8_t> bytes = model.Metadata(name);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

Result<std::unique_ptr<ModelRunner>> ModelRunner::Load(const std::string& path,
                                                       const inference::InterpreterOptions& options) {
  Result<inference::AlignedBuffer> buffer = inference::ReadFileAligned(path);
  if (!buffer.ok()) return buffer.status();
  std::unique_ptr<ModelRunner> runner(new ModelRunner());
  runner->buffer_ = std::move(buffer).value();
  TRIAGE_RETURN_IF_ERROR(runner->Init(path, options));
  return runner;
}

Result<std::unique_ptr<ModelRunner>> ModelRunner::FromBytes(const std::vector<uint8_t>& bytes,
                                                            const std::string& what,
                                                            const inference::InterpreterOptions& options) {
  std::unique_ptr<ModelRunner> runner(new ModelRunner());
  runner->buffer_ = inference::AlignedBuffer(bytes.size());
  std::memcpy(runner->buffer_.data(), bytes.data(), bytes.size());
  TRIAGE_RETURN_IF_ERROR(runner->Init(what, options));
  return runner;
}

Status ModelRunner::Init(const std::string& what, const inference::InterpreterOptions& options) {
  Result<inference::Model> model = inference::Model::Create(Span<const uint8_t>(buffer_.data(), buffer_.size()));
  if (!model.ok()) return model.status().WithContext("%s", what.c_str());
  model_ = std::make_unique<inference::Model>(std::move(model).value());
  TRIAGE_RETURN_IF_ERROR(inference::AddAllBuiltinOps(resolver_));
  interpreter_ = std::make_unique<inference::Interpreter>(*model_, resolver_, options);
  Status s = interpreter_->PrepareAndAllocate();
  if (!s.ok()) return s.WithContext("%s", what.c_str());
  if (interpreter_->num_inputs() != 1 || interpreter_->num_outputs() != 1) {
    return Status::Error(StatusCode::kUnsupported, "%s: expected one input and one output", what.c_str());
  }
  const inference::TensorView in = interpreter_->input(0);
  if (in.shape.rank != 4 || in.shape.dims[0] != 1 || in.shape.dims[3] != 3) {
    return Status::Error(StatusCode::kUnsupported, "%s: input must be [1,H,W,3]", what.c_str());
  }
  spec_.height = in.shape.dims[1];
  spec_.width = in.shape.dims[2];
  spec_.channels = 3;
  switch (in.type) {
    case inference::DataType::kFloat32: spec_.type = imaging::TensorElementType::kFloat32; break;
    case inference::DataType::kUint8: spec_.type = imaging::TensorElementType::kUint8; break;
    case inference::DataType::kInt8: spec_.type = imaging::TensorElementType::kInt8; break;
    default: return Status::Error(StatusCode::kUnsupported, "%s: input type unsupported", what.c_str());
  }
  spec_.scale = in.scale > 0.f ? in.scale : 1.f;
  spec_.zero_point = in.zero_point;
  float mean = 127.5f, stddev = 127.5f;
  const std::string pre = MetadataText(*model_, "preprocessing");
  if (!pre.empty()) {
    nlohmann::json j = nlohmann::json::parse(pre, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("mean") && j["mean"].is_array() && j.contains("std") && j["std"].is_array() &&
        !j["mean"].empty() && !j["std"].empty() && j["mean"][0].is_number() && j["std"][0].is_number()) {
      mean = j["mean"][0].get<float>();
      stddev = j["std"][0].get<float>();
    } else {
      return Status::Error(StatusCode::kInvalidArgument, "%s: metadata 'preprocessing' is not valid JSON with mean/std",
                           what.c_str());
    }
  }
  for (int c = 0; c < 3; ++c) {
    spec_.mean[c] = mean;
    spec_.std[c] = stddev;
  }
  Result<imaging::Preprocessor> pp = imaging::Preprocessor::Create(spec_, kMaxSource, kMaxSource);
  if (!pp.ok()) return pp.status().WithContext("%s", what.c_str());
  preprocessor_ = std::make_unique<imaging::Preprocessor>(std::move(pp).value());
  Result<imaging::Resampler> rs = imaging::Resampler::Create(kMaxSource, kMaxSource, spec_.width, spec_.height, 3);
  if (!rs.ok()) return rs.status();
  resampler_ = std::make_unique<imaging::Resampler>(std::move(rs).value());
  labels_ = SplitLabelLines(MetadataText(*model_, "labels"));
  return Status::Ok();
}

Status ModelRunner::ReadOutput(std::vector<float>* probabilities) const {
  const inference::TensorView out = interpreter_->output(0);
  const size_t n = out.shape.FlatSize();
  probabilities->resize(n);
  for (size_t i = 0; i < n; ++i) {
    switch (out.type) {
      case inference::DataType::kFloat32: (*probabilities)[i] = out.As<float>()[i]; break;
      case inference::DataType::kInt8:
        (*probabilities)[i] = out.scale * (static_cast<int>(out.As<int8_t>()[i]) - out.zero_point);
        break;
      case inference::DataType::kUint8:
        (*probabilities)[i] = out.scale * (static_cast<int>(out.As<uint8_t>()[i]) - out.zero_point);
        break;
      default: return Status::Error(StatusCode::kUnsupported, "output type unsupported");
    }
  }
  return Status::Ok();
}

imaging::Image ToRgb(const imaging::Image& image) {
  if (image.channels == 3) return image;
  imaging::Image rgb = imaging::MakeImage(image.width, image.height, 3);
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  for (size_t i = 0; i < pixels; ++i) {
    for (int c = 0; c < 3; ++c) rgb.pixels[i * 3 + c] = image.pixels[i * image.channels];
  }
  return rgb;
}

Status ModelRunner::ClassifyImage(const imaging::Image& image, std::vector<float>* probabilities) {
  if (image.channels != 3) return ClassifyImage(ToRgb(image), probabilities);
  const inference::TensorView in = interpreter_->input(0);
  TRIAGE_RETURN_IF_ERROR(preprocessor_->Run(image.pixels.data(), image.width, image.height, image.stride(),
                                            Span<uint8_t>(in.data, in.bytes)));
  TRIAGE_RETURN_IF_ERROR(interpreter_->Invoke());
  return ReadOutput(probabilities);
}

Status ModelRunner::ClassifyNormalized(const float* input, std::vector<float>* probabilities) {
  const inference::TensorView in = interpreter_->input(0);
  const size_t n = in.shape.FlatSize();
  for (size_t i = 0; i < n; ++i) {
    if (in.type == inference::DataType::kFloat32) {
      in.As<float>()[i] = input[i];
    } else {
      const float q = std::round(input[i] / in.scale) + static_cast<float>(in.zero_point);
      const float lo = in.type == inference::DataType::kInt8 ? -128.f : 0.f;
      const float v = q < lo ? lo : (q > lo + 255.f ? lo + 255.f : q);
      if (in.type == inference::DataType::kInt8) {
        in.As<int8_t>()[i] = static_cast<int8_t>(v);
      } else {
        in.As<uint8_t>()[i] = static_cast<uint8_t>(v);
      }
    }
  }
  TRIAGE_RETURN_IF_ERROR(interpreter_->Invoke());
  return ReadOutput(probabilities);
}

Status ModelRunner::ResizeForModel(const imaging::Image& image, std::vector<uint8_t>* rgb) {
  if (image.channels != 3) return ResizeForModel(ToRgb(image), rgb);
  rgb->resize(static_cast<size_t>(spec_.width) * spec_.height * 3);
  return resampler_->Run(image.pixels.data(), image.width, image.height, image.stride(), rgb->data(),
                         spec_.width * 3);
}

}  // namespace triage::ground
