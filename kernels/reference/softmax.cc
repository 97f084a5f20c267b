#include "kernels/reference/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/reference/softmax_rows.h"

namespace triage::kernels::reference {

void SoftmaxFloat(const SoftmaxParams& p, const float* input, float* output) {
  for (int i = 0; i < p.outer_size; ++i) {
    const float* in = input + static_cast<int64_t>(i) * p.depth;
    float* out = output + static_cast<int64_t>(i) * p.depth;
    float max = std::numeric_limits<float>::lowest();
    for (int c = 0; c < p.depth; ++c) max = std::max(max, in[c]);
    float sum = 0.0f;
    for (int c = 0; c < p.depth; ++c) {
      out[c] = std::exp((in[c] - max) * p.beta);
      sum += out[c];
    }
    for (int c = 0; c < p.depth; ++c) out[c] /= sum;
  }
}

template <typename T>
void SoftmaxQuantized(const SoftmaxParams& p, const T* input, T* output) {
  SoftmaxQuantizedRows(p, input, output,
                       [&](int32_t diff, bool* in_range) { return SoftmaxScaledExp(p, diff, in_range); });
}

template void SoftmaxQuantized<uint8_t>(const SoftmaxParams&, const uint8_t*, uint8_t*);
template void SoftmaxQuantized<int8_t>(const SoftmaxParams&, const int8_t*, int8_t*);

}  // namespace triage::kernels::reference
