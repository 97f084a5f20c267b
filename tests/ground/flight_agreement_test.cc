// The ground evaluator (`triage-ground evaluate --config`) and the flight
// (`triage-flight` with a directory camera) make the same decision on every
// frame of a labelled folder of real images, with the shipped model and the
// shipped mission file: ground numbers are flight numbers.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/mission.h"
#include "ground/flight_eval.h"
#include "tests/app/process_util.h"
#include "tests/support/shared_paths.h"
#include "tests/support/temp_dir.h"

namespace triage::ground {
namespace {
namespace fs = std::filesystem;

void Replace(std::string* text, const std::string& from, const std::string& to) {
  const size_t at = text->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text->replace(at, from.size(), to);
}

TEST(FlightGroundAgreement, EvaluatorDecisionsEqualTheFlightLoopsFrameByFrame) {
  TRIAGE_REQUIRE_SHARED();
  testing::TempDir dir("triage_agree");
  const std::string labelled = dir / "labelled", frames = dir / "frames";
  // Every 4th real image of each class (JPEG and PNG), in a labelled folder
  // for the evaluator and flat, class-prefixed, for the flight's camera.
  const std::vector<std::string> classes = {"black", "cloud", "distorted", "land", "white"};
  fs::create_directories(frames);
  size_t copied = 0;
  for (const std::string& cls : classes) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(testing::SharedPath("datasets/real/" + cls))) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    fs::create_directories(labelled + "/" + cls);
    for (size_t i = 0; i < files.size(); i += 4) {
      fs::copy_file(files[i], labelled + "/" + cls + "/" + files[i].filename().string());
      fs::copy_file(files[i], frames + "/" + cls + "_" + files[i].filename().string());
      ++copied;
    }
  }
  ASSERT_GT(copied, 50u);

  std::string yaml = config::EmbeddedMissionYaml();
  Replace(&yaml, "  source: simulated ", "  source: directory ");
  Replace(&yaml, "    path: \"\" ", "    path: " + frames + " ");
  Replace(&yaml, "  max_raw_width: 0 ", "  max_raw_width: 1024 ");
  Replace(&yaml, "  max_raw_height: 0 ", "  max_raw_height: 1024 ");
  Replace(&yaml, "  path: ../models/triage_int8.tflite", "  path: " + testing::SourcePath("models/triage_int8.tflite"));
  const std::string mission = dir / "mission.yaml";
  std::ofstream(mission) << yaml;

  // The flight.
  const std::string out = dir / "out";
  const testing::Child child =
      testing::Spawn(TRIAGE_FLIGHT_BINARY, {"--config", mission, "--out", out}, dir / "flight");
  ASSERT_EQ(testing::Wait(child, 600), 0) << "see " << child.err_path;
  std::map<std::string, std::pair<std::string, int>> flight;  // file -> (decision, class id)
  std::map<std::string, uint64_t> flight_bytes;                // file -> bytes of its queued products
  std::ifstream telemetry(out + "/telemetry.jsonl");
  for (std::string line; std::getline(telemetry, line);) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("source") || !j.contains("decision")) continue;
    flight[j["source"].get<std::string>()] = {j["decision"].get<std::string>(),
                                               j.contains("class_id") ? j["class_id"].get<int>() : -1};
    uint64_t bytes = 0;
    if (j.contains("products")) {
      for (const auto& p : j["products"]) bytes += p["bytes"].get<uint64_t>();
    }
    flight_bytes[j["source"].get<std::string>()] = bytes;
  }
  ASSERT_EQ(flight.size(), copied);

  // The ground evaluator on the same files and mission file.
  FlightEvalOptions o;
  o.data = labelled;
  o.mission = mission;
  o.confidence = "";
  o.progress = false;
  Result<FlightEvalResult> ground = EvaluateFlightDecisions(o);
  ASSERT_TRUE(ground.ok()) << ground.status().message();
  ASSERT_EQ(ground->rows.size(), copied);
  std::map<std::string, int> actions;
  for (const FlightEvalRow& row : ground->rows) {
    const std::string name = row.file.substr(0, row.file.find('/')) + "_" + row.file.substr(row.file.find('/') + 1);
    const auto f = flight.find(name);
    ASSERT_NE(f, flight.end()) << name;
    EXPECT_EQ(f->second.first, ActionWord(row.decision.action)) << name;
    EXPECT_EQ(f->second.second, row.scores.class_id) << name;
    // The evaluator's bytes are the flight's: the same encoder, the same codecs.
    EXPECT_EQ(flight_bytes[name], row.queued_bytes) << name;
    EXPECT_GT(row.whole_bytes, 0u) << name;
    ++actions[ActionWord(row.decision.action)];
  }
  // Not a vacuous agreement: the policy used more than one action.
  EXPECT_GE(actions.size(), 2u);
}

}  // namespace
}  // namespace triage::ground
