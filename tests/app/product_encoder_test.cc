// Product compression: PNG is lossless and decodes with a standard reader
// (libpng via imaging::DecodeImage), deterministic, bounded, and allocation
// free; the product encoder passes original JPEGs through, re-encodes at the
// configured quality, and falls back to PNG for raw frames.
#include "app/product_encoder.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "app/png_encoder.h"
#include "imaging/image.h"
#include "imaging/jpeg_codec.h"
#include "tests/support/alloc_guard.h"

namespace triage::app {
namespace {

std::vector<uint8_t> TestImage(int w, int h, uint32_t seed) {
  std::vector<uint8_t> v(static_cast<size_t>(w) * h * 3);
  uint32_t s = seed;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      s = s * 1664525u + 1013904223u;
      uint8_t* p = &v[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 7 + y);         // gradient
      p[1] = static_cast<uint8_t>(s >> 24);           // noise
      p[2] = static_cast<uint8_t>((x / 8 + y / 8) % 2 ? 250 : 5);  // blocks
    }
  }
  return v;
}

TEST(PngEncoder, RoundTripsExactlyThroughAStandardDecoder) {
  Result<std::unique_ptr<PngEncoder>> png = PngEncoder::Create(489, 410, 6);
  ASSERT_TRUE(png.ok()) << png.status().message();
  for (auto [w, h] : {std::pair{1, 1}, std::pair{3, 2}, std::pair{17, 9}, std::pair{489, 410}}) {
    const std::vector<uint8_t> rgb = TestImage(w, h, static_cast<uint32_t>(w * 31 + h));
    Result<Span<const uint8_t>> out = (*png)->Encode(rgb.data(), w, h, w * 3);
    ASSERT_TRUE(out.ok()) << out.status().message();
    ASSERT_GT(out->size(), 8u);
    EXPECT_EQ(std::memcmp(out->data(), "\x89PNG\r\n\x1a\n", 8), 0);
    Result<imaging::Image> back = imaging::DecodeImage(*out, "png");
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_EQ(back->width, w);
    ASSERT_EQ(back->height, h);
    ASSERT_EQ(back->channels, 3);
    EXPECT_EQ(back->pixels, rgb) << w << "x" << h;
  }
}

TEST(PngEncoder, IsDeterministicAndHonoursAStride) {
  Result<std::unique_ptr<PngEncoder>> png = PngEncoder::Create(64, 64, 9);
  ASSERT_TRUE(png.ok());
  const std::vector<uint8_t> rgb = TestImage(40, 30, 5);
  Result<Span<const uint8_t>> a = (*png)->Encode(rgb.data(), 40, 30, 120);
  ASSERT_TRUE(a.ok());
  const std::vector<uint8_t> first(a->begin(), a->end());
  Result<Span<const uint8_t>> b = (*png)->Encode(rgb.data(), 40, 30, 120);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(first, std::vector<uint8_t>(b->begin(), b->end()));
  // The left 20 columns through a stride.
  Result<Span<const uint8_t>> half = (*png)->Encode(rgb.data(), 20, 30, 120);
  ASSERT_TRUE(half.ok());
  Result<imaging::Image> back = imaging::DecodeImage(*half, "png");
  ASSERT_TRUE(back.ok());
  for (int y = 0; y < 30; ++y) {
    EXPECT_EQ(std::memcmp(&back->pixels[static_cast<size_t>(y) * 60], &rgb[static_cast<size_t>(y) * 120], 60), 0);
  }
}

TEST(PngEncoder, RefusesImagesBeyondItsMaximumAndBadLevels) {
  Result<std::unique_ptr<PngEncoder>> png = PngEncoder::Create(16, 16, 6);
  ASSERT_TRUE(png.ok());
  const std::vector<uint8_t> rgb = TestImage(17, 16, 1);
  EXPECT_EQ((*png)->Encode(rgb.data(), 17, 16, 51).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*png)->Encode(nullptr, 4, 4, 12).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(PngEncoder::Create(16, 16, 10).ok());
  EXPECT_FALSE(PngEncoder::Create(0, 16, 6).ok());
}

TEST(PngEncoder, EncodeDoesNotAllocateAfterCreate) {
  Result<std::unique_ptr<PngEncoder>> png = PngEncoder::Create(489, 410, 6);
  ASSERT_TRUE(png.ok());
  const std::vector<uint8_t> rgb = TestImage(489, 410, 9);
  testing::AllocGuard guard;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*png)->Encode(rgb.data(), 489, 410, 489 * 3).ok());
  EXPECT_EQ(guard.count(), 0u);
}

class ProductEncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rgb_ = TestImage(kW, kH, 3);
    imaging::JpegEncoderConfig jc;
    jc.max_width = kW;
    jc.max_height = kH;
    jc.quality = 95;
    Result<imaging::JpegEncoder> cam = imaging::JpegEncoder::Create(jc);
    ASSERT_TRUE(cam.ok());
    Result<Span<const uint8_t>> jpeg = cam->Encode(rgb_.data(), kW, kH, kW * 3);
    ASSERT_TRUE(jpeg.ok());
    jpeg_.assign(jpeg->begin(), jpeg->end());
    frame_.encoded = Span<uint8_t>(jpeg_.data(), jpeg_.size());
    frame_.encoded_size = jpeg_.size();
    frame_.encoding = imaging::FrameEncoding::kJpeg;
    frame_.width = kW;
    frame_.height = kH;
    limits_.full_max_width = kW;
    limits_.full_max_height = kH;
    limits_.thumbnail_width = 32;
    limits_.thumbnail_height = 24;
    limits_.need_full_decode = true;
    limits_.need_png_full = true;
    limits_.need_png_thumbnail = true;
  }
  static constexpr int kW = 96, kH = 64;
  std::vector<uint8_t> rgb_, jpeg_;
  imaging::Frame frame_;
  ProductEncoderLimits limits_;
};

TEST_F(ProductEncoderTest, OriginalPassesTheCameraJpegThrough) {
  Result<std::unique_ptr<ProductEncoder>> e = ProductEncoder::Create(limits_);
  ASSERT_TRUE(e.ok()) << e.status().message();
  Result<Span<const uint8_t>> out = (*e)->EncodeFull(frame_, config::CodecSpec{config::Codec::kOriginal, 0});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->data(), jpeg_.data());
  EXPECT_EQ(out->size(), jpeg_.size());
}

TEST_F(ProductEncoderTest, JpegQualityChangesTheSizeAndPngIsLosslessOverTheDecodedFrame) {
  Result<std::unique_ptr<ProductEncoder>> e = ProductEncoder::Create(limits_);
  ASSERT_TRUE(e.ok());
  Result<Span<const uint8_t>> low = (*e)->EncodeFull(frame_, config::CodecSpec{config::Codec::kJpeg, 20});
  ASSERT_TRUE(low.ok());
  const size_t low_size = low->size();
  Result<Span<const uint8_t>> high = (*e)->EncodeFull(frame_, config::CodecSpec{config::Codec::kJpeg, 95});
  ASSERT_TRUE(high.ok());
  EXPECT_LT(low_size, high->size());
  Result<imaging::Image> decoded = imaging::DecodeImage(Span<const uint8_t>(jpeg_.data(), jpeg_.size()), "camera");
  ASSERT_TRUE(decoded.ok());
  Result<Span<const uint8_t>> png = (*e)->EncodeFull(frame_, config::CodecSpec{config::Codec::kPng, 0});
  ASSERT_TRUE(png.ok());
  Result<imaging::Image> back = imaging::DecodeImage(*png, "png");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->pixels, decoded->pixels);
}

TEST_F(ProductEncoderTest, RawFramesStoredAsOriginalBecomePng) {
  Result<std::unique_ptr<ProductEncoder>> e = ProductEncoder::Create(limits_);
  ASSERT_TRUE(e.ok());
  imaging::Frame raw;
  raw.encoding = imaging::FrameEncoding::kRgb8;
  raw.pixels = Span<uint8_t>(rgb_.data(), rgb_.size());
  raw.width = kW;
  raw.height = kH;
  Result<Span<const uint8_t>> out = (*e)->EncodeFull(raw, config::CodecSpec{config::Codec::kOriginal, 0});
  ASSERT_TRUE(out.ok()) << out.status().message();
  Result<imaging::Image> back = imaging::DecodeImage(*out, "png");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->pixels, rgb_);
}

TEST_F(ProductEncoderTest, ThumbnailsInBothCodecsAndNoAllocationPerProduct) {
  Result<std::unique_ptr<ProductEncoder>> e = ProductEncoder::Create(limits_);
  ASSERT_TRUE(e.ok());
  const std::vector<uint8_t> thumb = TestImage(32, 24, 8);
  (void)(*e)->EncodeFull(frame_, config::CodecSpec{config::Codec::kJpeg, 80});  // warm-up
  testing::AllocGuard guard;
  Result<Span<const uint8_t>> j = (*e)->EncodeThumbnail(thumb, 32, 24, config::CodecSpec{config::Codec::kJpeg, 80});
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)[0], 0xFF);
  Result<Span<const uint8_t>> p = (*e)->EncodeThumbnail(thumb, 32, 24, config::CodecSpec{config::Codec::kPng, 0});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)[1], 'P');
  ASSERT_TRUE((*e)->EncodeFull(frame_, config::CodecSpec{config::Codec::kJpeg, 70}).ok());
  ASSERT_TRUE((*e)->EncodeFull(frame_, config::CodecSpec{config::Codec::kPng, 0}).ok());
  EXPECT_EQ(guard.count(), 0u);
}

TEST_F(ProductEncoderTest, LimitsWithoutADecodeBufferRefuseReencodingCleanly) {
  limits_.need_full_decode = false;
  Result<std::unique_ptr<ProductEncoder>> e = ProductEncoder::Create(limits_);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->EncodeFull(frame_, config::CodecSpec{config::Codec::kJpeg, 80}).status().code(),
            StatusCode::kFailedPrecondition);
  ProductEncoderLimits more = limits_;
  more.need_full_decode = true;
  EXPECT_FALSE((*e)->Covers(more));
  EXPECT_TRUE((*e)->Covers(limits_));
}

}  // namespace
}  // namespace triage::app
