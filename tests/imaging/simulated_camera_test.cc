#include "imaging/simulated_camera.h"

#include <gtest/gtest.h>

#include <vector>

#include "imaging/jpeg_codec.h"
#include "imaging/thumbnail.h"
#include "tests/support/alloc_guard.h"

namespace triage::imaging {
namespace {

SimulatedCameraConfig SmallCamera(uint64_t seed) {
  SimulatedCameraConfig c;
  c.seed = seed;
  c.width = 320;
  c.height = 256;
  c.render_divisor = 2;
  return c;
}

FramePool Pool() {
  FramePoolConfig c;
  c.frame_count = 2;
  c.encoded_bytes = 1 << 20;
  return std::move(FramePool::Create(c).value());
}

TEST(SimulatedCamera, CapturesDecodableJpegFramesWithTruth) {
  Result<SimulatedCamera> cam = SimulatedCamera::Create(SmallCamera(1));
  ASSERT_TRUE(cam.ok()) << cam.status().message();
  FramePool pool = Pool();
  Frame* f = pool.Acquire().value();
  ASSERT_TRUE(cam->Capture(*f).ok());
  EXPECT_EQ(f->encoding, FrameEncoding::kJpeg);
  EXPECT_EQ(f->width, 320);
  EXPECT_EQ(f->height, 256);
  EXPECT_TRUE(f->meta.has_truth);
  EXPECT_EQ(f->meta.truth_class, SceneClassOf(f->meta.truth_scene.kind));
  Result<JpegDecoder> dec = JpegDecoder::Create(320, 256);
  Result<JpegHeader> h = dec->ReadHeader(f->jpeg());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->width, 320);
  std::vector<uint8_t> rgb(320 * 256 * 3);
  EXPECT_TRUE(dec->Decode(f->jpeg(), JpegScale{1, 1}, Span<uint8_t>(rgb), 320 * 3, nullptr, nullptr).ok());
  ASSERT_TRUE(cam->Capture(*f).ok());
  EXPECT_EQ(f->meta.frame_id, 1u);
  EXPECT_EQ(f->meta.timestamp_us, SmallCamera(1).camera.frame_interval_us);
}

TEST(SimulatedCamera, SameSeedGivesTheSameFrameSequence) {
  Result<SimulatedCamera> a = SimulatedCamera::Create(SmallCamera(9));
  Result<SimulatedCamera> b = SimulatedCamera::Create(SmallCamera(9));
  ASSERT_TRUE(a.ok() && b.ok());
  FramePool pa = Pool(), pb = Pool();
  Frame* fa = pa.Acquire().value();
  Frame* fb = pb.Acquire().value();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(a->Capture(*fa).ok());
    ASSERT_TRUE(b->Capture(*fb).ok());
    ASSERT_EQ(fa->encoded_size, fb->encoded_size);
    EXPECT_TRUE(std::equal(fa->jpeg().begin(), fa->jpeg().end(), fb->jpeg().begin()));
    EXPECT_EQ(fa->meta.truth_scene.seed, fb->meta.truth_scene.seed);
  }
}

TEST(SimulatedCamera, OrbitGivesDayAndNightFrames) {
  SimulatedCameraConfig c = SmallCamera(3);
  c.width = 64;
  c.height = 48;
  c.render_divisor = 1;
  c.distorted_rate = c.washed_out_rate = c.limb_rate = 0.f;
  c.camera.frame_interval_us = static_cast<int64_t>(c.orbit.period_s * 1e6 / 24);
  Result<SimulatedCamera> cam = SimulatedCamera::Create(c);
  ASSERT_TRUE(cam.ok());
  FramePool pool = Pool();
  Frame* f = pool.Acquire().value();
  int black = 0, lit = 0;
  for (int i = 0; i < 24; ++i) {
    ASSERT_TRUE(cam->Capture(*f).ok());
    const bool night = f->meta.truth_scene.sun_elevation_deg < 0.f;
    EXPECT_EQ(night, f->meta.truth_class == SceneClass::kBlack) << "frame " << i;
    (f->meta.truth_class == SceneClass::kBlack ? black : lit)++;
  }
  EXPECT_GT(black, 5);
  EXPECT_GT(lit, 5);
}

TEST(SimulatedCamera, FaultRateOneGivesOnlyDistortedFrames) {
  SimulatedCameraConfig c = SmallCamera(4);
  c.width = 64;
  c.height = 48;
  c.distorted_rate = 1.f;
  c.washed_out_rate = c.limb_rate = 0.f;
  Result<SimulatedCamera> cam = SimulatedCamera::Create(c);
  ASSERT_TRUE(cam.ok());
  FramePool pool = Pool();
  Frame* f = pool.Acquire().value();
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(cam->Capture(*f).ok());
    EXPECT_EQ(f->meta.truth_class, SceneClass::kDistorted);
    EXPECT_NE(f->meta.truth_scene.distortion, Distortion::kNone);
  }
}

TEST(SimulatedCamera, FrameTooSmallForTheJpegIsACleanError) {
  Result<SimulatedCamera> cam = SimulatedCamera::Create(SmallCamera(5));
  ASSERT_TRUE(cam.ok());
  FramePoolConfig pc;
  pc.frame_count = 1;
  pc.encoded_bytes = 100;
  Result<FramePool> pool = FramePool::Create(pc);
  Frame* f = pool->Acquire().value();
  EXPECT_EQ(cam->Capture(*f).code(), StatusCode::kResourceExhausted);
}

TEST(SimulatedCamera, CreateRejectsBadConfigs) {
  SimulatedCameraConfig c = SmallCamera(1);
  c.distorted_rate = 1.5f;
  EXPECT_FALSE(SimulatedCamera::Create(c).ok());
  c = SmallCamera(1);
  c.distorted_rate = c.washed_out_rate = 0.6f;
  EXPECT_FALSE(SimulatedCamera::Create(c).ok());
  c = SmallCamera(1);
  c.width = 4;
  EXPECT_FALSE(SimulatedCamera::Create(c).ok());
  c = SmallCamera(1);
  c.render_divisor = 0;
  EXPECT_FALSE(SimulatedCamera::Create(c).ok());
}

TEST(SimulatedCamera, CaptureAndThumbnailDoNotCallOperatorNew) {
  Result<SimulatedCamera> cam = SimulatedCamera::Create(SmallCamera(6));
  ThumbnailConfig tc;
  tc.width = 160;
  tc.height = 128;
  tc.max_source_width = 320;
  tc.max_source_height = 256;
  Result<Thumbnailer> thumb = Thumbnailer::Create(tc);
  ASSERT_TRUE(cam.ok() && thumb.ok());
  FramePool pool = Pool();
  Frame* f = pool.Acquire().value();
  std::vector<uint8_t> out(thumb->output_bytes());
  triage::testing::AllocGuard guard;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(cam->Capture(*f).ok());
    ASSERT_TRUE(thumb->Run(*f, Span<uint8_t>(out)).ok());
  }
  EXPECT_EQ(guard.count(), 0u);
}

}  // namespace
}  // namespace triage::imaging
