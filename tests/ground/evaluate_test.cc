#include "ground/evaluate.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace triage::ground {
namespace {

const std::vector<std::string> kLabels = {"black", "cloud", "distorted", "land", "white"};

std::vector<float> OneHot(int k, float p) {
  std::vector<float> v(5, (1.f - p) / 4.f);
  v[k] = p;
  return v;
}

TEST(Evaluate, ConfusionPrecisionRecallAndKeepDiscard) {
  // truth:     land land land cloud cloud black white distorted
  // predicted: land land cloud cloud land black white white
  const std::vector<int> truth = {3, 3, 3, 1, 1, 0, 4, 2};
  const std::vector<std::vector<float>> probs = {OneHot(3, 0.9f), OneHot(3, 0.8f), OneHot(1, 0.55f),
                                                 OneHot(1, 0.9f), OneHot(3, 0.6f), OneHot(0, 0.99f),
                                                 OneHot(4, 0.97f), OneHot(4, 0.7f)};
  EvalResult r = Summarize(kLabels, truth, probs, {}, "land", {0.f, 0.65f});
  EXPECT_EQ(r.total, 8);
  EXPECT_DOUBLE_EQ(r.accuracy, 5.0 / 8.0);
  EXPECT_EQ(r.confusion[3][1], 1);
  EXPECT_EQ(r.confusion[1][3], 1);
  EXPECT_EQ(r.confusion[2][4], 1);
  EXPECT_DOUBLE_EQ(r.recall[3], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.precision[3], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.recall[2], 0.0);
  EXPECT_DOUBLE_EQ(r.precision[4], 0.5);
  EXPECT_DOUBLE_EQ(r.land_recall, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.nonland_discarded, 4.0 / 5.0);  // one cloud predicted land is kept
  EXPECT_DOUBLE_EQ(r.discarded_by_class[2], 1.0);     // distorted->white still discarded
  ASSERT_EQ(r.errors.size(), 3u);
  // At threshold 0.65 the uncertain land (0.55) is kept and the cloud->land (0.6) too.
  ASSERT_EQ(r.thresholds.size(), 2u);
  EXPECT_DOUBLE_EQ(r.thresholds[1].coverage, 6.0 / 8.0);
  EXPECT_DOUBLE_EQ(r.thresholds[1].accuracy, 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(r.thresholds[1].land_recall, 1.0);
  EXPECT_DOUBLE_EQ(r.thresholds[1].nonland_discarded, 4.0 / 5.0);
  EXPECT_NE(r.Table().find("land recall 66.67%"), std::string::npos) << r.Table();
  EXPECT_NE(r.Json().find("\"nonland_discarded\": 0.8"), std::string::npos);
}

TEST(Evaluate, MissingModelOrFolderIsAClearError) {
  EvalOptions o;
  o.model = "/nonexistent/model.tflite";
  o.data = "/nonexistent";
  o.progress = false;
  Result<EvalResult> r = Evaluate(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("/nonexistent/model.tflite"), std::string::npos);
}

}  // namespace
}  // namespace triage::ground
