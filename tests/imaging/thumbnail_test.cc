#include "imaging/thumbnail.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "imaging/jpeg_codec.h"
#include "imaging/preprocess.h"
#include "imaging/simulator.h"
#include "tests/imaging/test_images.h"
#include "tests/support/alloc_guard.h"

namespace triage::imaging {
namespace {

// A full 2448x2050 camera frame: a simulated land scene, JPEG q90, made once.
const std::vector<uint8_t>& CameraJpeg() {
  static const std::vector<uint8_t> jpeg = [] {
    SimulatorConfig sim;
    SceneParams scene = SampleSceneOfKind(sim, SceneKind::kLand, 5, 0);
    // A quarter-size render enlarged keeps this fast; detail does not matter here.
    std::vector<uint8_t> small(612 * 513 * 3), full(2448 * 2050 * 3);
    (void)RenderScene(scene, 612, 513, small.data(), 612 * 3, nullptr);
    Resampler up = Resampler::Create(612, 513, 2448, 2050, 3).value();
    (void)up.Run(small.data(), 612, 513, 612 * 3, full.data(), 2448 * 3);
    JpegEncoderConfig c;
    Result<JpegEncoder> enc = JpegEncoder::Create(c);
    Result<Span<const uint8_t>> j = enc->Encode(full.data(), 2448, 2050, 2448 * 3);
    return std::vector<uint8_t>(j->begin(), j->end());
  }();
  return jpeg;
}

Frame JpegFrame(const std::vector<uint8_t>& jpeg) {
  Frame f;
  f.encoding = FrameEncoding::kJpeg;
  f.encoded = Span<uint8_t>(const_cast<uint8_t*>(jpeg.data()), jpeg.size());
  f.encoded_size = jpeg.size();
  f.width = 2448;
  f.height = 2050;
  return f;
}

TEST(Thumbnailer, CameraFrameUsesQuarterScaleDecodeAndDefaultSize) {
  Result<Thumbnailer> t = Thumbnailer::Create(ThumbnailConfig{});
  ASSERT_TRUE(t.ok()) << t.status().message();
  std::vector<uint8_t> thumb(t->output_bytes());
  EXPECT_EQ(thumb.size(), 489u * 410u * 3u);
  const Status s = t->Run(JpegFrame(CameraJpeg()), Span<uint8_t>(thumb));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(t->last_scale().denom, 4);
  EXPECT_EQ(t->last_decoded_width(), 612);
  EXPECT_EQ(t->last_decoded_height(), 513);
}

TEST(Thumbnailer, ScaledPathAgreesWithFullDecodeThenResize) {
  ThumbnailConfig fast;
  ThumbnailConfig full = fast;
  full.dct_scaling = false;
  Result<Thumbnailer> a = Thumbnailer::Create(fast);
  Result<Thumbnailer> b = Thumbnailer::Create(full);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<uint8_t> ta(a->output_bytes()), tb(b->output_bytes());
  ASSERT_TRUE(a->RunJpeg(Span<const uint8_t>(CameraJpeg()), Span<uint8_t>(ta)).ok());
  ASSERT_TRUE(b->RunJpeg(Span<const uint8_t>(CameraJpeg()), Span<uint8_t>(tb)).ok());
  EXPECT_EQ(b->last_scale().denom, 1);
  EXPECT_LT(testing::MeanAbsDiff(ta.data(), tb.data(), ta.size()), 1.5);
  EXPECT_LE(testing::MaxAbsDiff(ta.data(), tb.data(), ta.size()), 64);  // at coastlines
}

TEST(Thumbnailer, CorruptFrameFailsAloneAndTheNextFrameWorks) {
  Result<Thumbnailer> t = Thumbnailer::Create(ThumbnailConfig{});
  ASSERT_TRUE(t.ok());
  std::vector<uint8_t> thumb(t->output_bytes());
  std::vector<uint8_t> truncated(CameraJpeg().begin(), CameraJpeg().begin() + CameraJpeg().size() / 2);
  Status s = t->RunJpeg(Span<const uint8_t>(truncated), Span<uint8_t>(thumb));
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.message();
  std::vector<uint8_t> garbage(5000, 0x00);
  garbage[0] = 0xFF;
  garbage[1] = 0xD8;
  EXPECT_EQ(t->RunJpeg(Span<const uint8_t>(garbage), Span<uint8_t>(thumb)).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(t->RunJpeg(Span<const uint8_t>(CameraJpeg()), Span<uint8_t>(thumb)).ok());
}

TEST(Thumbnailer, RawRgbFramesAndErrors) {
  ThumbnailConfig c;
  c.width = 100;
  c.height = 80;
  c.max_source_width = 400;
  c.max_source_height = 300;
  Result<Thumbnailer> t = Thumbnailer::Create(c);
  ASSERT_TRUE(t.ok());
  std::vector<uint8_t> rgb = testing::SmoothRgb(400, 300);
  Frame f;
  f.encoding = FrameEncoding::kRgb8;
  f.pixels = Span<uint8_t>(rgb);
  f.width = 400;
  f.height = 300;
  std::vector<uint8_t> thumb(100 * 80 * 3);
  ASSERT_TRUE(t->Run(f, Span<uint8_t>(thumb)).ok());
  EXPECT_NEAR(thumb[0], rgb[0], 3);
  std::vector<uint8_t> wrong(100 * 80 * 3 - 3);
  EXPECT_EQ(t->Run(f, Span<uint8_t>(wrong)).code(), StatusCode::kInvalidArgument);
  f.height = 301;  // claims more pixels than its buffer holds
  EXPECT_EQ(t->Run(f, Span<uint8_t>(thumb)).code(), StatusCode::kInvalidArgument);
  Frame empty;
  EXPECT_EQ(t->Run(empty, Span<uint8_t>(thumb)).code(), StatusCode::kFailedPrecondition);
  // A JPEG larger than the configured maximum is refused before decoding.
  EXPECT_EQ(t->RunJpeg(Span<const uint8_t>(CameraJpeg()), Span<uint8_t>(thumb)).code(),
            StatusCode::kResourceExhausted);
}

// The flight path decode -> thumbnail -> preprocess, after one warm-up frame,
// performs no operator new. (libjpeg-turbo's internal malloc is not counted;
// its peak is measured separately, see README.)
TEST(FlightImagingPath, DecodeThumbnailPreprocessDoNotAllocateAfterWarmUp) {
  Result<Thumbnailer> t = Thumbnailer::Create(ThumbnailConfig{});
  ModelInputSpec spec;
  spec.width = spec.height = 224;
  spec.scale = 1.0f / 128;
  spec.zero_point = 128;
  Result<Preprocessor> p = Preprocessor::Create(spec, 489, 410);
  ASSERT_TRUE(t.ok() && p.ok());
  std::vector<uint8_t> thumb(t->output_bytes()), tensor(spec.byte_size());
  const Frame frame = JpegFrame(CameraJpeg());
  ASSERT_TRUE(t->Run(frame, Span<uint8_t>(thumb)).ok());  // warm-up
  ASSERT_TRUE(p->Run(thumb.data(), 489, 410, 489 * 3, Span<uint8_t>(tensor)).ok());

  triage::testing::AllocGuard guard;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(t->Run(frame, Span<uint8_t>(thumb)).ok());
    ASSERT_TRUE(p->Run(thumb.data(), 489, 410, 489 * 3, Span<uint8_t>(tensor)).ok());
  }
  EXPECT_EQ(guard.count(), 0u) << guard.bytes() << " bytes allocated";
}

// Reports the timings quoted in imaging/README.md. Not a pass/fail bound:
// sanitizer and debug builds are several times slower, and the budget that
// matters is the Cortex-A9's.
TEST(FlightImagingPath, ReportsDecodeAndThumbnailTimings) {
  Result<Thumbnailer> t = Thumbnailer::Create(ThumbnailConfig{});
  Result<JpegDecoder> dec = JpegDecoder::Create(2448, 2050);
  ASSERT_TRUE(t.ok() && dec.ok());
  std::vector<uint8_t> thumb(t->output_bytes()), full(2448 * 2050 * 3);
  const auto& jpeg = CameraJpeg();
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  constexpr int kRuns = 5;
  double full_ms = 1e9, thumb_ms = 1e9;
  for (int i = 0; i < kRuns; ++i) {
    auto t0 = Clock::now();
    ASSERT_TRUE(dec->Decode(Span<const uint8_t>(jpeg), JpegScale{1, 1}, Span<uint8_t>(full), 2448 * 3,
                            nullptr, nullptr).ok());
    auto t1 = Clock::now();
    ASSERT_TRUE(t->RunJpeg(Span<const uint8_t>(jpeg), Span<uint8_t>(thumb)).ok());
    auto t2 = Clock::now();
    full_ms = std::min(full_ms, ms(t0, t1));
    thumb_ms = std::min(thumb_ms, ms(t1, t2));
  }
  std::printf("2448x2050 JPEG (%zu bytes): full decode %.1f ms; 1/4 decode + thumbnail %.1f ms\n",
              jpeg.size(), full_ms, thumb_ms);
  RecordProperty("full_decode_ms", std::to_string(full_ms));
  RecordProperty("thumbnail_ms", std::to_string(thumb_ms));
}

}  // namespace
}  // namespace triage::imaging
