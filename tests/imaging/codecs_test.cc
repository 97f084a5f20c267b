// PNG (libpng) and BMP (ours) decoders against OpenCV's imread as the
// reference, on real files from ../shared and on every layout variant the
// decoders claim: gray, RGBA, 16-bit, palette with tRNS, Adam7 interlace,
// 1/4/8-bit palette BMP, 24-bit, 32-bit bit-fields, top-down.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "imaging/image.h"
#include "tests/imaging/test_images.h"
#include "tests/support/shared_paths.h"
#include "tests/support/temp_dir.h"

namespace triage::imaging {
namespace {

namespace fs = std::filesystem;

// One directory for the whole test binary, removed at exit.
std::string TempPath(const std::string& name) {
  static const triage::testing::TempDir dir("triage_codecs_test");
  return dir / name;
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// OpenCV's reading of a file in our conventions: 8-bit, RGB order, gray
// stays 1 channel, alpha dropped, 16-bit scaled by 1/257.
Image OpenCvReference(const std::string& path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  EXPECT_FALSE(m.empty()) << path;
  if (m.depth() == CV_16U) m.convertTo(m, CV_8U, 1.0 / 257.0);
  cv::Mat out;
  if (m.channels() == 1) out = m;
  if (m.channels() == 3) cv::cvtColor(m, out, cv::COLOR_BGR2RGB);
  if (m.channels() == 4) cv::cvtColor(m, out, cv::COLOR_BGRA2RGB);
  Image image = MakeImage(out.cols, out.rows, out.channels());
  for (int y = 0; y < out.rows; ++y) {
    std::memcpy(image.pixels.data() + static_cast<size_t>(y) * image.stride(), out.ptr<uint8_t>(y),
                static_cast<size_t>(image.stride()));
  }
  return image;
}

void ExpectMatchesOpenCv(const std::string& path, int tolerance = 0) {
  Result<Image> ours = LoadImageFile(path);
  ASSERT_TRUE(ours.ok()) << ours.status().message();
  const Image ref = OpenCvReference(path);
  ASSERT_EQ(ours->width, ref.width) << path;
  ASSERT_EQ(ours->height, ref.height) << path;
  ASSERT_EQ(ours->channels, ref.channels) << path;
  EXPECT_LE(testing::MaxAbsDiff(ours->pixels.data(), ref.pixels.data(), ref.pixels.size()), tolerance)
      << path;
}

TEST(CodecsVsOpenCv, EveryRealPngAndBmpInSharedDecodesIdentically) {
  TRIAGE_REQUIRE_SHARED();
  int checked = 0;
  for (const char* dir : {"datasets", "models"}) {
    for (const auto& e : fs::recursive_directory_iterator(triage::testing::SharedPath(dir))) {
      const std::string ext = e.path().extension().string();
      if (ext != ".png" && ext != ".bmp") continue;
      ExpectMatchesOpenCv(e.path().string());
      if (HasFailure()) return;
      ++checked;
    }
  }
  EXPECT_GE(checked, 90) << "expected the 87 dataset PNGs and 5 model BMPs";
}

TEST(CodecsVsOpenCv, PngVariantsWrittenByOpenCv) {
  const std::vector<uint8_t> rgb = testing::SmoothRgb(37, 23);
  cv::Mat bgr(23, 37, CV_8UC3);
  for (int i = 0; i < 37 * 23; ++i) {
    bgr.data[i * 3] = rgb[i * 3 + 2];
    bgr.data[i * 3 + 1] = rgb[i * 3 + 1];
    bgr.data[i * 3 + 2] = rgb[i * 3];
  }
  cv::Mat bgra, gray, rgb16, gray16;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  bgr.convertTo(rgb16, CV_16U, 257.0 * 0.9, 1000);  // values that do not divide by 257
  gray.convertTo(gray16, CV_16U, 250.0, 77);
  const std::pair<const char*, cv::Mat> cases[] = {
      {"rgba.png", bgra}, {"gray.png", gray}, {"rgb16.png", rgb16}, {"gray16.png", gray16}};
  for (const auto& [name, mat] : cases) {
    const std::string path = TempPath(name);
    ASSERT_TRUE(cv::imwrite(path, mat)) << name;
    // 16-bit: libpng's scale_16 and OpenCV's convertTo may round one step apart.
    ExpectMatchesOpenCv(path, mat.depth() == CV_16U ? 1 : 0);
  }
}

TEST(CodecsVsOpenCv, BmpVariantsWrittenByOpenCv) {
  cv::Mat bgr(19, 29, CV_8UC3), gray(19, 29, CV_8UC1), bgra;
  cv::randu(bgr, 0, 256);
  cv::randu(gray, 0, 256);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  for (const auto& [name, mat] : {std::pair<const char*, cv::Mat>{"rgb.bmp", bgr},
                                  {"gray.bmp", gray}, {"bgra.bmp", bgra}}) {
    const std::string path = TempPath(name);
    ASSERT_TRUE(cv::imwrite(path, mat)) << name;
    ExpectMatchesOpenCv(path);
  }
}

// --- PNG layouts OpenCV cannot write: Adam7 interlace, 4-bit palette + tRNS.

bool WritePngLowLevel(const std::string& path, int width, int height, int color, int depth, bool interlace,
                      const std::vector<std::vector<uint8_t>>* rows) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return false;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, width, height, depth, color,
               interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (color == PNG_COLOR_TYPE_PALETTE) {
    png_color palette[16];
    png_byte trans[16];
    for (int i = 0; i < 16; ++i) {
      palette[i] = {static_cast<png_byte>(i * 16), static_cast<png_byte>(255 - i * 16), static_cast<png_byte>(i * 7)};
      trans[i] = static_cast<png_byte>(i * 17);
    }
    png_set_PLTE(png, info, palette, 16);
    png_set_tRNS(png, info, trans, 16, nullptr);
  }
  png_write_info(png, info);
  const int passes = png_set_interlace_handling(png);
  for (int p = 0; p < passes; ++p) {
    for (int y = 0; y < height; ++y) png_write_row(png, (*rows)[y].data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::fclose(f) == 0;
}

TEST(CodecsPng, Adam7InterlacedDecodesToTheSamePixels) {
  const int w = 21, h = 13;
  const std::vector<uint8_t> rgb = testing::SmoothRgb(w, h);
  std::vector<std::vector<uint8_t>> rows(h);
  for (int y = 0; y < h; ++y) rows[y].assign(rgb.begin() + y * w * 3, rgb.begin() + (y + 1) * w * 3);
  const std::string path = TempPath("adam7.png");
  ASSERT_TRUE(WritePngLowLevel(path, w, h, PNG_COLOR_TYPE_RGB, 8, true, &rows));
  Result<Image> back = LoadImageFile(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->pixels, rgb);
  ExpectMatchesOpenCv(path);
}

TEST(CodecsPng, FourBitPaletteWithTransparencyExpandsToRgbAndDropsAlpha) {
  const int w = 9, h = 5;
  std::vector<std::vector<uint8_t>> rows(h, std::vector<uint8_t>((w + 1) / 2));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int index = (x + y * 3) % 16;
      rows[y][x / 2] |= static_cast<uint8_t>(x % 2 == 0 ? index << 4 : index);
    }
  }
  const std::string path = TempPath("palette4.png");
  ASSERT_TRUE(WritePngLowLevel(path, w, h, PNG_COLOR_TYPE_PALETTE, 4, false, &rows));
  Result<Image> back = LoadImageFile(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->channels, 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int i = (x + y * 3) % 16;
      const uint8_t* p = &back->pixels[(y * w + x) * 3];
      EXPECT_EQ(p[0], i * 16);
      EXPECT_EQ(p[1], 255 - i * 16);
      EXPECT_EQ(p[2], i * 7);
    }
  }
}

TEST(CodecsPng, BadChunkCrcIsDataLossNamingTheFile) {
  const std::string path = TempPath("crc.png");
  Image image = MakeImage(8, 8, 3);
  image.pixels = testing::SmoothRgb(8, 8);
  ASSERT_TRUE(WriteImageFile(path, image).ok());
  std::vector<uint8_t> bytes = triage::testing::ReadFileBytes(path);
  bytes[bytes.size() - 20] ^= 0x01;  // inside the IDAT data: its CRC no longer matches
  const std::string bad = TempPath("crc_bad.png");
  WriteBytes(bad, bytes);
  Result<Image> r = LoadImageFile(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(std::string(r.status().message()).find(bad), std::string::npos) << r.status().message();
}

// --- BMP layouts built by hand.

void Le(std::vector<uint8_t>& b, size_t at, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

Result<Image> Decode(const std::vector<uint8_t>& bytes, const char* what) {
  return DecodeImage(Span<const uint8_t>(bytes.data(), bytes.size()), what);
}

// A BMP with a 40-byte info header; `palette` BGRA entries, then rows as given
// (already padded, in file order).
std::vector<uint8_t> MakeBmp(int width, int height, int bpp, uint32_t compression,
                             const std::vector<uint8_t>& extra, const std::vector<uint8_t>& rows) {
  std::vector<uint8_t> b(54, 0);
  b[0] = 'B';
  b[1] = 'M';
  Le(b, 10, static_cast<uint32_t>(54 + extra.size()), 4);
  Le(b, 14, 40, 4);
  Le(b, 18, static_cast<uint32_t>(width), 4);
  Le(b, 22, static_cast<uint32_t>(height), 4);
  Le(b, 26, 1, 2);
  Le(b, 28, static_cast<uint32_t>(bpp), 2);
  Le(b, 30, compression, 4);
  b.insert(b.end(), extra.begin(), extra.end());
  b.insert(b.end(), rows.begin(), rows.end());
  Le(b, 2, static_cast<uint32_t>(b.size()), 4);
  return b;
}

TEST(CodecsBmp, OneAndFourBitPalettesAndTopDownRows) {
  // 1-bit, 10x2, top-down (negative height): palette black / orange.
  const std::vector<uint8_t> pal1 = {0, 0, 0, 0, 0, 128, 255, 0};
  const std::vector<uint8_t> rows1 = {0b10110000, 0b01000000, 0, 0,    // row 0: 1 0 1 1 0 0 0 0 | 0 1
                                      0b00000001, 0b10000000, 0, 0};   // row 1: ...1 | 1 0
  Result<Image> one = Decode(MakeBmp(10, -2, 1, 0, pal1, rows1), "one.bmp");
  ASSERT_TRUE(one.ok()) << one.status().message();
  ASSERT_EQ(one->channels, 3);
  const int bits0[10] = {1, 0, 1, 1, 0, 0, 0, 0, 0, 1};
  const int bits1[10] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 0};
  for (int x = 0; x < 10; ++x) {
    EXPECT_EQ(one->pixels[x * 3], bits0[x] ? 255 : 0) << x;
    EXPECT_EQ(one->pixels[x * 3 + 1], bits0[x] ? 128 : 0) << x;
    EXPECT_EQ(one->pixels[30 + x * 3], bits1[x] ? 255 : 0) << x;
  }
  // 4-bit gray palette, 3x2 bottom-up: stays one channel.
  std::vector<uint8_t> pal4;
  for (int i = 0; i < 16; ++i) pal4.insert(pal4.end(), {uint8_t(i * 17), uint8_t(i * 17), uint8_t(i * 17), 0});
  const std::vector<uint8_t> rows4 = {0x12, 0x30, 0, 0,    // file row 0 = bottom: 1 2 3
                                      0xAB, 0xC0, 0, 0};   // file row 1 = top: 10 11 12
  Result<Image> four = Decode(MakeBmp(3, 2, 4, 0, pal4, rows4), "four.bmp");
  ASSERT_TRUE(four.ok()) << four.status().message();
  ASSERT_EQ(four->channels, 1);
  EXPECT_EQ(four->pixels, (std::vector<uint8_t>{170, 187, 204, 17, 34, 51}));
}

TEST(CodecsBmp, ThirtyTwoBitBitFieldsFollowTheMasks) {
  // Masks R = byte 0, G = byte 1, B = byte 2 (the reverse of BI_RGB order).
  std::vector<uint8_t> masks(12, 0);
  Le(masks, 0, 0x000000FF, 4);
  Le(masks, 4, 0x0000FF00, 4);
  Le(masks, 8, 0x00FF0000, 4);
  const std::vector<uint8_t> rows = {10, 20, 30, 99, 40, 50, 60, 99};
  Result<Image> r = Decode(MakeBmp(2, 1, 32, 3, masks, rows), "fields.bmp");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->pixels, (std::vector<uint8_t>{10, 20, 30, 40, 50, 60}));
  Le(masks, 0, 0x00000FF0, 4);  // not a whole byte
  Result<Image> odd = Decode(MakeBmp(2, 1, 32, 3, masks, rows), "odd.bmp");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), StatusCode::kUnsupported);
}

TEST(CodecsBmp, UnsupportedVariantsAreCleanErrorsNamingTheFile) {
  const std::vector<uint8_t> rows(64, 0);
  struct Case {
    int bpp;
    uint32_t compression;
  };
  for (const Case c : {Case{8, 1}, Case{4, 2}, Case{16, 0}, Case{16, 3}, Case{24, 4}, Case{2, 0}, Case{0, 0}}) {
    Result<Image> r = Decode(MakeBmp(4, 4, c.bpp, c.compression, {}, rows), "variant.bmp");
    ASSERT_FALSE(r.ok()) << c.bpp << "/" << c.compression;
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported) << r.status().message();
    EXPECT_NE(std::string(r.status().message()).find("variant.bmp"), std::string::npos);
  }
  std::vector<uint8_t> os2 = MakeBmp(4, 4, 24, 0, {}, rows);
  Le(os2, 14, 12, 4);
  Result<Image> r = Decode(os2, "os2.bmp");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
}

TEST(CodecsBmp, HostileHeadersAreDataLossBeforeAnyAllocation) {
  const std::vector<uint8_t> rows(48, 0);
  for (const auto& [w, h] : {std::pair<int, int>{0, 4}, {4, 0}, {-4, 4}, {100000, 4}, {4, INT32_MIN}, {16384, 16384}}) {
    Result<Image> r = Decode(MakeBmp(w, h, 24, 0, {}, rows), "hostile.bmp");
    ASSERT_FALSE(r.ok()) << w << "x" << h;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().message();
  }
  std::vector<uint8_t> past_end = MakeBmp(4, 4, 24, 0, {}, rows);
  Le(past_end, 10, 0xFFFFFFF0u, 4);  // pixel data offset beyond the file
  EXPECT_EQ(Decode(past_end, "offset.bmp").status().code(), StatusCode::kDataLoss);
  std::vector<uint8_t> short_palette = MakeBmp(4, 4, 8, 0, {}, rows);
  Le(short_palette, 46, 200, 4);  // 200 palette entries claimed, 48 bytes present
  EXPECT_EQ(Decode(short_palette, "palette.bmp").status().code(), StatusCode::kDataLoss);
}

TEST(WriteImageFile, GrayBmpAndJpegRoundTrip) {
  Image gray = MakeImage(13, 7, 1);
  for (size_t i = 0; i < gray.pixels.size(); ++i) gray.pixels[i] = static_cast<uint8_t>(i * 2);
  const std::string bmp = TempPath("gray_rt.bmp");
  ASSERT_TRUE(WriteImageFile(bmp, gray).ok());
  Result<Image> back = LoadImageFile(bmp);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->channels, 1);
  EXPECT_EQ(back->pixels, gray.pixels);
  const std::string jpg = TempPath("gray_rt.JPG");
  ASSERT_TRUE(WriteImageFile(jpg, gray).ok());
  Result<Image> j = LoadImageFile(jpg);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(j->channels, 1);
  EXPECT_LE(testing::MaxAbsDiff(j->pixels.data(), gray.pixels.data(), gray.pixels.size()), 4);
}

TEST(WriteImageFile, UnwritableDirectoryIsAnIoErrorAndLeavesNoFile) {
  Image image = MakeImage(4, 4, 3);
  for (const char* ext : {".png", ".bmp", ".jpg"}) {
    const std::string path = std::string("/nonexistent_dir_for_triage/x") + ext;
    Status s = WriteImageFile(path, image);
    ASSERT_FALSE(s.ok()) << ext;
    EXPECT_EQ(s.code(), StatusCode::kIoError) << s.message();
    EXPECT_NE(std::string(s.message()).find(path), std::string::npos);
  }
}

}  // namespace
}  // namespace triage::imaging
