// Frame: one camera capture (encoded JPEG bytes or raw RGB pixels) plus its
// metadata. FramePool hands out frames whose buffers were all allocated at
// start-up, in the spirit of F Prime's BufferManager: a frame step never
// allocates, and running out of frames is a clean error, not a crash.
//
// Ownership: the pool owns every buffer. A Frame* from Acquire() is valid
// until Release(); its spans point into the pool's storage and must not be
// kept after Release().
// Thread safety: Acquire/Release are guarded by a mutex (a capture thread may
// acquire while the frame loop releases); a given Frame is used by one thread
// at a time.
#ifndef TRIAGE_IMAGING_FRAME_H_
#define TRIAGE_IMAGING_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "imaging/scene.h"

namespace triage::imaging {

struct FrameMetadata {
  uint64_t frame_id = 0;           // monotonically increasing per camera
  int64_t timestamp_us = 0;        // capture time, microseconds (Unix epoch for replay)
  float exposure_ms = 0.f;         // exposure time
  float gain[3] = {1.f, 1.f, 1.f}; // RGB analog gains
  float sensor_temperature_c = 0.f;
  char source[96] = {};            // where it came from (file name, "sim"), NUL-terminated
  bool has_truth = false;          // true for simulated frames
  SceneClass truth_class = SceneClass::kBlack;  // valid when has_truth
  SceneParams truth_scene;                      // valid when has_truth
};

enum class FrameEncoding : uint8_t {
  kEmpty,  // nothing captured yet
  kJpeg,   // `encoded` holds encoded_size JPEG bytes
  kRgb8,   // `pixels` holds width x height interleaved RGB, stride width*3
};

struct Frame {
  FrameMetadata meta;
  FrameEncoding encoding = FrameEncoding::kEmpty;
  int width = 0, height = 0;   // full-frame size in pixels (for kJpeg: from its header)
  size_t encoded_size = 0;     // valid bytes of `encoded` when kJpeg
  Span<uint8_t> encoded;       // fixed capacity, owned by the pool
  Span<uint8_t> pixels;        // fixed capacity for raw RGB (may be empty)

  Span<const uint8_t> jpeg() const { return Span<const uint8_t>(encoded.data(), encoded_size); }
  int stride() const { return width * 3; }
  // Forgets the content (keeps the buffers).
  void Clear();
};

struct FramePoolConfig {
  int frame_count = 4;                         // frames in flight (capture, process, downlink)
  size_t encoded_bytes = size_t{4} << 20;      // JPEG capacity per frame (4 MiB)
  int raw_max_width = 0;                       // raw RGB capacity per frame; 0 for
  int raw_max_height = 0;                      // JPEG-only cameras
};

class FramePool {
 public:
  // Allocates frame_count frames and all their buffers. Init-only.
  static Result<FramePool> Create(const FramePoolConfig& config);
  FramePool(FramePool&&) noexcept = default;
  FramePool& operator=(FramePool&&) noexcept = default;

  // A cleared free frame, or kResourceExhausted when all are in use.
  Result<Frame*> Acquire();
  // Returns a frame. kInvalidArgument for a frame not from this pool or one
  // that is already free (a double release); the pool is unchanged then.
  Status Release(Frame* frame);

  size_t capacity() const { return frames_.size(); }
  size_t available() const;
  size_t memory_bytes() const { return storage_.size() + frames_.size() * sizeof(Frame); }
  const FramePoolConfig& config() const { return config_; }

 private:
  FramePool() = default;
  FramePoolConfig config_;
  std::vector<uint8_t> storage_;
  std::vector<Frame> frames_;
  std::vector<uint8_t> in_use_;
  std::unique_ptr<std::mutex> mutex_;
};

// RAII holder that releases a frame back to its pool. Keeps a pointer to the
// pool: the pool must outlive the lease and must not be moved meanwhile.
class FrameLease {
 public:
  FrameLease() = default;
  FrameLease(FramePool* pool, Frame* frame) : pool_(pool), frame_(frame) {}
  FrameLease(FrameLease&& other) noexcept : pool_(other.pool_), frame_(other.frame_) {
    other.frame_ = nullptr;
  }
  FrameLease& operator=(FrameLease&& other) noexcept;
  FrameLease(const FrameLease&) = delete;
  FrameLease& operator=(const FrameLease&) = delete;
  ~FrameLease() { Reset(); }

  Frame* get() const { return frame_; }
  Frame& operator*() const { return *frame_; }
  Frame* operator->() const { return frame_; }
  explicit operator bool() const { return frame_ != nullptr; }
  void Reset();

 private:
  FramePool* pool_ = nullptr;
  Frame* frame_ = nullptr;
};

// Acquires a frame wrapped in a lease.
Result<FrameLease> AcquireLease(FramePool& pool);

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_FRAME_H_
