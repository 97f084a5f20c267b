// POSIX file helpers with the durability rules downlink/ relies on.
//
// ReplaceFileAtomically is the crash-safe update used for small state files:
// write "<name>.tmp", fsync it, rename over "<name>", fsync the directory. After
// it returns OK the new content survives power loss; if the process dies at
// any instant before that, a reader sees either the old or the new file, never
// a mix (a leftover .tmp is dropped by the owner's recovery scan).
//
// All functions retry EINTR and short reads/writes in bounded loops, never
// throw, and do not allocate. Errors are kIoError naming the path and errno
// text (kNotFound for a missing file where noted).
#ifndef TRIAGE_DOWNLINK_DURABLE_FILE_H_
#define TRIAGE_DOWNLINK_DURABLE_FILE_H_

#include <cstddef>
#include <cstdint>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"

namespace triage::downlink {

constexpr size_t kMaxPath = 256;

// snprintf into out[kMaxPath]; kInvalidArgument if the path would not fit.
Status FormatPath(char* out, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

Status WriteAll(int fd, Span<const uint8_t> bytes, const char* what) noexcept;
// Reads exactly out.size() bytes at offset; kDataLoss on end of file.
Status PreadAll(int fd, uint64_t offset, Span<uint8_t> out, const char* what) noexcept;
Status SyncFd(int fd, const char* what) noexcept;
Status SyncDir(const char* dir) noexcept;
// mkdir -p. Existing directories are fine.
Status MakeDirs(const char* path) noexcept;
Status ReplaceFileAtomically(const char* dir, const char* name, Span<const uint8_t> bytes) noexcept;
// Reads a whole file of at most out.size() bytes; returns its size.
// kNotFound if absent, kDataLoss if larger than out.
Result<size_t> ReadSmallFile(const char* path, Span<uint8_t> out) noexcept;
// Unlinks; a missing file is OK.
Status RemoveFile(const char* path) noexcept;

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_DURABLE_FILE_H_
