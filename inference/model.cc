#include "inference/model.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

#include "inference/schema_internal.h"

namespace triage::inference {
namespace {

constexpr int64_t kMaxTensorBytes = int64_t{1} << 31;

// Alignment that lets kernels read constant data of this type in place.
size_t RequiredAlignment(DataType type) { return kernels::DataTypeSize(type) >= 4 ? 4 : 1; }

bool SupportedType(tflite::TensorType t, DataType* out) {
  switch (t) {
    case tflite::TensorType::FLOAT32: *out = DataType::kFloat32; return true;
    case tflite::TensorType::INT32: *out = DataType::kInt32; return true;
    case tflite::TensorType::UINT8: *out = DataType::kUint8; return true;
    case tflite::TensorType::INT64: *out = DataType::kInt64; return true;
    case tflite::TensorType::INT16: *out = DataType::kInt16; return true;
    case tflite::TensorType::INT8: *out = DataType::kInt8; return true;
    default: return false;
  }
}

Status ZeroPointInRange(DataType type, int64_t zp, int tensor, size_t i) {
  int64_t lo = 0, hi = 0;
  switch (type) {
    case DataType::kUint8: lo = 0; hi = 255; break;
    case DataType::kInt8: lo = -128; hi = 127; break;
    case DataType::kInt16: lo = -32768; hi = 32767; break;
    case DataType::kInt32: lo = std::numeric_limits<int32_t>::min(); hi = std::numeric_limits<int32_t>::max(); break;
    case DataType::kInt64: lo = std::numeric_limits<int64_t>::min(); hi = std::numeric_limits<int64_t>::max(); break;
    case DataType::kFloat32: lo = std::numeric_limits<int32_t>::min(); hi = std::numeric_limits<int32_t>::max(); break;
  }
  if (zp < lo || zp > hi) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "tensor %d: zero point[%zu] = %lld outside %s range [%lld, %lld]", tensor, i,
                         static_cast<long long>(zp), kernels::DataTypeName(type), static_cast<long long>(lo),
                         static_cast<long long>(hi));
  }
  return Status::Ok();
}

}  // namespace

const char* BuiltinOpName(int32_t code) {
  if (code >= static_cast<int32_t>(tflite::BuiltinOperator::MIN) &&
      code <= static_cast<int32_t>(tflite::BuiltinOperator::MAX)) {
    const char* name = tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(code));
    if (name && *name) return name;
  }
  static thread_local char buf[32];
  std::snprintf(buf, sizeof(buf), "BUILTIN_%d", code);
  return buf;
}

Result<Model> Model::Create(Span<const uint8_t> bytes) {
  if (bytes.data() == nullptr || bytes.size() < 16) {
    return Status::Error(StatusCode::kInvalidArgument, "model: %zu bytes is too small to be a .tflite file",
                         bytes.size());
  }
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 16 != 0) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "model: buffer must be 16-byte aligned (use ReadFileAligned or AlignedBuffer)");
  }
  if (bytes.size() >= (size_t{1} << 31)) {
    return Status::Error(StatusCode::kUnsupported, "model: %zu bytes exceeds the 2 GiB FlatBuffers limit",
                         bytes.size());
  }
  if (!tflite::ModelBufferHasIdentifier(bytes.data())) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "model: missing the \"TFL3\" file identifier (not a TensorFlow Lite model)");
  }
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 64;
  opts.max_tables = 1u << 20;
  opts.check_alignment = true;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), opts);
  if (!tflite::VerifyModelBuffer(verifier)) {
    return Status::Error(StatusCode::kDataLoss,
                         "model: FlatBuffers verification failed (corrupt or truncated file)");
  }
  try {
    Model model;
    model.bytes_ = bytes;
    model.root_ = tflite::GetModel(bytes.data());
    Status s = model.Index();
    if (!s.ok()) return s.WithContext("model");
    return model;
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kResourceExhausted, "model: out of memory while indexing");
  }
}

Status Model::Index() {
  const auto* m = static_cast<const tflite::Model*>(root_);
  if (m->version() != 3) {
    return Status::Error(StatusCode::kUnsupported, "schema version %u (expected 3)", m->version());
  }
  const auto* subgraphs = m->subgraphs();
  if (!subgraphs || subgraphs->size() == 0) {
    return Status::Error(StatusCode::kInvalidArgument, "no subgraphs");
  }
  if (subgraphs->size() > 1) {
    return Status::Error(StatusCode::kUnsupported,
                         "%u subgraphs: only subgraph 0 runs, and models with further subgraphs "
                         "(control flow, CALL, IF, WHILE) are refused",
                         subgraphs->size());
  }
  if (m->description()) description_ = m->description()->c_str();
  const auto* sg = subgraphs->Get(0);
  const auto* buffers = m->buffers();
  const uint32_t num_buffers = buffers ? buffers->size() : 0;
  const auto* tensors = sg->tensors();
  const uint32_t num_tensors = tensors ? tensors->size() : 0;
  if (num_tensors == 0) return Status::Error(StatusCode::kInvalidArgument, "subgraph 0 has no tensors");
  if (num_tensors > (1u << 20)) return Status::Error(StatusCode::kUnsupported, "%u tensors", num_tensors);

  tensors_.resize(num_tensors);
  for (uint32_t i = 0; i < num_tensors; ++i) {
    const auto* t = tensors->Get(i);
    TensorSpec& spec = tensors_[i];
    const int ti = static_cast<int>(i);
    if (t->name()) spec.name = t->name()->c_str();
    if (!SupportedType(t->type(), &spec.type)) {
      return Status::Error(StatusCode::kUnsupported, "tensor %d (%s): element type %s unsupported", ti,
                           spec.name, tflite::EnumNameTensorType(t->type()));
    }
    if (t->sparsity()) {
      return Status::Error(StatusCode::kUnsupported, "tensor %d (%s): sparse tensors unsupported", ti, spec.name);
    }
    spec.is_variable = t->is_variable();
    const auto* shape = t->shape();
    const uint32_t rank = shape ? shape->size() : 0;
    if (rank > static_cast<uint32_t>(Shape::kMaxRank)) {
      return Status::Error(StatusCode::kUnsupported, "tensor %d (%s): rank %u exceeds %d", ti, spec.name, rank,
                           Shape::kMaxRank);
    }
    spec.shape.rank = static_cast<int>(rank);
    int64_t elements = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      const int32_t dim = shape->Get(d);
      if (dim <= 0) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "tensor %d (%s): dimension %u is %d (dynamic or empty shapes unsupported)", ti,
                             spec.name, d, dim);
      }
      spec.shape.dims[d] = dim;
      elements *= dim;
      if (elements > kMaxTensorBytes) {
        return Status::Error(StatusCode::kInvalidArgument, "tensor %d (%s): too many elements", ti, spec.name);
      }
    }
    const int64_t bytes = elements * static_cast<int64_t>(kernels::DataTypeSize(spec.type));
    if (bytes > kMaxTensorBytes) {
      return Status::Error(StatusCode::kInvalidArgument, "tensor %d (%s): %lld bytes is too large", ti, spec.name,
                           static_cast<long long>(bytes));
    }
    spec.bytes = static_cast<size_t>(bytes);

    const uint32_t buffer_index = t->buffer();
    if (buffer_index >= num_buffers && !(buffer_index == 0 && num_buffers == 0)) {
      return Status::Error(StatusCode::kOutOfRange, "tensor %d (%s): buffer index %u out of range (%u buffers)",
                           ti, spec.name, buffer_index, num_buffers);
    }
    if (num_buffers > 0) {
      const auto* buffer = buffers->Get(buffer_index);
      if (buffer->offset() > 1 || buffer->size() > 0) {
        return Status::Error(StatusCode::kUnsupported,
                             "tensor %d (%s): buffer %u stored outside the FlatBuffer (models > 2 GiB)", ti,
                             spec.name, buffer_index);
      }
      const auto* data = buffer->data();
      if (data && data->size() > 0) {
        if (data->size() != spec.bytes) {
          return Status::Error(StatusCode::kInvalidArgument,
                               "tensor %d (%s): buffer %u holds %u bytes but shape x %s needs %zu", ti,
                               spec.name, buffer_index, data->size(), kernels::DataTypeName(spec.type),
                               spec.bytes);
        }
        if (reinterpret_cast<uintptr_t>(data->data()) % RequiredAlignment(spec.type) != 0) {
          return Status::Error(StatusCode::kInvalidArgument, "tensor %d (%s): buffer %u data is misaligned for %s",
                               ti, spec.name, buffer_index, kernels::DataTypeName(spec.type));
        }
        spec.data = data->data();
        weight_bytes_ += spec.bytes;
      }
    }

    if (const auto* q = t->quantization()) {
      if (q->details_type() != tflite::QuantizationDetails::NONE) {
        return Status::Error(StatusCode::kUnsupported, "tensor %d (%s): custom quantization unsupported", ti,
                             spec.name);
      }
      const auto* scales = q->scale();
      const auto* zps = q->zero_point();
      const uint32_t n = scales ? scales->size() : 0;
      if (n > 0) {
        if (!zps || zps->size() != n) {
          return Status::Error(StatusCode::kInvalidArgument,
                               "tensor %d (%s): %u scales but %u zero points", ti, spec.name, n,
                               zps ? zps->size() : 0);
        }
        // The verifier aligns a vector's length field to 4 bytes only; int64
        // zero points are read in place, so they must be 8-byte aligned (as
        // every flatbuffers builder writes them).
        if (reinterpret_cast<uintptr_t>(zps->data()) % alignof(int64_t) != 0) {
          return Status::Error(StatusCode::kInvalidArgument, "tensor %d (%s): zero_point vector is not 8-byte aligned",
                               ti, spec.name);
        }
        for (uint32_t k = 0; k < n; ++k) {
          const float sc = scales->Get(k);
          if (!std::isfinite(sc) || !(sc > 0.0f)) {
            return Status::Error(StatusCode::kInvalidArgument, "tensor %d (%s): scale[%u] = %g must be finite and > 0",
                                 ti, spec.name, k, static_cast<double>(sc));
          }
          TRIAGE_RETURN_IF_ERROR(ZeroPointInRange(spec.type, zps->Get(k), ti, k));
        }
        int qdim = q->quantized_dimension();
        if (n > 1) {
          // Deliberate choice (see docs/INTERPRETER.md): a rank-1 tensor whose
          // per-channel count equals its only dimension is accepted whatever
          // quantized_dimension says. TFLite Micro's person_detect stores
          // quantized_dimension=3 on rank-1 biases; TFLite refuses it, TFLM
          // accepts it, and the meaning is unambiguous.
          if (spec.shape.rank == 1 && static_cast<uint32_t>(spec.shape.dims[0]) == n) qdim = 0;
          if (qdim < 0 || qdim >= spec.shape.rank) {
            return Status::Error(StatusCode::kInvalidArgument,
                                 "tensor %d (%s): quantized_dimension %d outside rank %d", ti, spec.name, qdim,
                                 spec.shape.rank);
          }
          if (static_cast<uint32_t>(spec.shape.dims[qdim]) != n) {
            return Status::Error(StatusCode::kInvalidArgument,
                                 "tensor %d (%s): %u per-channel scales but dimension %d has %d entries", ti,
                                 spec.name, n, qdim, spec.shape.dims[qdim]);
          }
        }
        spec.quant.scales = Span<const float>(scales->data(), n);
        spec.quant.zero_points = Span<const int64_t>(zps->data(), n);
        spec.quant.quantized_dimension = qdim;
      }
    }
  }

  auto check_index_list = [&](const flatbuffers::Vector<int32_t>* list, const char* what,
                              Span<const int32_t>* out) -> Status {
    if (!list) return Status::Ok();
    for (uint32_t k = 0; k < list->size(); ++k) {
      const int32_t idx = list->Get(k);
      if (idx < 0 || static_cast<uint32_t>(idx) >= num_tensors) {
        return Status::Error(StatusCode::kOutOfRange, "%s[%u] = %d out of range (%u tensors)", what, k, idx,
                             num_tensors);
      }
    }
    *out = Span<const int32_t>(list->data(), list->size());
    return Status::Ok();
  };
  TRIAGE_RETURN_IF_ERROR(check_index_list(sg->inputs(), "subgraph input", &inputs_));
  TRIAGE_RETURN_IF_ERROR(check_index_list(sg->outputs(), "subgraph output", &outputs_));
  if (inputs_.empty() || outputs_.empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "subgraph 0 needs at least one input and one output");
  }

  // Execution order: every tensor an operator reads is a constant, a graph
  // input, or the output of an earlier operator; each tensor is written once.
  std::vector<uint8_t> available(num_tensors, 0);
  // Variable (state) tensors hold values across invocations, so they are
  // readable from the start.
  for (uint32_t i = 0; i < num_tensors; ++i) {
    available[i] = (tensors_[i].is_constant() || tensors_[i].is_variable) ? 1 : 0;
  }
  for (int32_t idx : inputs_) {
    if (tensors_[idx].is_constant()) {
      return Status::Error(StatusCode::kInvalidArgument, "subgraph input tensor %d (%s) is a constant", idx,
                           tensors_[idx].name);
    }
    available[idx] = 1;
  }
  const auto* codes = m->operator_codes();
  const uint32_t num_codes = codes ? codes->size() : 0;
  const auto* ops = sg->operators();
  const uint32_t num_ops = ops ? ops->size() : 0;
  if (num_ops == 0) return Status::Error(StatusCode::kInvalidArgument, "subgraph 0 has no operators");
  operators_.resize(num_ops);
  for (uint32_t i = 0; i < num_ops; ++i) {
    const auto* op = ops->Get(i);
    OperatorSpec& spec = operators_[i];
    spec.flatbuffer_op = op;
    if (op->opcode_index() >= num_codes) {
      return Status::Error(StatusCode::kOutOfRange, "op %u: opcode index %u out of range (%u codes)", i,
                           op->opcode_index(), num_codes);
    }
    const auto* code = codes->Get(op->opcode_index());
    // Newer files store the code in builtin_code; older ones in the
    // deprecated byte. The larger of the two is the real code.
    const int32_t deprecated = code->deprecated_builtin_code();
    const int32_t extended = static_cast<int32_t>(code->builtin_code());
    spec.code = deprecated > extended ? deprecated : extended;
    spec.version = code->version();
    if (spec.code == static_cast<int32_t>(tflite::BuiltinOperator::CUSTOM)) {
      return Status::Error(StatusCode::kUnsupported, "op %u: custom operator \"%s\" unsupported", i,
                           code->custom_code() ? code->custom_code()->c_str() : "");
    }
    Status s = check_index_list(op->outputs(), "output", &spec.outputs);
    if (!s.ok()) return s.WithContext("op %u (%s)", i, BuiltinOpName(spec.code));
    if (spec.outputs.empty()) {
      return Status::Error(StatusCode::kInvalidArgument, "op %u (%s): no outputs", i, BuiltinOpName(spec.code));
    }
    if (const auto* in = op->inputs()) {
      for (uint32_t k = 0; k < in->size(); ++k) {
        const int32_t idx = in->Get(k);
        if (idx == -1) continue;  // omitted optional input
        if (idx < 0 || static_cast<uint32_t>(idx) >= num_tensors) {
          return Status::Error(StatusCode::kOutOfRange, "op %u (%s): input[%u] = %d out of range (%u tensors)", i,
                               BuiltinOpName(spec.code), k, idx, num_tensors);
        }
        if (!available[idx]) {
          return Status::Error(StatusCode::kInvalidArgument,
                               "op %u (%s): input tensor %d (%s) is read before any operator writes it "
                               "(invalid execution order)",
                               i, BuiltinOpName(spec.code), idx, tensors_[idx].name);
        }
      }
      spec.inputs = Span<const int32_t>(in->data(), in->size());
    }
    for (int32_t idx : spec.outputs) {
      if (available[idx] && !tensors_[idx].is_variable) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "op %u (%s): output tensor %d (%s) is a constant, a graph input, or written twice", i,
                             BuiltinOpName(spec.code), idx, tensors_[idx].name);
      }
      available[idx] = 1;
    }
  }
  for (int32_t idx : outputs_) {
    if (!available[idx]) {
      return Status::Error(StatusCode::kInvalidArgument, "subgraph output tensor %d (%s) is never written", idx,
                           tensors_[idx].name);
    }
  }
  return Status::Ok();
}

Span<const uint8_t> Model::Metadata(const char* name) const {
  const auto* m = static_cast<const tflite::Model*>(root_);
  const auto* metadata = m->metadata();
  const auto* buffers = m->buffers();
  if (!metadata || !buffers) return {};
  for (uint32_t i = 0; i < metadata->size(); ++i) {
    const auto* entry = metadata->Get(i);
    const auto* entry_name = entry->name();
    const size_t len = std::strlen(name);
    if (!entry_name || entry_name->size() != len || std::memcmp(entry_name->data(), name, len) != 0) continue;
    if (entry->buffer() >= buffers->size()) return {};
    const auto* data = buffers->Get(entry->buffer())->data();
    if (!data) return {};
    return Span<const uint8_t>(data->data(), data->size());
  }
  return {};
}

AlignedBuffer::AlignedBuffer(size_t size) : storage_((size + 15) / 16), size_(size) {}

Result<AlignedBuffer> ReadFileAligned(const std::string& path, size_t max_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::Error(StatusCode::kNotFound, "%s: cannot open", path.c_str());
  if (std::fseek(f, 0, SEEK_END) != 0) {
    std::fclose(f);
    return Status::Error(StatusCode::kIoError, "%s: cannot seek", path.c_str());
  }
  const long size = std::ftell(f);
  std::rewind(f);
  if (size < 0 || static_cast<size_t>(size) > max_bytes) {
    std::fclose(f);
    return Status::Error(StatusCode::kInvalidArgument, "%s: size %ld outside [0, %zu]", path.c_str(), size,
                         max_bytes);
  }
  AlignedBuffer buffer(static_cast<size_t>(size));
  const size_t got = size > 0 ? std::fread(buffer.data(), 1, static_cast<size_t>(size), f) : 0;
  std::fclose(f);
  if (got != static_cast<size_t>(size)) {
    return Status::Error(StatusCode::kIoError, "%s: short read (%zu of %ld bytes)", path.c_str(), got, size);
  }
  return buffer;
}

}  // namespace triage::inference
