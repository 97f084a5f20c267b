// Plain data types shared by every kernel: element types, shapes, fused
// activations and quantization parameters. No model-format knowledge here;
// inference/ translates the .tflite schema into these.
#ifndef TRIAGE_KERNELS_TYPES_H_
#define TRIAGE_KERNELS_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "core/check.h"

namespace triage::kernels {

class Parallel;  // kernels/parallel.h: worker threads for the optimized kernels

// Values match TensorFlow Lite's TensorType so casts from the schema are direct.
enum class DataType : int8_t {
  kFloat32 = 0,
  kInt32 = 2,
  kUint8 = 3,
  kInt64 = 4,
  kInt16 = 7,
  kInt8 = 9,
};

const char* DataTypeName(DataType type);
// Bytes per element; 0 for a type we do not handle.
size_t DataTypeSize(DataType type);

// A dense row-major shape of rank <= kMaxRank.
struct Shape {
  static constexpr int kMaxRank = 6;
  int rank = 0;
  int32_t dims[kMaxRank] = {};

  int32_t Dim(int i) const {
    TRIAGE_DCHECK(i >= 0 && i < rank);
    return dims[i];
  }
  // Product of all dimensions (1 for a scalar). Callers validate overflow at
  // prepare time with CheckedFlatSize; kernels may call FlatSize freely.
  int64_t FlatSize() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  bool operator==(const Shape& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] != o.dims[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }
};

// Builds a shape from a list, e.g. MakeShape({1, 224, 224, 3}).
Shape MakeShape(std::initializer_list<int32_t> dims);
// Left-pads with 1s to rank 4 (rank must be <= 4).
Shape ExtendTo4D(const Shape& s);

// Index of (b, y, x, c) in an NHWC tensor of shape s (rank 4).
inline int64_t Offset4D(const Shape& s, int b, int y, int x, int c) {
  return ((static_cast<int64_t>(b) * s.dims[1] + y) * s.dims[2] + x) * s.dims[3] + c;
}

enum class Activation : uint8_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3 };
enum class Padding : uint8_t { kSame = 0, kValid = 1 };

// Output range after a fused activation, in the output's quantized domain.
struct QuantizedRange {
  int32_t min;
  int32_t max;
};
struct FloatRange {
  float min;
  float max;
};

}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_TYPES_H_
