#include "uplink/golden.h"

#include <cstring>
#include <new>

#include "inference/op_resolver.h"
#include "uplink/le_bytes.h"

namespace triage::uplink {
namespace {

void Append32(std::vector<uint8_t>* out, uint32_t v) {
  uint8_t b[4];
  PutLe32(b, v);
  out->insert(out->end(), b, b + 4);
}

}  // namespace

std::vector<uint8_t> EncodeGolden(const std::vector<GoldenPair>& vectors) {
  std::vector<uint8_t> out = {'T', 'R', 'G', 'V', static_cast<uint8_t>(vectors.size()),
                              static_cast<uint8_t>(vectors.size() >> 8), 0, 0};
  for (const GoldenPair& g : vectors) {
    Append32(&out, static_cast<uint32_t>(g.input.size()));
    out.insert(out.end(), g.input.begin(), g.input.end());
    Append32(&out, static_cast<uint32_t>(g.output.size()));
    out.insert(out.end(), g.output.begin(), g.output.end());
  }
  return out;
}

Result<size_t> CheckGoldenVectors(Span<const uint8_t> model_bytes, Span<const uint8_t> golden,
                                  const inference::InterpreterOptions& options) noexcept {
  const size_t n = golden.size();
  const uint8_t* p = golden.data();
  if (n < 8 || std::memcmp(p, "TRGV", 4) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "golden vectors: missing or bad section header");
  }
  const size_t count = static_cast<size_t>(p[4]) | static_cast<size_t>(p[5]) << 8;
  if (count == 0 || count > kMaxGoldenVectors || p[6] != 0 || p[7] != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "golden vectors: count %zu outside 1..%zu", count,
                         kMaxGoldenVectors);
  }
  Result<inference::Model> model = inference::Model::Create(model_bytes);
  if (!model.ok()) return model.status().WithContext("golden vectors: model");
  try {
    inference::OpResolver resolver;
    TRIAGE_RETURN_IF_ERROR(inference::AddAllBuiltinOps(resolver));
    inference::Interpreter interpreter(*model, resolver, options);
    if (Status s = interpreter.PrepareAndAllocate(); !s.ok()) return s.WithContext("golden vectors");
    if (interpreter.num_inputs() < 1 || interpreter.num_outputs() < 1) {
      return Status::Error(StatusCode::kUnsupported, "golden vectors: model has no input or output");
    }
    const inference::TensorView in = interpreter.input(0);
    size_t at = 8;
    for (size_t v = 0; v < count; ++v) {
      if (n - at < 4 || GetLe32(p + at) != in.bytes || n - at - 4 < in.bytes) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "golden vector %zu: input is not the model's %zu-byte input tensor (offset %zu)", v,
                             in.bytes, at);
      }
      std::memcpy(in.data, p + at + 4, in.bytes);
      at += 4 + in.bytes;
      if (Status s = interpreter.Invoke(); !s.ok()) return s.WithContext("golden vector %zu", v);
      const inference::TensorView out = interpreter.output(0);
      if (n - at < 4 || GetLe32(p + at) != out.bytes || n - at - 4 < out.bytes) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "golden vector %zu: expected output is not the model's %zu-byte output (offset %zu)", v,
                             out.bytes, at);
      }
      const uint8_t* want = p + at + 4;
      for (size_t i = 0; i < out.bytes; ++i) {
        if (out.data[i] != want[i]) {
          return Status::Error(StatusCode::kDataLoss,
                               "golden vector %zu: output byte %zu is 0x%02x on board, 0x%02x on the ground", v, i,
                               out.data[i], want[i]);
        }
      }
      at += 4 + out.bytes;
    }
    if (at != n) {
      return Status::Error(StatusCode::kInvalidArgument, "golden vectors: %zu trailing bytes", n - at);
    }
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kResourceExhausted, "golden vectors: out of memory");
  }
  return count;
}

}  // namespace triage::uplink
