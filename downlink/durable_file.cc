#include "downlink/durable_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace triage::downlink {
namespace {
// Bounds every retry loop: a syscall that keeps returning EINTR or zero
// progress this often is treated as an I/O error rather than spun on forever.
constexpr int kMaxRetries = 1 << 20;
}  // namespace

Status FormatPath(char* out, const char* fmt, ...) noexcept {
  va_list args;
  va_start(args, fmt);
  const int n = std::vsnprintf(out, kMaxPath, fmt, args);
  va_end(args);
  if (n < 0 || static_cast<size_t>(n) >= kMaxPath) {
    return Status::Error(StatusCode::kInvalidArgument, "path longer than %zu characters", kMaxPath - 1);
  }
  return Status::Ok();
}

Status WriteAll(int fd, Span<const uint8_t> bytes, const char* what) noexcept {
  size_t done = 0;
  for (int tries = 0; done < bytes.size(); ++tries) {
    if (tries >= kMaxRetries) return Status::Error(StatusCode::kIoError, "%s: write made no progress", what);
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(StatusCode::kIoError, "%s: write: %s", what, std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status PreadAll(int fd, uint64_t offset, Span<uint8_t> out, const char* what) noexcept {
  size_t done = 0;
  for (int tries = 0; done < out.size(); ++tries) {
    if (tries >= kMaxRetries) return Status::Error(StatusCode::kIoError, "%s: read made no progress", what);
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(StatusCode::kIoError, "%s: read at %llu: %s", what,
                           static_cast<unsigned long long>(offset + done), std::strerror(errno));
    }
    if (n == 0) {
      return Status::Error(StatusCode::kDataLoss, "%s: file ends at %llu, needed %zu bytes at %llu", what,
                           static_cast<unsigned long long>(offset + done), out.size(),
                           static_cast<unsigned long long>(offset));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status SyncFd(int fd, const char* what) noexcept {
  if (::fsync(fd) != 0) return Status::Error(StatusCode::kIoError, "%s: fsync: %s", what, std::strerror(errno));
  return Status::Ok();
}

Status SyncDir(const char* dir) noexcept {
  UniqueFd fd(::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::Error(StatusCode::kIoError, "%s: open dir: %s", dir, std::strerror(errno));
  return SyncFd(fd.get(), dir);
}

Status MakeDirs(const char* path) noexcept {
  char buf[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(FormatPath(buf, "%s", path));
  const size_t len = std::strlen(buf);
  for (size_t i = 1; i <= len; ++i) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    const char saved = buf[i];
    buf[i] = '\0';
    if (::mkdir(buf, 0755) != 0 && errno != EEXIST) {
      return Status::Error(StatusCode::kIoError, "%s: mkdir: %s", buf, std::strerror(errno));
    }
    buf[i] = saved;
  }
  struct stat st;
  if (::stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::Error(StatusCode::kIoError, "%s: not a directory", path);
  }
  return Status::Ok();
}

Status ReplaceFileAtomically(const char* dir, const char* name, Span<const uint8_t> bytes) noexcept {
  char final_path[kMaxPath];
  char tmp_path[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(FormatPath(final_path, "%s/%s", dir, name));
  TRIAGE_RETURN_IF_ERROR(FormatPath(tmp_path, "%s/%s.tmp", dir, name));
  {
    UniqueFd fd(::open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      return Status::Error(StatusCode::kIoError, "%s: open: %s", tmp_path, std::strerror(errno));
    }
    TRIAGE_RETURN_IF_ERROR(WriteAll(fd.get(), bytes, tmp_path));
    TRIAGE_RETURN_IF_ERROR(SyncFd(fd.get(), tmp_path));
  }
  if (::rename(tmp_path, final_path) != 0) {
    return Status::Error(StatusCode::kIoError, "%s: rename: %s", final_path, std::strerror(errno));
  }
  return SyncDir(dir);
}

Result<size_t> ReadSmallFile(const char* path, Span<uint8_t> out) noexcept {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::Error(StatusCode::kNotFound, "%s: no such file", path);
    return Status::Error(StatusCode::kIoError, "%s: open: %s", path, std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return Status::Error(StatusCode::kIoError, "%s: stat: %s", path, std::strerror(errno));
  }
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > out.size()) {
    return Status::Error(StatusCode::kDataLoss, "%s: %lld bytes, larger than the %zu expected at most", path,
                         static_cast<long long>(st.st_size), out.size());
  }
  const size_t size = static_cast<size_t>(st.st_size);
  TRIAGE_RETURN_IF_ERROR(PreadAll(fd.get(), 0, out.subspan(0, size), path));
  return size;
}

Status RemoveFile(const char* path) noexcept {
  if (::unlink(path) != 0 && errno != ENOENT) {
    return Status::Error(StatusCode::kIoError, "%s: unlink: %s", path, std::strerror(errno));
  }
  return Status::Ok();
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

void UniqueFd::Reset(int fd) noexcept {
  // close() is not retried on EINTR: on Linux the descriptor is released anyway.
  if (fd_ >= 0) (void)::close(fd_);
  fd_ = fd;
}

}  // namespace triage::downlink
