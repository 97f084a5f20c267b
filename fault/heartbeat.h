// Heartbeat: how a supervised process tells triage-supervisor it is alive.
//
// The protocol is a file. The child rewrites an 8-byte little-endian counter
// at offset 0 of the file and sets its modification time to now; the
// supervisor polls the file and treats any change of counter or mtime as a
// beat. A child that stops beating for --heartbeat-timeout-ms is killed and
// restarted. triage-supervisor passes the path to the child in the
// environment variable TRIAGE_HEARTBEAT_FILE (and the restart count in
// TRIAGE_RESTART_COUNT), so the flight loop only needs:
//
//   auto hb = fault::Heartbeat::FromEnvironment();   // init; disabled if unset
//   ... each healthy cycle:  (void)hb->Beat();
//
// The Guard (fault/guard.h) beats it from Check() only while every stage is
// healthy, exactly like the hardware watchdog.
//
// Beat() is flight-safe: two syscalls, no allocation, no exceptions. The
// reading side (ReadHeartbeat, HeartbeatWatch) is for the supervisor.
#ifndef TRIAGE_FAULT_HEARTBEAT_H_
#define TRIAGE_FAULT_HEARTBEAT_H_

#include <cstdint>

#include "core/result.h"
#include "core/status.h"

namespace triage::fault {

constexpr const char* kHeartbeatFileEnv = "TRIAGE_HEARTBEAT_FILE";
constexpr const char* kRestartCountEnv = "TRIAGE_RESTART_COUNT";

class Heartbeat {
 public:
  Heartbeat() = default;  // disabled: Beat() does nothing
  ~Heartbeat();
  Heartbeat(Heartbeat&& other) noexcept;
  Heartbeat& operator=(Heartbeat&& other) noexcept;
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // Opens (creating) the file; an empty path gives a disabled heartbeat.
  static Result<Heartbeat> Open(const char* path);
  // Open($TRIAGE_HEARTBEAT_FILE), disabled when the variable is unset.
  static Result<Heartbeat> FromEnvironment();

  Status Beat() noexcept;
  bool enabled() const { return fd_ >= 0; }
  uint64_t beats() const { return counter_; }

 private:
  int fd_ = -1;
  uint64_t counter_ = 0;
};

struct HeartbeatSignature {
  bool exists = false;
  int64_t mtime_ns = 0;
  uint64_t counter = 0;
  bool operator==(const HeartbeatSignature& o) const {
    return exists == o.exists && mtime_ns == o.mtime_ns && counter == o.counter;
  }
  bool operator!=(const HeartbeatSignature& o) const { return !(*this == o); }
};

// The file's current signature; a missing file gives exists == false.
HeartbeatSignature ReadHeartbeat(const char* path) noexcept;

// Staleness of a heartbeat, on a caller-supplied monotonic time (pure logic,
// so supervisor policy is testable on a fake clock).
class HeartbeatWatch {
 public:
  HeartbeatWatch(int64_t timeout_ns, int64_t startup_grace_ns)
      : timeout_ns_(timeout_ns), grace_ns_(startup_grace_ns) {}
  // A new child started at now; beats are changes relative to baseline.
  void Reset(int64_t now_ns, const HeartbeatSignature& baseline);
  // Returns true if sig is a new beat.
  bool Observe(const HeartbeatSignature& sig, int64_t now_ns);
  // No beat for timeout since the last one, or none within the startup grace.
  bool Stale(int64_t now_ns) const;
  bool seen_first() const { return seen_; }
  int64_t last_beat_ns() const { return last_ns_; }
  uint64_t beats() const { return beats_; }

 private:
  int64_t timeout_ns_;
  int64_t grace_ns_;
  HeartbeatSignature last_;
  int64_t started_ns_ = 0;
  int64_t last_ns_ = 0;
  bool seen_ = false;
  uint64_t beats_ = 0;
};

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_HEARTBEAT_H_
