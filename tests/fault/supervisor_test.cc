// triage-supervisor end to end, with tests/fault/supervised_child.cc standing
// in for triage-flight: kill -9, a hang, a crash loop, SIGTERM forwarding,
// the boot counter's safe mode. Deadlines below are generous upper bounds
// for waiting, never asserted timings.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "downlink/queue.h"
#include "fault/supervisor.h"
#include "tests/fault/test_util.h"
#include "tests/support/shared_paths.h"

namespace triage::fault {
namespace {

using testing::TempDir;

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

bool WaitFor(const std::function<bool()>& done, double seconds = 30.0) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

int ReadPid(const std::string& dir) {
  std::ifstream f(dir + "/pid");
  int pid = 0;
  f >> pid;
  return pid;
}

class SupervisorProcess {
 public:
  SupervisorProcess(const std::vector<std::string>& supervisor_args, const std::vector<std::string>& child_args) {
    // Cross builds: the supervisor and the child it starts both run through
    // the emulator.
    const std::vector<std::string> emulator = ::triage::testing::EmulatorPrefix();
    std::vector<std::string> args = emulator;
    args.push_back(TRIAGE_SUPERVISOR_BIN);
    args.insert(args.end(), supervisor_args.begin(), supervisor_args.end());
    args.push_back("--");
    args.insert(args.end(), emulator.begin(), emulator.end());
    args.push_back(TRIAGE_SUPERVISED_CHILD_BIN);
    args.insert(args.end(), child_args.begin(), child_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~SupervisorProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Exit code, or -1 if it did not exit within the time.
  int Wait(double seconds = 30.0) {
    int status = 0;
    const bool done = WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, seconds);
    if (!done) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

std::vector<std::string> FastArgs(const TempDir& dir) {
  return {"--heartbeat-file", dir.File("hb"), "--heartbeat-timeout-ms", "1500", "--startup-grace-ms", "10000",
          "--backoff-initial-ms", "20", "--kill-grace-ms", "300", "--poll-ms", "10"};
}

TEST(SupervisorIntegration, KillMinus9RestartsTheChildWithTheQueueIntact) {
  TempDir dir;
  SupervisorProcess sup(FastArgs(dir), {"--dir", dir.path()});
  ASSERT_TRUE(WaitFor([&] { return Lines(dir.File("acks")).size() >= 5; })) << "child never ran";
  const int first = ReadPid(dir.path());
  ASSERT_GT(first, 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { const int p = ReadPid(dir.path()); return p != 0 && p != first; })) << "no restart";
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& l : Lines(dir.File("acks"))) {
      std::istringstream in(l);
      uint64_t id = 0, frame = 0;
      in >> id >> frame;
      if (frame >= 1000) return true;  // frames of restart 1 start at 1000
    }
    return false;
  })) << "restarted child enqueued nothing";
  const std::vector<std::string> starts = Lines(dir.File("starts"));
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_NE(starts[0].find("restart=0"), std::string::npos);
  EXPECT_NE(starts[1].find("restart=1"), std::string::npos);

  // SIGTERM to the supervisor is forwarded; both exit cleanly.
  ASSERT_EQ(::kill(sup.pid(), SIGTERM), 0);
  EXPECT_EQ(sup.Wait(), 0);
  EXPECT_EQ(Lines(dir.File("terminated")).size(), 1u);

  // Every product acknowledged by either run is in the queue, intact.
  downlink::Config qc;
  qc.storage_dir = dir.File("store");
  qc.storage_quota_bytes = 1 << 20;
  qc.max_queue_items = 256;
  qc.max_item_bytes = 4096;
  qc.catalog_capacity_rows = 64;
  qc.catalog_rows_per_product = 16;
  downlink::DownlinkQueue queue;
  ASSERT_TRUE(queue.Open(qc).ok());
  EXPECT_EQ(queue.recovery().corrupt_files_dropped, 0u);
  const std::vector<std::string> acks = Lines(dir.File("acks"));
  ASSERT_GE(acks.size(), 6u);
  for (const std::string& line : acks) {
    std::istringstream in(line);
    uint32_t id = 0;
    uint64_t frame = 0;
    in >> id >> frame;
    const downlink::QueueItem* item = queue.Find(id);
    ASSERT_NE(item, nullptr) << "acknowledged product " << id << " lost";
    EXPECT_EQ(item->meta.frame_id, frame);
  }
}

TEST(SupervisorIntegration, AChildThatStopsHeartbeatingIsKilledAndRestarted) {
  TempDir dir;
  std::vector<std::string> args = FastArgs(dir);
  args[3] = "400";  // --heartbeat-timeout-ms
  SupervisorProcess sup(args, {"--dir", dir.path(), "--items", "2"});
  ASSERT_TRUE(WaitFor([&] { return ReadPid(dir.path()) != 0; }));
  const int first = ReadPid(dir.path());
  { std::ofstream(dir.File("hang")) << "1"; }  // it ignores SIGTERM while hung
  ASSERT_TRUE(WaitFor([&] { const int p = ReadPid(dir.path()); return p != 0 && p != first; }))
      << "hung child not replaced";
  EXPECT_NE(::kill(first, 0), 0) << "hung child still alive";
  ASSERT_EQ(::kill(sup.pid(), SIGTERM), 0);
  EXPECT_EQ(sup.Wait(), 0);
}

TEST(SupervisorIntegration, ACrashLoopGivesUpAfterMaxRestartsAndTheBootCounterRequestsSafeMode) {
  TempDir dir;
  std::vector<std::string> args = FastArgs(dir);
  args.insert(args.end(), {"--max-restarts", "3", "--boot-counter", dir.File("boot"), "--max-resets", "1"});
  SupervisorProcess sup(args, {"--dir", dir.path(), "--crash-at-start"});
  EXPECT_EQ(sup.Wait(), 3);
  const std::vector<std::string> starts = Lines(dir.File("starts"));
  ASSERT_EQ(starts.size(), 4u);  // the first start and 3 restarts
  // Start 1 is fresh, start 2 is the first reset, start 3 exceeds max_resets = 1.
  EXPECT_NE(starts[0].find("safe=0"), std::string::npos);
  EXPECT_NE(starts[1].find("safe=0"), std::string::npos);
  EXPECT_NE(starts[2].find("safe=1"), std::string::npos);
  EXPECT_NE(starts[3].find("safe=1"), std::string::npos);
}

TEST(SupervisorIntegration, ACommandThatCannotStartIsAnError) {
  const char* argv[] = {"triage-supervisor", "--", "/nonexistent/triage-flight"};
  SupervisorOptions o;
  std::string error;
  bool help = false;
  ASSERT_TRUE(ParseSupervisorArgs(3, argv, &o, &error, &help)) << error;
  Supervisor sup(o, SteadyClock::Instance(), nullptr);
  EXPECT_EQ(sup.Run(), 2);
  EXPECT_EQ(sup.stats().starts, 0u);
}

TEST(SupervisorArgs, ParsesOptionsAndTheCommand) {
  const char* argv[] = {"triage-supervisor", "--heartbeat-file", "/tmp/hb", "--max-restarts", "4",
                        "--heartbeat-timeout-ms", "250", "--", "triage-flight", "--config", "c.yaml"};
  SupervisorOptions o;
  std::string error;
  bool help = false;
  ASSERT_TRUE(ParseSupervisorArgs(11, argv, &o, &error, &help)) << error;
  EXPECT_EQ(o.heartbeat_file, "/tmp/hb");
  EXPECT_EQ(o.max_restarts, 4);
  EXPECT_EQ(o.heartbeat_timeout_ms, 250);
  ASSERT_EQ(o.command.size(), 3u);
  EXPECT_EQ(o.command[2], "c.yaml");

  const char* bad[] = {"triage-supervisor", "--max-restarts", "x", "--", "a"};
  SupervisorOptions o2;
  EXPECT_FALSE(ParseSupervisorArgs(5, bad, &o2, &error, &help));
  EXPECT_NE(error.find("not a number"), std::string::npos);
  const char* none[] = {"triage-supervisor", "--max-restarts", "2"};
  SupervisorOptions o3;
  EXPECT_FALSE(ParseSupervisorArgs(3, none, &o3, &error, &help));
  EXPECT_NE(error.find("no command"), std::string::npos);
}

TEST(RestartPolicy, BacksOffExponentiallyAndResetsAfterAStableRun) {
  SupervisorOptions o;
  o.backoff_initial_ms = 100;
  o.backoff_max_ms = 500;
  o.stable_after_ms = 10'000;
  o.max_restarts = 5;
  RestartPolicy p(o);
  int64_t t = 0;
  const int64_t expected[] = {100, 200, 400, 500, 500};
  for (int64_t e : expected) {
    p.OnStart(t);
    t += 50;  // crashes quickly
    EXPECT_EQ(p.OnEnd(t), e);
    t += e;
  }
  p.OnStart(t);
  EXPECT_EQ(p.OnEnd(t + 1), -1);  // sixth consecutive restart: give up
  RestartPolicy q(o);
  q.OnStart(0);
  EXPECT_EQ(q.OnEnd(10), 100);
  q.OnStart(200);
  EXPECT_EQ(q.OnEnd(200 + 10'000), 100);  // stable run: back to the initial delay
  EXPECT_EQ(q.consecutive_restarts(), 1);
}

}  // namespace
}  // namespace triage::fault
