#include "imaging/resample.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <ostream>
#include <string>

#include "tests/imaging/test_images.h"
#include "tests/support/alloc_guard.h"

namespace triage::imaging {
namespace {

using testing::MaxAbsDiff;
using testing::MeanAbsDiff;
using testing::NoiseBytes;
using testing::SmoothRgb;

struct SizeCase {
  int sw, sh, dw, dh, cn;
};
void PrintTo(const SizeCase& c, std::ostream* os) {
  *os << c.sw << "x" << c.sh << "->" << c.dw << "x" << c.dh << " c" << c.cn;
}

std::vector<uint8_t> OpenCvResize(const std::vector<uint8_t>& src, const SizeCase& c) {
  const cv::Mat s(c.sh, c.sw, CV_8UC(c.cn), const_cast<uint8_t*>(src.data()));
  cv::Mat d;
  const bool shrink = c.dw <= c.sw && c.dh <= c.sh;
  cv::resize(s, d, cv::Size(c.dw, c.dh), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return std::vector<uint8_t>(d.data, d.data + d.total() * d.elemSize());
}

class ResamplerVsOpenCv : public ::testing::TestWithParam<SizeCase> {};

TEST_P(ResamplerVsOpenCv, AgreesWithinOneCodeValue) {
  const SizeCase c = GetParam();
  const auto src = NoiseBytes(static_cast<size_t>(c.sw) * c.sh * c.cn, 7 + c.sw);
  Result<Resampler> r = Resampler::Create(c.sw, c.sh, c.dw, c.dh, c.cn);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<uint8_t> ours(static_cast<size_t>(c.dw) * c.dh * c.cn);
  ASSERT_TRUE(r->Run(src.data(), c.sw, c.sh, c.sw * c.cn, ours.data(), c.dw * c.cn).ok());
  const auto ref = OpenCvResize(src, c);
  ASSERT_EQ(ref.size(), ours.size());
  EXPECT_LE(MaxAbsDiff(ours.data(), ref.data(), ours.size()), 1)
      << c.sw << "x" << c.sh << " -> " << c.dw << "x" << c.dh << " cn " << c.cn;
  // OpenCV's bilinear path uses 11-bit weights, ours 15-bit: off-by-one
  // roundings are more frequent there.
  EXPECT_LT(MeanAbsDiff(ours.data(), ref.data(), ours.size()), 0.3);
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, ResamplerVsOpenCv,
    ::testing::Values(SizeCase{612, 513, 489, 410, 3},   // thumbnail from a 1/4 decode
                      SizeCase{489, 410, 224, 224, 3},   // thumbnail to model input
                      SizeCase{489, 410, 128, 128, 1},
                      SizeCase{400, 300, 100, 75, 3},    // integer factor 4
                      SizeCase{97, 61, 96, 60, 3},       // just below 1:1
                      SizeCase{50, 40, 50, 40, 3},       // identity
                      SizeCase{64, 48, 224, 224, 3},     // enlarging: bilinear
                      SizeCase{17, 9, 31, 23, 1},
                      SizeCase{9, 7, 1, 1, 3},           // everything into one pixel
                      SizeCase{1, 1, 5, 3, 3}),
    [](const ::testing::TestParamInfo<SizeCase>& info) {
      const SizeCase& c = info.param;
      return std::to_string(c.sw) + "x" + std::to_string(c.sh) + "to" + std::to_string(c.dw) + "x" +
             std::to_string(c.dh) + "c" + std::to_string(c.cn);
    });

TEST(Resampler, IdentitySizeCopiesExactly) {
  const auto src = NoiseBytes(33 * 21 * 3, 3);
  Result<Resampler> r = Resampler::Create(33, 21, 33, 21, 3);
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> dst(src.size());
  ASSERT_TRUE(r->Run(src.data(), 33, 21, 33 * 3, dst.data(), 33 * 3).ok());
  EXPECT_EQ(dst, src);
}

TEST(Resampler, FlatFieldStaysFlatAtEveryValue) {
  for (int v : {0, 1, 127, 254, 255}) {
    std::vector<uint8_t> src(301 * 203 * 3, static_cast<uint8_t>(v));
    Result<Resampler> r = Resampler::Create(301, 203, 37, 29, 3);
    ASSERT_TRUE(r.ok());
    std::vector<uint8_t> dst(37 * 29 * 3, 99);
    ASSERT_TRUE(r->Run(src.data(), 301, 203, 301 * 3, dst.data(), 37 * 3).ok());
    for (uint8_t d : dst) ASSERT_EQ(d, v);
  }
}

TEST(Resampler, HonoursSourceStrideAndSmallerSourcesAfterCreate) {
  const int sw = 120, sh = 80, pad = 17;
  const auto packed = NoiseBytes(sw * sh * 3, 11);
  std::vector<uint8_t> padded((sw * 3 + pad) * sh, 0xAB);
  for (int y = 0; y < sh; ++y) {
    std::copy_n(&packed[y * sw * 3], sw * 3, &padded[y * (sw * 3 + pad)]);
  }
  Result<Resampler> r = Resampler::Create(400, 400, 50, 40, 3);
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> a(50 * 40 * 3), b(50 * 40 * 3);
  ASSERT_TRUE(r->Run(packed.data(), sw, sh, sw * 3, a.data(), 50 * 3).ok());
  ASSERT_TRUE(r->Run(padded.data(), sw, sh, sw * 3 + pad, b.data(), 50 * 3).ok());
  EXPECT_EQ(a, b);
}

TEST(Resampler, RejectsSourceLargerThanCreateMaximum) {
  Result<Resampler> r = Resampler::Create(100, 100, 10, 10, 3);
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> src(101 * 100 * 3), dst(10 * 10 * 3);
  const Status s = r->Run(src.data(), 101, 100, 101 * 3, dst.data(), 30);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(std::string(s.message()).find("101x100"), std::string::npos) << s.message();
}

TEST(Resampler, RejectsBadArguments) {
  EXPECT_FALSE(Resampler::Create(0, 10, 5, 5, 3).ok());
  EXPECT_FALSE(Resampler::Create(10, 10, 0, 5, 3).ok());
  EXPECT_FALSE(Resampler::Create(10, 10, 5, 5, 5).ok());
  Result<Resampler> r = Resampler::Create(10, 10, 5, 5, 3);
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> src(10 * 10 * 3), dst(5 * 5 * 3);
  EXPECT_EQ(r->Run(src.data(), 10, 10, 29, dst.data(), 15).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->Run(nullptr, 10, 10, 30, dst.data(), 15).code(), StatusCode::kInvalidArgument);
  Resampler empty;
  EXPECT_FALSE(empty.Run(src.data(), 10, 10, 30, dst.data(), 15).ok());
}

TEST(Resampler, RunDoesNotAllocateEvenWhenSourceSizeChanges) {
  Result<Resampler> r = Resampler::Create(612, 513, 489, 410, 3);
  ASSERT_TRUE(r.ok());
  const auto src = SmoothRgb(612, 513);
  std::vector<uint8_t> dst(489 * 410 * 3);
  triage::testing::AllocGuard guard;
  ASSERT_TRUE(r->Run(src.data(), 612, 513, 612 * 3, dst.data(), 489 * 3).ok());
  ASSERT_TRUE(r->Run(src.data(), 306, 257, 612 * 3, dst.data(), 489 * 3).ok());  // enlarging
  ASSERT_TRUE(r->Run(src.data(), 600, 500, 612 * 3, dst.data(), 489 * 3).ok());
  EXPECT_EQ(guard.count(), 0u);
}

}  // namespace
}  // namespace triage::imaging
