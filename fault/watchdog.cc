#include "fault/watchdog.h"

#include <fcntl.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace triage::fault {

Result<std::unique_ptr<LinuxWatchdog>> LinuxWatchdog::Open(const char* device, uint32_t timeout_s) {
  const int fd = ::open(device, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::Error(errno == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError, "watchdog %s: %s", device,
                         std::strerror(errno));
  }
  int t = static_cast<int>(timeout_s);
  // Not every driver supports setting the timeout; keep its own then.
  if (::ioctl(fd, WDIOC_SETTIMEOUT, &t) != 0) {
    t = 0;
    if (::ioctl(fd, WDIOC_GETTIMEOUT, &t) != 0) t = static_cast<int>(timeout_s);
  }
  std::unique_ptr<LinuxWatchdog> w(new (std::nothrow) LinuxWatchdog(fd, static_cast<uint32_t>(t)));
  if (!w) {
    ::close(fd);
    return Status::Error(StatusCode::kResourceExhausted, "watchdog: out of memory");
  }
  return w;
}

LinuxWatchdog::~LinuxWatchdog() {
  // Closing without the magic character leaves the timer running, which is
  // what an unplanned exit should do.
  if (fd_ >= 0) ::close(fd_);
}

Status LinuxWatchdog::Stroke() noexcept {
  if (fd_ < 0) return Status::Error(StatusCode::kFailedPrecondition, "watchdog: disarmed");
  int dummy = 0;
  if (::ioctl(fd_, WDIOC_KEEPALIVE, &dummy) == 0) return Status::Ok();
  // Drivers without the ioctl accept any write as a keep-alive.
  ssize_t n;
  do {
    n = ::write(fd_, "k", 1);
  } while (n < 0 && errno == EINTR);
  if (n == 1) return Status::Ok();
  return Status::Error(StatusCode::kIoError, "watchdog keep-alive: %s", std::strerror(errno));
}

Status LinuxWatchdog::Disarm() noexcept {
  if (fd_ < 0) return Status::Ok();
  ssize_t n;
  do {
    n = ::write(fd_, "V", 1);
  } while (n < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd_);
  fd_ = -1;
  if (n != 1) return Status::Error(StatusCode::kIoError, "watchdog magic close: %s", std::strerror(err));
  return Status::Ok();
}

SimulatedWatchdog::SimulatedWatchdog(const Clock& clock, uint32_t timeout_s)
    : clock_(clock), timeout_s_(timeout_s), last_stroke_ns_(clock.NowNanos()) {}

Status SimulatedWatchdog::Stroke() noexcept {
  if (expired()) return Status::Error(StatusCode::kFailedPrecondition, "simulated watchdog already expired");
  last_stroke_ns_ = clock_.NowNanos();
  ++strokes_;
  armed_ = true;
  return Status::Ok();
}

Status SimulatedWatchdog::Disarm() noexcept {
  armed_ = false;
  return Status::Ok();
}

bool SimulatedWatchdog::expired() const {
  return armed_ && clock_.NowNanos() - last_stroke_ns_ > static_cast<int64_t>(timeout_s_) * kNanosPerSecond;
}

}  // namespace triage::fault
