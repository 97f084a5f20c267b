#include "ground/ops_cli.h"

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/mission.h"
#include "ground/receive.h"
#include "ground/replay.h"

namespace triage::ground {

struct OpsCommands {
  CLI::App* receive = nullptr;
  std::vector<std::string> captures;
  std::string receive_out;
  std::string receive_config;
  CLI::App* replay = nullptr;
  ReplayOptions replay_options;
  std::string replay_json;
};

void OpsCommandsDeleter::operator()(OpsCommands* p) const { delete p; }

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "triage-ground: error: %s\n", message.c_str());
  return 1;
}

// The mission file (or the embedded one): packet size, request capacity and
// labels must be the flight's.
bool LoadMission(const std::string& path, config::LoadedConfig* out, std::string* error) {
  *out = path.empty() ? config::LoadEmbeddedMission() : config::LoadMissionFile(path);
  if (!out->ok()) {
    *error = config::FormatProblem(out->source, out->problems.front());
    return false;
  }
  return true;
}

int RunReceive(const OpsCommands& c, bool progress) {
  config::LoadedConfig mission;
  std::string error;
  if (!LoadMission(c.receive_config, &mission, &error)) return Fail(error);
  ReceiveOptions o;
  o.captures = c.captures;
  o.out_dir = c.receive_out;
  o.packet_data_size = mission.config.downlink.packet_data_size;
  o.max_request_ranges = mission.config.downlink.max_retransmit_ranges;
  o.labels = mission.config.model.labels;
  o.progress = progress;
  Result<ReceiveSummary> r = Receive(o);
  if (!r.ok()) return Fail(r.status().message());
  const ReceiveSummary& s = r.value();
  std::printf("received %llu capture(s), %llu bytes: %llu new product(s), %llu complete in %s\n",
              static_cast<unsigned long long>(s.captures_read), static_cast<unsigned long long>(s.capture_bytes),
              static_cast<unsigned long long>(s.products_new), static_cast<unsigned long long>(s.products_complete),
              o.out_dir.c_str());
  std::printf("packets: %llu accepted, %llu rejected, %llu bad bytes skipped (all runs)\n",
              static_cast<unsigned long long>(s.packets_accepted), static_cast<unsigned long long>(s.packets_rejected),
              static_cast<unsigned long long>(s.bytes_skipped));
  for (const auto& [reason, count] : s.rejections) {
    std::printf("  rejected %-16s %llu\n", reason.c_str(), static_cast<unsigned long long>(count));
  }
  for (const std::string& e : s.rejection_examples) std::printf("  e.g. %s\n", e.c_str());
  if (s.journal_torn_bytes > 0) {
    std::printf("state: %llu torn journal byte(s) skipped (an interrupted run)\n",
                static_cast<unsigned long long>(s.journal_torn_bytes));
  }
  if (s.incomplete.empty()) {
    std::printf("incomplete: none; no retransmission request\n");
  } else {
    std::printf("incomplete: %zu product(s)\n", s.incomplete.size());
    size_t shown = 0;
    for (const IncompleteProduct& p : s.incomplete) {
      if (++shown > 10) {
        std::printf("  ... and %zu more (receive.json lists them all)\n", s.incomplete.size() - 10);
        break;
      }
      std::string ranges;
      for (const downlink::PacketRange& m : p.missing) {
        ranges += (ranges.empty() ? "" : ", ") + std::to_string(m.first_packet) +
                  (m.last_packet != m.first_packet ? "-" + std::to_string(m.last_packet) : "");
      }
      std::printf("  product %u: packets %s\n", p.product_id, ranges.c_str());
    }
    std::printf("request: %s/retransmit.bin, %zu range(s)%s; copy it into the flight's uplink folder\n",
                o.out_dir.c_str(), s.request_ranges,
                s.ranges_deferred ? (" (" + std::to_string(s.ranges_deferred) + " deferred to the next request)").c_str()
                                  : "");
  }
  return 0;
}

int RunReplay(const OpsCommands& c, bool progress) {
  ReplayOptions o = c.replay_options;
  o.progress = progress;
  Result<ReplayResult> r = Replay(o);
  if (!r.ok()) return Fail(r.status().message());
  if (!c.replay_json.empty()) {
    const std::string text = ReplayJson(r.value());
    if (c.replay_json == "-") {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
      std::FILE* f = std::fopen(c.replay_json.c_str(), "w");
      if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0) {
        return Fail("cannot write " + c.replay_json);
      }
    }
  }
  if (c.replay_json != "-") std::fputs(ReplayTable(r.value()).c_str(), stdout);
  if (!r->ok()) {
    std::fprintf(stderr, "triage-ground: error: replay differs from the flight in %zu field(s)\n", r->mismatches.size());
    return 1;
  }
  return 0;
}

}  // namespace

OpsCommandsPtr AddOpsCommands(CLI::App& app) {
  OpsCommandsPtr c(new OpsCommands);
  c->receive = app.add_subcommand(
      "receive", "Reassemble and verify products from radio captures; write products, catalogs and the "
                 "retransmission request for what is missing (resumable)");
  c->receive->add_option("captures", c->captures, "Packet captures (radio.bin of each pass), any order")
      ->required()
      ->check(CLI::ExistingFile);
  c->receive->add_option("--out", c->receive_out, "Receive folder (created; a rerun continues from its state)")
      ->required();
  c->receive->add_option("--config", c->receive_config,
                         "Mission file the flight flies (packet size, request capacity, labels); default: embedded");
  c->receive->fallthrough();

  ReplayOptions& ro = c->replay_options;
  c->replay = app.add_subcommand(
      "replay", "Re-run a recorded flight through the flight's code: check it bit for bit, or ask what-if of a new "
                "config or model");
  c->replay->add_option("flight_out", ro.flight_dir, "triage-flight output folder (telemetry.jsonl, config/)")
      ->required()
      ->check(CLI::ExistingDirectory);
  c->replay->add_option("--frames", ro.frames, "Directory of the frames the flight read (default: its camera)")
      ->check(CLI::ExistingDirectory);
  c->replay->add_option("--flight-config", ro.flight_config,
                        "The flight's mission file, if the output folder has no config/ record of it")
      ->check(CLI::ExistingFile);
  c->replay->add_option("--config", ro.config, "What-if: this mission file instead of the flight's")
      ->check(CLI::ExistingFile);
  c->replay->add_option("--model", ro.model, "What-if: this model instead of the flight's (same labels)")
      ->check(CLI::ExistingFile);
  c->replay->add_option("--json", c->replay_json, "Also write the result as JSON to this file (- = stdout only)");
  c->replay->fallthrough();
  return c;
}

bool RunOpsCommands(const OpsCommands& c, bool progress, int* exit_code) {
  if (c.receive->parsed()) {
    *exit_code = RunReceive(c, progress);
    return true;
  }
  if (c.replay->parsed()) {
    *exit_code = RunReplay(c, progress);
    return true;
  }
  return false;
}

}  // namespace triage::ground
