#include "ground/flight_eval.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "decision/classifier.h"
#include "decision/product_encoder.h"
#include "ground/dataset.h"
#include "ground/progress.h"
#include "imaging/directory_camera.h"
#include "imaging/frame.h"
#include "imaging/thumbnail.h"

namespace triage::ground {
namespace fs = std::filesystem;

const char* ActionWord(config::FrameAction action) {
  switch (action) {
    case config::FrameAction::kFull: return "full";
    case config::FrameAction::kThumbnail: return "thumbnail";
    case config::FrameAction::kDiscard: return "discard";
  }
  return "?";
}

Result<FlightEvalResult> EvaluateFlightDecisions(const FlightEvalOptions& o) {
  const config::LoadedConfig loaded = config::LoadMissionFile(o.mission);
  if (!loaded.ok()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s",
                         config::FormatProblem(loaded.source, loaded.problems[0]).c_str());
  }
  const config::MissionConfig& cfg = loaded.config;
  Result<std::unique_ptr<decision::Classifier>> classifier =
      decision::Classifier::Create(cfg.model, cfg.thumbnail.width, cfg.thumbnail.height);
  if (!classifier.ok()) return classifier.status();
  decision::Classifier& clf = **classifier;
  Result<imaging::Thumbnailer> thumbnailer = imaging::Thumbnailer::Create(cfg.thumbnail);
  if (!thumbnailer.ok()) return thumbnailer.status();
  std::vector<uint8_t> thumbnail(thumbnailer->output_bytes());
  // PNG and BMP files arrive as raw RGB frames: a JPEG sensor's pool has no
  // raw capacity, so give one frame room for the largest accepted source.
  imaging::FramePoolConfig pc = cfg.camera.pool;
  pc.frame_count = 1;
  pc.raw_max_width = std::max(pc.raw_max_width, cfg.thumbnail.max_source_width);
  pc.raw_max_height = std::max(pc.raw_max_height, cfg.thumbnail.max_source_height);
  Result<imaging::FramePool> pool = imaging::FramePool::Create(pc);
  if (!pool.ok()) return pool.status();
  // The flight's product encoder, sized for this pool's frames.
  config::MissionConfig for_products = cfg;
  for_products.camera.pool = pc;
  Result<std::unique_ptr<decision::ProductEncoder>> encoder =
      decision::ProductEncoder::Create(decision::LimitsFor(for_products));
  if (!encoder.ok()) return encoder.status();

  FlightEvalResult result;
  result.labels = clf.labels();
  if (result.labels.empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: the model has no labels", clf.path().c_str());
  }
  if (cfg.triage.classes.size() != result.labels.size()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: the policy has %zu classes, the model %zu",
                         o.mission.c_str(), cfg.triage.classes.size(), result.labels.size());
  }
  // Which files count: the folder's manifest (confidence filter), by file.
  Result<std::vector<ManifestRow>> manifest = ListLabelledFolder(o.data);
  if (!manifest.ok()) return manifest.status();
  std::map<std::string, const ManifestRow*> by_file;
  for (const ManifestRow& r : *manifest) by_file[r.file] = &r;
  Progress bar("evaluate (flight path)", manifest->size(), o.progress);
  int land = -1;
  for (size_t c = 0; c < result.labels.size(); ++c) land = result.labels[c] == "land" ? static_cast<int>(c) : land;
  const config::ClassPolicy& land_policy = cfg.triage.classes[land >= 0 ? static_cast<size_t>(land) : 0];
  std::vector<DecidedFrame> decided;
  for (size_t c = 0; c < result.labels.size(); ++c) {
    const fs::path dir = fs::path(o.data) / result.labels[c];
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    imaging::DirectoryCameraConfig dc = cfg.camera.directory;
    dc.directory = dir.string();
    dc.order = imaging::ReplayOrder::kName;
    dc.loop = false;
    Result<imaging::DirectoryCamera> camera = imaging::DirectoryCamera::Create(dc);
    if (!camera.ok()) continue;  // a class folder without images
    for (size_t i = 0; i < camera->file_count(); ++i) {
      Result<imaging::Frame*> frame = pool->Acquire();
      if (!frame.ok()) return frame.status();
      imaging::FrameLease lease(&*pool, *frame);
      const std::string file = result.labels[c] + "/" + camera->file_name(i);
      Status s = camera->Capture(**frame);
      if (!s.ok()) return s.WithContext("%s", file.c_str());
      const auto row = by_file.find(file);
      if (row != by_file.end() && !o.confidence.empty() &&
          o.confidence.find(row->second->confidence) == std::string::npos) {
        continue;
      }
      TRIAGE_RETURN_IF_ERROR(thumbnailer->Run(**frame, Span<uint8_t>(thumbnail.data(), thumbnail.size())));
      const int tw = cfg.thumbnail.width, th = cfg.thumbnail.height;
      TRIAGE_RETURN_IF_ERROR(clf.Preprocess(thumbnail.data(), tw, th, tw * 3));
      TRIAGE_RETURN_IF_ERROR(clf.Infer());
      Result<decision::Classification> scores = clf.Read();
      if (!scores.ok()) return scores.status().WithContext("%s", file.c_str());
      FlightEvalRow r;
      r.file = file;
      r.truth = static_cast<int>(c);
      r.scores = *scores;
      r.decision = decision::Decide(cfg.triage, *scores, 0.0);
      // The products, encoded as the flight loop encodes them (the class's
      // codecs), and the frame whole as the baseline.
      const config::ClassPolicy& policy = cfg.triage.classes[static_cast<size_t>(scores->class_id)];
      size_t full_bytes = 0;
      if (r.decision.queue_full) {
        Result<Span<const uint8_t>> full = (*encoder)->EncodeFull(**frame, policy.full_codec);
        if (!full.ok()) return full.status().WithContext("%s: full product", file.c_str());
        full_bytes = full->size();
        r.queued_bytes += full_bytes;
      }
      if (r.decision.queue_thumbnail) {
        Result<Span<const uint8_t>> thumb = (*encoder)->EncodeThumbnail(
            Span<const uint8_t>(thumbnail.data(), thumbnail.size()), tw, th, policy.thumbnail_codec);
        if (!thumb.ok()) return thumb.status().WithContext("%s: thumbnail product", file.c_str());
        r.queued_bytes += thumb->size();
      }
      if (r.decision.queue_full && policy.full_codec == land_policy.full_codec) {
        r.whole_bytes = full_bytes;  // the full product already is the frame whole
      } else {
        Result<Span<const uint8_t>> whole = (*encoder)->EncodeFull(**frame, land_policy.full_codec);
        if (!whole.ok()) return whole.status().WithContext("%s: whole frame", file.c_str());
        r.whole_bytes = whole->size();
      }
      DecidedFrame f;
      f.truth = r.truth;
      f.decision = r.decision;
      f.queued_bytes = static_cast<double>(r.queued_bytes);
      f.whole_bytes = static_cast<double>(r.whole_bytes);
      decided.push_back(f);
      result.rows.push_back(std::move(r));
      bar.Advance();
    }
  }
  bar.Finish();
  if (result.rows.empty()) return Status::Error(StatusCode::kNotFound, "%s: no images matched", o.data.c_str());
  result.table = TallyDecisions(result.labels, decided,
                                "measured: each kept product encoded with the mission's codecs, as on board; a "
                                "frame sent whole = full resolution with land's codec");
  return result;
}

}  // namespace triage::ground
