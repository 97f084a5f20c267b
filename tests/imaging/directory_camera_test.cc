#include "imaging/directory_camera.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "imaging/image.h"
#include "imaging/jpeg_codec.h"
#include "imaging/thumbnail.h"
#include "tests/imaging/test_images.h"
#include "tests/support/alloc_guard.h"
#include "tests/support/shared_paths.h"

namespace triage::imaging {
namespace {

class DirectoryCameraTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "triage_dircam_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::mkdir(dir_.c_str(), 0755);
    JpegEncoderConfig c;
    c.max_width = 64;
    c.max_height = 48;
    Result<JpegEncoder> enc = JpegEncoder::Create(c);
    const auto rgb = testing::SmoothRgb(64, 48);
    Result<Span<const uint8_t>> j = enc->Encode(rgb.data(), 64, 48, 64 * 3);
    jpeg_.assign(j->begin(), j->end());
  }
  void TearDown() override {
    for (const auto& f : written_) std::remove(f.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::vector<uint8_t>& bytes, time_t mtime = 0) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (mtime != 0) {
      struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};
      ::utimes(path.c_str(), tv);
    }
    written_.push_back(path);
    return path;
  }
  FramePool Pool(size_t encoded = 1 << 16, int raw_w = 64, int raw_h = 48) {
    FramePoolConfig c;
    c.frame_count = 2;
    c.encoded_bytes = encoded;
    c.raw_max_width = raw_w;
    c.raw_max_height = raw_h;
    return std::move(FramePool::Create(c).value());
  }
  std::vector<std::string> ReplayNames(DirectoryCamera& cam, FramePool& pool) {
    std::vector<std::string> names;
    for (;;) {
      FrameLease f = std::move(AcquireLease(pool).value());
      const Status s = cam.Capture(*f);
      if (s.code() == StatusCode::kOutOfRange) break;
      EXPECT_TRUE(s.ok()) << s.message();
      if (!s.ok()) break;
      names.push_back(f->meta.source);
    }
    return names;
  }

  std::string dir_;
  std::vector<std::string> written_;
  std::vector<uint8_t> jpeg_;
};

TEST_F(DirectoryCameraTest, ReplaysInNameOrderAndStopsAtTheEnd) {
  Write("c.jpg", jpeg_);
  Write("a.jpg", jpeg_);
  Write("b.JPEG", jpeg_);
  Write("notes.txt", {1, 2, 3});
  Result<DirectoryCamera> cam = DirectoryCamera::Create({dir_, ReplayOrder::kName, false, {}});
  ASSERT_TRUE(cam.ok()) << cam.status().message();
  EXPECT_EQ(cam->file_count(), 3u);
  FramePool pool = Pool();
  EXPECT_EQ(ReplayNames(*cam, pool), (std::vector<std::string>{"a.jpg", "b.JPEG", "c.jpg"}));
}

TEST_F(DirectoryCameraTest, TimestampOrderUsesEpochDigitsInNamesThenMtime) {
  Write("z_1597679391760.jpeg", jpeg_);   // ms since epoch, later
  Write("a_1597679329520.jpeg", jpeg_);   // earlier
  Write("m_1597679300.jpeg", jpeg_);      // 10 digits: seconds, earliest
  Write("nodigits.jpeg", jpeg_, 1700000000);  // mtime 2023: latest
  Result<DirectoryCamera> cam = DirectoryCamera::Create({dir_, ReplayOrder::kTimestamp, false, {}});
  ASSERT_TRUE(cam.ok());
  FramePool pool = Pool();
  EXPECT_EQ(ReplayNames(*cam, pool),
            (std::vector<std::string>{"m_1597679300.jpeg", "a_1597679329520.jpeg",
                                      "z_1597679391760.jpeg", "nodigits.jpeg"}));
  EXPECT_EQ(cam->file_timestamp_us(1), 1597679329520LL * 1000);
}

TEST_F(DirectoryCameraTest, JpegFramesCarryBytesSizeAndMetadataWithoutAllocating) {
  Write("one.jpg", jpeg_);
  DirectoryCameraConfig config{dir_, ReplayOrder::kName, true, {}};
  config.camera.exposure_ms = 3.5f;
  Result<DirectoryCamera> cam = DirectoryCamera::Create(config);
  ASSERT_TRUE(cam.ok());
  FramePool pool = Pool();
  Frame* f = pool.Acquire().value();
  triage::testing::AllocGuard guard;
  ASSERT_TRUE(cam->Capture(*f).ok());
  ASSERT_TRUE(cam->Capture(*f).ok());  // loop: the same file again
  EXPECT_EQ(guard.count(), 0u);
  EXPECT_EQ(f->encoding, FrameEncoding::kJpeg);
  EXPECT_EQ(f->width, 64);
  EXPECT_EQ(f->height, 48);
  EXPECT_EQ(f->encoded_size, jpeg_.size());
  EXPECT_TRUE(std::equal(jpeg_.begin(), jpeg_.end(), f->encoded.begin()));
  EXPECT_EQ(f->meta.frame_id, 1u);
  EXPECT_FLOAT_EQ(f->meta.exposure_ms, 3.5f);
  EXPECT_FALSE(f->meta.has_truth);
}

TEST_F(DirectoryCameraTest, PngAndBmpAreDecodedIntoTheRawBuffer) {
  Image img = MakeImage(64, 48, 3);
  img.pixels = testing::SmoothRgb(64, 48);
  written_.push_back(dir_ + "/a.png");
  written_.push_back(dir_ + "/b.bmp");
  ASSERT_TRUE(WriteImageFile(dir_ + "/a.png", img).ok());
  ASSERT_TRUE(WriteImageFile(dir_ + "/b.bmp", img).ok());
  Result<DirectoryCamera> cam = DirectoryCamera::Create({dir_, ReplayOrder::kName, false, {}});
  ASSERT_TRUE(cam.ok());
  FramePool pool = Pool();
  Frame* f = pool.Acquire().value();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(cam->Capture(*f).ok());
    EXPECT_EQ(f->encoding, FrameEncoding::kRgb8);
    EXPECT_EQ(f->width, 64);
    EXPECT_TRUE(std::equal(img.pixels.begin(), img.pixels.end(), f->pixels.begin()));
  }
}

TEST_F(DirectoryCameraTest, BadFilesFailOneCaptureAndReplayMovesOn) {
  Write("1_big.jpg", jpeg_);
  std::vector<uint8_t> corrupt = {0xFF, 0xD8, 0xFF, 0xDA, 0, 4, 1, 2};  // scan before any SOF
  Write("2_corrupt.jpg", corrupt);
  Write("3_good.jpg", jpeg_);
  Write("4_big.png", jpeg_);  // extension lies: JPEG bytes decode as JPEG
  Result<DirectoryCamera> cam = DirectoryCamera::Create({dir_, ReplayOrder::kName, false, {}});
  ASSERT_TRUE(cam.ok());
  FramePool small = Pool(/*encoded=*/jpeg_.size() - 1);
  Frame* f = small.Acquire().value();
  EXPECT_EQ(cam->Capture(*f).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(cam->Capture(*f).code(), StatusCode::kDataLoss);
  EXPECT_EQ(cam->Capture(*f).code(), StatusCode::kResourceExhausted);  // still too big
  FramePool pool = Pool();
  Frame* g = pool.Acquire().value();
  EXPECT_TRUE(cam->Capture(*g).ok());
  EXPECT_EQ(cam->Capture(*g).code(), StatusCode::kOutOfRange);
}

TEST_F(DirectoryCameraTest, MissingOrEmptyDirectoryIsNotFound) {
  EXPECT_EQ(DirectoryCamera::Create({dir_ + "/nope", ReplayOrder::kName, false, {}}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(DirectoryCamera::Create({dir_, ReplayOrder::kName, false, {}}).status().code(),
            StatusCode::kNotFound);
}

TEST(TimestampFromFileName, ReadsSecondsAndMilliseconds) {
  EXPECT_EQ(TimestampFromFileName("opssat_1597679329520.jpeg"), 1597679329520LL * 1000);
  EXPECT_EQ(TimestampFromFileName("img_1597679329_x.png"), 1597679329LL * 1000000);
  EXPECT_EQ(TimestampFromFileName("frame_0042.png"), -1);
  EXPECT_EQ(TimestampFromFileName("12345678901234567.png"), -1);  // too long to be a time
}

TEST(DirectoryCameraReal, ReplaysRealWhiteFramesThroughTheThumbnailer) {
  TRIAGE_REQUIRE_SHARED();
  Result<DirectoryCamera> cam = DirectoryCamera::Create(
      {triage::testing::SharedPath("datasets/real/white"), ReplayOrder::kTimestamp, false, {}});
  ASSERT_TRUE(cam.ok()) << cam.status().message();
  FramePoolConfig pc;
  pc.frame_count = 1;
  pc.encoded_bytes = 1 << 20;
  pc.raw_max_width = 1024;
  pc.raw_max_height = 1024;
  Result<FramePool> pool = FramePool::Create(pc);
  ThumbnailConfig tc;
  tc.max_source_width = tc.max_source_height = 1024;
  Result<Thumbnailer> thumb = Thumbnailer::Create(tc);
  ASSERT_TRUE(pool.ok() && thumb.ok());
  std::vector<uint8_t> out(thumb->output_bytes());
  Frame* f = pool->Acquire().value();
  int frames = 0;
  int64_t last_ts = 0;
  for (Status s = cam->Capture(*f); s.code() != StatusCode::kOutOfRange; s = cam->Capture(*f)) {
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_GE(f->meta.timestamp_us, last_ts);
    last_ts = f->meta.timestamp_us;
    const Status t = thumb->Run(*f, Span<uint8_t>(out));
    ASSERT_TRUE(t.ok()) << f->meta.source << ": " << t.message();
    ++frames;
  }
  EXPECT_EQ(static_cast<size_t>(frames), cam->file_count());
  EXPECT_GE(frames, 20);
}

}  // namespace
}  // namespace triage::imaging
