// Flight telemetry: counters for every outcome and drop reason, per-stage
// timing samples (for medians), and the per-frame JSON-lines record.
//
// Everything here is fixed-size after Init: the per-frame record is
// formatted with snprintf into an inline buffer and written with one
// write(2), so a frame step allocates nothing. Timing fields come from the
// loop's Clock; every other field is a deterministic function of the inputs,
// model and config.
#ifndef TRIAGE_APP_TELEMETRY_H_
#define TRIAGE_APP_TELEMETRY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "app/flight_stages.h"
#include "config/mission.h"
#include "core/status.h"

namespace triage::app {

// Why a frame (or one of its products) did not reach the queue.
enum class DropReason : uint8_t {
  kCaptureFailed = 0,    // the camera returned an error (not end of replay)
  kCorruptFrame,         // corrupt or truncated image (kDataLoss)
  kFrameTooLarge,        // frame exceeds a fixed buffer (kResourceExhausted)
  kThumbnailFailed,      // any other thumbnail error
  kPreprocessFailed,
  kInferenceFailed,
  kDiscardedByPolicy,    // below the class thresholds (catalog row kept)
  kDiscardedUncertain,   // uncertain, and uncertain.action is discard
  kCompressFailed,       // a product could not be encoded
  kQueueFull,            // quota: nothing lower-priority to evict
  kEnqueueFailed,        // other queue error (I/O)
  kCatalogFailed,        // the frame's catalog row could not be written
  kAbandonedAtShutdown,  // SIGTERM arrived before the frame was queued
};
constexpr int kDropReasonCount = 13;
const char* DropReasonName(DropReason reason);

struct FlightCounters {
  uint64_t frames_attempted = 0;   // capture attempts (frame ids used)
  uint64_t frames_captured = 0;
  uint64_t frames_classified = 0;
  uint64_t frames_failed = 0;      // captured or attempted, never classified
  uint64_t per_class[config::kMaxClasses] = {};
  uint64_t per_class_full[config::kMaxClasses] = {};
  uint64_t per_class_thumbnail[config::kMaxClasses] = {};
  uint64_t per_class_discarded[config::kMaxClasses] = {};
  uint64_t truth_frames = 0;       // simulated frames with a ground truth
  uint64_t truth_correct = 0;      // classified as their truth class
  uint64_t kept_full = 0;          // frames with a full-resolution product queued
  uint64_t thumbnail_only = 0;     // frames with only a thumbnail queued
  uint64_t discarded = 0;          // classified frames with nothing queued
  uint64_t uncertain = 0;
  uint64_t products_queued[2] = {};  // full, thumbnail
  uint64_t bytes_camera = 0;       // bytes of every captured frame as the camera produced it
  uint64_t bytes_queued = 0;       // payload bytes accepted by the queue
  uint64_t bytes_sent = 0;         // bytes on air (all packets, catalog included)
  uint64_t packets_sent = 0;
  uint64_t products_completed = 0;
  uint64_t downlink_slices = 0;    // RunWindow calls (pass fragments)
  uint64_t passes_completed = 0;
  uint64_t downlink_errors = 0;
  // The simulated channel's doing (downlink.channel), invisible on board.
  uint64_t channel_lost = 0;
  uint64_t channel_corrupted = 0;
  uint64_t channel_duplicated = 0;
  uint64_t channel_reordered = 0;
  uint64_t drops[kDropReasonCount] = {};
  uint64_t reloads_applied = 0;
  uint64_t reloads_rejected = 0;
  uint64_t retransmit_requests = 0;
  // Fault layer: frames captured in safe mode (not classified; thumbnail and
  // catalog row only) and frames whose redundant inference had no verified
  // output (no majority): kept thumbnail-only, marked unverified.
  uint64_t safe_mode_frames = 0;
  uint64_t frames_unverified = 0;
  uint64_t thumbnail_unclassified = 0;  // thumbnails queued for either kind
  // Memory, from /proc/self/status: VmHWM (peak resident, shared libraries
  // included) and the largest RssAnon sampled between frames (the process's
  // own heap and buffers). 0 where /proc is unavailable.
  uint64_t peak_rss_bytes = 0;
  uint64_t peak_anon_bytes = 0;
};

// Reads VmHWM and RssAnon from /proc/self/status with one open/read into a
// stack buffer (no allocation). False if unavailable.
bool ReadProcessMemory(uint64_t* vm_hwm_bytes, uint64_t* rss_anon_bytes) noexcept;

// Per-stage elapsed times (microseconds). Capacity is fixed at Init; past
// it, samples overwrite a deterministic slot (frame count modulo capacity),
// so the median stays representative of the whole run.
class StageTimes {
 public:
  void Init(size_t capacity_per_stage);
  void Add(FlightStage stage, int64_t elapsed_ns) noexcept;
  // Median in milliseconds (allocates a sorted copy: summary time only).
  double MedianMs(FlightStage stage) const;
  double TotalMs(FlightStage stage) const { return static_cast<double>(total_us_[static_cast<int>(stage)]) / 1000.0; }
  uint64_t count(FlightStage stage) const { return count_[static_cast<int>(stage)]; }

 private:
  std::vector<uint32_t> samples_[kFlightStageCount];
  uint64_t count_[kFlightStageCount] = {};
  uint64_t total_us_[kFlightStageCount] = {};
  size_t capacity_ = 0;
};

// One frame's outcome, formatted as one JSON line.
struct FrameRecord {
  uint64_t frame_id = 0;
  double mission_time_s = 0;
  int64_t capture_us = 0;
  const char* source = "";
  const char* truth = nullptr;     // simulated ground truth, or null
  const char* class_name = nullptr;  // null when not classified
  int class_id = -1;
  float confidence = 0.f;
  float runner_up = 0.f;
  bool uncertain = false;
  const char* decision = "failed";  // full, thumbnail, discard, failed, abandoned
  const char* reason = "";          // also "unverified" (no majority) and "safe_mode"
  // Fault layer: the redundancy outcome of inference (InferenceRunner::
  // outcome(): single, agreed, corrected, no_majority, failed), null when
  // inference did not run; unverified: no decision could be made from it.
  const char* vote = nullptr;
  bool unverified = false;
  bool safe_mode = false;
  struct Product {
    const char* kind = "";
    uint32_t id = 0;
    uint64_t bytes = 0;
    uint8_t priority = 0;
    const char* codec = "";
  };
  Product products[2];
  int product_count = 0;
  uint64_t camera_bytes = 0;
  uint64_t queued_bytes = 0;
  int drop_count = 0;
  DropReason drops[4] = {};
  const char* error = nullptr;     // Status message of the failure, if any
  const char* config_hash = "";    // 16 hex digits
  const char* model_hash = "";
  int64_t stage_ns[kFlightStageCount] = {};
  bool stage_ran[kFlightStageCount] = {};
};

class TelemetryWriter {
 public:
  TelemetryWriter() = default;
  ~TelemetryWriter();
  TelemetryWriter(const TelemetryWriter&) = delete;
  TelemetryWriter& operator=(const TelemetryWriter&) = delete;

  // Opens (appends to) the file; an empty path disables writing. A torn last
  // line from a killed run is closed with a newline first.
  Status Open(const std::string& path) noexcept;
  // Formats and writes one line. Never allocates.
  Status Write(const FrameRecord& record) noexcept;
  // Formats into the internal buffer without writing (tests).
  const char* Format(const FrameRecord& record) noexcept;
  bool enabled() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  char line_[4096];
  size_t length_ = 0;
};

}  // namespace triage::app

#endif  // TRIAGE_APP_TELEMETRY_H_
