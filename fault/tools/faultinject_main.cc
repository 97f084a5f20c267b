// triage-faultinject: fault-injection campaign over the fault layer. All
// logic lives in fault/campaign.h.
#include <cstdio>
#include <string>
#include <vector>

#include "fault/campaign.h"

int main(int argc, char** argv) {
  using namespace triage::fault;
  CampaignOptions options;
  bool json = false, help = false;
  std::string error;
  if (!ParseFaultInjectArgs(argc, argv, &options, &json, &error, &help)) {
    std::fprintf(help ? stdout : stderr, help ? "%s" : "triage-faultinject: %s\n", error.c_str());
    return help ? 0 : 2;
  }
  auto campaign = Campaign::Create(options);
  if (!campaign.ok()) {
    std::fprintf(stderr, "triage-faultinject: %s\n", campaign.status().message());
    return 1;
  }
  const CampaignInfo& info = (*campaign)->info();
  if (!json) {
    std::printf("model %s: %zu bytes, %zu weight bytes, %zu operators; mode %s, %d weight cop%s; "
                "clean run %.2f ms; %u trials per site, seed %llu, %d bit%s per upset\n\n",
                info.model.c_str(), info.model_bytes, info.weight_bytes, info.operators,
                RedundancyModeName(options.mode), info.copies, info.copies == 1 ? "y" : "ies", info.clean_run_ms,
                options.trials, static_cast<unsigned long long>(options.seed), options.bits,
                options.bits == 1 ? "" : "s");
  }
  std::vector<SiteResult> results;
  for (Site site : options.sites) {
    results.push_back((*campaign)->Run(site));
    if (json) {
      std::printf("%s\n", SiteResultJson(options, results.back()).c_str());
      std::fflush(stdout);
    }
  }
  if (!json) std::printf("%s", SiteResultsTable(options, results).c_str());
  return 0;
}
