// C-heap accounting for tests that measure what libjpeg-turbo, OpenSSL and
// OpenCV allocate internally (below operator new, which AllocGuard covers).
//
// Linking tests/support/c_heap_counter.cc (library triage_test_c_heap)
// interposes malloc/calloc/realloc/free/memalign/aligned_alloc/posix_memalign
// over glibc's and counts live bytes (malloc_usable_size), the peak and the
// number of allocating calls. Under AddressSanitizer, which owns malloc, the
// hooks are compiled out and TRIAGE_HEAP_TEST_SANITIZED is defined: tests
// skip. Link it only into the test binaries that need it.
#ifndef TRIAGE_TESTS_SUPPORT_C_HEAP_COUNTER_H_
#define TRIAGE_TESTS_SUPPORT_C_HEAP_COUNTER_H_

#include <atomic>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRIAGE_HEAP_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TRIAGE_HEAP_TEST_SANITIZED 1
#endif

namespace triage::testing {

extern std::atomic<long long> c_heap_current;  // live bytes
extern std::atomic<long long> c_heap_peak;     // highest live bytes; tests reset it
extern std::atomic<long long> c_heap_calls;    // allocating calls so far

}  // namespace triage::testing

#endif  // TRIAGE_TESTS_SUPPORT_C_HEAP_COUNTER_H_
