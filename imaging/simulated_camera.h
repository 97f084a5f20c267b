// SimulatedCamera: a Camera whose frames come from the orbital simulator.
// Each Capture() advances the orbit by one frame interval, picks a scene that
// fits the day/night state and the configured fault rates, renders it, and
// JPEG-encodes the full frame into the Frame like a real camera would. The
// frame's metadata carries the ground-truth class and scene parameters.
//
// Phase: Create() allocates the render buffer (width x height x 3) and the
// JPEG encoder's tjBufSize() buffer. Capture() allocates nothing through
// operator new (libjpeg-turbo mallocs its compressor pools per call).
// Deterministic: the same config (seed) gives the same frame sequence.
// Not thread safe.
#ifndef TRIAGE_IMAGING_SIMULATED_CAMERA_H_
#define TRIAGE_IMAGING_SIMULATED_CAMERA_H_

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "imaging/camera.h"
#include "imaging/jpeg_codec.h"
#include "imaging/resample.h"
#include "imaging/simulator.h"

namespace triage::imaging {

struct SimulatedCameraConfig {
  CameraConfig camera;
  SimulatorConfig simulator;
  OrbitConfig orbit;
  uint64_t seed = 1;
  int width = 2448;                 // rendered frame size (the sensor's full frame)
  int height = 2050;
  int jpeg_quality = 90;
  // Scenes are rendered at width/render_divisor x height/render_divisor and
  // bilinearly enlarged to the full frame: the flight path decodes at 1/4
  // anyway, and a full-resolution render costs ~16x more (seconds per frame
  // on the Cortex-A9). 1 renders every pixel.
  int render_divisor = 4;
  float distorted_rate = 0.05f;     // per capture: readout fault or stray light
  float washed_out_rate = 0.03f;    // per capture, day side: over-exposure
  float limb_rate = 0.03f;          // per capture, day side: pointing off nadir
  float sensor_temperature_c = 15.f;  // mean; swings with the orbit
  float temperature_swing_c = 8.f;
};

class SimulatedCamera final : public Camera {
 public:
  static Result<SimulatedCamera> Create(const SimulatedCameraConfig& config);

  // kResourceExhausted if the JPEG does not fit frame.encoded.
  Status Capture(Frame& frame) override;
  const char* name() const override { return "sim"; }
  // Next capture renders frame `next_index` (frames are a pure function of
  // seed and index, so this is exact).
  Status Seek(uint64_t next_index) override {
    frame_index_ = next_index;
    return Status::Ok();
  }

  uint64_t frames_captured() const { return frame_index_; }
  const RenderStats& last_stats() const { return last_stats_; }
  // The last full-size frame before JPEG, width x height x 3.
  Span<const uint8_t> last_frame() const {
    return config_.render_divisor > 1 ? Span<const uint8_t>(frame_rgb_) : Span<const uint8_t>(render_);
  }

 private:
  explicit SimulatedCamera(JpegEncoder encoder) : encoder_(std::move(encoder)) {}
  SceneParams ChooseScene(uint64_t index, const OrbitState& orbit) const;

  SimulatedCameraConfig config_;
  JpegEncoder encoder_;
  std::vector<uint8_t> render_;     // render size x 3
  std::vector<uint8_t> frame_rgb_;  // full size x 3 (aliases nothing; empty when divisor is 1)
  Resampler upscaler_;
  int render_width_ = 0, render_height_ = 0;
  RenderStats last_stats_;
  uint64_t frame_index_ = 0;
};

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_SIMULATED_CAMERA_H_
