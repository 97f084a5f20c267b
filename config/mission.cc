// Schema of the mission file: one function per section, each reading its keys
// through MapReader (which records wrong types, ranges and unknown keys),
// then cross-field checks, then the file and model checks (model_check.cc).
#include "config/mission.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "config/model_check.h"
#include "downlink/durable_file.h"
#include "downlink/product.h"
#include "config/yaml_reader.h"
#include "imaging/image.h"

namespace triage::config {
namespace {

using detail::MapReader;
using detail::Problems;
using detail::Value;

constexpr double kMaxSeconds = 1e10;  // ~317 years of mission time

std::string JoinPath(const std::string& base, const std::string& path) {
  if (path.empty() || path[0] == '/' || base.empty()) return path;
  return base.back() == '/' ? base + path : base + "/" + path;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool DirExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

struct ParseState {
  LoadOptions options;
  std::string base_dir;
  Problems* problems;
  // Lines of keys that later cross-checks point at.
  int model_path_line = 0;
  int model_labels_line = 0;
  int model_sha_line = 0;
  int interesting_line = 0;
  int classes_line = 0;
  int directory_path_line = 0;
  int storage_line = 0;
  int downlink_line = 0;
  int fault_backup_line = 0;
};

// A threshold: a number in [0, 1] or "never".
void Threshold(MapReader& m, const char* key, float* out) {
  if (!m.Has(key)) return;
  const Value v = m.Get(key);
  if (v.is_scalar() && v.text() == "never") {
    *out = kNever;
    return;
  }
  double d;
  if (!v.AsDouble(&d)) return;
  if (d < 0.0 || d > 1.0) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%g", d);
    v.Problem(std::string(buf) + " is outside [0, 1] (or write never)");
    return;
  }
  *out = static_cast<float>(d);
}

void ParseMissionSection(MapReader m, MissionConfig* c) {
  m.String("name", &c->name);
  m.Finish();
}

void ParseOrbit(MapReader m, imaging::OrbitConfig* o) {
  m.Double("period_s", &o->period_s, 60.0, 1e6);
  m.Double("inclination_deg", &o->inclination_deg, 0.0, 180.0);
  m.Double("beta_deg", &o->beta_deg, -90.0, 90.0);
  m.Double("phase_at_epoch_deg", &o->phase_at_epoch_deg, -360.0, 360.0);
  m.Double("node_offset_deg", &o->node_offset_deg, -360.0, 360.0);
  m.Finish();
}

void ParseSimulated(MapReader m, imaging::SimulatedCameraConfig* s) {
  m.Uint64("seed", &s->seed, 0, UINT64_MAX);
  m.Int("width", &s->width, 8, imaging::kMaxRenderDimension);
  m.Int("height", &s->height, 8, imaging::kMaxRenderDimension);
  m.Int("jpeg_quality", &s->jpeg_quality, 1, 100);
  m.Int("render_divisor", &s->render_divisor, 1, 16);
  m.Float("distorted_rate", &s->distorted_rate, 0.0, 1.0);
  m.Float("washed_out_rate", &s->washed_out_rate, 0.0, 1.0);
  m.Float("limb_rate", &s->limb_rate, 0.0, 1.0);
  m.Bool("opssat_look", &s->simulator.opssat_look);
  m.Bool("jitter_camera", &s->simulator.jitter_camera);
  m.Float("sensor_temperature_c", &s->sensor_temperature_c, -100.0, 150.0);
  m.Float("temperature_swing_c", &s->temperature_swing_c, 0.0, 100.0);
  ParseOrbit(m.Map("orbit"), &s->orbit);
  if (s->distorted_rate + s->washed_out_rate + s->limb_rate > 1.0f) {
    m.Get("distorted_rate").Problem("distorted_rate + washed_out_rate + limb_rate exceed 1");
  }
  m.Finish();
}

void ParseCamera(MapReader m, ParseState* st, CameraSection* c) {
  m.Enum<CameraSource>("source", &c->source,
                       {{"simulated", CameraSource::kSimulated}, {"directory", CameraSource::kDirectory}});
  m.Double("frame_interval_s", &c->frame_interval_s, 0.001, 86400.0);
  m.Double("start_time_s", &c->start_time_s, 0.0, kMaxSeconds);
  imaging::CameraConfig common;
  m.Float("exposure_ms", &common.exposure_ms, 0.0, 100000.0);
  m.Triple("gain", common.gain, 0.0, 64.0);
  common.frame_interval_us = static_cast<int64_t>(std::llround(c->frame_interval_s * 1e6));
  common.start_time_us = static_cast<int64_t>(std::llround(c->start_time_s * 1e6));
  c->simulated.camera = common;
  c->directory.camera = common;

  int frames = c->pool.frame_count;
  m.Int("pool_frames", &frames, 1, 16);
  c->pool.frame_count = frames;
  uint64_t jpeg_bytes = c->pool.encoded_bytes;
  m.Uint64("max_jpeg_bytes", &jpeg_bytes, 1024, 64ull << 20);
  c->pool.encoded_bytes = static_cast<size_t>(jpeg_bytes);
  m.Int("max_raw_width", &c->pool.raw_max_width, 0, imaging::kMaxImageDimension);
  m.Int("max_raw_height", &c->pool.raw_max_height, 0, imaging::kMaxImageDimension);
  if ((c->pool.raw_max_width == 0) != (c->pool.raw_max_height == 0)) {
    m.Get("max_raw_width").Problem("max_raw_width and max_raw_height must both be 0 or both be set");
  }

  ParseSimulated(m.Map("simulated"), &c->simulated);

  MapReader d = m.Map("directory");
  std::string path;
  if (d.Has("path")) st->directory_path_line = d.Get("path").line();
  d.String("path", &path);
  c->directory.directory = path.empty() ? path : JoinPath(st->base_dir, path);
  d.Enum<imaging::ReplayOrder>("order", &c->directory.order,
                               {{"name", imaging::ReplayOrder::kName}, {"timestamp", imaging::ReplayOrder::kTimestamp}});
  d.Bool("loop", &c->directory.loop);
  d.Finish();
  if (c->source == CameraSource::kDirectory) {
    if (path.empty()) {
      st->problems->Add(d.path() + ".path", st->directory_path_line != 0 ? st->directory_path_line : d.line(),
                        "required when camera.source is directory");
    } else if (st->options.check_files && !DirExists(c->directory.directory)) {
      st->problems->Add(d.path() + ".path", st->directory_path_line,
                        "directory " + c->directory.directory + " does not exist");
    }
  }
  m.Finish();
}

void ParseThumbnail(MapReader m, imaging::ThumbnailConfig* t) {
  m.Int("width", &t->width, 8, 4096);
  m.Int("height", &t->height, 8, 4096);
  m.Int("max_source_width", &t->max_source_width, 8, imaging::kMaxImageDimension);
  m.Int("max_source_height", &t->max_source_height, 8, imaging::kMaxImageDimension);
  m.Bool("dct_scaling", &t->dct_scaling);
  uint64_t bytes = t->decode_buffer_bytes;
  m.Uint64("decode_buffer_bytes", &bytes, 0, 1ull << 30);
  t->decode_buffer_bytes = static_cast<size_t>(bytes);
  m.Finish();
}

void ParseModel(MapReader m, ParseState* st, ModelConfig* c) {
  if (m.Has("path")) st->model_path_line = m.Get("path").line();
  if (m.Has("labels")) st->model_labels_line = m.Get("labels").line();
  if (m.Has("sha256")) st->model_sha_line = m.Get("sha256").line();
  std::string path = "../models/triage_int8.tflite";
  m.String("path", &path);
  if (path.empty()) {
    st->problems->Add(m.path() + ".path", st->model_path_line != 0 ? st->model_path_line : m.line(),
                      "a model file is required");
  }
  c->path = JoinPath(st->base_dir, path);
  std::string labels;
  m.String("labels", &labels);
  c->labels_path = labels.empty() ? labels : JoinPath(st->base_dir, labels);
  std::string sha;
  m.String("sha256", &sha);
  for (char& ch : sha) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!sha.empty()) {
    bool hex = sha.size() == 64;
    for (char ch : sha) hex = hex && std::isxdigit(static_cast<unsigned char>(ch));
    if (!hex) st->problems->Add(m.path() + ".sha256", st->model_sha_line, "expected 64 hex digits");
  }
  c->expected_sha256 = sha;
  m.Enum<bool>("kernels", &c->optimized_kernels, {{"reference", false}, {"optimized", true}});
  m.Int("threads", &c->threads, 1, 8);
  MapReader p = m.Map("preprocessing");
  p.Enum<bool>("source", &c->preprocessing_from_model, {{"model", true}, {"config", false}});
  p.Triple("mean", c->mean, -1e6, 1e6);
  p.Triple("std", c->std, 1e-6, 1e6);
  p.Finish();
  m.Finish();
}

struct ClassEntry {
  std::string name;
  int line = 0;
  ClassPolicy policy;
  bool full_set = false;
};

struct TriageDraft {
  std::vector<std::pair<std::string, int>> interesting;  // name, line
  std::vector<ClassEntry> classes;
  struct Override {
    std::string name;
    int line = 0;
    bool has_full = false, has_thumbnail = false;
    CodecSpec full, thumbnail;
  };
  std::vector<Override> overrides;
  CodecSpec full_default;
  CodecSpec thumbnail_default{Codec::kJpeg, 85};
  int per_class_line = 0;
};

void ParseTriage(MapReader m, ParseState* st, TriageConfig* t, TriageDraft* draft) {
  if (m.Has("interesting")) {
    const Value v = m.Get("interesting");
    st->interesting_line = v.line();
    std::vector<Value> names;
    if (v.Elements(&names, kMaxClasses)) {
      for (const Value& n : names) {
        std::string s;
        if (n.AsString(&s)) draft->interesting.emplace_back(s, n.line());
      }
    }
  }
  m.Bool("thumbnail_with_full", &t->thumbnail_with_full);
  if (m.Has("classes")) {
    const Value classes_value = m.Get("classes");
    st->classes_line = classes_value.line();
    MapReader classes(classes_value);
    auto entries = classes.Entries();
    if (entries.size() > static_cast<size_t>(kMaxClasses)) {
      classes_value.Problem("more than " + std::to_string(kMaxClasses) + " classes");
      entries.erase(entries.begin() + kMaxClasses, entries.end());
    }
    for (auto& [name, value] : entries) {
      ClassEntry e;
      e.name = name;
      e.line = value.line();
      e.policy.name = name;
      MapReader c(value);
      e.full_set = c.Has("full");
      Threshold(c, "full", &e.policy.full_at);
      Threshold(c, "thumbnail", &e.policy.thumbnail_at);
      Threshold(c, "keep", &e.policy.keep_at);
      c.Float("priority_weight", &e.policy.priority_weight, 0.0, 1.0);
      c.Finish();
      draft->classes.push_back(e);
    }
  }
  MapReader u = m.Map("uncertain");
  u.Float("below_confidence", &t->uncertain.below_confidence, 0.0, 1.0);
  u.Float("min_margin", &t->uncertain.min_margin, 0.0, 1.0);
  u.Enum<FrameAction>("action", &t->uncertain.action,
                      {{"full", FrameAction::kFull}, {"thumbnail", FrameAction::kThumbnail},
                       {"discard", FrameAction::kDiscard}});
  u.Finish();
  MapReader p = m.Map("priority");
  p.Float("confidence_weight", &t->priority.confidence_weight, 0.0, 1.0);
  p.Float("age_weight", &t->priority.age_weight, 0.0, 1.0);
  p.Double("age_horizon_s", &t->priority.age_horizon_s, 1.0, kMaxSeconds);
  p.Float("thumbnail_bonus", &t->priority.thumbnail_bonus, -1.0, 1.0);
  p.Float("uncertain_bonus", &t->priority.uncertain_bonus, -1.0, 1.0);
  p.Finish();
  m.Finish();
}

void ParseCodec(Value v, bool full, CodecSpec* out) {
  MapReader m(v);
  std::initializer_list<std::pair<const char*, Codec>> full_names = {
      {"jpeg", Codec::kJpeg}, {"png", Codec::kPng}, {"original", Codec::kOriginal}};
  std::initializer_list<std::pair<const char*, Codec>> thumb_names = {{"jpeg", Codec::kJpeg}, {"png", Codec::kPng}};
  m.Enum<Codec>("codec", &out->codec, full ? full_names : thumb_names);
  m.Int("quality", &out->quality, 1, 100);
  m.Finish();
}

void ParseStorage(MapReader m, ParseState* st, downlink::Config* d) {
  st->storage_line = m.line();
  std::string dir = "downlink";
  m.String("dir", &dir);
  if (dir.empty()) m.Get("dir").Problem("must not be empty");
  d->storage_dir = dir;
  m.Uint64("quota_bytes", &d->storage_quota_bytes, 4096, 1ull << 40);
  m.Uint32("max_queue_items", &d->max_queue_items, 1, 1u << 20);
  m.Uint64("max_item_bytes", &d->max_item_bytes, 1, 1ull << 40);
  m.Uint32("catalog_capacity_rows", &d->catalog_capacity_rows, 1, 1u << 24);
  m.Bool("verify_payload_on_open", &d->verify_payload_on_open);
  m.Finish();
}

void ParseDownlink(MapReader m, ParseState* st, MissionConfig* c, TriageDraft* draft) {
  st->downlink_line = m.line();
  downlink::Config& d = c->downlink;
  if (m.Has("full")) ParseCodec(m.Get("full"), true, &draft->full_default);
  if (m.Has("thumbnail")) ParseCodec(m.Get("thumbnail"), false, &draft->thumbnail_default);
  m.Int("png_level", &c->triage.png_level, 0, 9);
  if (m.Has("per_class")) {
    const Value pc = m.Get("per_class");
    draft->per_class_line = pc.line();
    MapReader per_class(pc);
    for (auto& [name, value] : per_class.Entries()) {
      TriageDraft::Override o;
      o.name = name;
      o.line = value.line();
      MapReader om(value);
      o.full = draft->full_default;
      o.thumbnail = draft->thumbnail_default;
      if (om.Has("full")) {
        o.has_full = true;
        ParseCodec(om.Get("full"), true, &o.full);
      }
      if (om.Has("thumbnail")) {
        o.has_thumbnail = true;
        ParseCodec(om.Get("thumbnail"), false, &o.thumbnail);
      }
      om.Finish();
      draft->overrides.push_back(o);
    }
  }
  m.Uint32("packet_data_size", &d.packet_data_size, downlink::kMetadataBytes, downlink::kMaxPacketDataSize);
  MapReader apid = m.Map("apid");
  apid.Uint16("full", &d.apid_full, 0, downlink::kMaxApid);
  apid.Uint16("thumbnail", &d.apid_thumbnail, 0, downlink::kMaxApid);
  apid.Uint16("catalog", &d.apid_catalog, 0, downlink::kMaxApid);
  if (d.apid_full == d.apid_thumbnail || d.apid_full == d.apid_catalog || d.apid_thumbnail == d.apid_catalog) {
    st->problems->Add(apid.path(), apid.line(), "full, thumbnail and catalog APIDs must differ");
  }
  apid.Finish();
  m.Uint64("link_rate_bps", &d.link_rate_bps, 1, 1ull << 40);
  m.Uint32("catalog_rows_per_product", &d.catalog_rows_per_product, 1, 1u << 20);
  m.Uint32("max_retransmit_ranges", &d.max_retransmit_ranges, 1, 1u << 16);
  if (m.Has("channel")) {  // simulated link faults (ground-station drills)
    MapReader ch = m.Map("channel");
    ch.Double("loss_rate", &d.channel.loss_rate, 0.0, 0.5);
    ch.Double("corrupt_rate", &d.channel.corrupt_rate, 0.0, 0.5);
    ch.Double("duplicate_rate", &d.channel.duplicate_rate, 0.0, 0.5);
    ch.Double("reorder_rate", &d.channel.reorder_rate, 0.0, 0.5);
    ch.Uint64("seed", &d.channel.seed, 0, UINT64_MAX);
    ch.Finish();
  }
  if (m.Has("passes")) {
    const Value v = m.Get("passes");
    std::vector<Value> passes;
    d.passes.clear();
    if (v.Elements(&passes, 100000)) {
      double previous_end = -1.0;
      for (const Value& p : passes) {
        MapReader pm(p);
        downlink::PassWindow w;
        w.start_s = -1;
        w.end_s = -1;
        if (!pm.Has("start_s")) p.Problem("missing start_s");
        if (!pm.Has("end_s")) p.Problem("missing end_s");
        pm.Double("start_s", &w.start_s, 0.0, kMaxSeconds);
        pm.Double("end_s", &w.end_s, 0.0, kMaxSeconds);
        pm.Finish();
        if (w.start_s < 0 || w.end_s < 0) continue;
        if (w.end_s <= w.start_s) {
          p.Problem("end_s must be after start_s");
        } else if (w.end_s - w.start_s > 86400.0) {
          p.Problem("a pass may last at most 86400 s");
        } else if (w.start_s < previous_end) {
          p.Problem("passes must be in time order and must not overlap");
        }
        previous_end = w.end_s;
        d.passes.push_back(w);
      }
    }
  }
  m.Finish();
}

void ParseLogging(MapReader m, LoggingConfig* l) {
  m.String("dir", &l->dir);
  if (l->dir.empty()) m.Get("dir").Problem("must not be empty");
  m.Enum<LogLevel>("level", &l->level,
                   {{"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo},
                    {"warn", LogLevel::kWarn}, {"error", LogLevel::kError}, {"off", LogLevel::kOff}});
  m.Uint64("max_file_bytes", &l->max_file_bytes, 4096, 1ull << 32);
  m.Int("max_files", &l->max_files, 1, 100);
  m.String("telemetry_file", &l->telemetry_file);
  if (l->telemetry_file.find('/') != std::string::npos) {
    m.Get("telemetry_file").Problem("a file name, not a path (it is written under the output directory)");
  }
  m.Int("progress_every_frames", &l->progress_every_frames, 0, 1000000);
  m.Finish();
}

void ParseUplink(MapReader m, UplinkConfig* u) {
  m.String("dir", &u->dir);
  if (u->dir.empty()) m.Get("dir").Problem("must not be empty");
  m.Int("poll_every_frames", &u->poll_every_frames, 1, 1000000);
  m.Finish();
}

void ParseFault(MapReader m, ParseState* st, fault::Config* f) {
  m.Enum<fault::RedundancyMode>("redundancy", &f->redundancy,
                                {{"none", fault::RedundancyMode::kNone},
                                 {"dmr", fault::RedundancyMode::kDmr},
                                 {"tmr", fault::RedundancyMode::kTmr},
                                 {"crosscheck", fault::RedundancyMode::kCrossCheck}});
  m.Bool("separate_weight_copy", &f->separate_weight_copy);
  m.Uint32("scrub_bytes_per_frame", &f->scrub_bytes_per_frame, 0, 1u << 30);
  if (m.Has("model_backup_path")) st->fault_backup_line = m.Get("model_backup_path").line();
  std::string backup;
  m.String("model_backup_path", &backup);
  f->model_backup_path = backup.empty() ? backup : JoinPath(st->base_dir, backup);
  if (!backup.empty() && st->options.check_files && !FileExists(f->model_backup_path)) {
    st->problems->Add(m.path() + ".model_backup_path", st->fault_backup_line,
                      "file " + f->model_backup_path + " does not exist");
  }
  MapReader d = m.Map("stage_deadline_ms");
  static const char* const kStages[fault::kStageCount] = {"capture", "preprocess", "infer", "decide", "downlink"};
  for (int i = 0; i < fault::kStageCount; ++i) {
    d.Uint32(kStages[i], &f->stage_deadline_ms[i], 1, 3600u * 1000u);
  }
  d.Finish();
  m.Uint32("misses_to_safe_mode", &f->misses_to_safe_mode, 1, 64);
  m.Uint32("miss_window_s", &f->miss_window_s, 1, 7u * 86400u);
  m.String("watchdog_device", &f->watchdog_device);
  m.Uint32("watchdog_timeout_s", &f->watchdog_timeout_s, 1, 3600);
  m.Uint32("max_resets", &f->max_resets, 1, 1000);
  m.Uint32("reset_window_s", &f->reset_window_s, 1, 7u * 86400u);
  m.Finish();
}

// Builds the per-class table in model label order and applies codecs.
void ResolveClasses(ParseState* st, const std::vector<std::string>& labels, const TriageDraft& draft,
                    TriageConfig* t) {
  std::vector<std::string> order = labels;
  if (order.empty()) {
    // Labels unknown (files not checked, or the model unreadable, which is
    // already a problem): the default model's classes, then any other names
    // the file uses, so the rest of the file is still checked.
    order = {"black", "cloud", "distorted", "land", "white"};
    auto add = [&](const std::string& name) {
      for (const std::string& o : order) {
        if (o == name) return;
      }
      if (order.size() < static_cast<size_t>(kMaxClasses)) order.push_back(name);
    };
    for (const ClassEntry& e : draft.classes) add(e.name);
    for (const auto& [name, line] : draft.interesting) add(name);
  }
  std::string label_list;
  for (const std::string& l : order) label_list += (label_list.empty() ? "" : ", ") + l;
  auto index_of = [&](const std::string& name) {
    for (size_t i = 0; i < order.size(); ++i) {
      if (order[i] == name) return static_cast<int>(i);
    }
    return -1;
  };

  t->classes.assign(order.size(), ClassPolicy{});
  for (size_t i = 0; i < order.size(); ++i) {
    t->classes[i].name = order[i];
    t->classes[i].full_codec = draft.full_default;
    t->classes[i].thumbnail_codec = draft.thumbnail_default;
  }
  for (const auto& [name, line] : draft.interesting) {
    const int i = index_of(name);
    if (i < 0) {
      st->problems->Add("triage.interesting", line, "'" + name + "' is not a model class (classes: " + label_list + ")");
    } else {
      t->classes[static_cast<size_t>(i)].interesting = true;
    }
  }
  for (const ClassEntry& e : draft.classes) {
    const int i = index_of(e.name);
    if (i < 0) {
      st->problems->Add("triage.classes." + e.name, e.line,
                        "'" + e.name + "' is not a model class (classes: " + label_list + ")");
      continue;
    }
    ClassPolicy& p = t->classes[static_cast<size_t>(i)];
    p.full_at = e.policy.full_at;
    p.thumbnail_at = e.policy.thumbnail_at;
    p.keep_at = e.policy.keep_at;
    p.priority_weight = e.policy.priority_weight;
    if (e.full_set && p.full_at <= 1.0f && !p.interesting) {
      st->problems->Add("triage.classes." + e.name + ".full", e.line,
                        "a full-resolution threshold on a class not listed in triage.interesting");
    }
  }
  for (const TriageDraft::Override& o : draft.overrides) {
    const int i = index_of(o.name);
    if (i < 0) {
      st->problems->Add("downlink.per_class." + o.name, o.line,
                        "'" + o.name + "' is not a model class (classes: " + label_list + ")");
      continue;
    }
    if (o.has_full) t->classes[static_cast<size_t>(i)].full_codec = o.full;
    if (o.has_thumbnail) t->classes[static_cast<size_t>(i)].thumbnail_codec = o.thumbnail;
  }
}

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

LoadedConfig ParseUnchecked(const std::string& text, const std::string& source, const LoadOptions& options) {
  LoadedConfig out;
  out.source = source;
  out.text = text;
  out.base_dir = options.base_dir;
  Problems problems(&out.problems);
  if (!downlink::Sha256::Of(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                            &out.hash)
           .ok()) {
    problems.Add("", 0, "cannot hash the config (OpenSSL)");
  }
  std::string why;
  if (!detail::PrecheckYamlText(text, &why)) {
    problems.Add("", 0, why);
    return out;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    problems.Add("", e.mark.is_null() ? 0 : e.mark.line + 1, "YAML syntax: " + e.msg);
    return out;
  }

  ParseState st;
  st.options = options;
  st.base_dir = options.base_dir.empty() ? "." : options.base_dir;
  st.problems = &problems;
  MissionConfig& c = out.config;
  c.downlink.passes.clear();
  c.downlink.storage_dir = "downlink";
  c.camera.pool.frame_count = 2;
  c.downlink.link_rate_bps = 1'000'000;

  const Value root_value(root, "", detail::LineOf(root), &problems);
  if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
    root_value.Problem("the mission file must be a mapping of sections (camera:, model:, ...)");
    return out;
  }
  MapReader top(root_value);
  TriageDraft draft;
  ParseMissionSection(top.Map("mission"), &c);
  ParseCamera(top.Map("camera"), &st, &c.camera);
  ParseThumbnail(top.Map("thumbnail"), &c.thumbnail);
  ParseModel(top.Map("model"), &st, &c.model);
  ParseTriage(top.Map("triage"), &st, &c.triage, &draft);
  ParseStorage(top.Map("storage"), &st, &c.downlink);
  ParseDownlink(top.Map("downlink"), &st, &c, &draft);
  ParseLogging(top.Map("logging"), &c.logging);
  ParseUplink(top.Map("uplink"), &c.uplink);
  ParseFault(top.Map("fault"), &st, &c.fault);
  top.Finish();

  // Cross-section checks.
  if (c.thumbnail.max_source_width < c.camera.simulated.width && c.camera.source == CameraSource::kSimulated) {
    problems.Add("thumbnail.max_source_width", 0,
                 std::to_string(c.thumbnail.max_source_width) + " is below the simulated frame width " +
                     std::to_string(c.camera.simulated.width));
  }
  if (c.thumbnail.max_source_height < c.camera.simulated.height && c.camera.source == CameraSource::kSimulated) {
    problems.Add("thumbnail.max_source_height", 0,
                 std::to_string(c.thumbnail.max_source_height) + " is below the simulated frame height " +
                     std::to_string(c.camera.simulated.height));
  }
  if (c.downlink.max_item_bytes > c.downlink.storage_quota_bytes) {
    problems.Add("storage.max_item_bytes", st.storage_line, "larger than storage.quota_bytes");
  }

  // The model: verified, its outputs counted against its labels.
  if (options.check_files && !c.model.path.empty()) {
    ModelFacts facts;
    CheckModel(c.model, &facts, [&](const char* key, const std::string& message) {
      int line = st.model_path_line;
      if (std::string(key) == "labels") line = st.model_labels_line != 0 ? st.model_labels_line : st.model_path_line;
      if (std::string(key) == "sha256") line = st.model_sha_line;
      problems.Add(std::string("model.") + key, line, message);
    });
    c.model.labels = facts.labels;
    c.model.output_count = facts.output_count;
    c.model.file_sha256 = facts.sha256;
    if (c.model.preprocessing_from_model && facts.has_preprocessing) {
      for (int i = 0; i < 3; ++i) {
        c.model.mean[i] = facts.mean[i];
        c.model.std[i] = facts.std[i];
      }
    }
  }
  ResolveClasses(&st, c.model.labels, draft, &c.triage);

  // Final guard: the module's own validation (names the first bad field).
  downlink::Config probe = c.downlink;
  if (probe.storage_dir.empty()) probe.storage_dir = "x";
  if (Status s = downlink::ValidateConfig(probe); !s.ok() && out.problems.empty()) {
    problems.Add("downlink", st.downlink_line, s.message());
  }
  return out;
}

}  // namespace

const char* CameraSourceName(CameraSource source) {
  return source == CameraSource::kDirectory ? "directory" : "simulated";
}

const char* FrameActionName(FrameAction action) {
  switch (action) {
    case FrameAction::kDiscard: return "discard";
    case FrameAction::kThumbnail: return "thumbnail";
    case FrameAction::kFull: return "full";
  }
  return "?";
}

const char* CodecName(Codec codec) {
  switch (codec) {
    case Codec::kJpeg: return "jpeg";
    case Codec::kPng: return "png";
    case Codec::kOriginal: return "original";
  }
  return "?";
}

const char* LogLevelName(LogLevel level) {
  static const char* const kNames[] = {"trace", "debug", "info", "warn", "error", "off"};
  const auto i = static_cast<size_t>(level);
  return i < 6 ? kNames[i] : "?";
}

LoadedConfig ParseMission(const std::string& text, const std::string& source, const LoadOptions& options) noexcept {
  try {
    return ParseUnchecked(text, source, options);
  } catch (const std::exception& e) {
    // yaml-cpp conversions are not expected to throw past the reader, but
    // nothing may escape into the flight process.
    LoadedConfig out;
    out.source = source;
    out.problems.push_back(ConfigProblem{"", 0, std::string("internal error while reading: ") + e.what()});
    return out;
  } catch (...) {
    LoadedConfig out;
    out.source = source;
    out.problems.push_back(ConfigProblem{"", 0, "internal error while reading"});
    return out;
  }
}

LoadedConfig LoadMissionFile(const std::string& path, const LoadOptions& options) noexcept {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      LoadedConfig out;
      out.source = path;
      out.problems.push_back(ConfigProblem{"", 0, "cannot read the file"});
      return out;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LoadOptions o = options;
    if (o.base_dir.empty()) o.base_dir = DirName(path);
    return ParseMission(text, path, o);
  } catch (...) {
    LoadedConfig out;
    out.source = path;
    out.problems.push_back(ConfigProblem{"", 0, "cannot read the file"});
    return out;
  }
}

LoadedConfig LoadEmbeddedMission(const LoadOptions& options) noexcept {
  LoadOptions o = options;
  if (o.base_dir.empty()) o.base_dir = EmbeddedMissionBaseDir();
  return ParseMission(EmbeddedMissionYaml(), "<embedded mission.yaml>", o);
}

std::string FormatProblem(const std::string& source, const ConfigProblem& p) {
  std::string s = source;
  if (p.line > 0) s += ":" + std::to_string(p.line);
  s += ": ";
  if (!p.path.empty()) s += p.path + ": ";
  return s + p.message;
}

std::string HexDigest(const downlink::Digest256& digest) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : digest) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

Status RecordConfig(const LoadedConfig& loaded, const std::string& dir) noexcept {
  try {
    TRIAGE_RETURN_IF_ERROR(downlink::MakeDirs(dir.c_str()));
    const std::string stem = HexDigest(loaded.hash).substr(0, 16);
    struct stat st;
    if (::stat((dir + "/" + stem + ".yaml").c_str(), &st) == 0) return Status::Ok();
    const std::string base = loaded.base_dir + "\n";
    TRIAGE_RETURN_IF_ERROR(downlink::ReplaceFileAtomically(
        dir.c_str(), (stem + ".base_dir").c_str(),
        Span<const uint8_t>(reinterpret_cast<const uint8_t*>(base.data()), base.size())));
    return downlink::ReplaceFileAtomically(
        dir.c_str(), (stem + ".yaml").c_str(),
        Span<const uint8_t>(reinterpret_cast<const uint8_t*>(loaded.text.data()), loaded.text.size()));
  } catch (...) {
    return Status::Error(StatusCode::kResourceExhausted, "config record in %s: out of memory", dir.c_str());
  }
}

LoadedConfig LoadRecordedConfig(const std::string& dir, const std::string& hash16,
                                const LoadOptions& options) noexcept {
  const std::string path = dir + "/" + hash16 + ".yaml";
  LoadOptions o = options;
  if (o.base_dir.empty()) {
    std::ifstream in(dir + "/" + hash16 + ".base_dir");
    std::getline(in, o.base_dir);
  }
  LoadedConfig out = LoadMissionFile(path, o);
  if (out.problems.empty() && HexDigest(out.hash).compare(0, hash16.size(), hash16) != 0) {
    out.problems.push_back(ConfigProblem{"", 0, "content hashes to " + HexDigest(out.hash).substr(0, 16) +
                                                    ", not " + hash16 + " (edited after the flight?)"});
  }
  return out;
}

}  // namespace triage::config
