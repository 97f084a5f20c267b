// Runs the triage-flight binary as a child process for end-to-end tests:
// stdout/stderr go to files, the caller can wait (with a timeout) or signal.
#ifndef TRIAGE_TESTS_APP_PROCESS_UTIL_H_
#define TRIAGE_TESTS_APP_PROCESS_UTIL_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/config/mission_test_support.h"
#include "tests/support/shared_paths.h"

namespace triage::testing {

struct Child {
  pid_t pid = -1;
  std::string out_path, err_path;
};

inline Child SpawnWith(const std::vector<std::string>& prefix, const std::string& binary,
                       const std::vector<std::string>& args, const std::string& log_prefix) {
  Child c;
  c.out_path = log_prefix + ".out";
  c.err_path = log_prefix + ".err";
  c.pid = ::fork();
  if (c.pid == 0) {
    const int out = ::open(c.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(c.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> argv;
    for (const std::string& a : prefix) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return c;
}

// Starts one of this build's binaries (cross builds: through the emulator).
inline Child Spawn(const std::string& binary, const std::vector<std::string>& args, const std::string& log_prefix) {
  static const std::vector<std::string> prefix = EmulatorPrefix();
  return SpawnWith(prefix, binary, args, log_prefix);
}

// Starts a binary of the host's own architecture, as it is.
inline Child SpawnNative(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& log_prefix) {
  return SpawnWith({}, binary, args, log_prefix);
}

// Exit code, 128 + signal when killed, or -1 on timeout (the child is then
// killed and reaped).
inline int Wait(const Child& c, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    if (r == c.pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -2;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(c.pid, SIGKILL);
      ::waitpid(c.pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

struct RunResult {
  int code = 0;
  std::string out, err;
};

inline RunResult RunBinary(const std::string& binary, const std::vector<std::string>& args,
                           const std::string& log_prefix, double timeout_s = 120) {
  const Child c = Spawn(binary, args, log_prefix);
  RunResult r;
  r.code = Wait(c, timeout_s);
  r.out = ReadFile(c.out_path);
  r.err = ReadFile(c.err_path);
  return r;
}

// Complete lines only (a killed writer may leave a torn last line).
inline std::vector<std::string> CompleteLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace triage::testing

#endif  // TRIAGE_TESTS_APP_PROCESS_UTIL_H_
