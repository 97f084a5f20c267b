#include "tests/support/shared_paths.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

namespace triage::testing {

static bool IsDir(const std::string& p) {
  struct stat st;
  return !p.empty() && ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string SharedDir() {
  if (const char* env = std::getenv("TRIAGE_SHARED_DIR")) {
    return IsDir(env) ? std::string(env) : std::string();
  }
  return IsDir(TRIAGE_SHARED_DIR) ? std::string(TRIAGE_SHARED_DIR) : std::string();
}

std::string SharedPath(const std::string& relative) { return SharedDir() + "/" + relative; }

std::string SourcePath(const std::string& relative) {
  return std::string(TRIAGE_SOURCE_DIR) + "/" + relative;
}

std::vector<unsigned char> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> EmulatorPrefix() {
  // TRIAGE_TEST_EMULATOR: the emulator's arguments separated by '|'.
  std::vector<std::string> out;
  const std::string spec = TRIAGE_TEST_EMULATOR;
  size_t start = 0;
  while (start < spec.size()) {
    size_t end = spec.find('|', start);
    if (end == std::string::npos) end = spec.size();
    if (end > start) out.push_back(spec.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string ShellCommandFor(const std::string& binary) {
  std::string cmd;
  for (const std::string& a : EmulatorPrefix()) cmd += "'" + a + "' ";
  return cmd + binary;
}

}  // namespace triage::testing
