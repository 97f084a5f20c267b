// See c_heap_counter.h. glibc exports its allocator as __libc_*, so the
// interposed functions forward to it and only add the accounting.
#include "tests/support/c_heap_counter.h"

#include <cstddef>

namespace triage::testing {
std::atomic<long long> c_heap_current{0};
std::atomic<long long> c_heap_peak{0};
std::atomic<long long> c_heap_calls{0};
}  // namespace triage::testing

#if !defined(TRIAGE_HEAP_TEST_SANITIZED)
#include <malloc.h>
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
using triage::testing::c_heap_calls;
using triage::testing::c_heap_current;
using triage::testing::c_heap_peak;

void Track(void* p) {
  if (p == nullptr) return;
  c_heap_calls.fetch_add(1, std::memory_order_relaxed);
  const long long size = static_cast<long long>(malloc_usable_size(p));
  const long long now = c_heap_current.fetch_add(size) + size;
  long long peak = c_heap_peak.load(std::memory_order_relaxed);
  while (now > peak && !c_heap_peak.compare_exchange_weak(peak, now)) {
  }
}
void Untrack(void* p) {
  if (p != nullptr) c_heap_current.fetch_sub(static_cast<long long>(malloc_usable_size(p)));
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  void* p = __libc_malloc(n);
  Track(p);
  return p;
}
void* calloc(size_t a, size_t b) {
  void* p = __libc_calloc(a, b);
  Track(p);
  return p;
}
void* realloc(void* old, size_t n) {
  Untrack(old);
  void* p = __libc_realloc(old, n);
  if (p == nullptr && n != 0) Track(old);  // failed: the old block is still live
  Track(p);
  return p;
}
void free(void* p) {
  Untrack(p);
  __libc_free(p);
}
void* memalign(size_t a, size_t n) {
  void* p = __libc_memalign(a, n);
  Track(p);
  return p;
}
void* aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
int posix_memalign(void** out, size_t a, size_t n) {
  void* p = memalign(a, n);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}
#endif  // !TRIAGE_HEAP_TEST_SANITIZED
