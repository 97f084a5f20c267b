#include "app/flight_loop.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

#include "decision/camera_factory.h"
#include "downlink/durable_file.h"
#include "imaging/directory_camera.h"
#include "imaging/simulated_camera.h"

namespace triage::app {
namespace {

std::string Join(const std::string& base, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return base.empty() ? path : base + "/" + path;
}

bool Exists(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void Hash16(const downlink::Digest256& d, char out[17]) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = kHex[d[static_cast<size_t>(i)] >> 4];
    out[2 * i + 1] = kHex[d[static_cast<size_t>(i)] & 15];
  }
  out[16] = '\0';
}

const char* KindName(downlink::ProductKind kind) {
  return kind == downlink::ProductKind::kFull ? "full" : "thumbnail";
}

}  // namespace

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kNone: return "none";
    case StopReason::kFrameLimit: return "frame limit";
    case StopReason::kPassLimit: return "pass limit";
    case StopReason::kEndOfInput: return "end of input";
    case StopReason::kSignal: return "signal";
    case StopReason::kRestart: return "pipeline restart";
  }
  return "?";
}

Result<std::unique_ptr<FlightLoop>> FlightLoop::Create(config::LoadedConfig loaded, const FlightOptions& options,
                                                       std::unique_ptr<imaging::Camera> camera) noexcept {
  if (!loaded.ok()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: the config has %zu problem(s)", loaded.source.c_str(),
                         loaded.problems.size());
  }
  try {
    std::unique_ptr<FlightLoop> loop(new FlightLoop());
    loop->loaded_ = std::move(loaded);
    loop->options_ = options;
    TRIAGE_RETURN_IF_ERROR(loop->Init(std::move(camera)));
    return loop;
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kResourceExhausted, "out of memory while starting");
  } catch (const std::exception& e) {
    return Status::Error(StatusCode::kInternal, "while starting: %s", e.what());
  }
}

FlightLoop::~FlightLoop() = default;

Status FlightLoop::Init(std::unique_ptr<imaging::Camera> camera) noexcept {
  const config::MissionConfig& cfg = loaded_.config;
  out_dir_ = options_.out_dir.empty() ? "." : options_.out_dir;
  clock_ = options_.clock != nullptr ? options_.clock : &SteadyClock::Instance();
  TRIAGE_RETURN_IF_ERROR(downlink::MakeDirs(out_dir_.c_str()));

  // Logging and events first, so every later step can report.
  Result<std::unique_ptr<FlightLog>> log =
      FlightLog::Open(Join(out_dir_, cfg.logging.dir), cfg.logging, options_.log_to_stderr);
  if (!log.ok()) return log.status();
  log_ = std::move(log.value());
  events_.reset(new EventLog(*clock_, log_.get()));
  config_hash_ = loaded_.hash;
  config_hash_hex_ = config::HexDigest(config_hash_);
  Hash16(config_hash_, config_hash16_);
  log_->Log(config::LogLevel::kInfo, "mission %s: config %s (%s)", cfg.name.c_str(), loaded_.source.c_str(),
            config_hash_hex_.c_str());
  // The config's exact bytes, by hash, for ground replay (docs/FLIGHT.md).
  if (Status rs = config::RecordConfig(loaded_, Join(out_dir_, "config")); !rs.ok()) {
    log_->Log(config::LogLevel::kWarn, "config record: %s", rs.message());
  }

  // Downlink: catalog, queue (catalog listens for evictions), interrupted
  // evictions, link simulator. Recovery results are evented.
  downlink_config_ = cfg.downlink;
  downlink_config_.storage_dir = Join(out_dir_, cfg.downlink.storage_dir);
  TRIAGE_RETURN_IF_ERROR(catalog_.Open(downlink_config_));
  TRIAGE_RETURN_IF_ERROR(queue_.Open(downlink_config_, &catalog_));
  Result<uint32_t> finished = downlink::CompleteInterruptedEvictions(catalog_, &queue_);
  if (!finished.ok()) return finished.status();
  const std::string radio = Join(out_dir_, "radio.bin");
  const std::string sent = Join(out_dir_, "sent.csv");
  TRIAGE_RETURN_IF_ERROR(link_.Open(downlink_config_, &queue_, &catalog_, radio.c_str(), sent.c_str()));
  const downlink::QueueRecovery& qr = queue_.recovery();
  const downlink::CatalogRecovery& cr = catalog_.recovery();
  if (qr.temp_files_dropped + qr.corrupt_files_dropped + cr.corrupt_records_skipped + cr.torn_tail_bytes_dropped +
          finished.value() >
      0) {
    events_->Report(kEventQueueRecovered, Severity::kWarning, qr.temp_files_dropped, qr.corrupt_files_dropped,
                    static_cast<int64_t>(cr.torn_tail_bytes_dropped),
                    "recovery: %u torn temp, %u corrupt items dropped; catalog %llu bad records; %u evictions finished",
                    qr.temp_files_dropped, qr.corrupt_files_dropped,
                    static_cast<unsigned long long>(cr.corrupt_records_skipped), finished.value());
  }

  // Classifier (model verified again here: the file is read once more, and
  // the bytes we run are the bytes we hash).
  Result<std::unique_ptr<Classifier>> classifier =
      Classifier::Create(cfg.model, cfg.thumbnail.width, cfg.thumbnail.height);
  if (!classifier.ok()) return classifier.status();
  classifier_ = std::move(classifier.value());
  Hash16(classifier_->model_hash(), model_hash16_);

  // Fault layer (after the classifier, whose verification error is the
  // clearer one): the guard (its own protected copies of the model, the
  // redundant invoker, scrubber, health monitor, watchdog, boot counter,
  // supervisor heartbeat) becomes the loop's hooks, ahead of the caller's.
  FaultHooksOptions fo;
  fo.state_dir = options_.fault_state_dir.empty() ? Join(out_dir_, "fault") : options_.fault_state_dir;
  TRIAGE_RETURN_IF_ERROR(downlink::MakeDirs(fo.state_dir.c_str()));
  fo.clock = clock_;
  fo.events = events_.get();
  fo.next = options_.hooks;
  Result<std::unique_ptr<FaultHooks>> fault = FaultHooks::Create(cfg, fo);
  if (!fault.ok()) return fault.status();
  fault_ = std::move(fault.value());
  hooks_ = fault_.get();

  hooks_->OnClassifierReady(*classifier_);
  if (static_cast<size_t>(classifier_->num_classes()) != cfg.triage.classes.size()) {
    return Status::Error(StatusCode::kInvalidArgument, "model %s has %d classes but the triage policy has %zu",
                         cfg.model.path.c_str(), classifier_->num_classes(), cfg.triage.classes.size());
  }

  // Imaging: camera, frame pool, thumbnailer.
  if (camera) {
    camera_ = std::move(camera);
  } else {
    Result<std::unique_ptr<imaging::Camera>> made = decision::CreateCamera(cfg.camera);
    if (!made.ok()) return made.status();
    camera_ = std::move(made.value());
  }
  Result<imaging::FramePool> pool = imaging::FramePool::Create(cfg.camera.pool);
  if (!pool.ok()) return pool.status();
  pool_.reset(new imaging::FramePool(std::move(pool.value())));
  Result<imaging::Thumbnailer> thumb = imaging::Thumbnailer::Create(cfg.thumbnail);
  if (!thumb.ok()) return thumb.status();
  thumbnailer_.reset(new imaging::Thumbnailer(std::move(thumb.value())));
  thumbnail_.assign(thumbnailer_->output_bytes(), 0);

  Result<std::unique_ptr<ProductEncoder>> encoder = ProductEncoder::Create(LimitsFor(cfg));
  if (!encoder.ok()) return encoder.status();
  encoder_ = std::move(encoder.value());

  if (!cfg.logging.telemetry_file.empty()) {
    TRIAGE_RETURN_IF_ERROR(telemetry_.Open(Join(out_dir_, cfg.logging.telemetry_file)));
  }
  uplink_dir_ = Join(out_dir_, cfg.uplink.dir);
  TRIAGE_RETURN_IF_ERROR(downlink::MakeDirs(uplink_dir_.c_str()));
  times_.Init(options_.timing_samples);

  TRIAGE_RETURN_IF_ERROR(Resume());
  events_->Report(kEventStarted, Severity::kInfo, static_cast<int64_t>(next_frame_id_), classifier_->num_classes(),
                  static_cast<int64_t>(classifier_->arena_bytes()),
                  "started: camera %s, model %s, arena %zu B, redundancy %s%s", camera_->name(), model_hash16_,
                  classifier_->arena_bytes(), fault::RedundancyModeName(cfg.fault.redundancy),
                  fault_->guard().safe_mode() ? ", SAFE MODE" : "");
  return Status::Ok();
}

// After a restart: continue after the highest frame id the catalog or the
// queue knows, and give any queued product whose catalog row was lost (a
// crash between enqueue and catalog write) its row back.
Status FlightLoop::Resume() noexcept {
  bool any = false;
  uint64_t max_id = 0;
  for (size_t i = 0; i < catalog_.size(); ++i) {
    max_id = std::max(max_id, catalog_.row(i).frame_id);
    any = true;
  }
  uint32_t restored = 0;
  for (const downlink::QueueItem& item : queue_.items()) {
    if (item.meta.kind == downlink::ProductKind::kCatalog) continue;
    max_id = std::max(max_id, item.meta.frame_id);
    any = true;
  }
  // Second pass: rows for orphaned products (items() is stable: Record does
  // not touch the queue).
  for (const downlink::QueueItem& item : queue_.items()) {
    if (item.meta.kind == downlink::ProductKind::kCatalog) continue;
    const downlink::CatalogRow* existing = catalog_.Find(item.meta.frame_id);
    downlink::CatalogRow row;
    if (existing != nullptr) {
      row = *existing;
      const bool has_full = row.decision == 2 || row.decision == 3;
      const bool has_thumb = row.decision == 1 || row.decision == 3;
      const bool is_full = item.meta.kind == downlink::ProductKind::kFull;
      if ((is_full && has_full) || (!is_full && has_thumb)) continue;
      row.decision = static_cast<uint8_t>(is_full ? (has_thumb ? 3 : 2) : (has_full ? 3 : 1));
      row.bytes += static_cast<uint32_t>(item.meta.payload_bytes);
    } else {
      row.frame_id = item.meta.frame_id;
      row.timestamp = item.meta.timestamp;
      row.class_id = item.meta.class_id;
      row.confidence = item.meta.confidence;
      row.decision = item.meta.kind == downlink::ProductKind::kFull ? 2 : 1;
      row.bytes = static_cast<uint32_t>(item.meta.payload_bytes);
    }
    TRIAGE_RETURN_IF_ERROR(catalog_.Record(row));
    ++restored;
  }
  next_frame_id_ = any ? max_id + 1 : 0;
  resumed_at_ = next_frame_id_;
  if (next_frame_id_ > 0) {
    Status s = camera_->Seek(next_frame_id_);
    if (!s.ok() && s.code() != StatusCode::kUnsupported) return s;
    events_->Report(kEventResumed, Severity::kInfo, static_cast<int64_t>(next_frame_id_), restored,
                    static_cast<int64_t>(queue_.pending_count()),
                    "resumed at frame %llu (%u catalog rows restored, %zu products pending)%s",
                    static_cast<unsigned long long>(next_frame_id_), restored, queue_.pending_count(),
                    s.ok() ? "" : "; camera cannot seek");
  }
  UpdatePassCursor();
  return Status::Ok();
}

double FlightLoop::MissionTime(uint64_t frame_id) const {
  const config::CameraSection& c = loaded_.config.camera;
  return c.start_time_s + static_cast<double>(frame_id) * c.frame_interval_s;
}

void FlightLoop::UpdatePassCursor() noexcept {
  const auto& passes = loaded_.config.downlink.passes;
  const double now = MissionTime(next_frame_id_);
  pass_cursor_ = 0;
  while (pass_cursor_ < passes.size() && passes[pass_cursor_].end_s <= now) ++pass_cursor_;
  if (options_.until_pass >= 0 && static_cast<size_t>(options_.until_pass) < pass_cursor_) {
    pass_limit_reached_ = true;
  }
}

template <typename Fn>
Status FlightLoop::Timed(FlightStage stage, Fn&& fn) noexcept {
  const int i = static_cast<int>(stage);
  hooks_->OnStageBegin(stage, record_.frame_id);
  const int64_t start = clock_->NowNanos();
  Status s = fn();
  const int64_t elapsed = clock_->NowNanos() - start;
  record_.stage_ns[i] += elapsed;
  record_.stage_ran[i] = true;
  hooks_->OnStageEnd(stage, record_.frame_id, s, elapsed);
  return s;
}

void FlightLoop::CountDrop(DropReason reason) noexcept {
  ++counters_.drops[static_cast<int>(reason)];
  if (record_.drop_count < 4) record_.drops[record_.drop_count++] = reason;
}

void FlightLoop::FailFrame(DropReason reason, const Status& status, uint16_t event_id) noexcept {
  CountDrop(reason);
  ++counters_.frames_failed;
  std::snprintf(error_text_, sizeof(error_text_), "%s", status.message());
  record_.error = error_text_;
  record_.decision = "failed";
  events_->Report(event_id, Severity::kWarning, static_cast<int64_t>(record_.frame_id),
                  static_cast<int64_t>(status.code()), static_cast<int64_t>(reason), "frame %llu: %s: %s",
                  static_cast<unsigned long long>(record_.frame_id), DropReasonName(reason), status.message());
  // The frame still gets its catalog row, so the ground knows it existed.
  downlink::CatalogRow row;
  row.frame_id = record_.frame_id;
  row.timestamp = record_.capture_us > 0 ? static_cast<uint64_t>(record_.capture_us) : 0;
  row.class_id = kUnclassified;
  row.decision = kCatalogDecisionFailed;
  Status s = Timed(FlightStage::kEnqueue, [&] { return catalog_.Record(row); });
  if (!s.ok()) {
    CountDrop(DropReason::kCatalogFailed);
    events_->Report(kEventCatalogFailed, Severity::kError, static_cast<int64_t>(record_.frame_id), 0, 0,
                    "catalog: %s", s.message());
  }
}

StepOutcome FlightLoop::Step() noexcept {
  record_ = FrameRecord{};
  record_.frame_id = next_frame_id_;
  record_.mission_time_s = MissionTime(next_frame_id_);
  record_.config_hash = config_hash16_;
  record_.model_hash = model_hash16_;
  // Safe mode (fault layer): classification off; thumbnails and catalog only.
  const bool safe_mode = hooks_->InSafeMode();
  record_.safe_mode = safe_mode;

  // capture
  Result<imaging::Frame*> acquired = pool_->Acquire();
  if (!acquired.ok()) {
    // Every frame is released before the next capture, so this is a broken
    // invariant; count it as a capture failure and move on.
    ++next_frame_id_;
    ++counters_.frames_attempted;
    FailFrame(DropReason::kCaptureFailed, acquired.status(), kEventCaptureFailed);
    (void)telemetry_.Write(record_);
    return StepOutcome::kFailed;
  }
  imaging::FrameLease lease(pool_.get(), acquired.value());
  imaging::Frame& frame = *lease;
  Status captured = Timed(FlightStage::kCapture, [&] { return camera_->Capture(frame); });
  if (captured.code() == StatusCode::kOutOfRange) return StepOutcome::kEndOfInput;
  ++next_frame_id_;
  ++counters_.frames_attempted;
  ++frames_this_run_;
  bool ok;
  if (!captured.ok()) {
    const DropReason reason = captured.code() == StatusCode::kDataLoss            ? DropReason::kCorruptFrame
                              : captured.code() == StatusCode::kResourceExhausted ? DropReason::kFrameTooLarge
                                                                                  : DropReason::kCaptureFailed;
    FailFrame(reason, captured,
              reason == DropReason::kCorruptFrame ? kEventCorruptFrame : kEventCaptureFailed);
    ok = false;
  } else {
    current_frame_ = &frame;
    ok = ProcessFrame(frame, safe_mode);
    current_frame_ = nullptr;
  }
  lease.Reset();
  if (std::strcmp(record_.decision, "abandoned") == 0) {
    FinishFrameTimes();
    (void)telemetry_.Write(record_);
    return StepOutcome::kStopped;
  }

  // downlink: the slice of any pass that overlaps this frame's interval
  RunDownlinkStage();
  FinishFrameTimes();
  if (Status s = telemetry_.Write(record_); !s.ok()) {
    events_->Report(kEventCatalogFailed, Severity::kWarning, static_cast<int64_t>(record_.frame_id), 0, 0,
                    "telemetry: %s", s.message());
  }
  Progress();
  if (!ok) return StepOutcome::kFailed;
  return safe_mode ? StepOutcome::kSafeMode : StepOutcome::kProcessed;
}

bool FlightLoop::ProcessFrame(const imaging::Frame& frame, bool safe_mode) noexcept {
  const config::MissionConfig& cfg = loaded_.config;
  ++counters_.frames_captured;
  record_.capture_us = frame.meta.timestamp_us;
  record_.source = frame.meta.source;
  if (frame.meta.has_truth) record_.truth = imaging::SceneClassName(frame.meta.truth_class);
  record_.camera_bytes = frame.encoding == imaging::FrameEncoding::kJpeg
                             ? frame.encoded_size
                             : static_cast<uint64_t>(frame.width) * static_cast<uint64_t>(frame.height) * 3;
  counters_.bytes_camera += record_.camera_bytes;
  newest_capture_us_ = std::max(newest_capture_us_, frame.meta.timestamp_us);

  // thumbnail
  Status s = Timed(FlightStage::kThumbnail,
                   [&] { return thumbnailer_->Run(frame, Span<uint8_t>(thumbnail_.data(), thumbnail_.size())); });
  if (!s.ok()) {
    const DropReason reason = s.code() == StatusCode::kDataLoss            ? DropReason::kCorruptFrame
                              : s.code() == StatusCode::kResourceExhausted ? DropReason::kFrameTooLarge
                                                                           : DropReason::kThumbnailFailed;
    FailFrame(reason, s, kEventCorruptFrame);
    return false;
  }
  if (StopRequested()) {
    record_.decision = "abandoned";
    CountDrop(DropReason::kAbandonedAtShutdown);
    return false;
  }
  if (safe_mode) {
    ++counters_.safe_mode_frames;
    return KeepThumbnailOnly(frame, "safe_mode");
  }
  const int tw = thumbnailer_->config().width, th = thumbnailer_->config().height;

  // preprocess
  s = Timed(FlightStage::kPreprocess, [&] { return classifier_->Preprocess(thumbnail_.data(), tw, th, tw * 3); });
  if (!s.ok()) {
    FailFrame(DropReason::kPreprocessFailed, s, kEventInferenceFailed);
    return false;
  }
  // infer
  Classification c;
  s = Timed(FlightStage::kInfer, [&] {
    TRIAGE_RETURN_IF_ERROR(classifier_->Infer());
    Result<Classification> r = classifier_->Read();
    if (!r.ok()) return r.status();
    c = r.value();
    return Status::Ok();
  });
  record_.vote = classifier_->inference_outcome();
  if (s.code() == StatusCode::kDataLoss || s.code() == StatusCode::kFailedPrecondition) {
    // No verified output (a vote without a majority, every run failed, or
    // safe mode entered meanwhile): never a decision from it. The frame is
    // kept thumbnail-only and marked.
    ++counters_.frames_unverified;
    record_.unverified = true;
    events_->Report(kEventFrameUnverified, Severity::kWarning, static_cast<int64_t>(record_.frame_id),
                    static_cast<int64_t>(s.code()), 0, "frame %llu: %s: kept thumbnail-only, unclassified",
                    static_cast<unsigned long long>(record_.frame_id), s.message());
    return KeepThumbnailOnly(frame, s.code() == StatusCode::kDataLoss ? "unverified" : "safe_mode");
  }
  if (!s.ok()) {
    FailFrame(DropReason::kInferenceFailed, s, kEventInferenceFailed);
    return false;
  }
  // decide
  Decision d;
  const double age_s = static_cast<double>(newest_capture_us_ - frame.meta.timestamp_us) * 1e-6;
  (void)Timed(FlightStage::kDecide, [&] {
    d = Decide(cfg.triage, c, age_s);
    return Status::Ok();
  });
  ++counters_.frames_classified;
  const size_t cls = static_cast<size_t>(c.class_id);
  ++counters_.per_class[cls];
  if (d.uncertain) ++counters_.uncertain;
  if (frame.meta.has_truth) {
    ++counters_.truth_frames;
    if (std::strcmp(classifier_->label(c.class_id), imaging::SceneClassName(frame.meta.truth_class)) == 0) {
      ++counters_.truth_correct;
    }
  }
  record_.class_name = classifier_->label(c.class_id);
  record_.class_id = c.class_id;
  record_.confidence = c.confidence;
  record_.runner_up = c.runner_up;
  record_.uncertain = d.uncertain;
  record_.reason = DecisionReasonName(d.reason);
  if (StopRequested()) {
    record_.decision = "abandoned";
    CountDrop(DropReason::kAbandonedAtShutdown);
    return false;
  }

  // compress + enqueue: full first (it is the larger, more valuable one),
  // then the thumbnail; each is durable when Enqueue returns.
  uint64_t queued = 0;
  const config::ClassPolicy& policy = cfg.triage.classes[cls];
  const auto class_id = static_cast<uint16_t>(c.class_id);
  if (d.queue_full) {
    QueueProduct(frame, downlink::ProductKind::kFull, policy.full_codec, class_id, c.confidence, d.full_priority,
                 &queued);
  }
  if (d.queue_thumbnail) {
    QueueProduct(frame, downlink::ProductKind::kThumbnail, policy.thumbnail_codec, class_id, c.confidence,
                 d.thumbnail_priority, &queued);
  }
  bool full_queued = false, thumb_queued = false;
  for (int i = 0; i < record_.product_count; ++i) {
    if (std::strcmp(record_.products[i].kind, "full") == 0) full_queued = true;
    if (std::strcmp(record_.products[i].kind, "thumbnail") == 0) thumb_queued = true;
  }
  record_.queued_bytes = queued;
  if (full_queued) {
    ++counters_.kept_full;
    ++counters_.per_class_full[cls];
    record_.decision = "full";
  } else if (thumb_queued) {
    ++counters_.thumbnail_only;
    ++counters_.per_class_thumbnail[cls];
    record_.decision = "thumbnail";
  } else {
    ++counters_.discarded;
    ++counters_.per_class_discarded[cls];
    record_.decision = "discard";
    if (!d.queue_full && !d.queue_thumbnail) {
      CountDrop(d.uncertain ? DropReason::kDiscardedUncertain : DropReason::kDiscardedByPolicy);
    }
  }

  // catalog row: after the products, so a crash in between leaves products
  // whose row Resume() restores, never a row that claims missing products.
  downlink::CatalogRow row;
  row.frame_id = record_.frame_id;
  row.timestamp = frame.meta.timestamp_us > 0 ? static_cast<uint64_t>(frame.meta.timestamp_us) : 0;
  row.class_id = static_cast<uint16_t>(c.class_id);
  row.confidence = c.confidence;
  row.decision = static_cast<uint8_t>(full_queued ? (thumb_queued ? downlink::FrameDecision::kFullAndThumbnail
                                                                  : downlink::FrameDecision::kFull)
                                                  : (thumb_queued ? downlink::FrameDecision::kThumbnail
                                                                  : downlink::FrameDecision::kDiscarded));
  row.bytes = static_cast<uint32_t>(std::min<uint64_t>(queued, UINT32_MAX));
  s = Timed(FlightStage::kEnqueue, [&] { return catalog_.Record(row); });
  if (!s.ok()) {
    CountDrop(DropReason::kCatalogFailed);
    std::snprintf(error_text_, sizeof(error_text_), "%s", s.message());
    record_.error = error_text_;
    events_->Report(kEventCatalogFailed, Severity::kError, static_cast<int64_t>(record_.frame_id), 0, 0,
                    "catalog: %s", s.message());
  }
  return true;
}

bool FlightLoop::KeepThumbnailOnly(const imaging::Frame& frame, const char* reason) noexcept {
  const config::MissionConfig& cfg = loaded_.config;
  record_.decision = "thumbnail";
  record_.reason = reason;
  // Lowest-but-one rung of the priority formula: no class, no confidence,
  // uncertain.
  const double age_s = static_cast<double>(newest_capture_us_ - frame.meta.timestamp_us) * 1e-6;
  const uint8_t priority = ComputePriority(cfg.triage, -1, 0.f, age_s, true, true);
  // The thumbnail codec most classes use (the mission's downlink default).
  const std::vector<config::ClassPolicy>& classes = cfg.triage.classes;
  config::CodecSpec codec = config::ClassPolicy().thumbnail_codec;
  size_t best = 0;
  for (size_t i = 0; i < classes.size(); ++i) {
    size_t n = 0;
    for (size_t j = 0; j < classes.size(); ++j) n += classes[j].thumbnail_codec == classes[i].thumbnail_codec ? 1 : 0;
    if (n > best) {
      best = n;
      codec = classes[i].thumbnail_codec;
    }
  }
  uint64_t queued = 0;
  QueueProduct(frame, downlink::ProductKind::kThumbnail, codec, kUnclassified, 0.f, priority, &queued);
  record_.queued_bytes = queued;
  const bool thumb_queued = record_.product_count > 0;
  if (thumb_queued) ++counters_.thumbnail_unclassified;
  downlink::CatalogRow row;
  row.frame_id = record_.frame_id;
  row.timestamp = frame.meta.timestamp_us > 0 ? static_cast<uint64_t>(frame.meta.timestamp_us) : 0;
  row.class_id = kUnclassified;
  row.decision = static_cast<uint8_t>(thumb_queued ? downlink::FrameDecision::kThumbnail : downlink::FrameDecision::kDiscarded);
  row.bytes = static_cast<uint32_t>(std::min<uint64_t>(queued, UINT32_MAX));
  Status s = Timed(FlightStage::kEnqueue, [&] { return catalog_.Record(row); });
  if (!s.ok()) {
    CountDrop(DropReason::kCatalogFailed);
    std::snprintf(error_text_, sizeof(error_text_), "%s", s.message());
    record_.error = error_text_;
    events_->Report(kEventCatalogFailed, Severity::kError, static_cast<int64_t>(record_.frame_id), 0, 0,
                    "catalog: %s", s.message());
  }
  return true;
}

void FlightLoop::QueueProduct(const imaging::Frame& frame, downlink::ProductKind kind, const config::CodecSpec& spec,
                              uint16_t class_id, float confidence, uint8_t priority, uint64_t* queued_bytes) noexcept {
  const bool full = kind == downlink::ProductKind::kFull;
  Span<const uint8_t> bytes;
  Status s = Timed(FlightStage::kCompress, [&]() -> Status {
    Result<Span<const uint8_t>> r =
        full ? encoder_->EncodeFull(frame, spec)
             : encoder_->EncodeThumbnail(Span<const uint8_t>(thumbnail_.data(), thumbnail_.size()),
                                         thumbnailer_->config().width, thumbnailer_->config().height, spec);
    if (!r.ok()) return r.status();
    bytes = r.value();
    return Status::Ok();
  });
  if (!s.ok()) {
    CountDrop(DropReason::kCompressFailed);
    std::snprintf(error_text_, sizeof(error_text_), "%s", s.message());
    record_.error = error_text_;
    events_->Report(kEventCompressFailed, Severity::kWarning, static_cast<int64_t>(record_.frame_id),
                    static_cast<int64_t>(kind), 0, "frame %llu %s: %s",
                    static_cast<unsigned long long>(record_.frame_id), KindName(kind), s.message());
    return;
  }
  downlink::ProductMeta meta;
  meta.frame_id = record_.frame_id;
  meta.timestamp = frame.meta.timestamp_us > 0 ? static_cast<uint64_t>(frame.meta.timestamp_us) : 0;
  meta.class_id = class_id;
  meta.confidence = confidence;
  meta.kind = kind;
  meta.priority = priority;
  meta.config_hash = config_hash_;
  meta.model_hash = classifier_->model_hash();
  uint32_t id = 0;
  s = Timed(FlightStage::kEnqueue, [&]() -> Status {
    Result<uint32_t> r = queue_.Enqueue(meta, bytes);
    if (!r.ok()) return r.status();
    id = r.value();
    return Status::Ok();
  });
  if (!s.ok()) {
    CountDrop(s.code() == StatusCode::kResourceExhausted ? DropReason::kQueueFull : DropReason::kEnqueueFailed);
    std::snprintf(error_text_, sizeof(error_text_), "%s", s.message());
    record_.error = error_text_;
    events_->Report(kEventEnqueueFailed, Severity::kWarning, static_cast<int64_t>(record_.frame_id),
                    static_cast<int64_t>(kind), static_cast<int64_t>(bytes.size()), "frame %llu %s: %s",
                    static_cast<unsigned long long>(record_.frame_id), KindName(kind), s.message());
    return;
  }
  FrameRecord::Product& p = record_.products[record_.product_count++];
  p.kind = KindName(kind);
  p.id = id;
  p.bytes = bytes.size();
  p.priority = priority;
  p.codec = (full && spec.codec == config::Codec::kOriginal && frame.encoding != imaging::FrameEncoding::kJpeg)
                ? "png"
                : config::CodecName(spec.codec);
  *queued_bytes += bytes.size();
  counters_.bytes_queued += bytes.size();
  ++counters_.products_queued[full ? 0 : 1];
}

void FlightLoop::RunDownlinkStage() noexcept {
  const auto& passes = loaded_.config.downlink.passes;
  const double t0 = MissionTime(record_.frame_id);
  const double t1 = t0 + loaded_.config.camera.frame_interval_s;
  if (pass_cursor_ >= passes.size() || passes[pass_cursor_].start_s >= t1) return;
  (void)Timed(FlightStage::kDownlink, [&]() -> Status {
    for (size_t i = pass_cursor_; i < passes.size() && passes[i].start_s < t1; ++i) {
      const downlink::PassWindow& p = passes[i];
      const downlink::PassWindow slice{std::max(t0, p.start_s), std::min(t1, p.end_s)};
      if (slice.end_s > slice.start_s) {
        Result<downlink::PassReport> rep = link_.RunWindow(static_cast<uint32_t>(i), slice);
        ++counters_.downlink_slices;
        if (rep.ok()) {
          counters_.bytes_sent += rep->bytes_sent;
          counters_.packets_sent += rep->packets_sent;
          counters_.products_completed += rep->products_completed;
          counters_.channel_lost += rep->channel_lost;
          counters_.channel_corrupted += rep->channel_corrupted;
          counters_.channel_duplicated += rep->channel_duplicated;
          counters_.channel_reordered += rep->channel_reordered;
        } else {
          ++counters_.downlink_errors;
          events_->Report(kEventDownlinkFailed, Severity::kError, static_cast<int64_t>(i), 0, 0, "pass %zu: %s", i,
                          rep.status().message());
        }
      }
      if (p.end_s <= t1) {
        pass_cursor_ = i + 1;
        ++counters_.passes_completed;
        events_->Report(kEventPassCompleted, Severity::kInfo, static_cast<int64_t>(i),
                        static_cast<int64_t>(counters_.bytes_sent), static_cast<int64_t>(queue_.pending_count()),
                        "pass %zu ended: %llu bytes sent so far, %zu products pending", i,
                        static_cast<unsigned long long>(counters_.bytes_sent), queue_.pending_count());
        if (options_.until_pass >= 0 && i >= static_cast<size_t>(options_.until_pass)) pass_limit_reached_ = true;
      }
    }
    return Status::Ok();
  });
}

void FlightLoop::FinishFrameTimes() noexcept {
  for (int i = 0; i < kFlightStageCount; ++i) {
    if (record_.stage_ran[i]) times_.Add(static_cast<FlightStage>(i), record_.stage_ns[i]);
  }
}

void FlightLoop::Progress() noexcept {
  const int every = loaded_.config.logging.progress_every_frames;
  if (every <= 0 || counters_.frames_attempted % static_cast<uint64_t>(every) != 0) return;
  char line[256];
  std::snprintf(line, sizeof(line),
                "frame %llu (t=%.0f s): %llu full, %llu thumbnail-only, %llu discarded, %llu failed; "
                "queued %.1f MB, sent %.1f MB, %llu/%zu passes",
                static_cast<unsigned long long>(record_.frame_id), record_.mission_time_s,
                static_cast<unsigned long long>(counters_.kept_full),
                static_cast<unsigned long long>(counters_.thumbnail_only),
                static_cast<unsigned long long>(counters_.discarded),
                static_cast<unsigned long long>(counters_.frames_failed), counters_.bytes_queued / 1e6,
                counters_.bytes_sent / 1e6, static_cast<unsigned long long>(pass_cursor_),
                loaded_.config.downlink.passes.size());
  log_->Log(config::LogLevel::kInfo, "%s", line);
  if (options_.progress) std::fprintf(stderr, "triage-flight: %s\n", line);
}

StopReason FlightLoop::Run(const volatile std::sig_atomic_t* stop) noexcept {
  stop_ = stop;
  for (;;) {
    if (StopRequested()) break;
    if (pass_limit_reached_) return StopReason::kPassLimit;
    if (options_.max_frames > 0 && frames_this_run_ >= options_.max_frames) return StopReason::kFrameLimit;
    const StepOutcome outcome = Step();
    if (outcome == StepOutcome::kEndOfInput) return StopReason::kEndOfInput;
    if (outcome == StepOutcome::kStopped) break;
    BetweenFrames();
    if (fault_->pipeline_restart_requested()) {
      events_->Report(kEventShutdown, Severity::kError, static_cast<int64_t>(next_frame_id_), 1, 0,
                      "health monitor: pipeline restart requested before frame %llu",
                      static_cast<unsigned long long>(next_frame_id_));
      return StopReason::kRestart;
    }
  }
  events_->Report(kEventShutdown, Severity::kInfo, static_cast<int64_t>(next_frame_id_), 0, 0,
                  "stop requested: shut down cleanly before frame %llu",
                  static_cast<unsigned long long>(next_frame_id_));
  return StopReason::kSignal;
}

void FlightLoop::SampleMemory() noexcept {
  uint64_t hwm = 0, anon = 0;
  if (!ReadProcessMemory(&hwm, &anon)) return;
  counters_.peak_rss_bytes = std::max(counters_.peak_rss_bytes, hwm);
  counters_.peak_anon_bytes = std::max(counters_.peak_anon_bytes, anon);
}

void FlightLoop::BetweenFrames() noexcept {
  hooks_->BetweenFrames(counters_.frames_attempted);
  if (counters_.frames_attempted % 8 == 1) SampleMemory();
  if (++polls_since_ >= loaded_.config.uplink.poll_every_frames) {
    polls_since_ = 0;
    PollUplink();
  }
}

void FlightLoop::PollUplink() noexcept {
  // stat() on fixed names: no directory scan, no allocation while idle.
  char path[downlink::kMaxPath];
  if (downlink::FormatPath(path, "%s/mission.yaml", uplink_dir_.c_str()).ok() && Exists(path)) TryReload(path);
  if (downlink::FormatPath(path, "%s/retransmit.bin", uplink_dir_.c_str()).ok() && Exists(path)) TryRetransmit(path);
}

// Moves a consumed uplink file to <uplink>/<verdict>/<stem>-<n>.<ext> so it
// is processed once and kept for the record.
std::string FlightLoop::Consume(const std::string& path, const char* verdict, const char* stem) noexcept {
  try {
    const std::string dir = uplink_dir_ + "/" + verdict;
    (void)downlink::MakeDirs(dir.c_str());
    const size_t dot = path.find_last_of('.');
    const std::string ext = dot == std::string::npos ? "" : path.substr(dot);
    const std::string to = dir + "/" + stem + "-" + std::to_string(++uplink_seq_) + ext;
    if (::rename(path.c_str(), to.c_str()) != 0) (void)downlink::RemoveFile(path.c_str());
    return to;
  } catch (...) {
    (void)downlink::RemoveFile(path.c_str());
    return std::string();
  }
}

// Reload: validate the whole file, refuse restart-only changes, build every
// new object first, then swap them all at once (we are between frames, so
// no frame ever sees a mix of old and new). Any failure keeps the old config.
void FlightLoop::TryReload(const std::string& path) noexcept {
  try {
    config::LoadOptions options;
    options.base_dir = options_.config_base_dir;
    config::LoadedConfig next = config::LoadMissionFile(path, options);
    std::string reason;
    if (!next.ok()) {
      for (const config::ConfigProblem& p : next.problems) {
        log_->Log(config::LogLevel::kWarn, "reload: %s", config::FormatProblem("uplink mission.yaml", p).c_str());
      }
      reason = config::FormatProblem("mission.yaml", next.problems.front());
      if (next.problems.size() > 1) reason += " (+" + std::to_string(next.problems.size() - 1) + " more)";
    } else {
      const std::vector<std::string> cold = config::RestartOnlyDifferences(loaded_.config, next.config);
      if (!cold.empty()) {
        reason = "needs a restart: " + cold.front() + (cold.size() > 1 ? " and " + std::to_string(cold.size() - 1) +
                                                                              " other key(s)"
                                                                        : "");
      }
    }
    std::unique_ptr<Classifier> classifier;
    std::unique_ptr<ProductEncoder> encoder;
    if (reason.empty()) {
      const config::ModelConfig& a = loaded_.config.model;
      const config::ModelConfig& b = next.config.model;
      const bool model_changed = a.path != b.path || b.file_sha256 != classifier_->model_hash() ||
                                 a.labels != b.labels || a.optimized_kernels != b.optimized_kernels ||
                                 a.threads != b.threads ||
                                 std::memcmp(a.mean, b.mean, sizeof(a.mean)) != 0 ||
                                 std::memcmp(a.std, b.std, sizeof(a.std)) != 0;
      if (model_changed) {
        Result<std::unique_ptr<Classifier>> c =
            Classifier::Create(b, next.config.thumbnail.width, next.config.thumbnail.height);
        if (!c.ok()) {
          reason = c.status().message();
        } else if (static_cast<size_t>(c.value()->num_classes()) != next.config.triage.classes.size()) {
          reason = "the new model's class count does not match its policy";
        } else {
          classifier = std::move(c.value());
        }
      }
      const ProductEncoderLimits limits = LimitsFor(next.config);
      if (reason.empty() && !encoder_->Covers(limits)) {
        Result<std::unique_ptr<ProductEncoder>> e = ProductEncoder::Create(limits);
        if (!e.ok()) {
          reason = e.status().message();
        } else {
          encoder = std::move(e.value());
        }
      }
    }
    if (reason.empty() && classifier) {
      // The guard runs its own copies of the model: rebuild it for the new
      // one (last step before the commit; on failure the old one stays).
      Status g = fault_->Rebuild(next.config);
      if (!g.ok()) reason = g.message();
    }
    if (!reason.empty()) {
      ++counters_.reloads_rejected;
      const std::string kept = Consume(path, "rejected", "mission");
      events_->Report(config::kEventConfigRejected, Severity::kWarning, static_cast<int64_t>(next.problems.size()),
                      0, 0, "reload rejected, old config stays: %s", reason.c_str());
      log_->Log(config::LogLevel::kWarn, "reload rejected (kept as %s): %s", kept.c_str(), reason.c_str());
      return;
    }
    // Commit: nothing below can fail.
    if (classifier) {
      classifier_ = std::move(classifier);
      Hash16(classifier_->model_hash(), model_hash16_);
      hooks_->OnClassifierReady(*classifier_);  // the fault layer re-wraps the new interpreter
    }
    if (encoder) encoder_ = std::move(encoder);
    loaded_ = std::move(next);
    config_hash_ = loaded_.hash;
    config_hash_hex_ = config::HexDigest(config_hash_);
    Hash16(config_hash_, config_hash16_);
    log_->SetLevel(loaded_.config.logging.level);
    if (Status rs = config::RecordConfig(loaded_, Join(out_dir_, "config")); !rs.ok()) {
      log_->Log(config::LogLevel::kWarn, "config record: %s", rs.message());
    }
    UpdatePassCursor();
    ++counters_.reloads_applied;
    const std::string kept = Consume(path, "applied", "mission");
    events_->Report(config::kEventConfigApplied, Severity::kInfo, static_cast<int64_t>(next_frame_id_), 0, 0,
                    "reload applied before frame %llu: config %s", static_cast<unsigned long long>(next_frame_id_),
                    config_hash16_);
    log_->Log(config::LogLevel::kInfo, "reload applied (kept as %s): config %s", kept.c_str(),
              config_hash_hex_.c_str());
  } catch (...) {
    ++counters_.reloads_rejected;
    events_->Report(config::kEventConfigRejected, Severity::kError, 0, 0, 0, "reload rejected: out of memory");
  }
}

void FlightLoop::TryRetransmit(const std::string& path) noexcept {
  Status s = link_.AcceptRetransmitRequest(path.c_str());
  if (s.ok()) {
    ++counters_.retransmit_requests;
    events_->Report(kEventRetransmitAccepted, Severity::kInfo, static_cast<int64_t>(link_.pending_retransmits().size()),
                    0, 0, "retransmission request accepted (%zu ranges pending)", link_.pending_retransmits().size());
    Consume(path, "applied", "retransmit");
  } else {
    events_->Report(kEventRetransmitRejected, Severity::kWarning, 0, 0, 0, "retransmission request rejected: %s",
                    s.message());
    Consume(path, "rejected", "retransmit");
  }
}

Status FlightLoop::Finish() noexcept {
  SampleMemory();
  const std::string csv = Join(out_dir_, "catalog.csv");
  Status s = catalog_.ExportCsv(csv.c_str());
  // A restart the health monitor asked for is not a clean shutdown: the
  // boot counter counts it, so a restart loop ends in safe mode.
  if (!fault_->pipeline_restart_requested()) {
    Status f = fault_->Shutdown();
    if (!f.ok()) log_->Log(config::LogLevel::kWarn, "fault layer shutdown: %s", f.message());
  }
  log_->Log(config::LogLevel::kInfo,
            "finished at frame %llu: %llu attempted, %llu classified, %llu full, %llu thumbnail-only, %llu discarded, "
            "%llu failed; queued %llu B, sent %llu B",
            static_cast<unsigned long long>(next_frame_id_), static_cast<unsigned long long>(counters_.frames_attempted),
            static_cast<unsigned long long>(counters_.frames_classified),
            static_cast<unsigned long long>(counters_.kept_full),
            static_cast<unsigned long long>(counters_.thumbnail_only),
            static_cast<unsigned long long>(counters_.discarded),
            static_cast<unsigned long long>(counters_.frames_failed),
            static_cast<unsigned long long>(counters_.bytes_queued),
            static_cast<unsigned long long>(counters_.bytes_sent));
  log_->Flush();
  return s;
}

}  // namespace triage::app
