// PNG products: lossless through a standard reader (libpng via
// imaging::DecodeImage), deterministic, bounded, and allocation free.
#include "imaging/png_encoder.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "imaging/image.h"
#include "tests/imaging/test_images.h"
#include "tests/support/alloc_guard.h"

namespace triage::imaging {
namespace {

using testing::PatternRgb;

TEST(PngEncoder, RoundTripsExactlyThroughAStandardDecoder) {
  Result<std::unique_ptr<PngEncoder>> png = PngEncoder::Create(489, 410, 6);
  ASSERT_TRUE(png.ok()) << png.status().message();
  for (auto [w, h] : {std::pair{1, 1}, std::pair{3, 2}, std::pair{17, 9}, std::pair{489, 410}}) {
    const std::vector<uint8_t> rgb = PatternRgb(w, h, static_cast<uint32_t>(w * 31 + h));
    Result<Span<const uint8_t>> out = (*png)->Encode(rgb.data(), w, h, w * 3);
    ASSERT_TRUE(out.ok()) << out.status().message();
    ASSERT_GT(out->size(), 8u);
    EXPECT_EQ(std::memcmp(out->data(), "\x89PNG\r\n\x1a\n", 8), 0);
    Result<Image> back = DecodeImage(*out, "png");
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
  const std::vector<uint8_t> rgb = PatternRgb(40, 30, 5);
  Result<Span<const uint8_t>> a = (*png)->Encode(rgb.data(), 40, 30, 120);
  ASSERT_TRUE(a.ok());
  const std::vector<uint8_t> first(a->begin(), a->end());
  Result<Span<const uint8_t>> b = (*png)->Encode(rgb.data(), 40, 30, 120);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(first, std::vector<uint8_t>(b->begin(), b->end()));
  // The left 20 columns through a stride.
  Result<Span<const uint8_t>> half = (*png)->Encode(rgb.data(), 20, 30, 120);
  ASSERT_TRUE(half.ok());
  Result<Image> back = DecodeImage(*half, "png");
  ASSERT_TRUE(back.ok());
  for (int y = 0; y < 30; ++y) {
    EXPECT_EQ(std::memcmp(&back->pixels[static_cast<size_t>(y) * 60], &rgb[static_cast<size_t>(y) * 120], 60), 0);
  }
}

TEST(PngEncoder, RefusesImagesBeyondItsMaximumAndBadLevels) {
  Result<std::unique_ptr<PngEncoder>> png = PngEncoder::Create(16, 16, 6);
  ASSERT_TRUE(png.ok());
  const std::vector<uint8_t> rgb = PatternRgb(17, 16, 1);
  EXPECT_EQ((*png)->Encode(rgb.data(), 17, 16, 51).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*png)->Encode(nullptr, 4, 4, 12).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(PngEncoder::Create(16, 16, 10).ok());
  EXPECT_FALSE(PngEncoder::Create(0, 16, 6).ok());
}

TEST(PngEncoder, EncodeDoesNotAllocateAfterCreate) {
  Result<std::unique_ptr<PngEncoder>> png = PngEncoder::Create(489, 410, 6);
  ASSERT_TRUE(png.ok());
  const std::vector<uint8_t> rgb = PatternRgb(489, 410, 9);
  triage::testing::AllocGuard guard;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*png)->Encode(rgb.data(), 489, 410, 489 * 3).ok());
  EXPECT_EQ(guard.count(), 0u);
}

}  // namespace
}  // namespace triage::imaging
