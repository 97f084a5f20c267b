#include "imaging/jpeg_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imaging/resample.h"
#include "tests/imaging/test_images.h"
#include "tests/support/alloc_guard.h"

namespace triage::imaging {
namespace {

using testing::MaxAbsDiff;
using testing::MeanAbsDiff;
using testing::SmoothRgb;

std::vector<uint8_t> EncodeJpeg(const std::vector<uint8_t>& rgb, int w, int h, int quality = 90) {
  JpegEncoderConfig config;
  config.max_width = w;
  config.max_height = h;
  config.quality = quality;
  Result<JpegEncoder> enc = JpegEncoder::Create(config);
  EXPECT_TRUE(enc.ok());
  if (!enc.ok()) return {};
  Result<Span<const uint8_t>> jpeg = enc->Encode(rgb.data(), w, h, w * 3);
  EXPECT_TRUE(jpeg.ok()) << jpeg.status().message();
  if (!jpeg.ok()) return {};
  return std::vector<uint8_t>(jpeg->begin(), jpeg->end());
}

// One full-size camera frame shared by the tests of this file (encoding it
// takes ~50 ms).
const std::vector<uint8_t>& FullFrameJpeg() {
  static const std::vector<uint8_t> jpeg = EncodeJpeg(SmoothRgb(2448, 2050), 2448, 2050);
  return jpeg;
}

TEST(ChooseJpegScale, PicksTheSmallestDecodeStillCoveringTheThumbnail) {
  JpegScale s = ChooseJpegScale(2448, 2050, 489, 410);
  EXPECT_EQ(s.denom, 4);  // 612x513; 1/8 would give 306x257
  EXPECT_EQ(ChooseJpegScale(3912, 3280, 489, 410).denom, 8);
  EXPECT_EQ(ChooseJpegScale(1000, 1000, 489, 410).denom, 2);
  EXPECT_EQ(ChooseJpegScale(489, 410, 489, 410).denom, 1);
  EXPECT_EQ(ChooseJpegScale(300, 300, 489, 410).denom, 1);  // enlarging: full decode
  EXPECT_EQ(ChooseJpegScale(2448, 2050, 489, 514).denom, 2);  // 513 rows would be too few
}

TEST(JpegDecoder, ScaledDecodeHasLibjpegDimensions) {
  Result<JpegDecoder> dec = JpegDecoder::Create(2448, 2050);
  ASSERT_TRUE(dec.ok());
  const auto& jpeg = FullFrameJpeg();
  ASSERT_FALSE(jpeg.empty());
  std::vector<uint8_t> out(2448 * 2050 * 3);
  const struct { int denom, w, h; } cases[] = {{1, 2448, 2050}, {2, 1224, 1025}, {4, 612, 513}, {8, 306, 257}};
  for (const auto& c : cases) {
    int w = 0, h = 0;
    const Status s = dec->Decode(Span<const uint8_t>(jpeg), JpegScale{1, c.denom}, Span<uint8_t>(out),
                                 2448 * 3, &w, &h);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(w, c.w) << "1/" << c.denom;
    EXPECT_EQ(h, c.h) << "1/" << c.denom;
  }
}

TEST(JpegDecoder, QuarterScaleDecodeAgreesWithFullDecodePlusResize) {
  Result<JpegDecoder> dec = JpegDecoder::Create(2448, 2050);
  ASSERT_TRUE(dec.ok());
  const auto& jpeg = FullFrameJpeg();
  std::vector<uint8_t> full(2448 * 2050 * 3), quarter(612 * 513 * 3), reduced(612 * 513 * 3);
  ASSERT_TRUE(dec->Decode(Span<const uint8_t>(jpeg), JpegScale{1, 1}, Span<uint8_t>(full), 2448 * 3,
                          nullptr, nullptr).ok());
  ASSERT_TRUE(dec->Decode(Span<const uint8_t>(jpeg), JpegScale{1, 4}, Span<uint8_t>(quarter),
                          612 * 3, nullptr, nullptr).ok());
  Result<Resampler> r = Resampler::Create(2448, 2050, 612, 513, 3);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->Run(full.data(), 2448, 2050, 2448 * 3, reduced.data(), 612 * 3).ok());
  // The DCT-domain reduction is a low-pass per 8x8 block, so it differs from
  // area resampling only near hard edges (the test pattern has some).
  EXPECT_LT(MeanAbsDiff(quarter.data(), reduced.data(), quarter.size()), 2.0);
  size_t within_8 = 0;
  for (size_t i = 0; i < quarter.size(); ++i) within_8 += std::abs(quarter[i] - reduced[i]) <= 8;
  EXPECT_GT(static_cast<double>(within_8) / quarter.size(), 0.98);
}

TEST(JpegDecoder, TruncatedJpegIsDataLossAtEveryLength) {
  Result<JpegDecoder> dec = JpegDecoder::Create(640, 480);
  ASSERT_TRUE(dec.ok());
  const auto jpeg = EncodeJpeg(SmoothRgb(640, 480), 640, 480);
  std::vector<uint8_t> out(640 * 480 * 3);
  for (size_t len : {size_t{0}, size_t{2}, size_t{20}, size_t{200}, jpeg.size() / 3,
                     jpeg.size() / 2, jpeg.size() - 3}) {
    const Status s = dec->Decode(Span<const uint8_t>(jpeg.data(), len), JpegScale{1, 1},
                                 Span<uint8_t>(out), 640 * 3, nullptr, nullptr);
    EXPECT_FALSE(s.ok()) << "length " << len;
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << "length " << len << ": " << s.message();
  }
  // The intact file still decodes with the same handle.
  EXPECT_TRUE(dec->Decode(Span<const uint8_t>(jpeg), JpegScale{1, 1}, Span<uint8_t>(out), 640 * 3,
                          nullptr, nullptr).ok());
}

TEST(JpegDecoder, CorruptJpegIsAnErrorNotACrash) {
  Result<JpegDecoder> dec = JpegDecoder::Create(640, 480);
  ASSERT_TRUE(dec.ok());
  const auto jpeg = EncodeJpeg(SmoothRgb(640, 480), 640, 480);
  std::vector<uint8_t> out(640 * 480 * 3);
  // Garbage after the SOI marker.
  std::vector<uint8_t> garbage = {0xFF, 0xD8, 0xFF, 0xE0};
  garbage.resize(4096, 0x5A);
  EXPECT_EQ(dec->Decode(Span<const uint8_t>(garbage), JpegScale{1, 1}, Span<uint8_t>(out), 640 * 3,
                        nullptr, nullptr).code(), StatusCode::kDataLoss);
  // Entropy-coded data overwritten with marker-like bytes.
  std::vector<uint8_t> stomped = jpeg;
  for (size_t i = stomped.size() / 2; i < stomped.size() / 2 + 64; ++i) stomped[i] = 0xFF;
  const Status s = dec->Decode(Span<const uint8_t>(stomped), JpegScale{1, 4}, Span<uint8_t>(out),
                               640 * 3, nullptr, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.message();
  // Not a JPEG at all.
  const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  EXPECT_EQ(dec->ReadHeader(Span<const uint8_t>(png_magic, 8)).status().code(), StatusCode::kDataLoss);
}

TEST(JpegDecoder, RefusesImagesBeyondItsMaximumOrBuffer) {
  Result<JpegDecoder> dec = JpegDecoder::Create(320, 240);
  ASSERT_TRUE(dec.ok());
  const auto jpeg = EncodeJpeg(SmoothRgb(640, 480), 640, 480);
  std::vector<uint8_t> out(640 * 480 * 3);
  EXPECT_EQ(dec->ReadHeader(Span<const uint8_t>(jpeg)).status().code(),
            StatusCode::kResourceExhausted);
  Result<JpegDecoder> big = JpegDecoder::Create(640, 480);
  ASSERT_TRUE(big.ok());
  std::vector<uint8_t> small(320 * 240 * 3 - 1);
  EXPECT_EQ(big->Decode(Span<const uint8_t>(jpeg), JpegScale{1, 2}, Span<uint8_t>(small), 320 * 3,
                        nullptr, nullptr).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(big->Decode(Span<const uint8_t>(jpeg), JpegScale{1, 3}, Span<uint8_t>(out), 640 * 3,
                        nullptr, nullptr).code(), StatusCode::kInvalidArgument);
}

TEST(JpegEncoder, EncodesWorstCaseNoiseIntoTheFixedBuffer) {
  JpegEncoderConfig config;
  config.max_width = 256;
  config.max_height = 256;
  config.quality = 100;
  config.subsampling = ChromaSubsampling::k444;
  Result<JpegEncoder> enc = JpegEncoder::Create(config);
  ASSERT_TRUE(enc.ok());
  const auto noise = testing::NoiseBytes(256 * 256 * 3, 5);
  Result<Span<const uint8_t>> jpeg = enc->Encode(noise.data(), 256, 256, 256 * 3);
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().message();
  EXPECT_GT(jpeg->size(), 100000u);
  EXPECT_LE(jpeg->size(), enc->buffer_bytes());
  EXPECT_EQ(enc->Encode(noise.data(), 257, 256, 257 * 3).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(JpegEncoder, RoundTripAtHighQualityIsClose) {
  const auto rgb = SmoothRgb(320, 240);
  const auto jpeg = EncodeJpeg(rgb, 320, 240, 98);
  Result<JpegDecoder> dec = JpegDecoder::Create(320, 240);
  ASSERT_TRUE(dec.ok());
  Result<JpegHeader> header = dec->ReadHeader(Span<const uint8_t>(jpeg));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->width, 320);
  EXPECT_EQ(header->height, 240);
  EXPECT_EQ(header->subsampling, ChromaSubsampling::k420);
  std::vector<uint8_t> out(rgb.size());
  ASSERT_TRUE(dec->Decode(Span<const uint8_t>(jpeg), JpegScale{1, 1}, Span<uint8_t>(out), 320 * 3,
                          nullptr, nullptr).ok());
  EXPECT_LT(MeanAbsDiff(out.data(), rgb.data(), rgb.size()), 3.0);  // 4:2:0 chroma on hard edges
}

TEST(JpegCodec, CreateRejectsBadConfigs) {
  EXPECT_FALSE(JpegDecoder::Create(0, 10).ok());
  JpegEncoderConfig c;
  c.quality = 0;
  EXPECT_FALSE(JpegEncoder::Create(c).ok());
  c.quality = 90;
  c.subsampling = ChromaSubsampling::kOther;
  EXPECT_FALSE(JpegEncoder::Create(c).ok());
}

TEST(JpegCodec, DecodeAndEncodeDoNotCallOperatorNew) {
  Result<JpegDecoder> dec = JpegDecoder::Create(640, 480);
  JpegEncoderConfig config;
  config.max_width = 640;
  config.max_height = 480;
  Result<JpegEncoder> enc = JpegEncoder::Create(config);
  ASSERT_TRUE(dec.ok() && enc.ok());
  const auto rgb = SmoothRgb(640, 480);
  std::vector<uint8_t> out(rgb.size());
  triage::testing::AllocGuard guard;
  Result<Span<const uint8_t>> jpeg = enc->Encode(rgb.data(), 640, 480, 640 * 3);
  ASSERT_TRUE(jpeg.ok());
  ASSERT_TRUE(dec->Decode(*jpeg, JpegScale{1, 2}, Span<uint8_t>(out), 640 * 3, nullptr, nullptr).ok());
  EXPECT_EQ(guard.count(), 0u);
}

}  // namespace
}  // namespace triage::imaging
