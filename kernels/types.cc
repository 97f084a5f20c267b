#include "kernels/types.h"

namespace triage::kernels {

const char* DataTypeName(DataType type) {
  switch (type) {
    case DataType::kFloat32: return "float32";
    case DataType::kInt32: return "int32";
    case DataType::kUint8: return "uint8";
    case DataType::kInt64: return "int64";
    case DataType::kInt16: return "int16";
    case DataType::kInt8: return "int8";
  }
  return "unknown";
}

size_t DataTypeSize(DataType type) {
  switch (type) {
    case DataType::kFloat32: return 4;
    case DataType::kInt32: return 4;
    case DataType::kUint8: return 1;
    case DataType::kInt64: return 8;
    case DataType::kInt16: return 2;
    case DataType::kInt8: return 1;
  }
  return 0;
}

Shape MakeShape(std::initializer_list<int32_t> dims) {
  Shape s;
  TRIAGE_CHECK(dims.size() <= static_cast<size_t>(Shape::kMaxRank));
  for (int32_t d : dims) s.dims[s.rank++] = d;
  return s;
}

Shape ExtendTo4D(const Shape& s) {
  TRIAGE_CHECK(s.rank <= 4);
  Shape out;
  out.rank = 4;
  const int pad = 4 - s.rank;
  for (int i = 0; i < 4; ++i) out.dims[i] = i < pad ? 1 : s.dims[i - pad];
  return out;
}

}  // namespace triage::kernels
