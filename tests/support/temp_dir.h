// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its
// contents by the destructor. For tests that need real files (queues,
// checkpoints, boot counters).
#ifndef TRIAGE_TESTS_SUPPORT_TEMP_DIR_H_
#define TRIAGE_TESTS_SUPPORT_TEMP_DIR_H_

#include <stdlib.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace triage::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "triage") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/" + prefix + "_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* made = ::mkdtemp(buf.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)std::system(("rm -rf '" + path_ + "'").c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path()/name.
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::string operator/(const std::string& name) const { return File(name); }

 private:
  std::string path_;
};

}  // namespace triage::testing

#endif  // TRIAGE_TESTS_SUPPORT_TEMP_DIR_H_
