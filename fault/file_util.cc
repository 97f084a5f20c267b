#include "fault/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace triage::fault {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the error (close can report a failed write-back).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status IoError(const char* what, const char* path, int err) {
  return Status::Error(err == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError, "%s %s: %s", what, path,
                       std::strerror(err));
}

}  // namespace

Result<size_t> ReadFileInto(const char* path, Span<uint8_t> out) noexcept {
  Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open", path, errno);
  size_t total = 0;
  for (;;) {
    if (total == out.size()) {
      // Full: the file must end exactly here.
      uint8_t extra;
      ssize_t n;
      do {
        n = ::read(fd.get(), &extra, 1);
      } while (n < 0 && errno == EINTR);
      if (n < 0) return IoError("read", path, errno);
      if (n > 0) {
        return Status::Error(StatusCode::kDataLoss, "read %s: file larger than the %zu-byte buffer", path,
                             out.size());
      }
      return total;
    }
    const ssize_t n = ::read(fd.get(), out.data() + total, out.size() - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("read", path, errno);
    }
    if (n == 0) return total;
    total += static_cast<size_t>(n);
  }
}

Result<size_t> FileSize(const char* path) noexcept {
  struct stat st;
  if (::stat(path, &st) != 0) return IoError("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return Status::Error(StatusCode::kInvalidArgument, "%s: not a regular file", path);
  return static_cast<size_t>(st.st_size);
}

bool FileExists(const char* path) noexcept {
  struct stat st;
  return ::stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

Status WriteFileAtomically(const char* path, Span<const uint8_t> bytes) noexcept {
  char tmp[kMaxPath];
  char dir[kMaxPath];
  const int n = std::snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  if (n < 0 || static_cast<size_t>(n) >= sizeof(tmp)) {
    return Status::Error(StatusCode::kInvalidArgument, "path too long: %.64s...", path);
  }
  std::snprintf(dir, sizeof(dir), "%s", path);
  char* slash = std::strrchr(dir, '/');
  if (slash == nullptr) {
    std::snprintf(dir, sizeof(dir), ".");
  } else if (slash == dir) {
    slash[1] = '\0';
  } else {
    *slash = '\0';
  }

  {
    Fd fd(::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return IoError("open", tmp, errno);
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t w = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::unlink(tmp);
        return IoError("write", tmp, err);
      }
      done += static_cast<size_t>(w);
    }
    if (::fsync(fd.get()) != 0) {
      const int err = errno;
      ::unlink(tmp);
      return IoError("fsync", tmp, err);
    }
    if (fd.Close() != 0) {
      const int err = errno;
      ::unlink(tmp);
      return IoError("close", tmp, err);
    }
  }
  if (::rename(tmp, path) != 0) {
    const int err = errno;
    ::unlink(tmp);
    return IoError("rename", tmp, err);
  }
  Fd dfd(::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0) return IoError("open", dir, errno);
  if (::fsync(dfd.get()) != 0) return IoError("fsync", dir, errno);
  return Status::Ok();
}

}  // namespace triage::fault
