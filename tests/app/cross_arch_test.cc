// Cross-architecture determinism: triage-flight of this (armhf) build, run
// under qemu-arm, and the native x86-64 triage-flight fly the same simulated
// orbit (config/mission.yaml) for kFrames frames. Only the stage deadlines
// are widened: qemu runs the target 10-20x slower than a Cortex-A9 would,
// and a missed deadline rightly changes what the fault layer does (restart,
// then safe mode), which is timing, not arithmetic. Both must leave
// byte-identical queued products and catalog, and telemetry that is
// identical field by field except the stage timings. Ground replay of a
// recorded flight rests on this. Built only in cross builds given
// TRIAGE_NATIVE_FLIGHT (scripts/armhf.sh passes the native binary).
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/app/process_util.h"

namespace triage::testing {
namespace {
namespace fs = std::filesystem;

constexpr int kFrames = 40;

// Every regular file under dir, by relative path, with its bytes.
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = ReadFile(e.path().string());
  }
  return out;
}

// Telemetry lines without what depends on the machine's speed.
std::vector<nlohmann::json> Telemetry(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : CompleteLines(ReadFile(path))) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    j.erase("stage_ms");
    out.push_back(std::move(j));
  }
  return out;
}

TEST(CrossArchitecture, ArmUnderQemuAndX86FlyTheSameOrbitToTheSameBytes) {
  const std::string dir = MakeTempDir("triage_cross_arch_");
  ASSERT_FALSE(dir.empty());
  std::string yaml = ReadFile(SourcePath("config/mission.yaml"));
  const std::string deadlines = "stage_deadline_ms: {capture: 2000, preprocess: 2000, infer: 5000, decide: 500, downlink: 5000}";
  const std::string model = "  path: ../models/triage_int8.tflite";
  ASSERT_NE(yaml.find(deadlines), std::string::npos) << "config/mission.yaml changed: update this test";
  ASSERT_NE(yaml.find(model), std::string::npos);
  yaml.replace(yaml.find(deadlines), deadlines.size(),
               "stage_deadline_ms: {capture: 120000, preprocess: 120000, infer: 120000, decide: 60000, downlink: 120000}");
  yaml.replace(yaml.find(model), model.size(), "  path: " + SourcePath("models/triage_int8.tflite"));
  WriteFile(dir + "/mission.yaml", yaml);
  const std::vector<std::string> args = {"--config", dir + "/mission.yaml", "--frames", std::to_string(kFrames),
                                         "--quiet"};
  auto fly = [&](const std::string& binary, bool emulated, const std::string& name) {
    std::vector<std::string> a = args;
    a.push_back("--out");
    a.push_back(dir + "/" + name);
    // Spawn() puts the emulator before this build's binaries; the native
    // binary is started as it is.
    const Child c = emulated ? Spawn(binary, a, dir + "/" + name + "_run")
                             : SpawnNative(binary, a, dir + "/" + name + "_run");
    return Wait(c, 900);
  };
  ASSERT_EQ(fly(TRIAGE_FLIGHT_BINARY, true, "arm"), 0) << ReadFile(dir + "/arm_run.err");
  ASSERT_EQ(fly(TRIAGE_NATIVE_FLIGHT, false, "x86"), 0) << ReadFile(dir + "/x86_run.err");
  for (const char* name : {"arm", "x86"}) {
    const nlohmann::json summary = nlohmann::json::parse(ReadFile(dir + "/" + name + "/summary.json"), nullptr, false);
    ASSERT_TRUE(summary.is_object()) << name;
    EXPECT_FALSE(summary["fault"].value("safe_mode", true)) << name << ": " << summary["fault"].dump();
    EXPECT_EQ(summary["fault"].value("missed_deadlines", -1), 0) << name << ": " << summary["fault"].dump();
  }

  // The queue (every product, its metadata and the journal) and the catalog.
  const std::map<std::string, std::string> arm = Files(dir + "/arm/downlink"), x86 = Files(dir + "/x86/downlink");
  ASSERT_FALSE(arm.empty());
  EXPECT_EQ(arm.size(), x86.size());
  for (const auto& [name, bytes] : x86) {
    const auto it = arm.find(name);
    ASSERT_NE(it, arm.end()) << name << " only on x86-64";
    EXPECT_TRUE(it->second == bytes) << name << " differs (" << it->second.size() << " vs " << bytes.size() << " B)";
  }
  const std::string catalog = ReadFile(dir + "/x86/catalog.csv");
  ASSERT_FALSE(catalog.empty());
  EXPECT_TRUE(ReadFile(dir + "/arm/catalog.csv") == catalog) << "catalog.csv differs";

  // Telemetry: identical but for the stage timings.
  const std::vector<nlohmann::json> ta = Telemetry(dir + "/arm/telemetry.jsonl");
  const std::vector<nlohmann::json> tx = Telemetry(dir + "/x86/telemetry.jsonl");
  ASSERT_EQ(tx.size(), static_cast<size_t>(kFrames));
  ASSERT_EQ(ta.size(), tx.size());
  std::set<std::string> truths, decisions;
  for (size_t i = 0; i < tx.size(); ++i) {
    EXPECT_EQ(ta[i], tx[i]) << "telemetry of frame " << i;
    truths.insert(tx[i].value("truth", ""));
    decisions.insert(tx[i].value("decision", ""));
  }
  // Not a vacuous comparison: the orbit had land, cloud, night and
  // distorted frames, and more than one decision.
  for (const char* c : {"land", "cloud", "black", "distorted"}) EXPECT_EQ(truths.count(c), 1u) << c;
  EXPECT_GE(decisions.size(), 2u);
  RemoveTree(dir);
}

}  // namespace
}  // namespace triage::testing
