// Kill -9 crash consistency of the real triage-flight process: start it on a
// simulated orbit, SIGKILL it at a random instant, restart it on the same
// output directory, many times; after every kill, reopen the queue and
// catalog (recovery) and check that no product the process had accepted is
// lost or corrupt. "Accepted" = listed in a complete telemetry line, which
// the loop writes only after Enqueue returned (durable) and the catalog row
// was written. Finally one run to the end must leave a contiguous catalog.
// SIGKILL cannot model a lost page cache; that rests on the fsync/rename
// protocol (downlink/README.md) and its library-level tests.
//
// The second test runs the same orbit under triage-supervisor (with the fault
// layer on: dmr, separate weight copies): the flight child is killed -9 at
// random instants, the supervisor restarts it each time, and the same
// invariants hold.
#include <signal.h>
#include <unistd.h>

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
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
const std::string kSupervisorBinary = TRIAGE_SUPERVISOR_BINARY;
constexpr int kKills = 20;

struct Accepted {
  uint64_t frame = 0;
  std::string kind;
  uint64_t bytes = 0;
};

// Small frames, every frame queues something (everything is uncertain ->
// thumbnail; land above 0.2 -> full too), passes cover the whole run so
// products are also being sent (renamed to .sent) when the kill lands.
std::string CrashMissionYaml(const std::string& model, const std::string& extra = "") {
  std::string yaml = TestMissionYaml(model, 160, 128);
  yaml.replace(yaml.find("land: {full: 0.5"), 16, "land: {full: 0.2");
  yaml.replace(yaml.find("below_confidence: 0.3"), 21, "below_confidence: 0.9");
  const std::string passes = "    - {start_s: 600, end_s: 900}\n    - {start_s: 1800, end_s: 2100}\n";
  EXPECT_NE(yaml.find(passes), std::string::npos);
  yaml.replace(yaml.find(passes), passes.size(), "    - {start_s: 300, end_s: 2000}\n    - {start_s: 2400, end_s: 4000}\n");
  return yaml + "logging: {progress_every_frames: 0}\n" + extra;
}

// A fresh directory with the test model and CrashMissionYaml(model, extra)
// written to it; `downlink` is the parsed config's, stored under out/.
struct CrashMission {
  std::string dir, cfg, out;
  downlink::Config downlink;
};

void SetUpCrashMission(const char* prefix, const std::string& extra, CrashMission* m) {
  m->dir = MakeTempDir(prefix);
  ASSERT_FALSE(m->dir.empty());
  const std::string model = m->dir + "/model.tflite";
  WriteFile(model, BuildTestModel());
  const std::string yaml = CrashMissionYaml(model, extra);
  m->cfg = m->dir + "/mission.yaml";
  WriteFile(m->cfg, yaml);
  m->out = m->dir + "/out";
  config::LoadOptions lo;
  lo.base_dir = m->dir;
  const config::LoadedConfig loaded = config::ParseMission(yaml, m->cfg, lo);
  ASSERT_TRUE(loaded.ok()) << config::FormatProblem(m->cfg, loaded.problems.front());
  m->downlink = loaded.config.downlink;
  m->downlink.storage_dir = m->out + "/downlink";
}

// After a kill: every product a complete telemetry line lists is in the
// recovered queue, intact, with its catalog row; no frame was processed twice.
void ExpectNoAcceptedProductLost(const std::string& out, const downlink::Config& d, const std::string& when) {
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
    ASSERT_EQ(n, 1) << "frame " << frame << " was processed twice (" << when << ")";
  }
  // Reopen as the next start-up would: recovery, then every accepted
  // product must be there, intact (payload CRC checked at Open).
  downlink::Catalog catalog;
  ASSERT_TRUE(catalog.Open(d).ok()) << when;
  downlink::DownlinkQueue queue;
  ASSERT_TRUE(queue.Open(d, &catalog).ok()) << when;
  EXPECT_EQ(queue.recovery().corrupt_files_dropped, 0u) << when;
  std::map<std::pair<uint64_t, std::string>, uint64_t> present;
  for (const downlink::QueueItem& item : queue.items()) {
    if (item.meta.kind == downlink::ProductKind::kCatalog) continue;
    present[{item.meta.frame_id, downlink::ProductKindName(item.meta.kind)}] = item.meta.payload_bytes;
  }
  for (const Accepted& a : accepted) {
    auto it = present.find({a.frame, a.kind});
    ASSERT_NE(it, present.end()) << when << ": frame " << a.frame << " " << a.kind << " lost";
    EXPECT_EQ(it->second, a.bytes) << when << ": frame " << a.frame;
    ASSERT_NE(catalog.Find(a.frame), nullptr) << when << ": frame " << a.frame << " has no catalog row";
  }
}

// A complete orbit: frames 0..66 (60 s frames, pass 1 ends at 4000 s), contiguous.
void ExpectContiguousCatalog(const downlink::Config& d) {
  downlink::Catalog catalog;
  ASSERT_TRUE(catalog.Open(d).ok());
  std::set<uint64_t> ids;
  for (size_t i = 0; i < catalog.size(); ++i) ids.insert(catalog.row(i).frame_id);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(*ids.begin(), 0u);
  EXPECT_EQ(ids.size(), *ids.rbegin() + 1) << "catalog frame ids are not contiguous";
  EXPECT_EQ(*ids.rbegin(), 66u);
}

// Wall time of one uninterrupted orbit of `cfg` on this machine and build,
// in its own output folder: the kill tests scale their delays from it.
void MeasureOrbit(const std::string& cfg, const std::string& dir, int* orbit_ms) {
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult calibration = RunBinary(kBinary, {"--config", cfg, "--out", dir + "/calibration", "--quiet",
                                                    "--until-pass", "1"}, dir + "/calibration_run", 300);
  ASSERT_EQ(calibration.code, 0) << calibration.err;
  *orbit_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - t0).count());
}

TEST(FlightCrash, KillNineAtRandomInstantsLosesNoAcceptedProduct) {
  CrashMission m;
  ASSERT_NO_FATAL_FAILURE(SetUpCrashMission("triage_flight_crash_", "", &m));
  const std::string &dir = m.dir, &cfg = m.cfg, &out = m.out;
  const downlink::Config& d = m.downlink;

  // Kill delays scale with how long one uninterrupted orbit takes on this
  // machine (and build), so that about 0.8 of an orbit elapses over all
  // rounds: most kills land mid-run and the orbit is still unfinished.
  int orbit_ms = 0;
  ASSERT_NO_FATAL_FAILURE(MeasureOrbit(cfg, dir, &orbit_ms));
  std::mt19937 rng(20240517);
  std::uniform_int_distribution<int> delay_ms(std::max(2, orbit_ms / 80), std::max(4, orbit_ms / 15));
  int killed_mid_run = 0;
  for (int round = 0; round < kKills; ++round) {
    const Child child = Spawn(kBinary, {"--config", cfg, "--out", out, "--quiet", "--until-pass", "1"},
                              dir + "/round" + std::to_string(round));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(child.pid, SIGKILL);
    const int code = Wait(child, 60);
    if (code == 128 + SIGKILL) ++killed_mid_run;
    ExpectNoAcceptedProductLost(out, d, "round " + std::to_string(round));
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(killed_mid_run, kKills / 2) << "most kills should land while the process runs";

  // A final uninterrupted run completes the orbit from where the last one stopped.
  const RunResult last = RunBinary(kBinary, {"--config", cfg, "--out", out, "--quiet", "--until-pass", "1"},
                                   dir + "/final", 300);
  ASSERT_EQ(last.code, 0) << last.err;
  ExpectContiguousCatalog(d);
  RemoveTree(dir);
}

// The child pids of `parent` (from /proc/<pid>/stat).
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (const dirent* e = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream f("/proc/" + std::string(e->d_name) + "/stat");
    std::string stat;
    std::getline(f, stat);
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &ppid) == 2 && ppid == parent && state != 'Z') {
      out.push_back(pid);
    }
  }
  ::closedir(proc);
  return out;
}

// True when pid has exited (a zombie not yet reaped) or is gone.
bool IsDead(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return true;
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

bool WaitUntilDead(pid_t pid) {
  for (int i = 0; i < 2000 && !IsDead(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return IsDead(pid);
}

// Kills the supervisor (and with it the flight: PR_SET_PDEATHSIG) if the
// test ends early.
struct Reaper {
  pid_t pid;
  bool reaped = false;
  ~Reaper() {
    if (reaped) return;
    ::kill(pid, SIGCONT);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

TEST(FlightCrash, KillNineUnderTheSupervisorRestartsTheFlightAndLosesNoAcceptedProduct) {
  constexpr int kSupervisedKills = 8;
  CrashMission m;
  ASSERT_NO_FATAL_FAILURE(
      SetUpCrashMission("triage_flight_supervised_", "fault: {redundancy: dmr, separate_weight_copy: true}\n", &m));
  const std::string &dir = m.dir, &cfg = m.cfg, &out = m.out;
  const downlink::Config& d = m.downlink;

  // As above, kill delays scale with one uninterrupted orbit of this very
  // configuration (fault layer on) on this machine and build: over all
  // rounds about 0.6 of an orbit elapses, so most kills land mid-run.
  int orbit_ms = 0;
  ASSERT_NO_FATAL_FAILURE(MeasureOrbit(cfg, dir, &orbit_ms));

  // Generous heartbeat limits: only the kills end a child here. A child that
  // exits 0 (orbit done) ends supervision.
  // (Cross builds: the supervisor starts the flight through the emulator.)
  std::vector<std::string> sup_args = {"--heartbeat-file", dir + "/heartbeat", "--heartbeat-timeout-ms", "20000",
                                       "--startup-grace-ms", "30000", "--backoff-initial-ms", "20",
                                       "--backoff-max-ms", "100", "--max-restarts", "-1", "--kill-grace-ms", "1000",
                                       "--poll-ms", "10", "--"};
  for (const std::string& e : EmulatorPrefix()) sup_args.push_back(e);
  for (const std::string& a : {kBinary, std::string("--config"), cfg, std::string("--out"), out,
                               std::string("--quiet"), std::string("--until-pass"), std::string("1")}) {
    sup_args.push_back(a);
  }
  const Child sup = Spawn(kSupervisorBinary, sup_args, dir + "/supervisor");
  Reaper reaper{sup.pid};
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> delay_ms(std::max(2, orbit_ms / 40), std::max(4, orbit_ms / 10));
  std::set<pid_t> killed;
  bool finished = false;
  for (int round = 0; round < kSupervisedKills && !finished; ++round) {
    // The current flight child: a new one each round (the supervisor
    // restarted it), unless the orbit is done and the supervisor has exited.
    pid_t child = -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (child < 0 && !finished && std::chrono::steady_clock::now() < deadline) {
      for (pid_t p : ChildrenOf(sup.pid)) {
        if (killed.count(p) == 0) child = p;
      }
      finished = child < 0 && IsDead(sup.pid);
      if (child < 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (finished) break;
    ASSERT_GT(child, 0) << "round " << round << ": the supervisor did not (re)start the flight";
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    // Freeze the supervisor so that it cannot restart the flight while the
    // test inspects the queue (opening it runs recovery); the killed child
    // stays a zombie until the supervisor continues and reaps it.
    ASSERT_EQ(::kill(sup.pid, SIGSTOP), 0);
    const bool landed = !IsDead(child) && ::kill(child, SIGKILL) == 0 && WaitUntilDead(child);
    if (landed) {
      killed.insert(child);
      ExpectNoAcceptedProductLost(out, d, "supervised round " + std::to_string(round));
    }
    ASSERT_EQ(::kill(sup.pid, SIGCONT), 0);
    if (HasFatalFailure()) return;
    finished = !landed;  // the flight had finished the orbit
  }
  EXPECT_GE(killed.size(), static_cast<size_t>(kSupervisedKills / 2)) << "most kills should land on a running flight";

  // The last restarted child completes the orbit; the supervisor then exits 0.
  const int code = Wait(sup, 120);
  reaper.reaped = true;
  ASSERT_EQ(code, 0) << ReadFile(sup.err_path);
  ExpectNoAcceptedProductLost(out, d, "after the orbit");
  ExpectContiguousCatalog(d);
  // The last run flew with the fault layer on; its boot counter saw the
  // earlier (killed) starts.
  const nlohmann::json summary = nlohmann::json::parse(ReadFile(out + "/summary.json"));
  EXPECT_EQ(summary["fault"]["redundancy"], "dmr");
  EXPECT_EQ(summary["fault"]["no_majority"], 0);
  EXPECT_GT(summary["fault"]["boot_count"].get<int>(), 1);
  // More than fault.max_resets (5) unclean starts within the window is a
  // reset loop: the flight then runs in safe mode (thumbnails and catalog
  // only), which the queue and catalog checks above covered too.
  EXPECT_EQ(summary["fault"]["safe_mode"].get<bool>(), summary["fault"]["resets_in_window"].get<int>() > 5)
      << summary["fault"].dump();
  RemoveTree(dir);
}

}  // namespace
}  // namespace triage::testing
