// Supervisor: runs the flight process as a child and keeps it running.
// The library behind triage-supervisor (fault/tools/supervisor_main.cc).
//
// The child is restarted when it exits non-zero, dies on a signal (a crash,
// a failed TRIAGE_CHECK, kill -9) or stops heartbeating (fault/heartbeat.h:
// no change of the heartbeat file for heartbeat_timeout_ms, or none within
// startup_grace_ms of a start). A hung child gets SIGTERM, then SIGKILL after
// kill_grace_ms. Restarts are delayed by an exponential back-off
// (backoff_initial_ms, doubling up to backoff_max_ms); a run that lasts
// stable_after_ms resets the back-off and the restart count. After
// max_restarts consecutive restarts the supervisor gives up (exit code 3),
// leaving the hardware watchdog to reset the board. A child that exits 0 ends
// supervision (exit code 0) unless restart_on_clean_exit.
//
// SIGTERM, SIGINT and SIGHUP to the supervisor are forwarded to the child as
// SIGTERM; the supervisor waits up to kill_grace_ms, then SIGKILLs, and exits
// 0. The child dies with the supervisor (PR_SET_PDEATHSIG).
//
// Child environment: TRIAGE_HEARTBEAT_FILE (when set), TRIAGE_RESTART_COUNT
// (0 on the first start), TRIAGE_SUPERVISED=1, and TRIAGE_SAFE_MODE=1 when
// the boot counter (boot_counter_file) reports a reset loop.
//
// A ground/OS-side process: it allocates and logs one line per action to
// `log`. RestartPolicy is its pure back-off logic, testable on a fake clock.
#ifndef TRIAGE_FAULT_SUPERVISOR_H_
#define TRIAGE_FAULT_SUPERVISOR_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/clock.h"
#include "fault/fault_config.h"

namespace triage::fault {

constexpr const char* kSafeModeEnv = "TRIAGE_SAFE_MODE";
constexpr const char* kSupervisedEnv = "TRIAGE_SUPERVISED";

struct SupervisorOptions {
  std::vector<std::string> command;      // argv of the child; argv[0] is looked up in PATH
  std::string heartbeat_file;            // "" = restart on exit only
  int64_t heartbeat_timeout_ms = 10'000;
  int64_t startup_grace_ms = 30'000;
  int max_restarts = 10;                 // consecutive; < 0 = never give up
  int64_t backoff_initial_ms = 200;
  int64_t backoff_max_ms = 30'000;
  int64_t stable_after_ms = 60'000;
  int64_t kill_grace_ms = 2'000;
  int64_t poll_ms = 20;
  bool restart_on_clean_exit = false;
  std::string boot_counter_file;         // "" = none
  Config boot_config;                    // max_resets / reset_window_s for the boot counter
};

class RestartPolicy {
 public:
  explicit RestartPolicy(const SupervisorOptions& options) : options_(options) {}
  void OnStart(int64_t now_ms);
  // The child ended at now_ms. Returns the delay before the next start, or
  // -1 to give up.
  int64_t OnEnd(int64_t now_ms);
  int consecutive_restarts() const { return consecutive_; }

 private:
  const SupervisorOptions& options_;
  int64_t started_ms_ = 0;
  int64_t next_backoff_ms_ = -1;
  int consecutive_ = 0;
};

struct SupervisorStats {
  uint64_t starts = 0;
  uint64_t crashes = 0;      // died on a signal
  uint64_t failures = 0;     // exited non-zero
  uint64_t hangs = 0;        // stopped heartbeating
  uint64_t clean_exits = 0;
  int last_exit_code = 0;
  int last_signal = 0;
};

class Supervisor {
 public:
  Supervisor(SupervisorOptions options, const Clock& clock, std::FILE* log);
  // Supervises until the child exits 0, a stop is requested, or it gives up.
  // Returns the process exit code: 0, 2 (cannot start), 3 (gave up).
  int Run();
  // Async-signal-safe.
  void RequestStop() { stop_.store(true); }
  const SupervisorStats& stats() const { return stats_; }
  // Routes SIGTERM, SIGINT and SIGHUP to RequestStop on this instance.
  void InstallSignalHandlers();

 private:
  enum class End { kExited, kSignaled, kHung, kStopped };
  pid_t Spawn(bool safe_mode);
  End Watch(pid_t pid, int* code);
  void Terminate(pid_t pid, int* status);
  bool SleepInterruptible(int64_t ms);
  int64_t NowMs() const { return clock_.NowNanos() / kNanosPerMilli; }
  void Log(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

  SupervisorOptions options_;
  const Clock& clock_;
  std::FILE* log_;
  std::atomic<bool> stop_{false};
  SupervisorStats stats_;
};

// Command line of triage-supervisor:
//   triage-supervisor [options] -- <command> [args...]
// Fills options; returns false with a one-line reason in *error (or the
// usage text, with *help set, for --help).
bool ParseSupervisorArgs(int argc, const char* const* argv, SupervisorOptions* options, std::string* error,
                         bool* help);
const char* SupervisorUsage();

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_SUPERVISOR_H_
