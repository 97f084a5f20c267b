// Fault-injection campaign: the library behind triage-faultinject.
//
// A campaign loads a model (or the synthetic classifier), builds the fault
// layer exactly as flight would (ModelStore with one or three weight copies,
// RedundantInvoker in the requested mode, Scrubber over the copies, a primary
// and a backup model file in a scratch directory), computes the clean
// ("golden") output for a set of seeded synthetic frames, and then runs N
// trials per injection site. Every data trial runs in a forked worker
// process, so a crash or a hang caused by an upset is observed (and counted)
// instead of ending the campaign, and trials cannot contaminate each other.
//
// Sites (one upset per trial: `bits` bit flips at seeded random positions):
//   weights      a weight byte of one in-memory weight copy (uniform over all
//                weight bytes; with separate copies the copy is random too),
//                before the frame is inferred; then the scrubber runs from a
//                random point of its sweep for at most one period and must
//                find and repair it.
//   activations  a byte of a tensor live in one replica's arena between two
//                operators (random operator boundary, random live byte).
//   output       a byte of one replica's output tensor after it ran.
//   input        a byte of one replica's input tensor before it ran.
//   hang         a stage stalls for 0.25-5x its deadline; the real
//                HealthMonitor runs on a FakeClock with a modelled loop (see
//                HangModel) and must have the stage beating again within 2x
//                its deadline.
//   crash        a worker is killed (SIGABRT, SIGKILL or SIGSEGV) at a random
//                operator of a random replica; the parent must see it and a
//                restarted worker must deliver the correct decision.
// Upsets hit a replica that the mode always runs (0 for none, 0-1 for dmr and
// crosscheck, 0-2 for tmr).
//
// Outcome of a trial (SiteResult):
//   masked     correct decision, nothing noticed (includes output bytes that
//              changed without changing the argmax); for hang: the stall
//              ended before its deadline.
//   corrected  noticed (vote disagreement; crash or hang detected and
//              restarted) and the delivered decision is correct; for hang:
//              recovered within 2x the deadline.
//   detected   noticed and safely handled: no decision delivered (no
//              majority -> thumbnail-only; a run error); for hang: recovered
//              but later than 2x the deadline.
//   sdc        a wrong decision delivered without a flag (also when a vote
//              noticed a disagreement but the majority was wrong).
//   crash      the worker died (signal or abnormal exit) and the frame was
//              lost; for crash trials: the restart did not deliver.
//   hang       the worker did not finish within the trial timeout; for hang
//              trials: not recovered within the simulated horizon.
// The decision is fault::DecideArgmax over output 0.
//
// Ground/tool code: allocates, forks, prints nothing itself.
#ifndef TRIAGE_FAULT_CAMPAIGN_H_
#define TRIAGE_FAULT_CAMPAIGN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "fault/fault_config.h"

namespace triage::fault {

// kPacked: the optimized kernels' packed weights (Interpreter::packed_regions),
// a second copy of the weights in RAM per replica, checked and re-derived by
// RedundantInvoker::ScrubPackedStep.
enum class Site : uint8_t { kWeights = 0, kActivations, kOutput, kInput, kHang, kCrash, kPacked };
constexpr int kSiteCount = 7;
const char* SiteName(Site site);
bool ParseSite(const char* name, Site* site);

// How the hang trials model the flight loop around the HealthMonitor.
struct HangModel {
  uint32_t cycle_ms = 100;         // every healthy stage beats once per cycle
  uint32_t check_ms = 10;          // HealthMonitor::Check period (health task)
  uint32_t stage_restart_ms = 100; // time to restart one stage after a request
  uint32_t pipeline_restart_ms = 300;  // process restart by the supervisor after an escalation
};

struct CampaignOptions {
  RedundancyMode mode = RedundancyMode::kNone;
  std::vector<Site> sites;
  uint32_t trials = 1000;
  uint64_t seed = 1;
  int bits = 1;                      // bit flips per upset
  std::string model_path = "models/triage_int8.tflite";  // or "synthetic"
  bool separate_weights = true;      // one weight copy per replica (modes other than none)
  uint32_t frames = 8;               // distinct synthetic input frames
  uint32_t scrub_bytes_per_step = 64 * 1024;
  uint32_t scrub_block_bytes = 1024;
  std::string work_dir;              // "" = a fresh directory under $TMPDIR, removed afterwards
  Config fault_config;               // stage deadlines and health settings for hang trials
  HangModel hang_model;
  int64_t trial_timeout_ms = 0;      // 0 = max(5 s, 100x the clean run time)
};

struct SiteResult {
  Site site = Site::kWeights;
  uint32_t trials = 0;
  uint32_t masked = 0, corrected = 0, detected = 0, sdc = 0, crash = 0, hang = 0;
  // Data sites: trials in which some replica's output bytes differed from the
  // clean output, and of those, how many the voter noticed.
  uint32_t output_changed = 0;
  uint32_t output_changed_detected = 0;
  // Weights: upsets the scrubber found within one period, repairs that left
  // every copy identical to the file, and the worst steps-to-detection.
  // Packed: the same for the packed-weight scrub (repaired = re-derived and
  // its CRC verified).
  uint32_t scrub_detected = 0;
  uint32_t scrub_repaired = 0;
  uint32_t scrub_max_steps = 0;
  uint32_t scrub_period_steps = 0;
  // Hang and crash sites.
  uint32_t injected = 0;             // stalls past the deadline / crashes that happened
  uint32_t recovered = 0;            // ... recovered (hang: within 2x the deadline)
  double max_recovery_ratio = 0.0;   // hang: worst outage / deadline among detected stalls
  uint32_t watchdog_expired = 0;     // hang: trials in which the simulated watchdog expired
};

struct CampaignInfo {
  std::string model;          // path or "synthetic"
  size_t model_bytes = 0;
  size_t weight_bytes = 0;
  size_t operators = 0;
  int copies = 1;
  double clean_run_ms = 0.0;  // one redundant Run, measured at init
  int64_t trial_timeout_ms = 0;
  std::string work_dir;
};

class Campaign {
 public:
  static Result<std::unique_ptr<Campaign>> Create(const CampaignOptions& options);
  ~Campaign();
  SiteResult Run(Site site);
  const CampaignInfo& info() const;

 private:
  struct Impl;
  explicit Campaign(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Command line of triage-faultinject (see fault/README.md). Returns false
// with a one-line reason in *error, or the usage text with *help set.
bool ParseFaultInjectArgs(int argc, const char* const* argv, CampaignOptions* options, bool* json,
                          std::string* error, bool* help);
const char* FaultInjectUsage();

// One JSON object (one line, no trailing newline) for a site.
std::string SiteResultJson(const CampaignOptions& options, const SiteResult& result);
// A Markdown table of results.
std::string SiteResultsTable(const CampaignOptions& options, const std::vector<SiteResult>& results);

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_CAMPAIGN_H_
