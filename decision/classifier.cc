#include "decision/classifier.h"

#include <cstring>
#include <new>

#include "config/model_check.h"

namespace triage::decision {
namespace {

float Dequantize(const inference::TensorView& t, size_t i) {
  switch (t.type) {
    case inference::DataType::kFloat32: {
      float v;
      std::memcpy(&v, t.data + 4 * i, 4);
      return v;
    }
    case inference::DataType::kUint8:
      return t.scale * static_cast<float>(static_cast<int>(t.data[i]) - t.zero_point);
    case inference::DataType::kInt8:
      return t.scale * static_cast<float>(static_cast<int>(static_cast<int8_t>(t.data[i])) - t.zero_point);
    default:
      return 0.f;
  }
}

}  // namespace

Result<std::unique_ptr<Classifier>> Classifier::Create(const config::ModelConfig& model, int max_width,
                                                       int max_height) noexcept {
  try {
    std::unique_ptr<Classifier> c(new Classifier());
    c->path_ = model.path;
    Result<inference::AlignedBuffer> bytes = inference::ReadFileAligned(model.path);
    if (!bytes.ok()) return bytes.status().WithContext("model %s", model.path.c_str());
    c->bytes_ = std::move(bytes.value());
    TRIAGE_RETURN_IF_ERROR(downlink::Sha256::Of(c->bytes_.span(), &c->hash_));
    if (!model.expected_sha256.empty() && config::HexDigest(c->hash_) != model.expected_sha256) {
      return Status::Error(StatusCode::kDataLoss, "model %s: SHA-256 %s does not match the configured %s",
                           model.path.c_str(), config::HexDigest(c->hash_).c_str(), model.expected_sha256.c_str());
    }
    Result<inference::Model> m = inference::Model::Create(c->bytes_.span());
    if (!m.ok()) return m.status().WithContext("model %s fails verification", model.path.c_str());
    c->model_.reset(new inference::Model(std::move(m.value())));
    TRIAGE_RETURN_IF_ERROR(inference::AddAllBuiltinOps(c->resolver_));
    inference::InterpreterOptions options;
    options.kernel_set = model.optimized_kernels ? kernels::KernelSet::kOptimized : kernels::KernelSet::kReference;
    options.threads = model.threads;
    c->interpreter_.reset(new inference::Interpreter(*c->model_, c->resolver_, options));
    if (Status s = c->interpreter_->Prepare(); !s.ok()) return s.WithContext("model %s", model.path.c_str());
    // The arena is exactly what the planner asked for, allocated once.
    c->arena_ = inference::AlignedBuffer(c->interpreter_->arena_bytes());
    if (Status s = c->interpreter_->AllocateTensors(c->arena_.mutable_span()); !s.ok()) {
      return s.WithContext("model %s", model.path.c_str());
    }
    if (c->interpreter_->num_inputs() != 1 || c->interpreter_->num_outputs() != 1) {
      return Status::Error(StatusCode::kUnsupported, "model %s: needs one input and one output", model.path.c_str());
    }
    const inference::TensorView in = c->interpreter_->input(0);
    if (in.shape.rank != 4 || in.shape.dims[0] != 1) {
      return Status::Error(StatusCode::kUnsupported, "model %s: input must be [1, H, W, C]", model.path.c_str());
    }
    imaging::ModelInputSpec spec;
    spec.height = in.shape.dims[1];
    spec.width = in.shape.dims[2];
    spec.channels = in.shape.dims[3];
    switch (in.type) {
      case inference::DataType::kFloat32: spec.type = imaging::TensorElementType::kFloat32; break;
      case inference::DataType::kUint8: spec.type = imaging::TensorElementType::kUint8; break;
      case inference::DataType::kInt8: spec.type = imaging::TensorElementType::kInt8; break;
      default:
        return Status::Error(StatusCode::kUnsupported, "model %s: input type %s", model.path.c_str(),
                             kernels::DataTypeName(in.type));
    }
    spec.scale = in.scale > 0.f ? in.scale : 1.f;
    spec.zero_point = in.zero_point;
    for (int i = 0; i < 3; ++i) {
      spec.mean[i] = model.mean[i];
      spec.std[i] = model.std[i];
    }
    Result<imaging::Preprocessor> pre = imaging::Preprocessor::Create(spec, max_width, max_height);
    if (!pre.ok()) return pre.status().WithContext("model %s input", model.path.c_str());
    c->preprocessor_.reset(new imaging::Preprocessor(std::move(pre.value())));

    const inference::TensorView out = c->interpreter_->output(0);
    const int64_t n = out.shape.FlatSize();
    if (n < 2 || n > config::kMaxClasses ||
        (out.type != inference::DataType::kFloat32 && out.type != inference::DataType::kInt8 &&
         out.type != inference::DataType::kUint8)) {
      return Status::Error(StatusCode::kUnsupported, "model %s: output must hold 2..%d scores", model.path.c_str(),
                           config::kMaxClasses);
    }
    if (out.type != inference::DataType::kFloat32 && !(out.scale > 0.f)) {
      return Status::Error(StatusCode::kUnsupported, "model %s: quantized output has no scale", model.path.c_str());
    }
    c->num_classes_ = static_cast<int>(n);
    c->labels_ = model.labels;
    if (!c->labels_.empty() && c->labels_.size() != static_cast<size_t>(n)) {
      return Status::Error(StatusCode::kInvalidArgument, "model %s: %zu labels for %lld outputs", model.path.c_str(),
                           c->labels_.size(), static_cast<long long>(n));
    }
    for (int i = static_cast<int>(c->labels_.size()); i < c->num_classes_; ++i) {
      c->labels_.push_back("class" + std::to_string(i));
    }
    c->direct_ = DirectInferenceRunner(c->interpreter_.get());
    c->runner_ = &c->direct_;
    return c;
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kResourceExhausted, "model %s: out of memory", model.path.c_str());
  } catch (...) {
    return Status::Error(StatusCode::kInternal, "model %s: unexpected exception", model.path.c_str());
  }
}

Status Classifier::Preprocess(const uint8_t* rgb, int width, int height, int stride_bytes) noexcept {
  const inference::TensorView in = interpreter_->input(0);
  return preprocessor_->Run(rgb, width, height, stride_bytes, Span<uint8_t>(in.data, in.bytes));
}

Status Classifier::Infer() noexcept { return runner_->Invoke(); }

Result<Classification> Classifier::Read() const noexcept {
  const inference::TensorView out = interpreter_->output(0);
  float scores[config::kMaxClasses];
  for (int i = 0; i < num_classes_; ++i) {
    scores[i] = Dequantize(out, static_cast<size_t>(i));
    if (!(scores[i] == scores[i])) {
      return Status::Error(StatusCode::kDataLoss, "model output %d is NaN", i);
    }
  }
  return RankScores(scores, num_classes_);
}

const char* Classifier::label(int class_id) const {
  if (class_id < 0 || class_id >= num_classes_) return "unknown";
  return labels_[static_cast<size_t>(class_id)].c_str();
}

size_t Classifier::memory_bytes() const {
  return bytes_.size() + arena_.size() + interpreter_->op_data_bytes() + preprocessor_->memory_bytes();
}

}  // namespace triage::decision
