// Process memory readings shared by the benchmarks (Linux /proc).
#ifndef TRIAGE_BENCH_PROC_MEMORY_H_
#define TRIAGE_BENCH_PROC_MEMORY_H_

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace triage::bench {

// A "<field> <n> kB" line of /proc/self/status (VmRSS, VmHWM), in bytes; 0
// if unavailable.
inline size_t ProcStatusBytes(const char* field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  const size_t len = std::strlen(field);
  char line[256];
  size_t bytes = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, field, len) == 0 && line[len] == ':') {
      bytes = std::strtoull(line + len + 1, nullptr, 10) * 1024u;
      break;
    }
  }
  std::fclose(f);
  return bytes;
}

// Resets VmHWM to the current RSS (Linux >= 4.0). False if not permitted,
// in which case VmHWM is the peak over the whole process.
inline bool ResetPeakRss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return (std::fclose(f) == 0) && ok;
}

// Hands memory freed by a previous benchmark back to the kernel, so that
// glibc's retained heap does not hide the next one's footprint.
inline void ReleaseFreedMemory() {
#if defined(__GLIBC__)
  (void)malloc_trim(0);
#endif
}

}  // namespace triage::bench

#endif  // TRIAGE_BENCH_PROC_MEMORY_H_
