#include "ground/cluster.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "inference/model.h"

namespace triage::ground {
namespace {

bool IsFilterOp(int32_t code) {
  using inference::BuiltinOp;
  return code == static_cast<int32_t>(BuiltinOp::kConv2d) || code == static_cast<int32_t>(BuiltinOp::kDepthwiseConv2d) ||
         code == static_cast<int32_t>(BuiltinOp::kFullyConnected);
}

}  // namespace

std::vector<int8_t> ClusterCodes(const double* w, int k) {
  std::vector<int8_t> map(256);
  for (int v = 0; v < 256; ++v) map[static_cast<size_t>(v)] = static_cast<int8_t>(v - 128);
  std::vector<int> values;  // codes present, ascending
  for (int v = 0; v < 256; ++v) {
    if (w[v] > 0) values.push_back(v - 128);
  }
  const int n = static_cast<int>(values.size());
  if (n <= k) return map;
  // Prefix sums of weight, weight*x, weight*x^2 for O(1) cluster costs.
  std::vector<double> sw(n + 1, 0), sx(n + 1, 0), sxx(n + 1, 0);
  for (int i = 0; i < n; ++i) {
    const double x = values[static_cast<size_t>(i)], wi = w[values[static_cast<size_t>(i)] + 128];
    sw[i + 1] = sw[i] + wi;
    sx[i + 1] = sx[i] + wi * x;
    sxx[i + 1] = sxx[i] + wi * x * x;
  }
  auto cost = [&](int a, int b) {  // values[a..b)
    const double W = sw[b] - sw[a], X = sx[b] - sx[a];
    return (sxx[b] - sxx[a]) - X * X / W;
  };
  // dp[j][i]: best cost of the first i values in j clusters; cut[j][i] the
  // start of the last cluster. Ties keep the earliest cut (deterministic).
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> dp(static_cast<size_t>(k) + 1, std::vector<double>(n + 1, inf));
  std::vector<std::vector<int>> cut(static_cast<size_t>(k) + 1, std::vector<int>(n + 1, 0));
  dp[0][0] = 0;
  for (int j = 1; j <= k; ++j) {
    for (int i = j; i <= n; ++i) {
      for (int s = j - 1; s < i; ++s) {
        const double c = dp[j - 1][s] + cost(s, i);
        if (c < dp[j][i]) {
          dp[j][i] = c;
          cut[j][i] = s;
        }
      }
    }
  }
  int end = n;
  for (int j = k; j >= 1; --j) {
    const int start = cut[j][end];
    const double mean = (sx[end] - sx[start]) / (sw[end] - sw[start]);
    const long code = std::lround(mean);
    for (int i = start; i < end; ++i) {
      map[static_cast<size_t>(values[static_cast<size_t>(i)] + 128)] = static_cast<int8_t>(code);
    }
    end = start;
  }
  return map;
}

Result<std::vector<uint8_t>> ClusterWeights(Span<const uint8_t> tflite, int k, ClusterReport* report) {
  if (k < kMinClusters || k > kMaxClusters) {
    return Status::Error(StatusCode::kInvalidArgument, "cluster count %d is outside [%d, %d]", k, kMinClusters,
                         kMaxClusters);
  }
  inference::AlignedBuffer image(tflite.size());
  if (tflite.size() > 0) std::memcpy(image.data(), tflite.data(), tflite.size());
  Result<inference::Model> model = inference::Model::Create(image.span());
  if (!model.ok()) return model.status().WithContext("cluster");
  std::vector<uint8_t> out(tflite.begin(), tflite.end());
  ClusterReport r;
  double sq = 0;
  std::vector<bool> done(model->tensors().size(), false);
  for (const inference::OperatorSpec& op : model->operators()) {
    if (!IsFilterOp(op.code) || op.inputs.size() < 2 || op.inputs[1] < 0) continue;
    const size_t t = static_cast<size_t>(op.inputs[1]);
    if (done[t]) continue;
    done[t] = true;
    const inference::TensorSpec& spec = model->tensors()[t];
    if (!spec.is_constant() || spec.type != inference::DataType::kInt8 || spec.quant.scales.empty()) continue;
    // Channel of element i: (i / inner) % channels along quantized_dimension.
    const kernels::Shape& shape = spec.shape;
    const int qd = spec.quant.per_channel() ? spec.quant.quantized_dimension : 0;
    size_t inner = 1;
    for (int d = qd + 1; d < shape.rank; ++d) inner *= static_cast<size_t>(shape.dims[d]);
    const size_t channels = spec.quant.scales.size();
    const size_t count = spec.bytes;
    const int8_t* q = reinterpret_cast<const int8_t*>(spec.data);
    auto scale_of = [&](size_t i) {
      return static_cast<double>(spec.quant.scales[channels == 1 ? 0 : (i / inner) % channels]);
    };
    double hist[256] = {};
    for (size_t i = 0; i < count; ++i) {
      const double s = scale_of(i);
      hist[q[i] + 128] += s * s > 0 ? s * s : 1e-30;
    }
    const std::vector<int8_t> map = ClusterCodes(hist, k);
    bool changed = false;
    const size_t offset = static_cast<size_t>(spec.data - image.data());
    for (size_t i = 0; i < count; ++i) {
      const int8_t to = map[static_cast<size_t>(q[i] + 128)];
      if (to != q[i]) {
        ++r.weights_changed;
        changed = true;
        const double e = (to - q[i]) * scale_of(i);
        sq += e * e;
        out[offset + i] = static_cast<uint8_t>(to);
      }
    }
    r.weights += count;
    if (changed) {
      ++r.layers;
    } else {
      ++r.layers_unchanged;
    }
  }
  r.rms_error = r.weights > 0 ? std::sqrt(sq / static_cast<double>(r.weights)) : 0.0;
  if (report) *report = r;
  return out;
}

}  // namespace triage::ground
