// Weight clustering of an int8 .tflite (`triage-ground quantize --cluster K`):
// every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED filter is reduced to
// at most K distinct int8 codes per layer, so that the model compresses far
// better for the uplink (zlib's Huffman stage then sees K symbols in each
// filter instead of up to 255).
//
// Per layer, the codes are chosen by an optimal one-dimensional k-means over
// the layer's code histogram, each code weighted by the square of its
// channel's scale (the error is measured in real units, channels sharing the
// code book), solved exactly by dynamic programming; each cluster's code is
// the weighted mean rounded to an integer. Post-training, not fine-tuned:
// the rest of the file (scales, biases, activations, graph) is untouched and
// the filters are rewritten in place, so the file size does not change.
// Deterministic: the same input gives the same bytes. Ground-side.
#ifndef TRIAGE_GROUND_CLUSTER_H_
#define TRIAGE_GROUND_CLUSTER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/span.h"

namespace triage::ground {

constexpr int kMinClusters = 2;
constexpr int kMaxClusters = 255;

struct ClusterReport {
  int layers = 0;            // filters clustered
  int layers_unchanged = 0;  // filters that already had at most K codes
  size_t weights = 0;        // elements in clustered filters
  size_t weights_changed = 0;
  double rms_error = 0;      // real-valued RMS error over clustered filters
};

// The codes a histogram of int8 values (index v + 128) maps to with at most
// k clusters: out[v + 128] is the code that v becomes. Exposed for tests.
std::vector<int8_t> ClusterCodes(const double* weights_by_code /* [256] */, int k);

// `tflite`: a verified int8 model. Returns the clustered copy.
Result<std::vector<uint8_t>> ClusterWeights(Span<const uint8_t> tflite, int k, ClusterReport* report = nullptr);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_CLUSTER_H_
