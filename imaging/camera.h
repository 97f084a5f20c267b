// Camera: the seam between the frame loop and whatever produces frames.
//
// Implementations: DirectoryCamera (replays image files), SimulatedCamera
// (renders orbital scenes). A real sensor driver implements the same
// interface: Capture() triggers an exposure (or takes the latest DMA'd
// frame), copies or decodes nothing it does not have to, and fills the
// frame's fixed buffers and metadata. The frame loop never knows which one it
// has.
//
// Contract for Capture(Frame& frame):
//   * `frame` comes from a FramePool, already cleared; the camera writes
//     either encoded JPEG bytes (encoding kJpeg, encoded_size, width/height
//     from the header) or raw RGB (encoding kRgb8, width/height), plus meta.
//   * Never allocates after Create (DirectoryCamera's PNG/BMP path excepted,
//     documented there) and never throws.
//   * A bad frame is a Status for that capture only: the next Capture works.
//     kOutOfRange means "no more frames" (end of a replay).
#ifndef TRIAGE_IMAGING_CAMERA_H_
#define TRIAGE_IMAGING_CAMERA_H_

#include "core/status.h"
#include "imaging/frame.h"

namespace triage::imaging {

// Settings every camera honours.
struct CameraConfig {
  float exposure_ms = 2.0f;                  // reported in metadata (real sensor: applied)
  float gain[3] = {1.0f, 1.0f, 1.0f};        // RGB analog gains
  int64_t start_time_us = 0;                 // timestamp of frame 0 when the source has none
  int64_t frame_interval_us = 5'000'000;     // capture cadence (5 s)
};

class Camera {
 public:
  virtual ~Camera() = default;
  virtual Status Capture(Frame& frame) = 0;
  // Short name for events and logs ("directory", "sim").
  virtual const char* name() const = 0;
  // Positions the source so that the next Capture() is capture number
  // `next_index` (0-based), as if that many captures had already been made.
  // Used when the flight process restarts and resumes after the frames it
  // has already recorded. Sources that cannot seek return kUnsupported.
  virtual Status Seek(uint64_t next_index) {
    (void)next_index;
    return Status::Error(StatusCode::kUnsupported, "%s camera cannot seek", name());
  }
};

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_CAMERA_H_
