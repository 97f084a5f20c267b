// The ground station end to end, with the real binaries: triage-flight flies
// a small simulated mission over a lossy channel (downlink.channel), and
// triage-ground receive / replay / what-if work on what came down.
//   - lossy link: fly a pass, receive, uplink the retransmission request, fly
//     the next pass, ... until every product the flight queued is on the
//     ground, byte-identical to the flight's queue;
//   - replay: the recorded flight replays bit for bit; an altered telemetry
//     record is caught frame by frame with a non-zero exit;
//   - what-if: a higher land threshold moves frames from full to thumbnail.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/mission.h"
#include "downlink/catalog.h"
#include "downlink/queue.h"
#include "tests/app/process_util.h"
#include "tests/config/mission_test_support.h"
#include "tests/support/shared_paths.h"

namespace triage::testing {
namespace {
namespace fs = std::filesystem;

const std::string kFlight = TRIAGE_FLIGHT_BINARY;
const std::string kGround = TRIAGE_GROUND_BINARY;

// Passes every 20 frames (frames are 60 s apart), 300 s each.
std::string Passes() {
  std::string s;
  for (int k = 2; k < 13; ++k) {  // after the base mission's two
    s += "    - {start_s: " + std::to_string(600 + 1200 * k) + ", end_s: " + std::to_string(900 + 1200 * k) + "}\n";
  }
  return s;
}

std::vector<uint8_t> Bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

nlohmann::json Json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

class GroundOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("triage_ground_ops_");
    ASSERT_FALSE(dir_.empty());
    TestModelOptions model;
    model.land_bias = 1.5f;  // enough land frames above full: 0.5 for the what-if to move
    WriteFile(dir_ + "/model.tflite", BuildTestModel(model));
    base_ = TestMissionYaml(dir_ + "/model.tflite", 160, 128);
  }
  void TearDown() override { RemoveTree(dir_); }
  RunResult Flight(const std::vector<std::string>& args) {
    return RunBinary(kFlight, args, dir_ + "/flight" + std::to_string(++runs_), 300);
  }
  RunResult Ground(const std::vector<std::string>& args) {
    return RunBinary(kGround, args, dir_ + "/ground" + std::to_string(++runs_), 300);
  }
  std::string Write(const std::string& name, const std::string& yaml) {
    WriteFile(dir_ + "/" + name, yaml);
    return dir_ + "/" + name;
  }
  std::string dir_, base_;
  int runs_ = 0;
};

TEST_F(GroundOpsTest, LossyLinkConvergesToTheFlightsProductsByteForByte) {
  const std::string channel = "  channel: {loss_rate: 0.05, corrupt_rate: 0.01, duplicate_rate: 0.01, "
                              "reorder_rate: 0.01, seed: 11}\n";
  const std::string mission = Write("lossy.yaml", base_ + Passes() + channel);
  // From the second pass on, frames are catalogued but not kept, so the
  // queue drains and the loop can end.
  std::string quiet = base_ + Passes() + channel;
  quiet.replace(quiet.find("land: {full: 0.5, thumbnail: 0.3,"), 33, "land: {full: never, thumbnail: never,");
  quiet.replace(quiet.find("cloud: {thumbnail: 0.9,"), 23, "cloud: {thumbnail: never,");
  quiet.replace(quiet.find("action: thumbnail}"), 18, "action: discard}");
  const std::string out = dir_ + "/flight", rx = dir_ + "/rx";

  size_t offset = 0;
  uint64_t lost = 0;
  int passes = 0;
  bool complete = false;
  for (int round = 0; round < 10 && !complete; ++round) {
    if (fs::exists(rx + "/retransmit.bin")) {  // uplink the request
      fs::copy_file(rx + "/retransmit.bin", out + "/uplink/retransmit.bin", fs::copy_options::overwrite_existing);
    }
    if (round == 1) WriteFile(out + "/uplink/mission.yaml", quiet);
    const RunResult f = Flight({"--config", mission, "--out", out, "--frames", round == 0 ? "16" : "20", "--quiet"});
    ASSERT_EQ(f.code, 0) << f.err;
    ++passes;
    // This pass's capture: what radio.bin gained.
    const std::vector<uint8_t> radio = Bytes(out + "/radio.bin");
    const std::string capture = dir_ + "/pass" + std::to_string(round) + ".bin";
    WriteFile(capture, std::vector<uint8_t>(radio.begin() + static_cast<std::ptrdiff_t>(offset), radio.end()));
    offset = radio.size();
    const RunResult g = Ground({"-q", "receive", capture, "--out", rx, "--config", mission});
    ASSERT_EQ(g.code, 0) << g.err;
    const nlohmann::json summary = Json(out + "/summary.json");
    lost += summary["downlink"]["channel"]["lost"].get<uint64_t>();  // per run
    const nlohmann::json received = Json(rx + "/receive.json");
    // Complete: every full and thumbnail product the flight queued so far is
    // on the ground (catalog products keep coming with every pass's rows).
    std::set<uint32_t> queued, on_ground;
    {
      std::ifstream tel(out + "/telemetry.jsonl");
      for (std::string l; std::getline(tel, l);) {
        const nlohmann::json record = nlohmann::json::parse(l);
        for (const auto& p : record["products"]) queued.insert(p["id"].get<uint32_t>());
      }
      std::ifstream csv(rx + "/products.csv");
      std::string l;
      std::getline(csv, l);
      while (std::getline(csv, l)) on_ground.insert(static_cast<uint32_t>(std::stoul(l)));
    }
    size_t missing = 0;
    for (uint32_t id : queued) missing += on_ground.count(id) == 0;
    complete = missing == 0 && round > 0;
    std::printf("pass %d: %zu products queued so far, %zu not yet on the ground, %s range(s) requested\n", round,
                queued.size(), missing, received["request_ranges"].dump().c_str());
  }
  ASSERT_TRUE(complete) << "not complete after " << passes << " passes";
  EXPECT_GT(lost, 0u) << "the channel lost nothing: the test proved nothing";
  EXPECT_GE(passes, 3);  // losses need at least one request and one more pass

  // Every full and thumbnail product the flight queued is on the ground,
  // byte for byte.
  const config::LoadedConfig loaded = config::LoadMissionFile(mission);
  ASSERT_TRUE(loaded.ok());
  downlink::Config dc = loaded.config.downlink;
  dc.storage_dir = out + "/" + dc.storage_dir;
  downlink::Catalog catalog;
  ASSERT_TRUE(catalog.Open(dc).ok());
  downlink::DownlinkQueue queue;
  ASSERT_TRUE(queue.Open(dc, &catalog).ok());
  std::map<uint32_t, std::string> ground_file;
  {
    std::ifstream csv(rx + "/products.csv");
    std::string line;
    std::getline(csv, line);
    while (std::getline(csv, line)) {
      ground_file[static_cast<uint32_t>(std::stoul(line))] = line.substr(line.rfind(',') + 1);
    }
  }
  int compared = 0;
  for (const downlink::QueueItem& item : queue.items()) {
    if (item.meta.kind == downlink::ProductKind::kCatalog) continue;
    ASSERT_TRUE(ground_file.count(item.product_id)) << "product " << item.product_id << " never arrived";
    std::vector<uint8_t> flight(item.meta.payload_bytes);
    ASSERT_TRUE(queue.ReadPayload(item.product_id, 0, Span<uint8_t>(flight.data(), flight.size())).ok());
    EXPECT_EQ(Bytes(rx + "/" + ground_file[item.product_id]), flight) << "product " << item.product_id;
    ++compared;
  }
  EXPECT_GT(compared, 10);
  // Retransmissions happened and were served from the request files.
  std::ifstream sent(out + "/sent.csv");
  std::string line;
  int retransmitted = 0;
  while (std::getline(sent, line)) retransmitted += line.find(",retransmit,") != std::string::npos;
  EXPECT_GT(retransmitted, 0);
  // The ground catalog knows every frame flown.
  const nlohmann::json received = Json(rx + "/receive.json");
  EXPECT_GE(received["catalog_frames"].get<int>(), 16);
  std::printf("lossy link: %d passes, %llu packets lost on the channel, %d retransmitted, %d products compared\n",
              passes, static_cast<unsigned long long>(lost), retransmitted, compared);
}

TEST_F(GroundOpsTest, ReplayMatchesTheFlightBitForBitAndCatchesAnAlteredRecord) {
  const std::string mission = Write("m.yaml", base_ + Passes());
  const std::string out = dir_ + "/flight";
  ASSERT_EQ(Flight({"--config", mission, "--out", out, "--frames", "24", "--quiet"}).code, 0);
  ASSERT_TRUE(fs::exists(out + "/config")) << "the flight recorded no config for replay";
  const RunResult ok = Ground({"-q", "replay", out, "--json", dir_ + "/check.json"});
  ASSERT_EQ(ok.code, 0) << ok.out << ok.err;
  const nlohmann::json check = Json(dir_ + "/check.json");
  EXPECT_EQ(check["mode"], "check");
  EXPECT_EQ(check["replayed"], 24);
  EXPECT_TRUE(check["mismatches"].empty());

  // Alter one record's confidence by one float step and another's priority.
  std::vector<std::string> lines;
  {
    std::ifstream in(out + "/telemetry.jsonl");
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  ASSERT_EQ(lines.size(), 24u);
  nlohmann::json a = nlohmann::json::parse(lines[5]);
  a["confidence"] = std::nextafter(a["confidence"].get<float>(), 2.0f);
  lines[5] = a.dump();
  int altered_priority = -1;
  for (size_t i = 6; i < lines.size() && altered_priority < 0; ++i) {
    nlohmann::json b = nlohmann::json::parse(lines[i]);
    if (b["products"].empty()) continue;
    b["products"][0]["priority"] = b["products"][0]["priority"].get<int>() ^ 1;
    lines[i] = b.dump();
    altered_priority = static_cast<int>(i);
  }
  ASSERT_GE(altered_priority, 0);
  {
    std::ofstream o(out + "/telemetry.jsonl", std::ios::trunc);
    for (const std::string& l : lines) o << l << "\n";
  }
  const RunResult bad = Ground({"-q", "replay", out, "--json", dir_ + "/bad.json"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("differs from the flight"), std::string::npos) << bad.err;
  const nlohmann::json j = Json(dir_ + "/bad.json");
  ASSERT_EQ(j["mismatches"].size(), 2u) << j.dump();
  EXPECT_EQ(j["mismatches"][0]["frame"], 5);
  EXPECT_EQ(j["mismatches"][0]["field"], "confidence");
  EXPECT_EQ(j["mismatches"][1]["frame"], altered_priority);
  EXPECT_EQ(j["mismatches"][1]["field"].get<std::string>().rfind("priority.", 0), 0u);
  EXPECT_NE(bad.out.find("frame 5 confidence"), std::string::npos) << bad.out;
}

TEST_F(GroundOpsTest, WhatIfAHigherLandThresholdMovesFramesFromFullToThumbnail) {
  const std::string mission = Write("m.yaml", base_ + Passes());
  const std::string out = dir_ + "/flight";
  ASSERT_EQ(Flight({"--config", mission, "--out", out, "--frames", "24", "--quiet"}).code, 0);
  std::string stricter = base_ + Passes();
  stricter.replace(stricter.find("land: {full: 0.5,"), 17, "land: {full: 0.999,");
  const std::string what_if = Write("stricter.yaml", stricter);
  const RunResult r = Ground({"-q", "replay", out, "--config", what_if, "--json", dir_ + "/whatif.json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = Json(dir_ + "/whatif.json");
  EXPECT_EQ(j["mode"], "whatif");
  uint64_t full_to_thumb = 0, to_full = 0;
  for (const auto& t : j["transitions"]) {
    if (t["from"] == "full" && t["to"] == "thumbnail") full_to_thumb = t["count"];
    if (t["from"] != "full" && t["to"] == "full") to_full += t["count"].get<uint64_t>();
  }
  EXPECT_GT(full_to_thumb, 0u) << j.dump();
  EXPECT_EQ(to_full, 0u);
  EXPECT_LT(j["queued_bytes"]["after"].get<uint64_t>(), j["queued_bytes"]["before"].get<uint64_t>());
  EXPECT_LT(j["land_full"]["after"].get<uint64_t>(), j["land_full"]["before"].get<uint64_t>());
  EXPECT_EQ(j["changed"].size(), full_to_thumb);
  EXPECT_NE(r.out.find("queued bytes"), std::string::npos);
}

TEST_F(GroundOpsTest, ReplayRefusesAModelThatIsNotTheFlights) {
  const std::string mission = Write("m.yaml", base_ + Passes());
  const std::string out = dir_ + "/flight";
  ASSERT_EQ(Flight({"--config", mission, "--out", out, "--frames", "3", "--quiet"}).code, 0);
  TestModelOptions other;
  other.land_bias = 3;
  WriteFile(dir_ + "/model.tflite", BuildTestModel(other));  // the file on disk changed after the flight
  const RunResult r = Ground({"-q", "replay", out});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("pass --model"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}


// triage-ground package: keygen, build, inspect, verify as an operator runs
// them; each hostile case exits 1 with a one-line reason.
TEST_F(GroundOpsTest, PackageKeygenBuildInspectVerify) {
  const std::string k = dir_ + "/ops", other = dir_ + "/other";
  ASSERT_EQ(Ground({"package", "keygen", "--out", k}).code, 0);
  ASSERT_EQ(Ground({"package", "keygen", "--out", other}).code, 0);
  EXPECT_EQ(fs::status(k + ".key").permissions() & fs::perms::group_all, fs::perms::none);
  const std::string pkg = dir_ + "/m.trup";
  const std::string frames = std::string(TRIAGE_SHARED_DIR) + "/datasets/real";
  if (!fs::is_directory(frames)) GTEST_SKIP() << "no " << frames << " (../shared): golden vectors need stored frames";
  const std::string shipped = SourcePath("models/triage_int8.tflite");
  RunResult r = Ground({"package", "build", "--in", dir_ + "/model.tflite", "--sequence", "7", "--key", k + ".key",
                        "--out", pkg});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--frames"), std::string::npos) << r.err;
  r = Ground({"package", "build", "--in", shipped, "--sequence", "7", "--key", k + ".key", "--out", pkg, "--frames",
              frames, "--golden", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("golden vectors: 2"), std::string::npos) << r.out;
  r = Ground({"package", "inspect", pkg});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("sequence      7"), std::string::npos) << r.out;
  r = Ground({"package", "verify", pkg, "--pubkey", k + ".pub"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("verified"), std::string::npos);
  EXPECT_NE(r.out.find("golden vectors: 2 match byte for byte"), std::string::npos) << r.out;

  auto refused = [&](const std::vector<std::string>& args, const std::string& reason) {
    RunResult v = Ground(args);
    EXPECT_EQ(v.code, 1) << reason;
    EXPECT_NE(v.err.find(reason), std::string::npos) << v.err;
    EXPECT_EQ(std::count(v.err.begin(), v.err.end(), '\n'), 1) << v.err;
  };
  refused({"package", "verify", pkg, "--pubkey", other + ".pub"}, "unknown key");
  refused({"package", "verify", pkg, "--pubkey", k + ".pub", "--last-sequence", "7"}, "stale sequence");
  refused({"package", "verify", pkg, "--pubkey", k + ".pub", "--mission", "other"}, "wrong mission");
  refused({"package", "verify", pkg, "--pubkey", k + ".pub", "--max-bytes", "1000"}, "too large");
  std::vector<uint8_t> bytes = Bytes(pkg);
  bytes[bytes.size() / 2] ^= 0x10;
  WriteFile(dir_ + "/flipped.trup", std::string(bytes.begin(), bytes.end()));
  refused({"package", "verify", dir_ + "/flipped.trup", "--pubkey", k + ".pub"}, "bad signature");
  bytes.resize(200);
  WriteFile(dir_ + "/short.trup", std::string(bytes.begin(), bytes.end()));
  refused({"package", "verify", dir_ + "/short.trup", "--pubkey", k + ".pub"}, "but the header");
  // A config that fails validation is refused when built.
  WriteFile(dir_ + "/bad.yaml", "triage:\n  classes: 3\n");
  refused({"package", "build", "--kind", "config", "--in", dir_ + "/bad.yaml", "--sequence", "8", "--key", k + ".key",
           "--out", dir_ + "/c.trup"},
          "bad.yaml");
}

}  // namespace
}  // namespace triage::testing
