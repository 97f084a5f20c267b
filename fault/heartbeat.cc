#include "fault/heartbeat.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace triage::fault {

Heartbeat::~Heartbeat() {
  if (fd_ >= 0) ::close(fd_);
}

Heartbeat::Heartbeat(Heartbeat&& other) noexcept : fd_(other.fd_), counter_(other.counter_) { other.fd_ = -1; }

Heartbeat& Heartbeat::operator=(Heartbeat&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    counter_ = other.counter_;
    other.fd_ = -1;
  }
  return *this;
}

Result<Heartbeat> Heartbeat::Open(const char* path) {
  Heartbeat hb;
  if (path == nullptr || path[0] == '\0') return hb;
  hb.fd_ = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (hb.fd_ < 0) return Status::Error(StatusCode::kIoError, "heartbeat %s: %s", path, std::strerror(errno));
  return hb;
}

Result<Heartbeat> Heartbeat::FromEnvironment() { return Open(std::getenv(kHeartbeatFileEnv)); }

Status Heartbeat::Beat() noexcept {
  if (fd_ < 0) return Status::Ok();
  ++counter_;
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(counter_ >> (8 * i));
  ssize_t n;
  do {
    n = ::pwrite(fd_, bytes, sizeof(bytes), 0);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof(bytes))) {
    return Status::Error(StatusCode::kIoError, "heartbeat write: %s", n < 0 ? std::strerror(errno) : "short write");
  }
  // The write already touched mtime; an explicit one keeps coarse-timestamp
  // filesystems honest about "now".
  (void)::futimens(fd_, nullptr);
  return Status::Ok();
}

HeartbeatSignature ReadHeartbeat(const char* path) noexcept {
  HeartbeatSignature sig;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sig;
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    sig.exists = true;
    sig.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    uint8_t bytes[8] = {};
    if (::pread(fd, bytes, sizeof(bytes), 0) == static_cast<ssize_t>(sizeof(bytes))) {
      for (int i = 0; i < 8; ++i) sig.counter |= static_cast<uint64_t>(bytes[i]) << (8 * i);
    }
  }
  ::close(fd);
  return sig;
}

void HeartbeatWatch::Reset(int64_t now_ns, const HeartbeatSignature& baseline) {
  last_ = baseline;
  started_ns_ = now_ns;
  last_ns_ = now_ns;
  seen_ = false;
  beats_ = 0;
}

bool HeartbeatWatch::Observe(const HeartbeatSignature& sig, int64_t now_ns) {
  if (!sig.exists || sig == last_) return false;
  last_ = sig;
  last_ns_ = now_ns;
  seen_ = true;
  ++beats_;
  return true;
}

bool HeartbeatWatch::Stale(int64_t now_ns) const {
  if (!seen_) return now_ns - started_ns_ > grace_ns_;
  return now_ns - last_ns_ > timeout_ns_;
}

}  // namespace triage::fault
