// MissionConfig: everything one flight run is configured with, parsed from
// one YAML mission file (config/mission.yaml is the documented default and is
// compiled into the binary as the embedded default).
//
// config/ fills each module's own config struct (imaging::*Config,
// downlink::Config, fault::Config) and owns the structs that belong to no
// module: the triage-decision policy, the model section, logging and uplink.
// yaml-cpp stays private to config/; nothing here exposes it.
//
// Validation reports every problem, each with its key path and 1-based line:
// unknown keys, wrong types, out-of-range values, missing files, and a model
// whose output count does not match its labels. A LoadedConfig with problems
// must never start a mission.
//
// Paths: inputs (model, labels, camera directory, backup model) are resolved
// against LoadOptions::base_dir (the config file's directory by default);
// outputs (storage, logs, telemetry, uplink) stay as written and the app
// resolves relative ones against its output directory (--out).
//
// Phase: init and between-frame reload only; everything here allocates.
// Thread safety: functions are reentrant; results are plain values.
#ifndef TRIAGE_CONFIG_MISSION_H_
#define TRIAGE_CONFIG_MISSION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/event.h"
#include "downlink/checksum.h"
#include "downlink/config.h"
#include "fault/fault_config.h"
#include "imaging/directory_camera.h"
#include "imaging/frame.h"
#include "imaging/simulated_camera.h"
#include "imaging/thumbnail.h"

namespace triage::config {

// Most classes a model may have (per-class tables are fixed arrays in app/).
constexpr int kMaxClasses = 16;
// A threshold no confidence reaches: written "never" in YAML.
constexpr float kNever = 2.0f;

enum class CameraSource : uint8_t { kSimulated, kDirectory };
const char* CameraSourceName(CameraSource source);

struct CameraSection {
  CameraSource source = CameraSource::kSimulated;
  // Common settings (exposure, gains, cadence, start time) are parsed from
  // `camera:` into both simulated.camera and directory.camera.
  imaging::SimulatedCameraConfig simulated;
  imaging::DirectoryCameraConfig directory;
  imaging::FramePoolConfig pool;
  // Seconds of mission time between captures (== camera.frame_interval_us).
  double frame_interval_s = 20.0;
  double start_time_s = 0.0;
};

struct ModelConfig {
  std::string path;             // resolved .tflite path (required)
  std::string labels_path;      // resolved; "" = the model's "labels" metadata
  std::string expected_sha256;  // lower-case hex; "" = not checked
  bool optimized_kernels = true;
  // Threads the optimized kernels split each operator over (1..8); the
  // decision bytes are the same for every value.
  int threads = 1;
  // Preprocessing: from the model's "preprocessing" metadata (JSON
  // {"mean":[..],"std":[..],"resize":"area"}) or from this section.
  bool preprocessing_from_model = true;
  float mean[3] = {128.f, 128.f, 128.f};
  float std[3] = {128.f, 128.f, 128.f};

  // Filled by validation when the model file could be read (check_files).
  std::vector<std::string> labels;
  int output_count = 0;
  downlink::Digest256 file_sha256{};  // of the file as validated
};

enum class FrameAction : uint8_t { kDiscard = 0, kThumbnail = 1, kFull = 2 };
const char* FrameActionName(FrameAction action);

enum class Codec : uint8_t {
  kJpeg,      // TurboJPEG at `quality`
  kPng,       // lossless PNG (zlib), `png_level`
  kOriginal,  // full frames only: the camera's own JPEG bytes, untouched
};
const char* CodecName(Codec codec);

struct CodecSpec {
  Codec codec = Codec::kJpeg;
  int quality = 90;  // JPEG 1..100
  bool operator==(const CodecSpec& o) const { return codec == o.codec && quality == o.quality; }
};

struct ClassPolicy {
  std::string name;
  bool interesting = false;
  // Confidence (top-1 softmax probability) at or above which a frame of
  // this class is kept at full resolution (interesting classes only) or as
  // a thumbnail only. Below both: discarded (its catalog row is kept).
  float full_at = kNever;
  float thumbnail_at = kNever;
  // Score (this class's softmax probability, whatever the top-1) at or above
  // which a frame that the rules above would discard is kept as a thumbnail
  // instead: a land frame called cloud still reaches the ground.
  float keep_at = kNever;
  float priority_weight = 0.f;  // class term of the priority formula, 0..1
  CodecSpec full_codec;
  CodecSpec thumbnail_codec{Codec::kJpeg, 85};
};

struct UncertainPolicy {
  // A frame is uncertain when its top-1 confidence is below
  // below_confidence or exceeds the runner-up by less than min_margin.
  float below_confidence = 0.5f;
  float min_margin = 0.1f;
  FrameAction action = FrameAction::kThumbnail;
};

// priority = clamp(round(255 * (w_class + w_conf * confidence
//                   - w_age * min(age_s / age_horizon_s, 1) + kind_bonus)), 1, 255)
// with kind_bonus = thumbnail_bonus for thumbnails, 0 for full frames, and
// uncertain_bonus added for uncertain frames (may be negative).
struct PriorityConfig {
  float confidence_weight = 0.3f;
  float age_weight = 0.2f;
  double age_horizon_s = 86400.0;
  float thumbnail_bonus = 0.1f;
  float uncertain_bonus = -0.1f;
};

struct TriageConfig {
  // One per model class, in output order (label order). When the labels are
  // unknown (check_files off) they follow the YAML order.
  std::vector<ClassPolicy> classes;
  UncertainPolicy uncertain;
  PriorityConfig priority;
  bool thumbnail_with_full = true;  // a full-resolution frame also queues its thumbnail
  int png_level = 6;                // zlib level for png products, 0..9
};

enum class LogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kOff };
const char* LogLevelName(LogLevel level);

struct LoggingConfig {
  std::string dir = "logs";                   // relative: under the output directory
  LogLevel level = LogLevel::kInfo;
  uint64_t max_file_bytes = 1u << 20;         // rotate at this size
  int max_files = 3;                          // rotated files kept
  std::string telemetry_file = "telemetry.jsonl";  // JSON line per frame; "" = off
  int progress_every_frames = 50;             // 0 = no progress lines
};

struct UplinkConfig {
  // Relative: under the output directory. A new mission file dropped here as
  // mission.yaml is validated and applied between frames; retransmit.bin is
  // a ground retransmission request (downlink/retransmit.h).
  std::string dir = "uplink";
  int poll_every_frames = 1;
};

struct MissionConfig {
  std::string name = "triage";
  CameraSection camera;
  imaging::ThumbnailConfig thumbnail;
  ModelConfig model;
  TriageConfig triage;
  downlink::Config downlink;  // storage_dir as written (relative: under --out)
  LoggingConfig logging;
  UplinkConfig uplink;
  fault::Config fault;
};

// Events about configuration (raised by the app, which owns the EventLog).
constexpr uint16_t kEventConfigLoaded = MakeEventId(EventSource::kConfig, 1);
constexpr uint16_t kEventConfigApplied = MakeEventId(EventSource::kConfig, 2);   // reload applied
constexpr uint16_t kEventConfigRejected = MakeEventId(EventSource::kConfig, 3);  // reload refused; old config stays

struct ConfigProblem {
  std::string path;  // key path, e.g. "triage.classes.land.full"
  int line = 0;      // 1-based; 0 when unknown
  std::string message;
};

struct LoadOptions {
  // Resolve input paths against this directory ("" = the config file's
  // directory for LoadMissionFile, the current directory for ParseMission).
  std::string base_dir;
  // Check that input files exist and read the model (verify it, count its
  // outputs, read labels and preprocessing metadata). Off for the fuzzer.
  bool check_files = true;
};

struct LoadedConfig {
  MissionConfig config;
  std::vector<ConfigProblem> problems;
  downlink::Digest256 hash{};  // SHA-256 of the config file bytes
  std::string source;          // file path, or "<embedded>"
  std::string text;            // the YAML exactly as hashed
  std::string base_dir;        // where its relative input paths resolved
  bool ok() const { return problems.empty(); }
};

// Reads and validates a mission file. Never throws.
LoadedConfig LoadMissionFile(const std::string& path, const LoadOptions& options = {}) noexcept;
// Validates YAML text; `source` names it in messages and LoadedConfig::source.
LoadedConfig ParseMission(const std::string& text, const std::string& source,
                          const LoadOptions& options = {}) noexcept;
// The compiled-in config/mission.yaml, and the directory its relative input
// paths resolve against (the source tree's config/, fixed at build time).
const std::string& EmbeddedMissionYaml();
const char* EmbeddedMissionBaseDir();
LoadedConfig LoadEmbeddedMission(const LoadOptions& options = {}) noexcept;

// "mission.yaml:42: triage.classes.land.full: 1.5 is outside [0, 1]".
std::string FormatProblem(const std::string& source, const ConfigProblem& problem);
// 64 lower-case hex digits.
std::string HexDigest(const downlink::Digest256& digest);

// The record of a config a flight ran with, for ground replay:
// <dir>/<first 16 hex digits of its SHA-256>.yaml holds the exact bytes and
// .base_dir the directory its relative paths resolve against. Written
// atomically; an existing record is left as it is.
Status RecordConfig(const LoadedConfig& loaded, const std::string& dir) noexcept;
// Loads <dir>/<hash16>.yaml with its recorded base directory; the content
// must hash to a digest starting with hash16.
LoadedConfig LoadRecordedConfig(const std::string& dir, const std::string& hash16,
                                const LoadOptions& options = {}) noexcept;

// Sections a running mission cannot change without a restart (camera,
// thumbnail, storage and link layout, logging, uplink, fault). Returns the
// key paths that differ between the two configs; empty means the candidate
// may be applied between frames.
std::vector<std::string> RestartOnlyDifferences(const MissionConfig& running,
                                                const MissionConfig& candidate);

}  // namespace triage::config

#endif  // TRIAGE_CONFIG_MISSION_H_
