// Weight clustering: the optimal 1-D code book, and the rewritten model
// (same size, at most K codes per filter, everything else untouched, still
// a valid model, deterministic, and far more compressible).
#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "ground/cluster.h"
#include "inference/model.h"
#include "tests/support/shared_paths.h"

namespace triage::ground {
namespace {

TEST(ClusterCodes, KeepsAHistogramThatAlreadyFits) {
  double w[256] = {};
  w[128 - 5] = 1;
  w[128 + 7] = 2;
  const std::vector<int8_t> map = ClusterCodes(w, 2);
  EXPECT_EQ(map[128 - 5], -5);
  EXPECT_EQ(map[128 + 7], 7);
}

TEST(ClusterCodes, SplitsTwoGroupsAtTheGapAndUsesWeightedMeans) {
  double w[256] = {};
  // Group around -40 (weights 1, 3 at -41, -39), group around 60 (1 each at 59, 60, 61).
  w[128 - 41] = 1;
  w[128 - 39] = 3;
  w[128 + 59] = 1;
  w[128 + 60] = 1;
  w[128 + 61] = 1;
  const std::vector<int8_t> map = ClusterCodes(w, 2);
  EXPECT_EQ(map[128 - 41], -40);  // (−41·1 − 39·3) / 4 = −39.5 → −40 (round half away from zero)
  EXPECT_EQ(map[128 - 39], -40);
  EXPECT_EQ(map[128 + 59], 60);
  EXPECT_EQ(map[128 + 60], 60);
  EXPECT_EQ(map[128 + 61], 60);
}

TEST(ClusterWeights, RefusesABadCount) {
  std::vector<uint8_t> nothing(16, 0);
  EXPECT_FALSE(ClusterWeights(nothing, 1).ok());
  EXPECT_FALSE(ClusterWeights(nothing, 256).ok());
  EXPECT_FALSE(ClusterWeights(nothing, 16).ok());  // not a model
}

size_t Deflated(const std::vector<uint8_t>& bytes) {
  uLongf n = compressBound(bytes.size());
  std::vector<uint8_t> out(n);
  EXPECT_EQ(compress2(out.data(), &n, bytes.data(), bytes.size(), 9), Z_OK);
  return n;
}

TEST(ClusterWeights, ShippedModelHasAtMostKCodesPerFilterAndCompresses) {
  const std::vector<uint8_t> original = testing::ReadFileBytes(testing::SourcePath("models/triage_int8.tflite"));
  ASSERT_FALSE(original.empty());
  ClusterReport report;
  Result<std::vector<uint8_t>> clustered = ClusterWeights(original, 16, &report);
  ASSERT_TRUE(clustered.ok()) << clustered.status().message();
  ASSERT_EQ(clustered->size(), original.size());
  EXPECT_GT(report.layers, 10);
  EXPECT_GT(report.weights_changed, 0u);
  EXPECT_GT(report.rms_error, 0.0);

  inference::AlignedBuffer a(original.size()), b(clustered->size());
  std::copy(original.begin(), original.end(), a.data());
  std::copy(clustered->begin(), clustered->end(), b.data());
  Result<inference::Model> ma = inference::Model::Create(a.span());
  Result<inference::Model> mb = inference::Model::Create(b.span());
  ASSERT_TRUE(ma.ok() && mb.ok());
  // Every byte outside filter tensors is untouched; each filter has <= 16 codes.
  std::vector<bool> in_filter(original.size(), false);
  for (const inference::OperatorSpec& op : mb->operators()) {
    if (op.code != static_cast<int32_t>(inference::BuiltinOp::kConv2d) &&
        op.code != static_cast<int32_t>(inference::BuiltinOp::kDepthwiseConv2d) &&
        op.code != static_cast<int32_t>(inference::BuiltinOp::kFullyConnected)) {
      continue;
    }
    const inference::TensorSpec& t = mb->tensors()[static_cast<size_t>(op.inputs[1])];
    std::set<int8_t> codes;
    const size_t off = static_cast<size_t>(t.data - b.data());
    for (size_t i = 0; i < t.bytes; ++i) {
      codes.insert(static_cast<int8_t>(t.data[i]));
      in_filter[off + i] = true;
    }
    EXPECT_LE(codes.size(), 16u) << t.name;
  }
  for (size_t i = 0; i < original.size(); ++i) {
    if (!in_filter[i]) {
      ASSERT_EQ(original[i], (*clustered)[i]) << "byte " << i;
    }
  }
  // Deterministic, and much smaller once deflated.
  Result<std::vector<uint8_t>> again = ClusterWeights(original, 16);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *clustered);
  EXPECT_LT(Deflated(*clustered) * 10, Deflated(original) * 8);  // at least 20 % smaller (28 % measured at K 16)
}

}  // namespace
}  // namespace triage::ground
