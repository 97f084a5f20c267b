#include "ground/replay.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/mission.h"
#include "config/model_check.h"
#include "decision/camera_factory.h"
#include "decision/classifier.h"
#include "decision/decision.h"
#include "decision/product_encoder.h"
#include "ground/progress.h"
#include "imaging/frame.h"
#include "imaging/thumbnail.h"

namespace triage::ground {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One telemetry line, the fields replay compares.
struct Record {
  uint64_t frame = 0;
  std::string truth, class_name, decision, config, model, vote;
  int class_id = -1;
  float confidence = 0;
  bool unverified = false, safe_mode = false, decision_comparable = true;
  int full_priority = -1, thumb_priority = -1;  // -1: no such product
  int64_t full_bytes = -1, thumb_bytes = -1;
  uint64_t queued_bytes = 0;
};

Result<std::vector<Record>> ReadTelemetry(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return Status::Error(StatusCode::kNotFound, "%s: cannot open (not a triage-flight output folder?)", path.c_str());
  std::map<uint64_t, Record> by_frame;  // a resumed run may repeat a frame: the last record wins
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    Record r;
    try {
      const json j = json::parse(line);
      r.frame = j.at("frame").get<uint64_t>();
      r.decision = j.at("decision").get<std::string>();
      r.config = j.value("config", "");
      r.model = j.value("model", "");
      if (j.contains("truth") && j["truth"].is_string()) r.truth = j["truth"].get<std::string>();
      if (j.contains("class") && j["class"].is_string()) r.class_name = j["class"].get<std::string>();
      r.class_id = j.value("class_id", -1);
      if (j.contains("confidence")) r.confidence = static_cast<float>(j["confidence"].get<double>());
      if (j.contains("vote") && j["vote"].is_string()) r.vote = j["vote"].get<std::string>();
      r.unverified = j.value("unverified", false);
      r.safe_mode = j.value("safe_mode", false);
      r.queued_bytes = j.value("queued_bytes", uint64_t{0});
      for (const json& p : j.value("products", json::array())) {
        const std::string kind = p.at("kind").get<std::string>();
        (kind == "full" ? r.full_priority : r.thumb_priority) = p.at("priority").get<int>();
        (kind == "full" ? r.full_bytes : r.thumb_bytes) = p.at("bytes").get<int64_t>();
      }
      for (const json& d : j.value("drops", json::array())) {
        const std::string why = d.get<std::string>();
        // The queue, not the policy, changed the outcome: the decision is
        // not a function of the frame alone.
        if (why == "queue_full" || why == "enqueue_failed" || why == "compress_failed" || why == "catalog_failed") {
          r.decision_comparable = false;
        }
      }
    } catch (const std::exception& e) {
      return Status::Error(StatusCode::kDataLoss, "%s:%d: %s", path.c_str(), n, e.what());
    }
    by_frame[r.frame] = r;
  }
  std::vector<Record> out;
  for (auto& [f, r] : by_frame) out.push_back(std::move(r));
  if (out.empty()) return Status::Error(StatusCode::kNotFound, "%s: no frame records", path.c_str());
  return out;
}

// The flight's decision path for one config: what ProcessFrame runs.
struct Pipeline {
  config::LoadedConfig loaded;
  std::unique_ptr<decision::Classifier> classifier;
  std::unique_ptr<imaging::Thumbnailer> thumbnailer;
  std::unique_ptr<decision::ProductEncoder> encoder;
  std::vector<uint8_t> thumbnail;
  std::string model_hash16;
};

Result<std::unique_ptr<Pipeline>> MakePipeline(config::LoadedConfig loaded) {
  auto p = std::make_unique<Pipeline>();
  p->loaded = std::move(loaded);
  const config::MissionConfig& cfg = p->loaded.config;
  Result<std::unique_ptr<decision::Classifier>> c =
      decision::Classifier::Create(cfg.model, cfg.thumbnail.width, cfg.thumbnail.height);
  if (!c.ok()) return c.status();
  p->classifier = std::move(c.value());
  if (static_cast<size_t>(p->classifier->num_classes()) != cfg.triage.classes.size()) {
    return Status::Error(StatusCode::kInvalidArgument, "model %s has %d classes but the policy has %zu",
                         cfg.model.path.c_str(), p->classifier->num_classes(), cfg.triage.classes.size());
  }
  Result<imaging::Thumbnailer> t = imaging::Thumbnailer::Create(cfg.thumbnail);
  if (!t.ok()) return t.status();
  p->thumbnailer = std::make_unique<imaging::Thumbnailer>(std::move(t.value()));
  p->thumbnail.assign(p->thumbnailer->output_bytes(), 0);
  Result<std::unique_ptr<decision::ProductEncoder>> e = decision::ProductEncoder::Create(decision::LimitsFor(cfg));
  if (!e.ok()) return e.status();
  p->encoder = std::move(e.value());
  p->model_hash16 = config::HexDigest(p->classifier->model_hash()).substr(0, 16);
  return p;
}

Status ConfigError(const config::LoadedConfig& l) {
  return Status::Error(StatusCode::kInvalidArgument, "%s",
                       config::FormatProblem(l.source, l.problems.front()).c_str());
}

// The outcome the flight's code gives for one frame.
struct Outcome {
  bool failed = false;
  std::string error;
  decision::Classification c;
  decision::Decision d;
  std::string decision;  // full, thumbnail, discard, failed
  int64_t full_bytes = -1, thumb_bytes = -1;
  uint64_t queued = 0;
};

Outcome Run(Pipeline& p, const imaging::Frame& frame, double age_s) {
  Outcome o;
  const config::MissionConfig& cfg = p.loaded.config;
  auto fail = [&](const Status& s) {
    o.failed = true;
    o.decision = "failed";
    o.error = s.message();
    return o;
  };
  Status s = p.thumbnailer->Run(frame, Span<uint8_t>(p.thumbnail.data(), p.thumbnail.size()));
  if (!s.ok()) return fail(s);
  const int tw = cfg.thumbnail.width, th = cfg.thumbnail.height;
  if (s = p.classifier->Preprocess(p.thumbnail.data(), tw, th, tw * 3); !s.ok()) return fail(s);
  if (s = p.classifier->Infer(); !s.ok()) return fail(s);
  Result<decision::Classification> c = p.classifier->Read();
  if (!c.ok()) return fail(c.status());
  o.c = c.value();
  o.d = decision::Decide(cfg.triage, o.c, age_s);
  const config::ClassPolicy& policy = cfg.triage.classes[static_cast<size_t>(o.c.class_id)];
  if (o.d.queue_full) {
    Result<Span<const uint8_t>> full = p.encoder->EncodeFull(frame, policy.full_codec);
    if (full.ok()) o.full_bytes = static_cast<int64_t>(full->size());
  }
  if (o.d.queue_thumbnail) {
    Result<Span<const uint8_t>> thumb = p.encoder->EncodeThumbnail(
        Span<const uint8_t>(p.thumbnail.data(), p.thumbnail.size()), tw, th, policy.thumbnail_codec);
    if (thumb.ok()) o.thumb_bytes = static_cast<int64_t>(thumb->size());
  }
  o.queued = static_cast<uint64_t>(std::max<int64_t>(o.full_bytes, 0) + std::max<int64_t>(o.thumb_bytes, 0));
  o.decision = o.full_bytes >= 0 ? "full" : o.thumb_bytes >= 0 ? "thumbnail" : "discard";
  return o;
}

std::string FloatText(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  char s[48];
  std::snprintf(s, sizeof(s), "%.9g (0x%08x)", static_cast<double>(v), bits);
  return s;
}

bool IsLand(const std::string& truth, const std::string& cls) { return (truth.empty() ? cls : truth) == "land"; }

class Replayer {
 public:
  explicit Replayer(const ReplayOptions& o) : o_(o) {}

  Result<ReplayResult> Run() {
    const fs::path dir(o_.flight_dir);
    Result<std::vector<Record>> records = ReadTelemetry(dir / "telemetry.jsonl");
    if (!records.ok()) return records.status();
    result_.whatif = !o_.config.empty() || !o_.model.empty();
    result_.frames = records->size();

    // The flight's configs, by the hashes its records name.
    std::set<std::string> hashes;
    for (const Record& r : *records) hashes.insert(r.config);
    for (const std::string& h : hashes) {
      Result<config::LoadedConfig> l = FlightConfig(h);
      if (!l.ok()) return l.status();
      baseline_[h] = std::move(l.value());
    }
    // The camera: restart-only, so the first config's.
    config::CameraSection camera = baseline_.begin()->second.config.camera;
    if (!o_.frames.empty()) {
      camera.source = config::CameraSource::kDirectory;
      camera.directory.directory = o_.frames;
    }
    Result<std::unique_ptr<imaging::Camera>> cam = decision::CreateCamera(camera);
    if (!cam.ok()) return cam.status().WithContext("camera");
    Result<imaging::FramePool> pool = imaging::FramePool::Create(camera.pool);
    if (!pool.ok()) return pool.status();

    // The pipelines: per flight config (check) or the one candidate (what-if).
    std::unique_ptr<Pipeline> candidate;
    if (result_.whatif) {
      Result<config::LoadedConfig> c = Candidate();
      if (!c.ok()) return c.status();
      Result<std::unique_ptr<Pipeline>> p = MakePipeline(std::move(c.value()));
      if (!p.ok()) return p.status();
      candidate = std::move(p.value());
      result_.config_hash = config::HexDigest(candidate->loaded.hash).substr(0, 16);
      result_.model_hash = candidate->model_hash16;
    } else {
      for (auto& [h, l] : baseline_) {
        Result<std::unique_ptr<Pipeline>> p = MakePipeline(l);
        if (!p.ok()) return p.status();
        pipelines_[h] = std::move(p.value());
      }
      result_.config_hash = baseline_.begin()->first;
      result_.model_hash = pipelines_.begin()->second->model_hash16;
    }

    Progress progress(result_.whatif ? "replay (what-if)" : "replay", records->size(), o_.progress);
    uint64_t next_index = 0;
    int64_t newest_capture_us = INT64_MIN;
    for (const Record& r : *records) {
      progress.Advance();
      if (r.decision == "abandoned") {
        ++result_.skipped_other;
        continue;
      }
      Pipeline& p = result_.whatif ? *candidate : *pipelines_.at(r.config);
      if (!result_.whatif && !r.model.empty() && r.model != p.model_hash16) {
        return Status::Error(StatusCode::kFailedPrecondition,
                             "frame %llu: the flight ran model %s, but %s hashes to %s; pass --model to ask what-if "
                             "of another model",
                             static_cast<unsigned long long>(r.frame), r.model.c_str(),
                             p.loaded.config.model.path.c_str(), p.model_hash16.c_str());
      }
      Result<imaging::Frame*> acquired = pool->Acquire();
      if (!acquired.ok()) return acquired.status();
      imaging::FrameLease lease(&*pool, acquired.value());
      if (r.frame != next_index) {
        if (Status s = (*cam)->Seek(r.frame); !s.ok()) return s.WithContext("frame %llu", static_cast<unsigned long long>(r.frame));
      }
      next_index = r.frame + 1;
      Outcome out;
      Status captured = (*cam)->Capture(**acquired);
      if (captured.code() == StatusCode::kOutOfRange) {
        return Status::Error(StatusCode::kNotFound, "frame %llu: the frame source ends before it (--frames?)",
                             static_cast<unsigned long long>(r.frame));
      }
      if (!captured.ok()) {
        out.failed = true;
        out.decision = "failed";
        out.error = captured.message();
      } else {
        newest_capture_us = std::max(newest_capture_us, (*acquired)->meta.timestamp_us);
        if (r.unverified || r.safe_mode || r.vote == "no_majority" || r.vote == "failed") {
          ++result_.skipped_fault;
          continue;
        }
        const double age_s = static_cast<double>(newest_capture_us - (*acquired)->meta.timestamp_us) * 1e-6;
        out = triage::ground::Run(p, **acquired, age_s);
      }
      ++result_.replayed;
      if (result_.whatif) {
        Diff(r, out, p);
      } else {
        Compare(r, out, p);
      }
    }
    progress.Finish();
    return result_;
  }

 private:
  Result<config::LoadedConfig> FlightConfig(const std::string& hash16) {
    if (!o_.flight_config.empty()) {
      config::LoadedConfig l = config::LoadMissionFile(o_.flight_config);
      if (!l.ok()) return ConfigError(l);
      if (config::HexDigest(l.hash).substr(0, 16) == hash16) return l;
    }
    const fs::path record = fs::path(o_.flight_dir) / "config";
    std::error_code ec;
    if (!fs::exists(record / (hash16 + ".yaml"), ec)) {
      // Older runs recorded no config: the embedded one may be it.
      config::LoadedConfig embedded = config::LoadEmbeddedMission();
      if (embedded.ok() && config::HexDigest(embedded.hash).substr(0, 16) == hash16) return embedded;
      return Status::Error(StatusCode::kNotFound,
                           "the flight ran config %s, which is neither in %s nor --flight-config%s; pass the "
                           "flight's mission file with --flight-config",
                           hash16.c_str(), record.c_str(), o_.flight_config.empty() ? "" : " (hash differs)");
    }
    config::LoadedConfig l = config::LoadRecordedConfig(record.string(), hash16);
    if (!l.ok()) return ConfigError(l);
    return l;
  }

  Result<config::LoadedConfig> Candidate() {
    config::LoadedConfig c;
    if (!o_.config.empty()) {
      c = config::LoadMissionFile(o_.config);
      if (!c.ok()) return ConfigError(c);
    } else {
      c = baseline_.begin()->second;
    }
    if (!o_.model.empty()) {
      config::ModelConfig m = c.config.model;
      m.path = o_.model;
      m.expected_sha256.clear();
      config::ModelFacts facts;
      std::string problem;
      config::CheckModel(m, &facts, [&](const char* key, const std::string& message) {
        if (problem.empty()) problem = std::string(key) + ": " + message;
      });
      if (!problem.empty()) {
        return Status::Error(StatusCode::kInvalidArgument, "--model %s: %s", o_.model.c_str(), problem.c_str());
      }
      if (facts.labels != c.config.model.labels) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "--model %s: its labels differ from the config's; give a config for it with --config",
                             o_.model.c_str());
      }
      m.file_sha256 = facts.sha256;
      if (m.preprocessing_from_model && facts.has_preprocessing) {
        std::copy(facts.mean, facts.mean + 3, m.mean);
        std::copy(facts.std, facts.std + 3, m.std);
      }
      c.config.model = m;
    }
    return c;
  }

  void Mismatch(uint64_t frame, const std::string& field, const std::string& flight, const std::string& replay) {
    result_.mismatches.push_back(ReplayMismatch{frame, field, flight, replay});
  }

  void Compare(const Record& r, const Outcome& out, const Pipeline& p) {
    if (r.decision == "failed" || out.failed) {
      if (r.decision != out.decision) Mismatch(r.frame, "decision", r.decision, out.decision + (out.error.empty() ? "" : " (" + out.error + ")"));
      return;
    }
    if (r.class_id != out.c.class_id) {
      Mismatch(r.frame, "class", r.class_name, p.classifier->label(out.c.class_id));
    }
    uint32_t a, b;
    std::memcpy(&a, &r.confidence, 4);
    std::memcpy(&b, &out.c.confidence, 4);
    if (a != b) Mismatch(r.frame, "confidence", FloatText(r.confidence), FloatText(out.c.confidence));
    if (r.decision_comparable) {
      if (r.decision != out.decision) Mismatch(r.frame, "decision", r.decision, out.decision);
      if (r.full_bytes != out.full_bytes) {
        Mismatch(r.frame, "bytes.full", std::to_string(r.full_bytes), std::to_string(out.full_bytes));
      }
      if (r.thumb_bytes != out.thumb_bytes) {
        Mismatch(r.frame, "bytes.thumbnail", std::to_string(r.thumb_bytes), std::to_string(out.thumb_bytes));
      }
    }
    if (r.full_priority >= 0 && r.full_priority != out.d.full_priority) {
      Mismatch(r.frame, "priority.full", std::to_string(r.full_priority), std::to_string(out.d.full_priority));
    }
    if (r.thumb_priority >= 0 && r.thumb_priority != out.d.thumbnail_priority) {
      Mismatch(r.frame, "priority.thumbnail", std::to_string(r.thumb_priority),
               std::to_string(out.d.thumbnail_priority));
    }
  }

  void Diff(const Record& r, const Outcome& out, const Pipeline& p) {
    const std::string cls_after = out.failed ? "" : p.classifier->label(out.c.class_id);
    ++result_.transitions[{r.decision, out.decision}];
    if (!r.truth.empty()) ++result_.per_truth[{r.truth, r.decision, out.decision}];
    result_.queued_before += r.queued_bytes;
    result_.queued_after += out.queued;
    const bool land_before = IsLand(r.truth, r.class_name), land_after = IsLand(r.truth, cls_after);
    result_.land_full_before += land_before && r.decision == "full";
    result_.land_full_after += land_after && out.decision == "full";
    result_.land_kept_before += land_before && (r.decision == "full" || r.decision == "thumbnail");
    result_.land_kept_after += land_after && (out.decision == "full" || out.decision == "thumbnail");
    if (r.decision != out.decision || r.class_name != cls_after) {
      result_.changed.push_back(
          FrameChange{r.frame, r.truth, r.class_name, cls_after, r.decision, out.decision, r.confidence,
                      out.failed ? 0.f : out.c.confidence});
    }
  }

  const ReplayOptions& o_;
  ReplayResult result_;
  std::map<std::string, config::LoadedConfig> baseline_;
  std::map<std::string, std::unique_ptr<Pipeline>> pipelines_;
};

}  // namespace

Result<ReplayResult> Replay(const ReplayOptions& options) {
  try {
    Replayer r(options);
    return r.Run();
  } catch (const std::exception& e) {
    return Status::Error(StatusCode::kInternal, "replay: %s", e.what());
  }
}

std::string ReplayJson(const ReplayResult& r) {
  json mismatches = json::array();
  for (const ReplayMismatch& m : r.mismatches) {
    mismatches.push_back({{"frame", m.frame}, {"field", m.field}, {"flight", m.flight}, {"replay", m.replay}});
  }
  json transitions = json::array();
  for (const auto& [k, n] : r.transitions) transitions.push_back({{"from", k.first}, {"to", k.second}, {"count", n}});
  json per_truth = json::array();
  for (const auto& [k, n] : r.per_truth) {
    per_truth.push_back({{"truth", std::get<0>(k)}, {"from", std::get<1>(k)}, {"to", std::get<2>(k)}, {"count", n}});
  }
  json changed = json::array();
  for (const FrameChange& c : r.changed) {
    changed.push_back({{"frame", c.frame},
                       {"truth", c.truth},
                       {"class_before", c.class_before},
                       {"class_after", c.class_after},
                       {"from", c.from},
                       {"to", c.to},
                       {"confidence_before", c.confidence_before},
                       {"confidence_after", c.confidence_after}});
  }
  const json j{{"mode", r.whatif ? "whatif" : "check"},
               {"ok", r.ok()},
               {"frames", r.frames},
               {"replayed", r.replayed},
               {"skipped_fault", r.skipped_fault},
               {"skipped_other", r.skipped_other},
               {"config", r.config_hash},
               {"model", r.model_hash},
               {"mismatches", mismatches},
               {"transitions", transitions},
               {"per_truth", per_truth},
               {"queued_bytes", {{"before", r.queued_before}, {"after", r.queued_after}}},
               {"land_full", {{"before", r.land_full_before}, {"after", r.land_full_after}}},
               {"land_kept", {{"before", r.land_kept_before}, {"after", r.land_kept_after}}},
               {"changed", changed}};
  return j.dump(1) + "\n";
}

std::string ReplayTable(const ReplayResult& r) {
  std::ostringstream s;
  char line[256];
  std::snprintf(line, sizeof(line), "%s: %llu frame records, %llu replayed, %llu skipped (fault layer), %llu other\n",
                r.whatif ? "what-if" : "replay check", static_cast<unsigned long long>(r.frames),
                static_cast<unsigned long long>(r.replayed), static_cast<unsigned long long>(r.skipped_fault),
                static_cast<unsigned long long>(r.skipped_other));
  s << line << "config " << r.config_hash << ", model " << r.model_hash << "\n";
  if (!r.whatif) {
    if (r.mismatches.empty()) {
      s << "every replayed frame matches the flight: class, confidence bits, decision, priorities, product bytes\n";
    } else {
      s << r.mismatches.size() << " mismatch(es):\n";
      for (const ReplayMismatch& m : r.mismatches) {
        s << "  frame " << m.frame << " " << m.field << ": flight " << m.flight << ", replay " << m.replay << "\n";
      }
    }
    return s.str();
  }
  static const char* const kKinds[] = {"full", "thumbnail", "discard", "failed"};
  s << "\ndecision   flight -> what-if\n";
  std::snprintf(line, sizeof(line), "%-10s %9s %9s %9s %9s\n", "flight", "full", "thumbnail", "discard", "failed");
  s << line;
  for (const char* from : kKinds) {
    uint64_t row[4] = {};
    uint64_t any = 0;
    for (int t = 0; t < 4; ++t) {
      auto it = r.transitions.find({from, kKinds[t]});
      row[t] = it == r.transitions.end() ? 0 : it->second;
      any += row[t];
    }
    if (any == 0) continue;
    std::snprintf(line, sizeof(line), "%-10s %9llu %9llu %9llu %9llu\n", from, static_cast<unsigned long long>(row[0]),
                  static_cast<unsigned long long>(row[1]), static_cast<unsigned long long>(row[2]),
                  static_cast<unsigned long long>(row[3]));
    s << line;
  }
  if (!r.per_truth.empty()) {
    s << "\nchanged decisions by true class\n";
    for (const auto& [k, n] : r.per_truth) {
      if (std::get<1>(k) == std::get<2>(k)) continue;
      std::snprintf(line, sizeof(line), "  %-10s %-9s -> %-9s %6llu\n", std::get<0>(k).c_str(), std::get<1>(k).c_str(),
                    std::get<2>(k).c_str(), static_cast<unsigned long long>(n));
      s << line;
    }
  }
  auto signed_diff = [](uint64_t a, uint64_t b) { return static_cast<long long>(b) - static_cast<long long>(a); };
  std::snprintf(line, sizeof(line), "\nqueued bytes     %12llu -> %12llu (%+lld)\n", static_cast<unsigned long long>(r.queued_before),
                static_cast<unsigned long long>(r.queued_after), signed_diff(r.queued_before, r.queued_after));
  s << line;
  std::snprintf(line, sizeof(line), "land at full     %12llu -> %12llu (%+lld)\n", static_cast<unsigned long long>(r.land_full_before),
                static_cast<unsigned long long>(r.land_full_after), signed_diff(r.land_full_before, r.land_full_after));
  s << line;
  std::snprintf(line, sizeof(line), "land kept (any)  %12llu -> %12llu (%+lld)\n", static_cast<unsigned long long>(r.land_kept_before),
                static_cast<unsigned long long>(r.land_kept_after), signed_diff(r.land_kept_before, r.land_kept_after));
  s << line;
  if (!r.changed.empty()) {
    s << "\n" << r.changed.size() << " frame(s) changed:\n";
    size_t shown = 0;
    for (const FrameChange& c : r.changed) {
      if (++shown > 20) {
        s << "  ... (--json lists them all)\n";
        break;
      }
      std::snprintf(line, sizeof(line), "  frame %-6llu truth %-9s %s %.3f -> %s %.3f: %s -> %s\n",
                    static_cast<unsigned long long>(c.frame), c.truth.empty() ? "-" : c.truth.c_str(),
                    c.class_before.c_str(), static_cast<double>(c.confidence_before), c.class_after.c_str(),
                    static_cast<double>(c.confidence_after), c.from.c_str(), c.to.c_str());
      s << line;
    }
  }
  return s.str();
}

}  // namespace triage::ground
