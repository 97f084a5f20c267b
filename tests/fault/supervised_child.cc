// A stand-in for triage-flight under triage-supervisor, for the supervisor
// integration tests. Each cycle it enqueues a product into a persistent
// downlink queue (the state that must survive restarts), appends the
// acknowledged product id to <dir>/acks once Enqueue returned OK, and beats
// the supervisor heartbeat (fault::Heartbeat::FromEnvironment).
//
//   supervised_child --dir D [--cycle-ms N] [--items N] [--crash-at-start]
//
// Commands, as files in D (each removed when acted on):
//   hang   stop beating and sleep, ignoring SIGTERM (the supervisor must SIGKILL)
//   crash  abort()
// On start it appends "<pid> restart=<TRIAGE_RESTART_COUNT> safe=<TRIAGE_SAFE_MODE>"
// to D/starts and writes its pid to D/pid. SIGTERM: write D/terminated, exit 0.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "downlink/config.h"
#include "downlink/queue.h"
#include "fault/heartbeat.h"

namespace {

std::atomic<bool> g_term{false};
void OnTerm(int) { g_term.store(true); }

void AppendLine(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  const std::string l = line + "\n";
  if (::write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::abort();
  ::fsync(fd);
  ::close(fd);
}

bool TakeCommand(const std::string& dir, const char* name) {
  return ::unlink((dir + "/" + name).c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int cycle_ms = 20;
  int items = 15;
  bool crash_at_start = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--cycle-ms" && i + 1 < argc) cycle_ms = std::atoi(argv[++i]);
    else if (a == "--items" && i + 1 < argc) items = std::atoi(argv[++i]);
    else if (a == "--crash-at-start") crash_at_start = true;
  }
  if (dir.empty()) return 2;
  const char* restart = std::getenv(triage::fault::kRestartCountEnv);
  const char* safe = std::getenv("TRIAGE_SAFE_MODE");
  AppendLine(dir + "/starts", std::to_string(::getpid()) + " restart=" + (restart ? restart : "-") +
                                  " safe=" + (safe ? safe : "0"));
  if (crash_at_start) std::abort();
  {
    const std::string pid = std::to_string(::getpid());
    const std::string tmp = dir + "/pid.tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    std::fputs(pid.c_str(), f);
    std::fclose(f);
    std::rename(tmp.c_str(), (dir + "/pid").c_str());
  }
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = &OnTerm;
  sigaction(SIGTERM, &sa, nullptr);

  triage::downlink::Config qc;
  qc.storage_dir = dir + "/store";
  qc.storage_quota_bytes = 1 << 20;
  qc.max_queue_items = 256;
  qc.max_item_bytes = 4096;
  qc.catalog_capacity_rows = 64;
  qc.catalog_rows_per_product = 16;
  triage::downlink::DownlinkQueue queue;
  if (!queue.Open(qc).ok()) return 4;
  auto hb = triage::fault::Heartbeat::FromEnvironment();
  if (!hb.ok()) return 5;

  const uint64_t base = static_cast<uint64_t>(restart ? std::atoi(restart) : 0) * 1000;
  for (uint64_t cycle = 0; !g_term.load(); ++cycle) {
    if (TakeCommand(dir, "crash")) std::abort();
    if (TakeCommand(dir, "hang")) {
      ::signal(SIGTERM, SIG_IGN);
      for (;;) ::pause();
    }
    if (cycle < static_cast<uint64_t>(items)) {
      triage::downlink::ProductMeta meta;
      meta.frame_id = base + cycle;
      uint8_t payload[64];
      std::memset(payload, static_cast<int>(cycle), sizeof(payload));
      auto id = queue.Enqueue(meta, triage::Span<const uint8_t>(payload, sizeof(payload)));
      if (!id.ok()) return 6;
      AppendLine(dir + "/acks", std::to_string(*id) + " " + std::to_string(meta.frame_id));
    }
    (void)hb->Beat();
    ::usleep(static_cast<useconds_t>(cycle_ms) * 1000);
  }
  AppendLine(dir + "/terminated", std::to_string(::getpid()));
  return 0;
}
