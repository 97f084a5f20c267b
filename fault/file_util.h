// Small POSIX file helpers for fault/'s state files and model repair.
//
// WriteFileAtomically is the crash-safe update: write "<path>.tmp", fsync it,
// rename it over <path>, fsync the directory. A reader sees the old or the
// new content, never a mix. All functions retry EINTR and short transfers,
// never throw and do not allocate (paths are formatted on the stack; at most
// kMaxPath bytes). Errors are kIoError naming the path and errno text;
// kNotFound for a missing file.
#ifndef TRIAGE_FAULT_FILE_UTIL_H_
#define TRIAGE_FAULT_FILE_UTIL_H_

#include <cstddef>
#include <cstdint>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"

namespace triage::fault {

constexpr size_t kMaxPath = 4096;

// Reads a whole file into out; kDataLoss if it is larger than out. Returns its size.
Result<size_t> ReadFileInto(const char* path, Span<uint8_t> out) noexcept;
// Size of a regular file.
Result<size_t> FileSize(const char* path) noexcept;
Status WriteFileAtomically(const char* path, Span<const uint8_t> bytes) noexcept;
bool FileExists(const char* path) noexcept;

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_FILE_UTIL_H_
