// `triage-ground replay FLIGHT_OUT [--frames DIR] [--config NEW] [--model NEW]`:
// re-runs a recorded flight through the flight's own code (decision::
// CreateCamera, imaging::Thumbnailer, decision::Classifier, decision::Decide,
// decision::ProductEncoder) frame by frame, in the flight's order.
//
// Check mode (no --config/--model): the config each frame names by hash in
// telemetry.jsonl is loaded from FLIGHT_OUT/config/ (the flight records it;
// --flight-config supplies it for older runs), its model must hash as the
// telemetry says, and every frame's class, confidence bits, decision,
// product priorities and product bytes must equal the record. Any difference
// is listed frame by frame and the result is not ok.
//
// What-if mode (--config and/or --model): the same frames under the new
// config or model; the result is the decision diff against the flight.
//
// Frames the fault layer kept without a verified classification (no
// majority, safe mode) are skipped and counted: a radiation upset is not
// replayable. Ground code: allocates freely.
#ifndef TRIAGE_GROUND_REPLAY_H_
#define TRIAGE_GROUND_REPLAY_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/result.h"

namespace triage::ground {

struct ReplayOptions {
  std::string flight_dir;
  std::string frames;         // directory of frames instead of the flight's camera ("" = the recorded one)
  std::string flight_config;  // the flight's config file, if FLIGHT_OUT/config/ lacks it
  std::string config;         // what-if config
  std::string model;          // what-if model
  bool progress = true;
};

struct ReplayMismatch {
  uint64_t frame = 0;
  std::string field;   // class, confidence, decision, priority.full, bytes.thumbnail, ...
  std::string flight;  // as recorded
  std::string replay;  // as recomputed
};

struct FrameChange {
  uint64_t frame = 0;
  std::string truth;  // simulator truth, "" when unknown
  std::string class_before, class_after;
  std::string from, to;  // full, thumbnail, discard, failed
  float confidence_before = 0, confidence_after = 0;
};

struct ReplayResult {
  bool whatif = false;
  uint64_t frames = 0;          // telemetry records considered
  uint64_t replayed = 0;        // recomputed and compared
  uint64_t skipped_fault = 0;   // unverified or safe-mode frames (fault layer)
  uint64_t skipped_other = 0;   // abandoned at shutdown, or no record to compare
  std::vector<ReplayMismatch> mismatches;                         // check mode
  std::map<std::pair<std::string, std::string>, uint64_t> transitions;  // (from, to) -> frames, what-if
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> per_truth;  // (truth, from, to)
  uint64_t queued_before = 0, queued_after = 0;
  uint64_t land_full_before = 0, land_full_after = 0;  // truth (or class) land kept at full resolution
  uint64_t land_kept_before = 0, land_kept_after = 0;  // ... with any product
  std::vector<FrameChange> changed;
  std::string config_hash, model_hash;  // what was replayed (16 hex digits)
  bool ok() const { return mismatches.empty(); }
};

Result<ReplayResult> Replay(const ReplayOptions& options);

// The result as JSON (the schema `triage-ground report --whatif` reads) and
// as the human-readable table the command prints.
std::string ReplayJson(const ReplayResult& result);
std::string ReplayTable(const ReplayResult& result);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_REPLAY_H_
