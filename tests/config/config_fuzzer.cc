// Fuzzes the mission-config parser: any bytes must yield a config or a list
// of problems, never a crash, hang or escaping exception. Files are not
// touched (check_files off) so runs are hermetic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/mission.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  triage::config::LoadOptions options;
  options.check_files = false;
  options.base_dir = "/nonexistent";
  const triage::config::LoadedConfig c = triage::config::ParseMission(text, "fuzz", options);
  for (const triage::config::ConfigProblem& p : c.problems) {
    if (FormatProblem(c.source, p).empty()) std::abort();
    if (p.line < 0) std::abort();
  }
  if (c.ok()) {
    // A valid config compares equal to itself and carries its class table.
    if (!RestartOnlyDifferences(c.config, c.config).empty()) std::abort();
    if (c.config.triage.classes.empty()) std::abort();
  }
  return 0;
}
