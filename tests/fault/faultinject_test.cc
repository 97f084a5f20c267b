// The reduced fault-injection campaign CI runs: triage-faultinject on the
// synthetic classifier, 100 single-bit upsets per site, with the targets of
// the full campaign (docs/RELIABILITY.md) as assertions.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fault/campaign.h"
#include "tests/support/shared_paths.h"

namespace triage::fault {
namespace {

constexpr int kTrials = 100;

using Row = std::map<std::string, double>;

struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::vector<Row> rows;  // one per site, in order
  std::vector<std::string> sites;
};

// Parses the flat JSON objects the tool prints (string and number values).
Row ParseLine(const std::string& line, std::string* site) {
  Row row;
  size_t i = 0;
  while ((i = line.find('"', i)) != std::string::npos) {
    const size_t key_end = line.find('"', i + 1);
    const std::string key = line.substr(i + 1, key_end - i - 1);
    size_t v = key_end + 2;  // past ":
    if (line[v] == '"') {
      const size_t v_end = line.find('"', v + 1);
      if (key == "site") *site = line.substr(v + 1, v_end - v - 1);
      i = v_end + 1;
    } else {
      size_t v_end = line.find_first_of(",}", v);
      row[key] = std::stod(line.substr(v, v_end - v));
      i = v_end;
    }
  }
  return row;
}

ToolRun RunTool(const std::string& args) {
  ToolRun run;
  const std::string cmd = ::triage::testing::ShellCommandFor(TRIAGE_FAULTINJECT_BIN) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return run;
  char buf[4096];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) {
    run.out += buf;
    std::string line(buf);
    if (!line.empty() && line[0] == '{') {
      std::string site;
      run.rows.push_back(ParseLine(line, &site));
      run.sites.push_back(site);
    }
  }
  const int status = ::pclose(p);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string CampaignArgs(const char* mode, const char* extra = "") {
  // A small scrub budget so that a scrub period spans several steps.
  return std::string("--mode ") + mode + " --site all --trials " + std::to_string(kTrials) +
         " --seed 1 --model synthetic --scrub-bytes 2048 --json " + extra;
}

// Checks that hold in every mode.
void ExpectCommonTargets(const ToolRun& run) {
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_EQ(run.sites, (std::vector<std::string>{"weights", "activations", "output", "input", "hang", "crash", "packed"}))
      << run.out;
  for (size_t i = 0; i < run.rows.size(); ++i) {
    const Row& r = run.rows[i];
    SCOPED_TRACE(run.sites[i]);
    EXPECT_EQ(r.at("trials"), kTrials);
    EXPECT_EQ(r.at("masked") + r.at("corrected") + r.at("detected") + r.at("sdc") + r.at("crash") + r.at("hang"),
              kTrials);
    for (const char* key : {"masked", "corrected", "detected", "sdc", "crash", "hang"}) EXPECT_EQ(r.count(key), 1u);
  }
  // Scrubbing finds every weight upset within one period and repairs it.
  const Row& w = run.rows[0];
  EXPECT_EQ(w.at("scrub_detected"), kTrials);
  EXPECT_EQ(w.at("scrub_repaired"), kTrials);
  EXPECT_LE(w.at("scrub_max_steps"), w.at("scrub_period_steps"));
  EXPECT_GT(w.at("scrub_period_steps"), 1);
  // Every stall past its deadline recovers within twice the deadline.
  const Row& h = run.rows[4];
  EXPECT_GT(h.at("injected"), 0);
  EXPECT_EQ(h.at("recovered"), h.at("injected"));
  EXPECT_EQ(h.at("hang"), 0);
  EXPECT_EQ(h.at("detected"), 0);
  EXPECT_LE(h.at("max_recovery_ratio"), 2.0);
  EXPECT_EQ(h.at("watchdog_expired"), 0);
  // Every injected crash is seen and the restarted worker decides correctly.
  const Row& c = run.rows[5];
  EXPECT_EQ(c.at("injected"), kTrials);
  EXPECT_EQ(c.at("recovered"), kTrials);
  // The packed-weight scrub finds every packed upset within one period and
  // re-derives it from the verified weights.
  const Row& p = run.rows[6];
  EXPECT_EQ(p.at("scrub_detected"), kTrials);
  EXPECT_EQ(p.at("scrub_repaired"), kTrials);
  EXPECT_LE(p.at("scrub_max_steps"), p.at("scrub_period_steps"));
  EXPECT_GT(p.at("scrub_period_steps"), 1);
}

// The data sites: weights, activations, output, input, packed.
constexpr size_t kDataSites[] = {0, 1, 2, 3, 6};

void ExpectEveryOutputChangeNoticed(const ToolRun& run) {
  for (size_t i : kDataSites) {
    if (i >= run.rows.size()) continue;
    SCOPED_TRACE(run.sites[i]);
    const Row& r = run.rows[i];
    EXPECT_EQ(r.at("output_changed_detected"), r.at("output_changed"));
    EXPECT_EQ(r.at("sdc"), 0);
  }
  EXPECT_GT(run.rows[2].at("output_changed"), 0);
}

TEST(FaultInjectCampaign, TmrHasNoSilentCorruptionAtAnySite) {
  const ToolRun run = RunTool(CampaignArgs("tmr"));
  ExpectCommonTargets(run);
  ExpectEveryOutputChangeNoticed(run);
  for (size_t i : kDataSites) EXPECT_EQ(run.rows[i].at("detected"), 0) << run.sites[i];  // a majority every time
}

TEST(FaultInjectCampaign, DmrDetectsEveryOutputChangingUpset) {
  const ToolRun run = RunTool(CampaignArgs("dmr"));
  ExpectCommonTargets(run);
  ExpectEveryOutputChangeNoticed(run);
}

TEST(FaultInjectCampaign, CrossCheckDetectsEveryOutputChangingUpset) {
  const ToolRun run = RunTool(CampaignArgs("crosscheck"));
  ExpectCommonTargets(run);
  ExpectEveryOutputChangeNoticed(run);
}

TEST(FaultInjectCampaign, WithoutRedundancyUpsetsCauseSilentCorruption) {
  const ToolRun run = RunTool(CampaignArgs("none"));
  ExpectCommonTargets(run);
  // The injections are effective: without voting nothing is noticed and
  // output upsets change decisions.
  for (size_t i : kDataSites) EXPECT_EQ(run.rows[i].at("output_changed_detected"), 0) << run.sites[i];
  EXPECT_GT(run.rows[2].at("sdc"), 0);
  EXPECT_GT(run.rows[1].at("output_changed"), 0);
  EXPECT_GT(run.rows[6].at("output_changed"), 0);  // a packed-weight flip reaches the output
}

TEST(FaultInjectCampaign, SharedWeightsAreACommonModeFaultThatOnlyTheScrubberCatches) {
  const ToolRun run = RunTool(std::string("--mode tmr --shared-weights --site weights --trials 200 --seed 1 ") +
                              "--model synthetic --scrub-bytes 2048 --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_EQ(run.rows.size(), 1u);
  const Row& w = run.rows[0];
  EXPECT_GT(w.at("output_changed"), 0);
  EXPECT_EQ(w.at("output_changed_detected"), 0);  // all three replicas agree on the corrupted output
  EXPECT_EQ(w.at("scrub_detected"), 200);
  EXPECT_EQ(w.at("scrub_repaired"), 200);
}

TEST(FaultInjectCampaign, MultiBitUpsetsStillNeverSlipThroughTmr) {
  const ToolRun run = RunTool(std::string("--mode tmr --site activations,output,input --bits 4 --trials 50 --seed 9 ") +
                              "--model synthetic --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_EQ(run.rows.size(), 3u);
  for (const Row& r : run.rows) {
    EXPECT_EQ(r.at("sdc"), 0);
    EXPECT_EQ(r.at("output_changed_detected"), r.at("output_changed"));
  }
}

TEST(FaultInjectTool, AMissingDefaultModelFailsWithAOneLineReason) {
  const ToolRun run = RunTool("--mode tmr --site output --trials 1 --seed 1 --model /nonexistent/triage_int8.tflite");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "triage-faultinject: model /nonexistent/triage_int8.tflite not found "
                     "(pass --model PATH or --model synthetic)\n");
}

TEST(FaultInjectTool, RejectsBadArguments) {
  EXPECT_EQ(RunTool("--mode quad --site all --trials 1 --seed 1").exit_code, 2);
  EXPECT_EQ(RunTool("--mode tmr --site cosmic --trials 1 --seed 1").exit_code, 2);
  EXPECT_EQ(RunTool("--mode tmr --trials 1").exit_code, 2);
  const ToolRun help = RunTool("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: triage-faultinject"), std::string::npos);

  CampaignOptions o;
  bool json = false, is_help = false;
  std::string error;
  const char* argv[] = {"triage-faultinject", "--mode", "dmr", "--site", "weights,hang", "--trials", "7",
                        "--seed", "42", "--json", "--bits", "2", "--shared-weights"};
  ASSERT_TRUE(ParseFaultInjectArgs(13, argv, &o, &json, &error, &is_help)) << error;
  EXPECT_EQ(o.mode, RedundancyMode::kDmr);
  EXPECT_EQ(o.sites, (std::vector<Site>{Site::kWeights, Site::kHang}));
  EXPECT_EQ(o.trials, 7u);
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.bits, 2);
  EXPECT_FALSE(o.separate_weights);
  EXPECT_TRUE(json);
  EXPECT_EQ(o.model_path, "models/triage_int8.tflite");
}

}  // namespace
}  // namespace triage::fault
