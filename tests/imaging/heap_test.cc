// Measures the C heap used inside the flight imaging path, where the C++
// allocation guard cannot see: libjpeg-turbo mallocs its working pools on
// every decode. This executable interposes glibc's malloc family (current and
// peak bytes via malloc_usable_size) and pins the peak with a threshold, as
// TFLite Micro pins its arena. The figures are quoted in imaging/README.md.
//
// Sanitizer builds own malloc, so there the test skips.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <vector>

#include "imaging/jpeg_codec.h"
#include "imaging/preprocess.h"
#include "imaging/resample.h"
#include "imaging/simulator.h"
#include "imaging/thumbnail.h"

#include "tests/support/c_heap_counter.h"

namespace {
[[maybe_unused]] std::atomic<long long>& g_current = triage::testing::c_heap_current;
[[maybe_unused]] std::atomic<long long>& g_peak = triage::testing::c_heap_peak;
[[maybe_unused]] std::atomic<long long>& g_calls = triage::testing::c_heap_calls;
}  // namespace

namespace triage::imaging {
namespace {

[[maybe_unused]] std::vector<uint8_t> CameraJpeg() {
  SimulatorConfig sim;
  const SceneParams scene = SampleSceneOfKind(sim, SceneKind::kCloud, 21, 0);
  std::vector<uint8_t> small(612 * 513 * 3), full(2448 * 2050 * 3);
  (void)RenderScene(scene, 612, 513, small.data(), 612 * 3, nullptr);
  Resampler up = std::move(Resampler::Create(612, 513, 2448, 2050, 3).value());
  (void)up.Run(small.data(), 612, 513, 612 * 3, full.data(), 2448 * 3);
  JpegEncoder enc = std::move(JpegEncoder::Create(JpegEncoderConfig{}).value());
  Result<Span<const uint8_t>> j = enc.Encode(full.data(), 2448, 2050, 2448 * 3);
  return std::vector<uint8_t>(j->begin(), j->end());
}

struct Peak {
  long long bytes;
  long long calls;
};
template <typename F>
[[maybe_unused]] Peak MeasurePeak(F&& f) {
  const long long base = g_current.load();
  const long long calls = g_calls.load();
  g_peak.store(base);
  f();
  return Peak{g_peak.load() - base, g_calls.load() - calls};
}

TEST(ImagingHeap, DecodeThumbnailPreprocessPeakStaysWithinBudget) {
#if defined(TRIAGE_HEAP_TEST_SANITIZED)
  GTEST_SKIP() << "sanitizer builds own malloc; heap is measured in the plain build";
#else
  const std::vector<uint8_t> jpeg = CameraJpeg();
  Peak init = MeasurePeak([] {});
  std::unique_ptr<Thumbnailer> thumb;
  std::unique_ptr<Preprocessor> pre;
  ThumbnailConfig tc;
  tc.decode_buffer_bytes = 612 * 513 * 3;  // the fixed sensor size (see thumbnail.h)
  ModelInputSpec spec;
  spec.width = spec.height = 224;
  spec.scale = 1.0f / 128;
  spec.zero_point = 128;
  init = MeasurePeak([&] {
    thumb = std::make_unique<Thumbnailer>(std::move(Thumbnailer::Create(tc).value()));
    pre = std::make_unique<Preprocessor>(std::move(Preprocessor::Create(spec, 489, 410).value()));
  });
  std::vector<uint8_t> out(thumb->output_bytes()), tensor(spec.byte_size());
  const Span<const uint8_t> bytes(jpeg);
  const Peak first = MeasurePeak([&] {
    ASSERT_TRUE(thumb->RunJpeg(bytes, Span<uint8_t>(out)).ok());
    ASSERT_TRUE(pre->Run(out.data(), 489, 410, 489 * 3, Span<uint8_t>(tensor)).ok());
  });
  const long long live_before = g_current.load();
  const Peak steady = MeasurePeak([&] {
    ASSERT_TRUE(thumb->RunJpeg(bytes, Span<uint8_t>(out)).ok());
    ASSERT_TRUE(pre->Run(out.data(), 489, 410, 489 * 3, Span<uint8_t>(tensor)).ok());
  });
  const long long live_after = g_current.load();
  JpegDecoder dec = std::move(JpegDecoder::Create(2448, 2050).value());
  std::vector<uint8_t> full(2448 * 2050 * 3);
  const Peak full_decode = MeasurePeak([&] {
    ASSERT_TRUE(dec.Decode(bytes, JpegScale{1, 1}, Span<uint8_t>(full), 2448 * 3, nullptr, nullptr).ok());
  });
  std::printf("init (thumbnailer + preprocessor): %lld bytes\n", init.bytes);
  std::printf("first frame: peak %lld bytes in %lld calls\n", first.bytes, first.calls);
  std::printf("steady frame (1/4 decode + thumbnail + preprocess): peak %lld bytes in %lld calls\n",
              steady.bytes, steady.calls);
  std::printf("full-size decode for comparison: peak %lld bytes in %lld calls\n", full_decode.bytes,
              full_decode.calls);
  RecordProperty("steady_peak_bytes", std::to_string(steady.bytes));
  // libjpeg-turbo's pools for a 2448-wide 4:2:0 image at 1/4 scale are
  // ~30 KB (120 KB at full scale); all of it is freed before RunJpeg returns.
  EXPECT_LT(steady.bytes, 128 * 1024);
  // The interposed counter is live: libjpeg-turbo's pools do show up.
  EXPECT_GT(steady.calls, 0);
  EXPECT_GT(full_decode.bytes, steady.bytes);
  EXPECT_EQ(live_after, live_before) << "the frame path leaked C heap";
  EXPECT_LT(init.bytes, 4 * 1024 * 1024);
#endif
}

}  // namespace
}  // namespace triage::imaging
