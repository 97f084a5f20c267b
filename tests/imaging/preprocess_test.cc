#include "imaging/preprocess.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "tests/imaging/test_images.h"
#include "tests/support/alloc_guard.h"

namespace triage::imaging {
namespace {

// A 256x1 RGB row whose pixel v is (v, v, v): with a 256x1 spec the resize is
// the identity, so each output element is the mapping of one known value.
std::vector<uint8_t> AllValuesRow() {
  std::vector<uint8_t> row(256 * 3);
  for (int v = 0; v < 256; ++v) row[v * 3] = row[v * 3 + 1] = row[v * 3 + 2] = static_cast<uint8_t>(v);
  return row;
}

ModelInputSpec RowSpec(TensorElementType type, float scale, int32_t zero_point) {
  ModelInputSpec spec;
  spec.width = 256;
  spec.height = 1;
  spec.type = type;
  spec.scale = scale;
  spec.zero_point = zero_point;
  return spec;
}

std::vector<uint8_t> RunRow(const ModelInputSpec& spec) {
  Result<Preprocessor> p = Preprocessor::Create(spec, 256, 1);
  EXPECT_TRUE(p.ok()) << p.status().message();
  if (!p.ok()) return {};
  const auto row = AllValuesRow();
  std::vector<uint8_t> out(spec.byte_size());
  const Status s = p->Run(row.data(), 256, 1, 256 * 3, Span<uint8_t>(out));
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

TEST(Preprocessor, Uint8ScaleOneOver128ZeroPoint128PassesPixelsThrough) {
  const auto out = RunRow(RowSpec(TensorElementType::kUint8, 1.0f / 128, 128));
  ASSERT_EQ(out.size(), 256u * 3);
  for (int v = 0; v < 256; ++v) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(out[v * 3 + c], v, 1) << "pixel " << v;
      // Exact value of the documented formula.
      const double q = std::round((v - 127.5) / 127.5 * 128.0) + 128.0;
      EXPECT_EQ(out[v * 3 + c], static_cast<int>(std::min(255.0, std::max(0.0, q))));
    }
  }
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[255 * 3], 255);  // 256 before the clamp
}

TEST(Preprocessor, Int8ScaleOneOver128ZeroPoint0GivesPixelMinus128) {
  const auto out = RunRow(RowSpec(TensorElementType::kInt8, 1.0f / 128, 0));
  ASSERT_EQ(out.size(), 256u * 3);
  for (int v = 0; v < 256; ++v) {
    const int got = static_cast<int8_t>(out[v * 3 + 1]);
    EXPECT_NEAR(got, v - 128, 1) << "pixel " << v;
  }
  EXPECT_EQ(static_cast<int8_t>(out[0]), -128);
  EXPECT_EQ(static_cast<int8_t>(out[255 * 3]), 127);  // 128 clamps to 127
}

TEST(Preprocessor, Float32GivesNormalizedValues) {
  const auto out = RunRow(RowSpec(TensorElementType::kFloat32, 1.0f, 0));
  ASSERT_EQ(out.size(), 256u * 3 * sizeof(float));
  for (int v = 0; v < 256; ++v) {
    float f;
    std::memcpy(&f, &out[(v * 3 + 2) * sizeof(float)], sizeof(float));
    EXPECT_NEAR(f, (v - 127.5f) / 127.5f, 1e-6f);
  }
}

TEST(Preprocessor, PerChannelMeanAndStdApply) {
  ModelInputSpec spec = RowSpec(TensorElementType::kFloat32, 1.0f, 0);
  spec.mean[0] = 0.f;   spec.std[0] = 1.f;
  spec.mean[1] = 100.f; spec.std[1] = 2.f;
  spec.mean[2] = 255.f; spec.std[2] = -255.f;
  const auto out = RunRow(spec);
  ASSERT_FALSE(out.empty());
  float f[3];
  std::memcpy(f, &out[200 * 3 * sizeof(float)], sizeof(f));
  EXPECT_FLOAT_EQ(f[0], 200.f);
  EXPECT_FLOAT_EQ(f[1], 50.f);
  EXPECT_FLOAT_EQ(f[2], 55.f / 255.f);
}

TEST(Preprocessor, QuantizedOutputClampsAtBothEndsOfTheType) {
  // A tiny scale pushes every value but the mean to the type's limits.
  auto out = RunRow(RowSpec(TensorElementType::kUint8, 1.0f / 4096, 128));
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[100 * 3], 0);
  EXPECT_EQ(out[160 * 3], 255);
  EXPECT_EQ(out[255 * 3], 255);
  out = RunRow(RowSpec(TensorElementType::kInt8, 1.0f / 4096, -128));
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(static_cast<int8_t>(out[0]), -128);
  EXPECT_EQ(static_cast<int8_t>(out[255 * 3]), 127);
  // Extreme zero points: zp 255 leaves only the darkest values below the top.
  out = RunRow(RowSpec(TensorElementType::kUint8, 1.0f / 128, 255));
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0], 127);
  EXPECT_EQ(out[200 * 3], 255);
}

TEST(Preprocessor, GrayUsesBt601WeightsOnRgb) {
  ModelInputSpec spec;
  spec.width = 4;
  spec.height = 1;
  spec.channels = 1;
  spec.type = TensorElementType::kFloat32;
  spec.mean[0] = 0.f;
  spec.std[0] = 1.f;
  const uint8_t rgb[4 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 100, 50};
  Result<Preprocessor> p = Preprocessor::Create(spec, 4, 1);
  ASSERT_TRUE(p.ok()) << p.status().message();
  float out[4];
  ASSERT_TRUE(p->Run(rgb, 4, 1, 12, Span<uint8_t>(reinterpret_cast<uint8_t*>(out), sizeof(out))).ok());
  EXPECT_FLOAT_EQ(out[0], 76.f);   // 0.299 * 255
  EXPECT_FLOAT_EQ(out[1], 150.f);  // 0.587 * 255
  EXPECT_FLOAT_EQ(out[2], 29.f);   // 0.114 * 255
  EXPECT_FLOAT_EQ(out[3], std::round(0.299f * 200 + 0.587f * 100 + 0.114f * 50));
}

TEST(Preprocessor, ResizesLargerSourceToSpecSize) {
  ModelInputSpec spec;
  spec.width = 224;
  spec.height = 224;
  spec.scale = 1.0f / 128;
  spec.zero_point = 128;
  const int sw = 489, sh = 410;
  std::vector<uint8_t> src(sw * sh * 3);
  for (size_t i = 0; i < src.size(); i += 3) {
    src[i] = 10;
    src[i + 1] = 128;
    src[i + 2] = 250;
  }
  Result<Preprocessor> p = Preprocessor::Create(spec, sw, sh);
  ASSERT_TRUE(p.ok());
  std::vector<uint8_t> out(spec.byte_size());
  ASSERT_TRUE(p->Run(src.data(), sw, sh, sw * 3, Span<uint8_t>(out)).ok());
  for (size_t i = 0; i < out.size(); i += 3) {
    ASSERT_NEAR(out[i], 10, 1);
    ASSERT_NEAR(out[i + 1], 128, 1);
    ASSERT_NEAR(out[i + 2], 250, 1);
  }
}

TEST(Preprocessor, OutputSizeMismatchIsAnError) {
  ModelInputSpec spec;
  spec.width = spec.height = 8;
  Result<Preprocessor> p = Preprocessor::Create(spec, 16, 16);
  ASSERT_TRUE(p.ok());
  std::vector<uint8_t> src(16 * 16 * 3, 1);
  std::vector<uint8_t> small(8 * 8 * 3 - 1), big(8 * 8 * 3 + 1);
  Status s = p->Run(src.data(), 16, 16, 48, Span<uint8_t>(small));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("191"), std::string::npos) << s.message();
  EXPECT_EQ(p->Run(src.data(), 16, 16, 48, Span<uint8_t>(big)).code(), StatusCode::kInvalidArgument);
  ModelInputSpec fspec = spec;
  fspec.type = TensorElementType::kFloat32;
  Result<Preprocessor> pf = Preprocessor::Create(fspec, 16, 16);
  ASSERT_TRUE(pf.ok());
  std::vector<uint8_t> element_count_only(8 * 8 * 3);  // elements, not bytes
  EXPECT_FALSE(pf->Run(src.data(), 16, 16, 48, Span<uint8_t>(element_count_only)).ok());
}

TEST(Preprocessor, SourceErrorsAreReported) {
  ModelInputSpec spec;
  spec.width = spec.height = 8;
  Result<Preprocessor> p = Preprocessor::Create(spec, 16, 16);
  ASSERT_TRUE(p.ok());
  std::vector<uint8_t> src(32 * 32 * 3, 1), out(spec.byte_size());
  EXPECT_EQ(p->Run(src.data(), 32, 32, 96, Span<uint8_t>(out)).code(), StatusCode::kOutOfRange);
  EXPECT_FALSE(p->Run(nullptr, 16, 16, 48, Span<uint8_t>(out)).ok());
  EXPECT_FALSE(p->Run(src.data(), 16, 16, 47, Span<uint8_t>(out)).ok());
  EXPECT_FALSE(p->Run(src.data(), 0, 16, 48, Span<uint8_t>(out)).ok());
}

TEST(Preprocessor, CreateRejectsInvalidSpecsNamingTheField) {
  auto message_of = [](const ModelInputSpec& s) {
    Result<Preprocessor> p = Preprocessor::Create(s, 100, 100);
    EXPECT_FALSE(p.ok());
    return p.ok() ? std::string() : std::string(p.status().message());
  };
  ModelInputSpec good;
  good.width = good.height = 16;
  good.scale = 1.0f / 128;
  ASSERT_TRUE(Preprocessor::Create(good, 100, 100).ok());

  ModelInputSpec s = good;
  s.scale = 0.f;
  EXPECT_NE(message_of(s).find("scale"), std::string::npos);
  s.scale = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(message_of(s).find("scale"), std::string::npos);
  s = good;
  s.zero_point = 256;
  EXPECT_NE(message_of(s).find("256"), std::string::npos);
  s = good;
  s.type = TensorElementType::kInt8;
  s.zero_point = 128;
  EXPECT_NE(message_of(s).find("zero point"), std::string::npos);
  s = good;
  s.channels = 2;
  EXPECT_NE(message_of(s).find("channels"), std::string::npos);
  s = good;
  s.std[1] = 0.f;
  EXPECT_NE(message_of(s).find("std"), std::string::npos);
  s = good;
  s.width = 0;
  EXPECT_NE(message_of(s).find("size"), std::string::npos);
  // Float ignores scale and zero point.
  s = good;
  s.type = TensorElementType::kFloat32;
  s.scale = 0.f;
  s.zero_point = 1000;
  EXPECT_TRUE(Preprocessor::Create(s, 100, 100).ok());
  EXPECT_FALSE(Preprocessor::Create(good, 0, 100).ok());
}

TEST(Preprocessor, RunDoesNotAllocateAfterCreate) {
  ModelInputSpec spec;
  spec.width = spec.height = 128;
  spec.type = TensorElementType::kInt8;
  spec.scale = 1.0f / 128;
  Result<Preprocessor> p = Preprocessor::Create(spec, 489, 410);
  ASSERT_TRUE(p.ok());
  const auto src = testing::SmoothRgb(489, 410);
  std::vector<uint8_t> out(spec.byte_size());
  triage::testing::AllocGuard guard;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p->Run(src.data(), 489, 410, 489 * 3, Span<uint8_t>(out)).ok());
  }
  ASSERT_TRUE(p->Run(src.data(), 100, 90, 489 * 3, Span<uint8_t>(out)).ok());  // other size
  EXPECT_EQ(guard.count(), 0u);
}

}  // namespace
}  // namespace triage::imaging
