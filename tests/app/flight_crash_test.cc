// Kill -9 crash consistency of the real triage-flight process: start it on a
// simulated orbit, SIGKILL it at a random instant, restart it on the same
// output directory, many times; after every kill, reopen the queue and
// catalog (recovery) and check that no product the process had accepted is
// lost or corrupt. "Accepted" = listed in a complete telemetry line, which
// the loop writes only after Enqueue returned (durable) and the catalog row
// was written. Finally one run to the end must leave a contiguous catalog.
// SIGKILL cannot model a lost page cache; that rests on the fsync/rename
// protocol (downlink/README.md) and its library-level tests.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/mission.h"
#include "downlink/catalog.h"
#include "downlink/queue.h"
#include "tests/app/process_util.h"
#include "tests/config/mission_test_support.h"

namespace triage::testing {
namespace {

const std::string kBinary = TRIAGE_FLIGHT_BINARY;
constexpr int kKills = 20;

struct Accepted {
  uint64_t frame = 0;
  std::string kind;
  uint64_t bytes = 0;
};

TEST(FlightCrash, KillNineAtRandomInstantsLosesNoAcceptedProduct) {
  const std::string dir = MakeTempDir("triage_flight_crash_");
  ASSERT_FALSE(dir.empty());
  const std::string model = dir + "/model.tflite";
  WriteFile(model, BuildTestModel());
  // Small frames, every frame queues something (everything is uncertain ->
  // thumbnail; land above 0.2 -> full too), passes cover the whole run so
  // products are also being sent (renamed to .sent) when the kill lands.
  std::string yaml = TestMissionYaml(model, 160, 128);
  yaml.replace(yaml.find("land: {full: 0.5"), 16, "land: {full: 0.2");
  yaml.replace(yaml.find("below_confidence: 0.3"), 21, "below_confidence: 0.9");
  const std::string passes = "    - {start_s: 600, end_s: 900}\n    - {start_s: 1800, end_s: 2100}\n";
  ASSERT_NE(yaml.find(passes), std::string::npos);
  yaml.replace(yaml.find(passes), passes.size(), "    - {start_s: 300, end_s: 2000}\n    - {start_s: 2400, end_s: 4000}\n");
  yaml += "logging: {progress_every_frames: 0}\n";
  const std::string cfg = dir + "/mission.yaml";
  WriteFile(cfg, yaml);
  const std::string out = dir + "/out";
  config::LoadOptions lo;
  lo.base_dir = dir;
  const config::LoadedConfig loaded = config::ParseMission(yaml, cfg, lo);
  ASSERT_TRUE(loaded.ok()) << config::FormatProblem(cfg, loaded.problems.front());
  downlink::Config d = loaded.config.downlink;
  d.storage_dir = out + "/downlink";

  std::mt19937 rng(20240517);
  std::uniform_int_distribution<int> delay_ms(20, 500);
  int killed_mid_run = 0;
  for (int round = 0; round < kKills; ++round) {
    const Child child = Spawn(kBinary, {"--config", cfg, "--out", out, "--quiet", "--until-pass", "1"},
                              dir + "/round" + std::to_string(round));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(child.pid, SIGKILL);
    const int code = Wait(child, 60);
    if (code == 128 + SIGKILL) ++killed_mid_run;

    // What the killed (and every earlier) process had accepted.
    std::vector<Accepted> accepted;
    std::map<uint64_t, int> lines_per_frame;
    for (const std::string& line : CompleteLines(ReadFile(out + "/telemetry.jsonl"))) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (...) {
        continue;  // the torn tail of a killed run, closed by the next run
      }
      ++lines_per_frame[j["frame"].get<uint64_t>()];
      for (const auto& p : j["products"]) {
        accepted.push_back({j["frame"].get<uint64_t>(), p["kind"].get<std::string>(), p["bytes"].get<uint64_t>()});
      }
    }
    for (const auto& [frame, n] : lines_per_frame) {
      ASSERT_EQ(n, 1) << "frame " << frame << " was processed twice (round " << round << ")";
    }

    // Reopen as the next start-up would: recovery, then every accepted
    // product must be there, intact (payload CRC checked at Open).
    downlink::Catalog catalog;
    ASSERT_TRUE(catalog.Open(d).ok()) << "round " << round;
    downlink::DownlinkQueue queue;
    ASSERT_TRUE(queue.Open(d, &catalog).ok()) << "round " << round;
    EXPECT_EQ(queue.recovery().corrupt_files_dropped, 0u) << "round " << round;
    std::map<std::pair<uint64_t, std::string>, uint64_t> present;
    for (const downlink::QueueItem& item : queue.items()) {
      if (item.meta.kind == downlink::ProductKind::kCatalog) continue;
      present[{item.meta.frame_id, downlink::ProductKindName(item.meta.kind)}] = item.meta.payload_bytes;
    }
    for (const Accepted& a : accepted) {
      auto it = present.find({a.frame, a.kind});
      ASSERT_NE(it, present.end()) << "round " << round << ": frame " << a.frame << " " << a.kind << " lost";
      EXPECT_EQ(it->second, a.bytes) << "round " << round << ": frame " << a.frame;
      const downlink::CatalogRow* row = catalog.Find(a.frame);
      ASSERT_NE(row, nullptr) << "round " << round << ": frame " << a.frame << " has no catalog row";
    }
  }
  EXPECT_GE(killed_mid_run, kKills / 2) << "most kills should land while the process runs";

  // A final uninterrupted run completes the orbit from where the last one stopped.
  const RunResult last = RunBinary(kBinary, {"--config", cfg, "--out", out, "--quiet", "--until-pass", "1"},
                                   dir + "/final", 300);
  ASSERT_EQ(last.code, 0) << last.err;
  downlink::Catalog catalog;
  ASSERT_TRUE(catalog.Open(d).ok());
  std::set<uint64_t> ids;
  for (size_t i = 0; i < catalog.size(); ++i) ids.insert(catalog.row(i).frame_id);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(*ids.begin(), 0u);
  EXPECT_EQ(ids.size(), *ids.rbegin() + 1) << "catalog frame ids are not contiguous";
  // 60 s frames, pass 1 ends at 4000 s: frames 0..66.
  EXPECT_EQ(*ids.rbegin(), 66u);
  RemoveTree(dir);
}

}  // namespace
}  // namespace triage::testing
