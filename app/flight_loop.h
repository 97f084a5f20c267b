// FlightLoop: the flight process's frame loop, one top-down sequence of
// stages per frame:
//
//   capture -> thumbnail -> preprocess -> infer -> decide -> compress ->
//   enqueue (+ catalog row) -> downlink (pass slice) -> telemetry
//
// then, between frames, the safe point: hooks (fault layer: scrubber,
// heartbeats, health check), config reload and retransmission requests from
// the uplink folder. See docs/FLIGHT.md for the design, decision and memory
// notes.
//
// Fault layer: Create builds a FaultHooks (app/fault_hooks.h: a fault::Guard
// from the config's `fault:` section) and installs it as the loop's hooks,
// in front of FlightOptions::hooks. Inference then runs redundantly per
// fault.redundancy; a vote without a majority keeps the frame thumbnail-only
// and marks it unverified (never a decision from it); in safe mode frames
// are captured, thumbnailed and catalogued but not classified.
//
// Lifecycle: Create() builds and allocates everything (camera, frame pool,
// thumbnailer, classifier + arena, encoders, downlink queue/catalog/link,
// telemetry, log) and resumes after the frames a previous run recorded.
// Step()/BetweenFrames()/Run() are noexcept and allocate nothing in steady
// state (a reload, which rebuilds objects, is the documented exception).
// A bad frame is counted, evented and recorded; the loop goes on.
//
// Output directory layout (FlightOptions::out_dir):
//   <storage.dir>/  queue items, catalog journal, link state
//   radio.bin, sent.csv   packet stream and send log (the "radio")
//   <logging.dir>/triage-flight.log (rotating), <telemetry_file>
//   <uplink.dir>/   mission.yaml and retransmit.bin in; applied/, rejected/
//   catalog.csv     written by Finish()
//
// Thread safety: one thread owns the loop. Determinism: with the same
// inputs, model and config, decisions, telemetry (except stage_ms) and the
// radio bytes are identical run to run.
#ifndef TRIAGE_APP_FLIGHT_LOOP_H_
#define TRIAGE_APP_FLIGHT_LOOP_H_

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/flight_types.h"
#include "app/fault_hooks.h"
#include "app/flight_log.h"
#include "app/flight_stages.h"
#include "app/telemetry.h"
#include "config/mission.h"
#include "core/clock.h"
#include "core/event.h"
#include "downlink/catalog.h"
#include "downlink/link_simulator.h"
#include "downlink/queue.h"
#include "imaging/camera.h"
#include "imaging/frame.h"
#include "imaging/thumbnail.h"

namespace triage::app {

// App events (ids (kApp << 8) | n).
constexpr uint16_t kEventStarted = MakeEventId(EventSource::kApp, 1);
constexpr uint16_t kEventResumed = MakeEventId(EventSource::kApp, 2);
constexpr uint16_t kEventCaptureFailed = MakeEventId(EventSource::kApp, 3);
constexpr uint16_t kEventCorruptFrame = MakeEventId(EventSource::kApp, 4);
constexpr uint16_t kEventInferenceFailed = MakeEventId(EventSource::kApp, 5);
constexpr uint16_t kEventCompressFailed = MakeEventId(EventSource::kApp, 6);
constexpr uint16_t kEventEnqueueFailed = MakeEventId(EventSource::kApp, 7);
constexpr uint16_t kEventCatalogFailed = MakeEventId(EventSource::kApp, 8);
constexpr uint16_t kEventDownlinkFailed = MakeEventId(EventSource::kApp, 9);
constexpr uint16_t kEventPassCompleted = MakeEventId(EventSource::kApp, 10);
constexpr uint16_t kEventShutdown = MakeEventId(EventSource::kApp, 11);
constexpr uint16_t kEventRetransmitAccepted = MakeEventId(EventSource::kApp, 12);
constexpr uint16_t kEventRetransmitRejected = MakeEventId(EventSource::kApp, 13);
constexpr uint16_t kEventQueueRecovered = MakeEventId(EventSource::kApp, 14);

// Catalog decision byte for a frame that failed before it was classified
// (downlink/catalog.h leaves values past kFullAndThumbnail to the app).
constexpr uint8_t kCatalogDecisionFailed = 4;
// Catalog class id for an unclassified frame.
constexpr uint16_t kUnclassified = 0xFFFF;

struct FlightOptions {
  std::string out_dir = "out/flight";
  // Base directory for the input paths of configs uplinked for reload.
  std::string config_base_dir = ".";
  uint64_t max_frames = 0;  // frames to attempt in this run; 0 = no limit
  int until_pass = -1;      // stop after pass K ends; -1 = no limit
  bool progress = false;    // progress lines on stderr (logging.progress_every_frames)
  bool log_to_stderr = false;  // echo warnings/errors to stderr
  const Clock* clock = nullptr;  // default: SteadyClock
  FlightHooks* hooks = nullptr;  // called after the fault layer's hooks; default none
  // Fault layer state (boot counter, safe-mode record); "" = <out_dir>/fault.
  std::string fault_state_dir;
  size_t timing_samples = 1 << 16;  // per stage, for medians
};

enum class StepOutcome : uint8_t { kProcessed, kFailed, kEndOfInput, kStopped, kSafeMode };
// kRestart: the health monitor asked for a pipeline restart (the process
// exits non-zero and the supervisor starts it again).
enum class StopReason : uint8_t { kNone, kFrameLimit, kPassLimit, kEndOfInput, kSignal, kRestart };
const char* StopReasonName(StopReason reason);

class FlightLoop {
 public:
  // `camera` overrides the configured source (tests; a real sensor driver).
  // Fails, naming the problem, on anything that would stop the mission:
  // unusable output directory, model failing verification, queue or catalog
  // that cannot be opened. `loaded` must be ok().
  static Result<std::unique_ptr<FlightLoop>> Create(config::LoadedConfig loaded, const FlightOptions& options,
                                                    std::unique_ptr<imaging::Camera> camera = nullptr) noexcept;
  ~FlightLoop();
  FlightLoop(const FlightLoop&) = delete;
  FlightLoop& operator=(const FlightLoop&) = delete;

  // Frames until a limit, the end of the source or *stop becomes non-zero
  // (checked between stages: a frame not yet queued is abandoned, one being
  // queued is finished).
  StopReason Run(const volatile std::sig_atomic_t* stop) noexcept;
  StepOutcome Step() noexcept;
  void BetweenFrames() noexcept;
  // Exports the catalog CSV, shuts the fault layer down cleanly (not a
  // reset for the boot counter), flushes logs. Call once after Run.
  Status Finish() noexcept;
  void set_stop_flag(const volatile std::sig_atomic_t* stop) { stop_ = stop; }

  const FlightCounters& counters() const { return counters_; }
  const StageTimes& stage_times() const { return times_; }
  const config::MissionConfig& config() const { return loaded_.config; }
  const std::string& config_hash_hex() const { return config_hash_hex_; }
  const std::string& config_source() const { return loaded_.source; }
  Classifier& classifier() { return *classifier_; }
  const Classifier& classifier() const { return *classifier_; }
  EventLog& events() { return *events_; }
  FaultHooks& fault() { return *fault_; }
  const FaultHooks& fault() const { return *fault_; }
  const downlink::DownlinkQueue& queue() const { return queue_; }
  const downlink::Catalog& catalog() const { return catalog_; }
  uint64_t next_frame_id() const { return next_frame_id_; }
  uint64_t resumed_at() const { return resumed_at_; }
  bool pass_limit_reached() const { return pass_limit_reached_; }
  double MissionTime(uint64_t frame_id) const;
  const std::string& out_dir() const { return out_dir_; }
  const FrameRecord& last_record() const { return record_; }

 private:
  FlightLoop() = default;
  Status Init(std::unique_ptr<imaging::Camera> camera) noexcept;
  Status Resume() noexcept;

  // One stage: hooks, clock, and the frame record's stage time.
  template <typename Fn>
  Status Timed(FlightStage stage, Fn&& fn) noexcept;
  bool StopRequested() const { return stop_ != nullptr && *stop_ != 0; }
  void CountDrop(DropReason reason) noexcept;
  // Records a frame that failed before classification (catalog row, event).
  void FailFrame(DropReason reason, const Status& status, uint16_t event_id) noexcept;
  // Frame path after capture; false if the frame failed. In safe mode the
  // frame is not classified (thumbnail and catalog row only).
  bool ProcessFrame(const imaging::Frame& frame, bool safe_mode) noexcept;
  // An unclassified frame (safe mode, or a vote without a majority): its
  // thumbnail and a catalog row with class kUnclassified.
  bool KeepThumbnailOnly(const imaging::Frame& frame, const char* reason) noexcept;
  void QueueProduct(const imaging::Frame& frame, downlink::ProductKind kind, const config::CodecSpec& spec,
                    uint16_t class_id, float confidence, uint8_t priority, uint64_t* queued_bytes) noexcept;
  void RunDownlinkStage() noexcept;
  void UpdatePassCursor() noexcept;
  void FinishFrameTimes() noexcept;
  void Progress() noexcept;
  void PollUplink() noexcept;
  void SampleMemory() noexcept;
  void TryReload(const std::string& path) noexcept;
  void TryRetransmit(const std::string& path) noexcept;
  std::string Consume(const std::string& path, const char* verdict, const char* stem) noexcept;

  config::LoadedConfig loaded_;
  FlightOptions options_;
  std::string out_dir_;
  const Clock* clock_ = nullptr;
  std::unique_ptr<FaultHooks> fault_;  // the loop's hooks; forwards to options_.hooks
  FlightHooks* hooks_ = nullptr;
  std::unique_ptr<FlightLog> log_;
  std::unique_ptr<EventLog> events_;
  downlink::Config downlink_config_;  // storage_dir resolved under out_dir
  downlink::Catalog catalog_;
  downlink::DownlinkQueue queue_;
  downlink::LinkSimulator link_;
  std::unique_ptr<imaging::Camera> camera_;
  std::unique_ptr<imaging::FramePool> pool_;
  std::unique_ptr<imaging::Thumbnailer> thumbnailer_;
  std::vector<uint8_t> thumbnail_;
  std::unique_ptr<Classifier> classifier_;
  std::unique_ptr<ProductEncoder> encoder_;
  TelemetryWriter telemetry_;
  FlightCounters counters_;
  StageTimes times_;
  FrameRecord record_;
  char error_text_[Status::kMaxMessage] = {};
  downlink::Digest256 config_hash_{};
  std::string config_hash_hex_;
  char config_hash16_[17] = {};
  char model_hash16_[17] = {};
  std::string uplink_dir_;
  uint64_t next_frame_id_ = 0;
  uint64_t resumed_at_ = 0;
  uint64_t frames_this_run_ = 0;
  int64_t newest_capture_us_ = INT64_MIN;
  size_t pass_cursor_ = 0;
  bool pass_limit_reached_ = false;
  int polls_since_ = 0;
  uint64_t uplink_seq_ = 0;
  const volatile std::sig_atomic_t* stop_ = nullptr;
  const imaging::Frame* current_frame_ = nullptr;
};

}  // namespace triage::app

#endif  // TRIAGE_APP_FLIGHT_LOOP_H_
