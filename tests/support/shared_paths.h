// Paths to ../shared reference material for tests. Tests that need it call
// TRIAGE_REQUIRE_SHARED(), which skips with a clear message when it is absent.
#ifndef TRIAGE_TESTS_SUPPORT_SHARED_PATHS_H_
#define TRIAGE_TESTS_SUPPORT_SHARED_PATHS_H_

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace triage::testing {

// Directory of ../shared (or $TRIAGE_SHARED_DIR), or "" when it is absent.
std::string SharedDir();
std::string SharedPath(const std::string& relative);
std::string SourcePath(const std::string& relative);
// Reads a whole file; fails the current test (and returns empty) if unreadable.
std::vector<unsigned char> ReadFileBytes(const std::string& path);

// The command that runs one of this build's binaries: empty natively; in a
// cross build the emulator (qemu-arm -L ... ; CMAKE_CROSSCOMPILING_EMULATOR),
// which a test puts before a binary it starts (there is no binfmt handler).
std::vector<std::string> EmulatorPrefix();
// EmulatorPrefix() + binary, joined for a shell command line.
std::string ShellCommandFor(const std::string& binary);

}  // namespace triage::testing

#define TRIAGE_REQUIRE_SHARED()                                                        \
  do {                                                                                 \
    if (::triage::testing::SharedDir().empty())                                        \
      GTEST_SKIP() << "../shared reference material is absent (set TRIAGE_SHARED_DIR)"; \
  } while (0)

#endif  // TRIAGE_TESTS_SUPPORT_SHARED_PATHS_H_
