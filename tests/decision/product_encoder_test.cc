// Product compression: the product encoder passes original JPEGs through,
// re-encodes at the configured quality, and falls back to PNG for raw frames.
#include "decision/product_encoder.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "imaging/image.h"
#include "imaging/jpeg_codec.h"
#include "tests/imaging/test_images.h"
#include "tests/support/alloc_guard.h"

namespace triage::decision {
using imaging::testing::PatternRgb;
namespace {

class ProductEncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rgb_ = PatternRgb(kW, kH, 3);
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
  const std::vector<uint8_t> thumb = PatternRgb(32, 24, 8);
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
}  // namespace triage::decision
