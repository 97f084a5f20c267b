#include "app/flight_tool.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>

#include "app/flight_loop.h"
#include "app/flight_report.h"
#include "config/mission.h"

namespace triage::app {
namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void OnStopSignal(int) { g_stop = 1; }

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "triage-flight: error: %s\n", message.c_str());
  return code;
}

}  // namespace

int RunFlightTool(int argc, char** argv) {
  std::string config_path;
  uint64_t frames = 0;
  int until_pass = -1;
  std::string out_dir = "out/flight";
  std::string summary_json;
  bool check_only = false;
  bool quiet = false;
  CLI::App app{"triage-flight: the onboard triage loop. Captures frames (simulated orbit or a directory of\n"
               "images), thumbnails and classifies them, keeps full resolution / thumbnail only / discards\n"
               "per the mission config, queues compressed products durably and downlinks them during\n"
               "passes. Prints a summary table at the end. SIGTERM/SIGINT stop it cleanly."};
  app.add_option("--config", config_path,
                 "Mission file (YAML); default: the embedded config/mission.yaml");
  app.add_option("--frames", frames, "Stop after N frames (this run)")->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  app.add_option("--until-pass", until_pass, "Stop after ground pass K (0-based) ends")->check(CLI::Range(0, 1 << 20));
  app.add_option("--out", out_dir, "Output directory (queue, catalog, radio, logs, telemetry, uplink); "
                                   "a rerun resumes after the frames already recorded there");
  app.add_option("--summary-json", summary_json, "Also write the summary as JSON to this file");
  app.add_flag("--check", check_only, "Validate the config and the model, print the hashes, and exit");
  app.add_flag("--quiet", quiet, "No progress lines on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(std::string(e.what()) + " (see --help)", 2);
  }

  config::LoadedConfig loaded = config_path.empty() ? config::LoadEmbeddedMission() : config::LoadMissionFile(config_path);
  if (!loaded.ok()) {
    for (const config::ConfigProblem& p : loaded.problems) {
      std::fprintf(stderr, "triage-flight: config: %s\n", config::FormatProblem(loaded.source, p).c_str());
    }
    return Fail(loaded.source + " has " + std::to_string(loaded.problems.size()) +
                    " problem(s); the mission does not start",
                2);
  }
  if (until_pass >= 0 && static_cast<size_t>(until_pass) >= loaded.config.downlink.passes.size()) {
    return Fail("--until-pass " + std::to_string(until_pass) + ": the config has " +
                    std::to_string(loaded.config.downlink.passes.size()) + " pass(es)",
                2);
  }
  if (check_only) {
    std::printf("config ok: %s\n  sha256 %s\n  model %s\n  model sha256 %s (%d classes)\n", loaded.source.c_str(),
                config::HexDigest(loaded.hash).c_str(), loaded.config.model.path.c_str(),
                config::HexDigest(loaded.config.model.file_sha256).c_str(), loaded.config.model.output_count);
    return 0;
  }

  FlightOptions options;
  options.out_dir = out_dir;
  options.config_base_dir = config_path.empty() ? config::EmbeddedMissionBaseDir() : [&] {
    const size_t slash = config_path.find_last_of('/');
    return slash == std::string::npos ? std::string(".") : config_path.substr(0, slash);
  }();
  options.max_frames = frames;
  options.until_pass = until_pass;
  options.progress = !quiet;
  options.log_to_stderr = !quiet;

  struct sigaction sa = {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  Result<std::unique_ptr<FlightLoop>> loop = FlightLoop::Create(std::move(loaded), options);
  if (!loop.ok()) return Fail(std::string("cannot start: ") + loop.status().message());
  if (!quiet) {
    std::fprintf(stderr, "triage-flight: mission %s, config %.16s, output %s, starting at frame %llu\n",
                 (*loop)->config().name.c_str(), (*loop)->config_hash_hex().c_str(), out_dir.c_str(),
                 static_cast<unsigned long long>((*loop)->next_frame_id()));
  }
  const StopReason reason = (*loop)->Run(&g_stop);
  const Status finished = (*loop)->Finish();
  const std::string json = SummaryJson(**loop, reason);
  std::ofstream(out_dir + "/summary.json") << json;
  if (!summary_json.empty()) {
    std::ofstream out(summary_json);
    out << json;
    if (!out) return Fail(summary_json + ": cannot write the summary");
  }
  std::fputs(FormatSummaryTable(**loop, reason).c_str(), stdout);
  std::fflush(stdout);
  if (!finished.ok()) return Fail(std::string("finishing: ") + finished.message());
  if (reason == StopReason::kRestart) {
    std::fprintf(stderr, "triage-flight: the health monitor asked for a pipeline restart (exit 3)\n");
    return 3;
  }
  return 0;
}

}  // namespace triage::app
