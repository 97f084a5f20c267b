#include "fault/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include "fault/boot_counter.h"
#include "fault/heartbeat.h"

extern char** environ;

namespace triage::fault {

void RestartPolicy::OnStart(int64_t now_ms) {
  started_ms_ = now_ms;
  if (next_backoff_ms_ < 0) next_backoff_ms_ = options_.backoff_initial_ms;
}

int64_t RestartPolicy::OnEnd(int64_t now_ms) {
  if (now_ms - started_ms_ >= options_.stable_after_ms) {
    consecutive_ = 0;
    next_backoff_ms_ = options_.backoff_initial_ms;
  }
  ++consecutive_;
  if (options_.max_restarts >= 0 && consecutive_ > options_.max_restarts) return -1;
  const int64_t delay = next_backoff_ms_ < 0 ? options_.backoff_initial_ms : next_backoff_ms_;
  next_backoff_ms_ = delay * 2 > options_.backoff_max_ms ? options_.backoff_max_ms : delay * 2;
  return delay;
}

namespace {
Supervisor* g_supervisor = nullptr;
void OnStopSignal(int) {
  if (g_supervisor != nullptr) g_supervisor->RequestStop();
}
}  // namespace

Supervisor::Supervisor(SupervisorOptions options, const Clock& clock, std::FILE* log)
    : options_(std::move(options)), clock_(clock), log_(log) {}

void Supervisor::InstallSignalHandlers() {
  g_supervisor = this;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = &OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: sleeps return early on a stop
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
}

void Supervisor::Log(const char* fmt, ...) {
  if (log_ == nullptr) return;
  std::fprintf(log_, "triage-supervisor: ");
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(log_, fmt, ap);
  va_end(ap);
  std::fputc('\n', log_);
  std::fflush(log_);
}

bool Supervisor::SleepInterruptible(int64_t ms) {
  const int64_t end = NowMs() + ms;
  while (!stop_.load()) {
    const int64_t left = end - NowMs();
    if (left <= 0) return true;
    const int64_t step = left < options_.poll_ms ? left : options_.poll_ms;
    timespec ts{static_cast<time_t>(step / 1000), static_cast<long>((step % 1000) * 1'000'000)};
    ::nanosleep(&ts, nullptr);
  }
  return false;
}

pid_t Supervisor::Spawn(bool safe_mode) {
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* kv = *e;
    auto starts = [kv](const char* name) {
      const size_t n = std::strlen(name);
      return std::strncmp(kv, name, n) == 0 && kv[n] == '=';
    };
    if (starts(kHeartbeatFileEnv) || starts(kRestartCountEnv) || starts(kSafeModeEnv) || starts(kSupervisedEnv)) {
      continue;
    }
    env_strings.emplace_back(kv);
  }
  if (!options_.heartbeat_file.empty()) env_strings.push_back(std::string(kHeartbeatFileEnv) + "=" + options_.heartbeat_file);
  env_strings.push_back(std::string(kRestartCountEnv) + "=" + std::to_string(stats_.starts));
  env_strings.push_back(std::string(kSupervisedEnv) + "=1");
  if (safe_mode) env_strings.push_back(std::string(kSafeModeEnv) + "=1");
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (auto& s : options_.command) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);

  // The exec-error pipe is close-on-exec: EOF means exec succeeded.
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    Log("pipe: %s", std::strerror(errno));
    return -1;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    Log("fork: %s", std::strerror(errno));
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return -1;
  }
  if (pid == 0) {
    ::close(pipefd[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the supervisor already died
    // Undo the supervisor's handlers: the child starts with default dispositions.
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGHUP, SIG_DFL);
    ::execvpe(argv[0], argv.data(), envp.data());
    const int err = errno;
    ssize_t ignored = ::write(pipefd[1], &err, sizeof(err));
    (void)ignored;
    ::_exit(127);
  }
  ::close(pipefd[1]);
  int err = 0;
  ssize_t n;
  do {
    n = ::read(pipefd[0], &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  ::close(pipefd[0]);
  if (n == static_cast<ssize_t>(sizeof(err))) {
    int status;
    ::waitpid(pid, &status, 0);
    Log("cannot start %s: %s", options_.command[0].c_str(), std::strerror(err));
    return -1;
  }
  return pid;
}

void Supervisor::Terminate(pid_t pid, int* status) {
  ::kill(pid, SIGTERM);
  const int64_t end = NowMs() + options_.kill_grace_ms;
  while (NowMs() < end) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return;
    timespec ts{0, 5'000'000};
    ::nanosleep(&ts, nullptr);
  }
  Log("pid %d ignored SIGTERM for %lld ms: SIGKILL", static_cast<int>(pid),
      static_cast<long long>(options_.kill_grace_ms));
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, status, 0) < 0 && errno == EINTR) {
  }
}

Supervisor::End Supervisor::Watch(pid_t pid, int* code) {
  const bool use_hb = !options_.heartbeat_file.empty();
  HeartbeatWatch watch(options_.heartbeat_timeout_ms * kNanosPerMilli, options_.startup_grace_ms * kNanosPerMilli);
  // The baseline is read before the child could beat, so a stale file left
  // by the previous child does not count.
  if (use_hb) watch.Reset(clock_.NowNanos(), ReadHeartbeat(options_.heartbeat_file.c_str()));
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFSIGNALED(status)) {
        *code = WTERMSIG(status);
        return End::kSignaled;
      }
      *code = WEXITSTATUS(status);
      return End::kExited;
    }
    if (stop_.load()) {
      Log("stop requested: forwarding SIGTERM to pid %d", static_cast<int>(pid));
      Terminate(pid, &status);
      *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return End::kStopped;
    }
    if (use_hb) {
      const int64_t now = clock_.NowNanos();
      watch.Observe(ReadHeartbeat(options_.heartbeat_file.c_str()), now);
      if (watch.Stale(now)) {
        Log("pid %d: no heartbeat for %lld ms: restarting", static_cast<int>(pid),
            static_cast<long long>((now - watch.last_beat_ns()) / kNanosPerMilli));
        Terminate(pid, &status);
        *code = 0;
        return End::kHung;
      }
    }
    timespec ts{static_cast<time_t>(options_.poll_ms / 1000), static_cast<long>((options_.poll_ms % 1000) * 1'000'000)};
    ::nanosleep(&ts, nullptr);
  }
}

int Supervisor::Run() {
  if (options_.command.empty()) {
    Log("no command to supervise");
    return 2;
  }
  RestartPolicy policy(options_);
  while (!stop_.load()) {
    bool safe_mode = false;
    if (!options_.boot_counter_file.empty()) {
      auto boot = BootCounter::RecordBoot(options_.boot_counter_file.c_str(), RealtimeClock::Instance(),
                                          options_.boot_config);
      if (!boot.ok()) {
        Log("boot counter: %s", boot.status().message());
      } else {
        if (boot->file_was_reset) Log("boot counter was corrupt and restarted: %s", boot->file_error.message());
        if (boot->reset_loop) {
          safe_mode = true;
          Log("%u resets within %u s (max %u): starting in safe mode", boot->resets_in_window,
              options_.boot_config.reset_window_s, options_.boot_config.max_resets);
        }
      }
    }
    const pid_t pid = Spawn(safe_mode);
    if (pid < 0) return 2;
    ++stats_.starts;
    policy.OnStart(NowMs());
    Log("started pid %d (start %llu)", static_cast<int>(pid), static_cast<unsigned long long>(stats_.starts));
    int code = 0;
    const End end = Watch(pid, &code);
    const bool clean = (end == End::kExited && code == 0) || end == End::kStopped;
    if (clean && !options_.boot_counter_file.empty()) {
      (void)BootCounter::RecordCleanShutdown(options_.boot_counter_file.c_str());
    }
    switch (end) {
      case End::kStopped:
        Log("child stopped (status %d); exiting", code);
        return 0;
      case End::kExited:
        stats_.last_exit_code = code;
        if (code == 0) {
          ++stats_.clean_exits;
          Log("pid %d exited cleanly", static_cast<int>(pid));
          if (!options_.restart_on_clean_exit) return 0;
        } else {
          ++stats_.failures;
          Log("pid %d exited with status %d", static_cast<int>(pid), code);
        }
        break;
      case End::kSignaled:
        ++stats_.crashes;
        stats_.last_signal = code;
        Log("pid %d died on signal %d (%s)", static_cast<int>(pid), code, strsignal(code));
        break;
      case End::kHung:
        ++stats_.hangs;
        break;
    }
    const int64_t delay = policy.OnEnd(NowMs());
    if (delay < 0) {
      Log("%d consecutive restarts: giving up", options_.max_restarts);
      return 3;
    }
    Log("restarting in %lld ms", static_cast<long long>(delay));
    if (!SleepInterruptible(delay)) return 0;
  }
  return 0;
}

const char* SupervisorUsage() {
  return "usage: triage-supervisor [options] -- <command> [args...]\n"
         "Runs <command>, restarting it when it crashes, exits non-zero or stops heartbeating.\n"
         "  --heartbeat-file F        the child beats this file (passed as TRIAGE_HEARTBEAT_FILE)\n"
         "  --heartbeat-timeout-ms N  restart after N ms without a beat (default 10000)\n"
         "  --startup-grace-ms N      allow N ms before the first beat (default 30000)\n"
         "  --max-restarts N          give up (exit 3) after N consecutive restarts; -1 never (default 10)\n"
         "  --backoff-initial-ms N    first restart delay, doubled each time (default 200)\n"
         "  --backoff-max-ms N        longest restart delay (default 30000)\n"
         "  --stable-after-ms N       a run this long resets back-off and count (default 60000)\n"
         "  --kill-grace-ms N         SIGTERM to SIGKILL grace (default 2000)\n"
         "  --poll-ms N               polling period (default 20)\n"
         "  --boot-counter F          persistent start counter; a reset loop sets TRIAGE_SAFE_MODE=1\n"
         "  --max-resets N            resets within the window before safe mode (default 5)\n"
         "  --reset-window-s N        (default 3600)\n"
         "  --restart-on-clean-exit   restart even when the child exits 0\n"
         "Exit status: 0 child exited 0 or stopped by SIGTERM/SIGINT/SIGHUP (forwarded to the child),\n"
         "2 usage or the command cannot be started, 3 gave up after --max-restarts.\n";
}

bool ParseSupervisorArgs(int argc, const char* const* argv, SupervisorOptions* o, std::string* error, bool* help) {
  *help = false;
  int i = 1;
  auto number = [&](const char* flag, int64_t* out) -> bool {
    if (i + 1 >= argc) {
      *error = std::string(flag) + ": missing value";
      return false;
    }
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(argv[i + 1], &end, 10);
    if (errno != 0 || end == argv[i + 1] || *end != '\0') {
      *error = std::string(flag) + ": not a number: " + argv[i + 1];
      return false;
    }
    *out = v;
    ++i;
    return true;
  };
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    int64_t v = 0;
    if (a == "--") {
      ++i;
      break;
    } else if (a == "--help" || a == "-h") {
      *help = true;
      *error = SupervisorUsage();
      return false;
    } else if (a == "--heartbeat-file" || a == "--boot-counter") {
      if (i + 1 >= argc) {
        *error = a + ": missing value";
        return false;
      }
      (a == "--heartbeat-file" ? o->heartbeat_file : o->boot_counter_file) = argv[++i];
    } else if (a == "--heartbeat-timeout-ms") {
      if (!number(argv[i], &o->heartbeat_timeout_ms)) return false;
    } else if (a == "--startup-grace-ms") {
      if (!number(argv[i], &o->startup_grace_ms)) return false;
    } else if (a == "--max-restarts") {
      if (!number(argv[i], &v)) return false;
      o->max_restarts = static_cast<int>(v);
    } else if (a == "--backoff-initial-ms") {
      if (!number(argv[i], &o->backoff_initial_ms)) return false;
    } else if (a == "--backoff-max-ms") {
      if (!number(argv[i], &o->backoff_max_ms)) return false;
    } else if (a == "--stable-after-ms") {
      if (!number(argv[i], &o->stable_after_ms)) return false;
    } else if (a == "--kill-grace-ms") {
      if (!number(argv[i], &o->kill_grace_ms)) return false;
    } else if (a == "--poll-ms") {
      if (!number(argv[i], &o->poll_ms)) return false;
    } else if (a == "--max-resets") {
      if (!number(argv[i], &v)) return false;
      o->boot_config.max_resets = static_cast<uint32_t>(v);
    } else if (a == "--reset-window-s") {
      if (!number(argv[i], &v)) return false;
      o->boot_config.reset_window_s = static_cast<uint32_t>(v);
    } else if (a == "--restart-on-clean-exit") {
      o->restart_on_clean_exit = true;
    } else {
      *error = "unknown option " + a + " (the command goes after --)";
      return false;
    }
  }
  for (; i < argc; ++i) o->command.emplace_back(argv[i]);
  if (o->command.empty()) {
    *error = "no command: triage-supervisor [options] -- <command> [args...]";
    return false;
  }
  if (o->heartbeat_timeout_ms <= 0 || o->startup_grace_ms <= 0 || o->backoff_initial_ms < 0 ||
      o->backoff_max_ms < o->backoff_initial_ms || o->kill_grace_ms < 0 || o->poll_ms <= 0 ||
      o->stable_after_ms < 0) {
    *error = "timeouts must be positive and --backoff-max-ms >= --backoff-initial-ms";
    return false;
  }
  if (!o->boot_counter_file.empty()) {
    Status s = ValidateConfig(o->boot_config);
    if (!s.ok()) {
      *error = s.message();
      return false;
    }
  }
  return true;
}

}  // namespace triage::fault
