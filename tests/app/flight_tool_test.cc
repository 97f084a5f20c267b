// triage-flight end to end, as a process: --help, refusal to start on a bad
// config (every problem listed, one-line error, nothing written) or on a
// model that fails verification, a run over a directory of frames (corrupt
// file included) checked against the catalog and the queue, and a clean
// SIGTERM shutdown.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/mission.h"
#include "downlink/catalog.h"
#include "downlink/queue.h"
#include "imaging/jpeg_codec.h"
#include "imaging/simulator.h"
#include "tests/app/process_util.h"
#include "tests/config/mission_test_support.h"

namespace triage::testing {
namespace {

const std::string kBinary = TRIAGE_FLIGHT_BINARY;

int CountFiles(const std::string& dir, const std::string& suffix) {
  int n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) ++n;
    }
    ::closedir(d);
  }
  return n;
}

class FlightToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("triage_flight_tool_");
    ASSERT_FALSE(dir_.empty());
    model_ = dir_ + "/model.tflite";
    WriteFile(model_, BuildTestModel());
  }
  void TearDown() override { RemoveTree(dir_); }
  RunResult Run(const std::vector<std::string>& args, double timeout_s = 120) {
    return RunBinary(kBinary, args, dir_ + "/run" + std::to_string(++runs_), timeout_s);
  }
  std::string WriteConfig(const std::string& yaml) {
    const std::string path = dir_ + "/mission" + std::to_string(++configs_) + ".yaml";
    WriteFile(path, yaml);
    return path;
  }
  static bool Exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  std::string dir_, model_;
  int runs_ = 0, configs_ = 0;
};

TEST_F(FlightToolTest, HelpDescribesTheFlags) {
  const RunResult r = Run({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--config", "--frames", "--until-pass", "--out", "--check"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST_F(FlightToolTest, UnknownFlagIsAOneLineError) {
  const RunResult r = Run({"--frams", "3"});
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.rfind("triage-flight: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(FlightToolTest, BadConfigListsEveryProblemAndDoesNotStart) {
  const std::string cfg = WriteConfig("camera:\n  frame_interval_s: soon\nmodel: {path: " + model_ +
                                      "}\ndownlink: {full: {codec: gif}}\nfault: {redundancy: triple}\n");
  const std::string out = dir_ + "/out";
  const RunResult r = Run({"--config", cfg, "--out", out, "--frames", "3"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(cfg + ":2: camera.frame_interval_s: expected a number, got 'soon'"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(cfg + ":4: downlink.full.codec:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(cfg + ":5: fault.redundancy:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("triage-flight: error: " + cfg + " has 3 problem(s); the mission does not start\n"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(Exists(out));
  EXPECT_TRUE(r.out.empty());
}

TEST_F(FlightToolTest, ModelThatFailsVerificationRefusesToStart) {
  WriteFile(dir_ + "/junk.tflite", std::string(4096, '\x01'));
  const std::string cfg = WriteConfig(TestMissionYaml(dir_ + "/junk.tflite"));
  const RunResult r = Run({"--config", cfg, "--out", dir_ + "/out"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("model.path: " + dir_ + "/junk.tflite fails verification"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(dir_ + "/out"));
}

TEST_F(FlightToolTest, CheckValidatesAndPrintsHashes) {
  const std::string cfg = WriteConfig(TestMissionYaml(model_));
  const RunResult r = Run({"--config", cfg, "--check"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("config ok"), std::string::npos);
  EXPECT_NE(r.out.find("(5 classes)"), std::string::npos) << r.out;
}

TEST_F(FlightToolTest, UntilPassBeyondTheScheduleIsRefused) {
  const std::string cfg = WriteConfig(TestMissionYaml(model_));
  const RunResult r = Run({"--config", cfg, "--until-pass", "7", "--out", dir_ + "/out"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--until-pass 7: the config has 2 pass(es)"), std::string::npos) << r.err;
}

// Frames rendered by the simulator, JPEG-encoded into a directory, plus one
// truncated JPEG and one PNG.
void WriteFrames(const std::string& dir, int count) {
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  imaging::JpegEncoderConfig jc;
  jc.max_width = 96;
  jc.max_height = 80;
  Result<imaging::JpegEncoder> enc = imaging::JpegEncoder::Create(jc);
  ASSERT_TRUE(enc.ok());
  std::vector<uint8_t> rgb(96 * 80 * 3);
  imaging::SimulatorConfig sim;
  for (int i = 0; i < count; ++i) {
    const imaging::SceneParams p =
        imaging::SampleSceneOfClass(sim, static_cast<imaging::SceneClass>(i % 5), 11, static_cast<uint64_t>(i));
    ASSERT_TRUE(imaging::RenderScene(p, 96, 80, rgb.data(), 96 * 3, nullptr).ok());
    Result<Span<const uint8_t>> j = enc->Encode(rgb.data(), 96, 80, 96 * 3);
    ASSERT_TRUE(j.ok());
    std::vector<uint8_t> bytes(j->begin(), j->end());
    if (i == 3) bytes.resize(bytes.size() / 3);  // truncated in the entropy data
    char name[64];
    std::snprintf(name, sizeof(name), "/frame_%03d.jpg", i);
    WriteFile(dir + name, bytes);
  }
}

TEST_F(FlightToolTest, DirectoryOfFramesFillsTheCatalogAndTheQueueConsistently) {
  const std::string frames = dir_ + "/frames";
  WriteFrames(frames, 12);
  const std::string yaml = TestMissionYaml(model_) +
                           "logging: {progress_every_frames: 5}\n";
  std::string dir_yaml = yaml;
  dir_yaml.replace(dir_yaml.find("  source: simulated\n"), 20,
                   "  source: directory\n  directory: {path: frames, order: name}\n");
  dir_yaml.replace(dir_yaml.find("land: {full: 0.5"), 16, "land: {full: 0.2");
  const std::string cfg = WriteConfig(dir_yaml);
  const std::string out = dir_ + "/out";
  const RunResult r = Run({"--config", cfg, "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("stopped by end of input"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("downlink saved"), std::string::npos);
  EXPECT_NE(r.err.find("triage-flight: frame 4 "), std::string::npos) << r.err;  // progress

  // catalog.csv: one row per file; the truncated one is catalogued as failed (4).
  const std::vector<std::string> csv = CompleteLines(ReadFile(out + "/catalog.csv"));
  ASSERT_EQ(csv.size(), 13u);
  EXPECT_EQ(csv[0], "frame_id,timestamp,class_id,confidence,decision,bytes,evicted,evicted_kinds");
  EXPECT_EQ(csv[4].substr(0, 2), "3,");
  EXPECT_NE(csv[4].find(",65535,0,4,0,"), std::string::npos) << csv[4];

  // The queue on disk agrees with the catalog and the telemetry.
  config::LoadOptions lo;
  lo.check_files = false;
  const config::LoadedConfig loaded = config::ParseMission(dir_yaml, "x", lo);
  downlink::Config d = loaded.config.downlink;
  d.storage_dir = out + "/downlink";
  downlink::Catalog catalog;
  ASSERT_TRUE(catalog.Open(d).ok());
  downlink::DownlinkQueue queue;
  ASSERT_TRUE(queue.Open(d, &catalog).ok());
  EXPECT_EQ(queue.recovery().corrupt_files_dropped, 0u);
  std::map<uint64_t, uint8_t> kinds;  // bit per product kind
  for (const downlink::QueueItem& item : queue.items()) {
    if (item.meta.kind == downlink::ProductKind::kCatalog) continue;
    kinds[item.meta.frame_id] |= static_cast<uint8_t>(1u << static_cast<int>(item.meta.kind));
  }
  ASSERT_EQ(catalog.size(), 12u);
  int full = 0;
  for (size_t i = 0; i < catalog.size(); ++i) {
    const downlink::CatalogRow& row = catalog.row(i);
    const uint8_t k = kinds[row.frame_id];
    const uint8_t want = row.decision == 3 ? 3 : row.decision == 2 ? 1 : row.decision == 1 ? 2 : 0;
    EXPECT_EQ(k, want) << "frame " << row.frame_id << " decision " << int(row.decision);
    if (row.decision >= 2 && row.decision <= 3) ++full;
  }
  EXPECT_GT(full, 0);
  const std::vector<std::string> telemetry = CompleteLines(ReadFile(out + "/telemetry.jsonl"));
  ASSERT_EQ(telemetry.size(), 12u);
  for (const std::string& line : telemetry) {
    const nlohmann::json j = nlohmann::json::parse(line);
    for (const auto& p : j["products"]) {
      const downlink::QueueItem* item = queue.Find(p["id"].get<uint32_t>());
      ASSERT_NE(item, nullptr) << line;
      EXPECT_EQ(item->meta.payload_bytes, p["bytes"].get<uint64_t>());
      EXPECT_EQ(item->meta.frame_id, j["frame"].get<uint64_t>());
    }
  }
  const nlohmann::json summary = nlohmann::json::parse(ReadFile(out + "/summary.json"));
  EXPECT_EQ(summary["frames"]["attempted"], 12);
  EXPECT_EQ(summary["frames"]["failed"], 1);
  EXPECT_EQ(summary["drops"]["corrupt_frame"], 1);
  EXPECT_EQ(summary["config_sha256"].get<std::string>(), config::HexDigest(loaded.hash));
}

TEST_F(FlightToolTest, SigtermFinishesTheFrameInHandAndExitsCleanly) {
  std::string yaml = TestMissionYaml(model_, 640, 480);
  yaml.replace(yaml.find("render_divisor: 1"), 17, "render_divisor: 2");
  yaml += "logging: {progress_every_frames: 0}\n";
  const std::string cfg = WriteConfig(yaml);
  const std::string out = dir_ + "/out";
  const Child child = Spawn(kBinary, {"--config", cfg, "--out", out, "--quiet"}, dir_ + "/term");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CompleteLines(ReadFile(out + "/telemetry.jsonl")).size() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(::kill(child.pid, SIGTERM), 0);
  const int code = Wait(child, 60);
  EXPECT_EQ(code, 0) << ReadFile(child.err_path);
  const std::string stdout_text = ReadFile(child.out_path);
  EXPECT_NE(stdout_text.find("stopped by signal"), std::string::npos) << stdout_text;
  const nlohmann::json summary = nlohmann::json::parse(ReadFile(out + "/summary.json"));
  EXPECT_EQ(summary["stopped_by"], "signal");
  // Every frame that reached the catalog has its telemetry line and vice
  // versa (an abandoned frame has neither a row nor products).
  const std::vector<std::string> csv = CompleteLines(ReadFile(out + "/catalog.csv"));
  int recorded = 0;
  for (const std::string& line : CompleteLines(ReadFile(out + "/telemetry.jsonl"))) {
    if (nlohmann::json::parse(line)["decision"] != "abandoned") ++recorded;
  }
  EXPECT_EQ(static_cast<int>(csv.size()) - 1, recorded);
  EXPECT_GE(recorded, 3);
  // No torn temporary files: the shutdown did not cut a write.
  EXPECT_EQ(CountFiles(out + "/downlink/queue", ".tmp"), 0);
  EXPECT_GT(CountFiles(out + "/downlink/queue", ".item") + CountFiles(out + "/downlink/queue", ".sent"), 0);
  EXPECT_NE(ReadFile(out + "/logs/triage-flight.log").find("stop requested"), std::string::npos);
}

}  // namespace
}  // namespace triage::testing
