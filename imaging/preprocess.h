// Model-input preprocessing: resize an RGB view to the model's input size,
// optionally convert to gray, normalize and quantize into the input tensor.
//
//   real = (pixel - mean[c]) / std[c]
//   float:       out = real
//   int8/uint8:  out = clamp(round(real / scale) + zero_point)  (round half away from zero)
//
// Gray (channels == 1) uses ITU-R BT.601 weights on the resized RGB pixel,
// rounded to 8 bits first (as cv::cvtColor does), then mean[0]/std[0].
//
// Phase: Create() validates the spec and allocates every buffer (resampler
// tables, resized-image scratch, per-channel lookup tables). Run() is
// flight-safe: no allocation, no exceptions. Not thread safe: one
// Preprocessor per thread.
#ifndef TRIAGE_IMAGING_PREPROCESS_H_
#define TRIAGE_IMAGING_PREPROCESS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "imaging/resample.h"

namespace triage::imaging {

enum class TensorElementType { kFloat32, kUint8, kInt8 };

// Bytes per element of a tensor type.
size_t ElementSize(TensorElementType type);
const char* TensorElementTypeName(TensorElementType type);

struct ModelInputSpec {
  int height = 0, width = 0, channels = 3;  // channels 1 => convert RGB to gray (ITU-R BT.601 weights)
  TensorElementType type = TensorElementType::kUint8;
  float scale = 1.0f;                       // the input tensor's quantization (ignored for float)
  int32_t zero_point = 0;
  float mean[3] = {127.5f, 127.5f, 127.5f};  // per channel, in pixel units
  float std[3] = {127.5f, 127.5f, 127.5f};

  size_t element_count() const { return static_cast<size_t>(height) * width * channels; }
  size_t byte_size() const { return element_count() * ElementSize(type); }
};

// Checks a spec: sizes 1..4096, channels 1 or 3, scale > 0 and finite (for
// quantized types), zero point within the type, std != 0. The message names
// the offending field and value.
Status ValidateModelInputSpec(const ModelInputSpec& spec);

class Preprocessor {
 public:
  // max_source_width/height bound the views Run() accepts.
  static Result<Preprocessor> Create(const ModelInputSpec& spec, int max_source_width,
                                     int max_source_height);

  // Resizes the interleaved 8-bit RGB view (stride in bytes) to the spec size
  // (area when shrinking, bilinear when enlarging) and writes exactly
  // spec.byte_size() bytes into `out` (a float tensor's bytes in native
  // order). Errors: out.size() != spec.byte_size(), a source larger than the
  // maximum, a null pointer or too small a stride.
  Status Run(const uint8_t* rgb, int width, int height, int stride_bytes, Span<uint8_t> out);

  const ModelInputSpec& spec() const { return spec_; }
  // Bytes owned by this object; constant after Create().
  size_t memory_bytes() const;

 private:
  Preprocessor() = default;

  ModelInputSpec spec_;
  Resampler resampler_;
  std::vector<uint8_t> resized_;  // spec height x width x 3
  // Per channel (one for gray), the output for each 8-bit input value.
  std::vector<float> float_lut_;   // channels x 256
  std::vector<uint8_t> byte_lut_;  // channels x 256, uint8 or int8 bit patterns
};

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_PREPROCESS_H_
