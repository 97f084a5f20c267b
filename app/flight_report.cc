#include "app/flight_report.h"

#include <cstdarg>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace triage::app {
namespace {

std::string Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* fmt, ...) {
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  return buf;
}

double SavedFraction(const FlightCounters& c) {
  return c.bytes_camera > 0 ? 1.0 - static_cast<double>(c.bytes_queued) / static_cast<double>(c.bytes_camera) : 0.0;
}

uint64_t queue_evictions(const FlightLoop& loop) { return loop.queue().evicted_count(); }

std::string Mb(uint64_t bytes) { return Printf("%.2f MB", static_cast<double>(bytes) / 1e6); }

}  // namespace

std::string FormatSummaryTable(const FlightLoop& loop, StopReason reason) {
  const FlightCounters& c = loop.counters();
  const Classifier& cls = loop.classifier();
  const config::MissionConfig& cfg = loop.config();
  std::string s;
  const uint64_t first = loop.resumed_at();
  s += Printf("== triage-flight summary: mission %s, frames %llu..%llu (%llu this run), stopped by %s\n",
              cfg.name.c_str(), static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(loop.next_frame_id() > 0 ? loop.next_frame_id() - 1 : 0),
              static_cast<unsigned long long>(c.frames_attempted), StopReasonName(reason));
  s += Printf("config %.16s (%s); model %.16s (%s)\n", loop.config_hash_hex().c_str(), loop.config_source().c_str(),
              config::HexDigest(cls.model_hash()).c_str(), cls.path().c_str());
  s += "\n";
  s += Printf("%-12s %8s %8s %12s %10s\n", "class", "frames", "full", "thumb-only", "discarded");
  for (int i = 0; i < cls.num_classes(); ++i) {
    s += Printf("%-12s %8llu %8llu %12llu %10llu\n", cls.label(i), static_cast<unsigned long long>(c.per_class[i]),
                static_cast<unsigned long long>(c.per_class_full[i]),
                static_cast<unsigned long long>(c.per_class_thumbnail[i]),
                static_cast<unsigned long long>(c.per_class_discarded[i]));
  }
  s += Printf("%-12s %8llu %8llu %12llu %10llu\n", "total", static_cast<unsigned long long>(c.frames_classified),
              static_cast<unsigned long long>(c.kept_full), static_cast<unsigned long long>(c.thumbnail_only),
              static_cast<unsigned long long>(c.discarded));
  s += Printf("%-12s %8llu   (corrupt, truncated or unreadable; catalogued as failed)\n", "failed",
              static_cast<unsigned long long>(c.frames_failed));
  if (c.safe_mode_frames + c.frames_unverified > 0) {
    s += Printf("%-12s %8llu   (safe mode or no majority: not classified, thumbnail and catalog row only)\n",
                "unclassified", static_cast<unsigned long long>(c.safe_mode_frames + c.frames_unverified));
  }
  s += "\n";
  s += Printf("kept full resolution   %llu frames (%llu uncertain frames handled by policy '%s')\n",
              static_cast<unsigned long long>(c.kept_full), static_cast<unsigned long long>(c.uncertain),
              config::FrameActionName(cfg.triage.uncertain.action));
  s += Printf("thumbnail only         %llu frames\n", static_cast<unsigned long long>(c.thumbnail_only));
  s += Printf("discarded              %llu frames (catalog rows kept)\n", static_cast<unsigned long long>(c.discarded));
  s += Printf("bytes captured         %s (every frame as the camera produced it)\n", Mb(c.bytes_camera).c_str());
  s += Printf("bytes queued           %s in %llu full + %llu thumbnail products\n", Mb(c.bytes_queued).c_str(),
              static_cast<unsigned long long>(c.products_queued[0]),
              static_cast<unsigned long long>(c.products_queued[1]));
  s += Printf("bytes sent             %s in %llu packets over %llu pass(es); %zu products still pending\n",
              Mb(c.bytes_sent).c_str(), static_cast<unsigned long long>(c.packets_sent),
              static_cast<unsigned long long>(c.passes_completed), loop.queue().pending_count());
  s += Printf("downlink saved         %.1f %% versus sending every frame\n", 100.0 * SavedFraction(c));
  if (c.truth_frames > 0) {
    s += Printf("simulator truth        %.1f %% of %llu frames classified as their true class\n",
                100.0 * static_cast<double>(c.truth_correct) / static_cast<double>(c.truth_frames),
                static_cast<unsigned long long>(c.truth_frames));
  }
  std::string drops;
  for (int i = 0; i < kDropReasonCount; ++i) {
    if (c.drops[i] == 0) continue;
    drops += Printf("%s%s %llu", drops.empty() ? "" : ", ", DropReasonName(static_cast<DropReason>(i)),
                    static_cast<unsigned long long>(c.drops[i]));
  }
  s += Printf("drops                  %s\n", drops.empty() ? "none" : drops.c_str());
  if (c.reloads_applied + c.reloads_rejected + c.retransmit_requests + queue_evictions(loop) > 0) {
    s += Printf("uplink                 %llu reload(s) applied, %llu rejected; %llu retransmission request(s); "
                "%llu product(s) evicted\n",
                static_cast<unsigned long long>(c.reloads_applied), static_cast<unsigned long long>(c.reloads_rejected),
                static_cast<unsigned long long>(c.retransmit_requests),
                static_cast<unsigned long long>(queue_evictions(loop)));
  }
  const FaultSummary f = loop.fault().Summary();
  s += Printf("redundancy             %s%s: %llu inference runs, %llu disagreement(s) (%llu outvoted, %llu no "
              "majority)\n",
              f.redundancy, f.separate_weight_copy ? " (separate weight copies)" : "",
              static_cast<unsigned long long>(f.runs), static_cast<unsigned long long>(f.disagreements),
              static_cast<unsigned long long>(f.corrected), static_cast<unsigned long long>(f.no_majority));
  s += Printf("unverified             %llu frames kept thumbnail-only and marked (no majority)\n",
              static_cast<unsigned long long>(c.frames_unverified));
  s += Printf("scrubbing              %llu sweep(s), %llu mismatch(es), %llu repair(s)\n",
              static_cast<unsigned long long>(f.scrub_sweeps), static_cast<unsigned long long>(f.scrub_mismatches),
              static_cast<unsigned long long>(f.scrub_repairs));
  s += Printf("health                 %llu missed deadline(s), %llu stage restart(s); boot %llu, %u reset(s) in "
              "window\n",
              static_cast<unsigned long long>(f.missed_deadlines), static_cast<unsigned long long>(f.stage_restarts),
              static_cast<unsigned long long>(f.boot_count), f.resets_in_window);
  s += Printf("safe mode              %s; %llu frames captured in safe mode (thumbnail and catalog only)\n",
              f.safe_mode ? (std::string("ON (") + f.safe_mode_reason + ")").c_str() : "off",
              static_cast<unsigned long long>(c.safe_mode_frames));
  if (c.peak_rss_bytes > 0) {
    s += Printf("peak memory            %.1f MB resident (VmHWM, shared libraries included); "
                "%.1f MB anonymous (largest sample)\n",
                static_cast<double>(c.peak_rss_bytes) / (1 << 20), static_cast<double>(c.peak_anon_bytes) / (1 << 20));
  }
  s += "\nmedian ms per stage (frames where the stage ran)\n";
  const StageTimes& t = loop.stage_times();
  for (int i = 0; i < kFlightStageCount; ++i) {
    const FlightStage st = static_cast<FlightStage>(i);
    s += Printf("  %-11s %9.2f ms  (%llu frames)\n", FlightStageName(st), t.MedianMs(st),
                static_cast<unsigned long long>(t.count(st)));
  }
  return s;
}

std::string SummaryJson(const FlightLoop& loop, StopReason reason) {
  const FlightCounters& c = loop.counters();
  const Classifier& cls = loop.classifier();
  nlohmann::json j;
  j["mission"] = loop.config().name;
  j["stopped_by"] = StopReasonName(reason);
  j["first_frame"] = loop.resumed_at();
  j["next_frame"] = loop.next_frame_id();
  j["config_sha256"] = loop.config_hash_hex();
  j["model_sha256"] = config::HexDigest(cls.model_hash());
  j["frames"] = {{"attempted", c.frames_attempted}, {"captured", c.frames_captured},
                 {"classified", c.frames_classified}, {"failed", c.frames_failed},
                 {"kept_full", c.kept_full},          {"thumbnail_only", c.thumbnail_only},
                 {"discarded", c.discarded},          {"uncertain", c.uncertain},
                 {"safe_mode", c.safe_mode_frames}};
  nlohmann::json classes = nlohmann::json::object();
  for (int i = 0; i < cls.num_classes(); ++i) {
    classes[cls.label(i)] = {{"frames", c.per_class[i]},
                             {"full", c.per_class_full[i]},
                             {"thumbnail_only", c.per_class_thumbnail[i]},
                             {"discarded", c.per_class_discarded[i]}};
  }
  j["classes"] = classes;
  j["bytes"] = {{"camera", c.bytes_camera}, {"queued", c.bytes_queued}, {"sent", c.bytes_sent}};
  j["memory"] = {{"peak_rss_bytes", c.peak_rss_bytes}, {"peak_anon_bytes", c.peak_anon_bytes}};
  j["saved_fraction"] = SavedFraction(c);
  j["products"] = {{"full", c.products_queued[0]},
                   {"thumbnail", c.products_queued[1]},
                   {"completed", c.products_completed},
                   {"pending", loop.queue().pending_count()},
                   {"evicted", queue_evictions(loop)}};
  j["downlink"] = {{"packets", c.packets_sent},
                   {"slices", c.downlink_slices},
                   {"passes_completed", c.passes_completed},
                   {"errors", c.downlink_errors},
                   {"channel", {{"lost", c.channel_lost},
                                {"corrupted", c.channel_corrupted},
                                {"duplicated", c.channel_duplicated},
                                {"reordered", c.channel_reordered}}}};
  nlohmann::json drops = nlohmann::json::object();
  for (int i = 0; i < kDropReasonCount; ++i) drops[DropReasonName(static_cast<DropReason>(i))] = c.drops[i];
  j["drops"] = drops;
  const FaultSummary f = loop.fault().Summary();
  j["fault"] = {{"redundancy", f.redundancy},
                {"separate_weight_copy", f.separate_weight_copy},
                {"runs", f.runs},
                {"disagreements", f.disagreements},
                {"corrected", f.corrected},
                {"no_majority", f.no_majority},
                {"failed_runs", f.failed_runs},
                {"frames_unverified", c.frames_unverified},
                {"scrub_sweeps", f.scrub_sweeps},
                {"scrub_mismatches", f.scrub_mismatches},
                {"scrub_repairs", f.scrub_repairs},
                {"missed_deadlines", f.missed_deadlines},
                {"stage_restarts", f.stage_restarts},
                {"watchdog_strokes", f.watchdog_strokes},
                {"supervisor_beats", f.supervisor_beats},
                {"safe_mode", f.safe_mode},
                {"safe_mode_reason", f.safe_mode_reason},
                {"safe_mode_frames", c.safe_mode_frames},
                {"boot_count", f.boot_count},
                {"resets_in_window", f.resets_in_window}};
  j["uplink"] = {{"reloads_applied", c.reloads_applied},
                 {"reloads_rejected", c.reloads_rejected},
                 {"retransmit_requests", c.retransmit_requests}};
  if (c.truth_frames > 0) {
    j["truth"] = {{"frames", c.truth_frames}, {"correct", c.truth_correct}};
  }
  nlohmann::json stages = nlohmann::json::object();
  const StageTimes& t = loop.stage_times();
  for (int i = 0; i < kFlightStageCount; ++i) {
    const FlightStage st = static_cast<FlightStage>(i);
    stages[FlightStageName(st)] = {{"median_ms", t.MedianMs(st)}, {"total_ms", t.TotalMs(st)}, {"frames", t.count(st)}};
  }
  j["stage_ms"] = stages;
  return j.dump(2) + "\n";
}

}  // namespace triage::app
