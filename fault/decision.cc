#include "fault/decision.h"

#include <cmath>
#include <cstring>

namespace triage::fault {

OutputQuant CaptureOutputQuant(const inference::TensorView& output) {
  OutputQuant q;
  q.type = output.type;
  q.scale = output.scale > 0.0f ? output.scale : 1.0f;
  q.zero_point = output.scale > 0.0f ? output.zero_point : 0;
  const size_t element = kernels::DataTypeSize(output.type);
  q.elements = element == 0 ? 0 : output.bytes / element;
  return q;
}

namespace {
float Value(const uint8_t* data, size_t i, const OutputQuant& q) {
  switch (q.type) {
    case kernels::DataType::kUint8:
      return q.scale * static_cast<float>(static_cast<int32_t>(data[i]) - q.zero_point);
    case kernels::DataType::kInt8:
      return q.scale * static_cast<float>(static_cast<int32_t>(static_cast<int8_t>(data[i])) - q.zero_point);
    case kernels::DataType::kInt16: {
      int16_t v;
      std::memcpy(&v, data + 2 * i, 2);
      return q.scale * static_cast<float>(static_cast<int32_t>(v) - q.zero_point);
    }
    case kernels::DataType::kInt32: {
      int32_t v;
      std::memcpy(&v, data + 4 * i, 4);
      return q.scale * (static_cast<float>(v) - static_cast<float>(q.zero_point));
    }
    case kernels::DataType::kFloat32: {
      float v;
      std::memcpy(&v, data + 4 * i, 4);
      return v;
    }
    default:
      return 0.0f;
  }
}
}  // namespace

Decision DecideArgmax(const uint8_t* data, const OutputQuant& quant) {
  Decision d;
  if (data == nullptr) return d;
  for (size_t i = 0; i < quant.elements; ++i) {
    const float v = Value(data, i, quant);
    // NaN never wins; a NaN-only output has no decision.
    if (std::isnan(v)) continue;
    if (d.class_index < 0 || v > d.score) {
      d.class_index = static_cast<int>(i);
      d.score = v;
    }
  }
  return d;
}

}  // namespace triage::fault
