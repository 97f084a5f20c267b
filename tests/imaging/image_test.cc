#include "imaging/image.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <opencv2/imgcodecs.hpp>

#include "tests/imaging/test_images.h"
#include "tests/support/shared_paths.h"
#include "tests/support/temp_dir.h"

namespace triage::imaging {
namespace {

// One directory for the whole test binary, removed at exit.
std::string TempPath(const std::string& name) {
  static const triage::testing::TempDir dir("triage_image_test");
  return dir / name;
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Image TestImage(int w, int h) {
  Image image = MakeImage(w, h, 3);
  image.pixels = testing::SmoothRgb(w, h);
  return image;
}

TEST(LoadImageFile, MissingFileIsNotFoundNamingThePath) {
  const std::string path = TempPath("does_not_exist.png");
  Result<Image> r = LoadImageFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(r.status().message()).find(path), std::string::npos);
}

TEST(LoadImageFile, DirectoryIsAnError) {
  Result<Image> r = LoadImageFile(::testing::TempDir());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().code(), StatusCode::kOk);
}

TEST(LoadImageFile, PngAndBmpRoundTripExactly) {
  const Image image = TestImage(61, 47);
  for (const char* ext : {".png", ".bmp"}) {
    const std::string path = TempPath(std::string("round_trip") + ext);
    ASSERT_TRUE(WriteImageFile(path, image).ok()) << ext;
    Result<Image> back = LoadImageFile(path);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->width, 61);
    EXPECT_EQ(back->height, 47);
    EXPECT_EQ(back->channels, 3);
    EXPECT_EQ(back->pixels, image.pixels) << ext << ": channel order or data changed";
  }
}

TEST(LoadImageFile, JpegMatchesOpenCvDecodeInRgbOrder) {
  const std::string path = TempPath("decode.jpg");
  ASSERT_TRUE(WriteImageFile(path, TestImage(200, 150)).ok());
  Result<Image> ours = LoadImageFile(path);
  ASSERT_TRUE(ours.ok()) << ours.status().message();
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  ASSERT_FALSE(bgr.empty());
  ASSERT_EQ(ours->width, bgr.cols);
  ASSERT_EQ(ours->height, bgr.rows);
  int max_diff = 0;
  for (int y = 0; y < bgr.rows; ++y) {
    for (int x = 0; x < bgr.cols; ++x) {
      const cv::Vec3b p = bgr.at<cv::Vec3b>(y, x);
      const uint8_t* q = &ours->pixels[(y * bgr.cols + x) * 3];
      for (int c = 0; c < 3; ++c) max_diff = std::max(max_diff, std::abs(int(q[c]) - int(p[2 - c])));
    }
  }
  EXPECT_EQ(max_diff, 0);
}

TEST(LoadImageFile, GrayPngStaysOneChannel) {
  Image gray = MakeImage(10, 4, 1);
  for (size_t i = 0; i < gray.pixels.size(); ++i) gray.pixels[i] = static_cast<uint8_t>(i * 6);
  const std::string path = TempPath("gray.png");
  ASSERT_TRUE(WriteImageFile(path, gray).ok());
  Result<Image> back = LoadImageFile(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->channels, 1);
  EXPECT_EQ(back->pixels, gray.pixels);
}

TEST(LoadImageFile, TruncatedFilesAreDataLossNamingThePath) {
  const Image image = TestImage(64, 48);
  for (const char* ext : {".png", ".bmp", ".jpg"}) {
    const std::string path = TempPath(std::string("whole") + ext);
    ASSERT_TRUE(WriteImageFile(path, image).ok());
    const auto bytes = triage::testing::ReadFileBytes(path);
    ASSERT_GT(bytes.size(), 100u);
    for (size_t keep : {bytes.size() / 2, bytes.size() - 20, size_t{10}}) {
      const std::string cut = TempPath(std::string("cut") + ext);
      WriteBytes(cut, std::vector<uint8_t>(bytes.begin(), bytes.begin() + keep));
      Result<Image> r = LoadImageFile(cut);
      ASSERT_FALSE(r.ok()) << ext << " truncated to " << keep << " bytes decoded";
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << ext << ": " << r.status().message();
      EXPECT_NE(std::string(r.status().message()).find(cut), std::string::npos);
    }
  }
}

TEST(DecodeImage, UnknownFormatAndEmptyInputAreErrors) {
  const uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a', 0, 0};
  Result<Image> r = DecodeImage(Span<const uint8_t>(gif, sizeof(gif)), "uplink.gif");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(std::string(r.status().message()).find("uplink.gif"), std::string::npos);
  EXPECT_FALSE(DecodeImage(Span<const uint8_t>(), "empty").ok());
}

TEST(DecodeImage, HostileSizesAreRefusedBeforeDecoding) {
  // A PNG header claiming 100000 x 100000 pixels.
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13,
                              'I', 'H', 'D', 'R', 0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 2, 0, 0, 0};
  png.resize(64, 0);
  Result<Image> r = DecodeImage(Span<const uint8_t>(png), "huge.png");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST(WriteImageFile, RejectsMalformedImagesAndUnknownExtensions) {
  Image bad = MakeImage(4, 4, 3);
  bad.pixels.pop_back();
  EXPECT_FALSE(WriteImageFile(TempPath("bad.png"), bad).ok());
  EXPECT_FALSE(WriteImageFile(TempPath("x.unknownext"), TestImage(4, 4)).ok());
}

TEST(LoadImageFile, LoadsRealOpsSatJpegAndLandsatPng) {
  TRIAGE_REQUIRE_SHARED();
  const std::string jpeg = triage::testing::SharedPath("datasets/real/land/opssat_1536094509157.jpeg");
  const std::string png = triage::testing::SharedPath(
      "datasets/real/black/landsat8_fold_07_patch_8_1_by_8_LC81080162013171LGN00.png");
  Result<Image> a = LoadImageFile(jpeg);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->width, 614);
  EXPECT_EQ(a->height, 583);
  EXPECT_EQ(a->channels, 3);
  Result<Image> b = LoadImageFile(png);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->width, 384);
  EXPECT_EQ(b->height, 384);
  // OPS-SAT frames carry the camera's cyan cast: red well below green and blue.
  double sum[3] = {0, 0, 0};
  for (size_t i = 0; i < a->pixels.size(); i += 3) {
    for (int c = 0; c < 3; ++c) sum[c] += a->pixels[i + c];
  }
  EXPECT_LT(sum[0], 0.8 * sum[1]);
  EXPECT_LT(sum[0], 0.8 * sum[2]);
}

}  // namespace
}  // namespace triage::imaging
