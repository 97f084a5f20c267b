#include "tests/support/alloc_guard.h"

#include <cstdlib>
#include <new>

namespace triage::testing {
namespace {
thread_local bool t_active = false;
thread_local size_t t_count = 0;
thread_local size_t t_bytes = 0;
thread_local size_t t_fail_at = 0;
}  // namespace

AllocGuard::AllocGuard()
    : start_count_(t_count), start_bytes_(t_bytes), previous_active_(t_active) {
  t_active = true;
}
AllocGuard::~AllocGuard() { t_active = previous_active_; }
size_t AllocGuard::count() const { return t_count - start_count_; }
size_t AllocGuard::bytes() const { return t_bytes - start_bytes_; }

void FailNthAllocation(size_t n) { t_fail_at = n; }

void* CountedAlloc(size_t size) {
  if (t_fail_at != 0 && --t_fail_at == 0) throw std::bad_alloc();
  if (t_active) {
    ++t_count;
    t_bytes += size;
  }
  void* p = std::malloc(size == 0 ? 1 : size);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace triage::testing

// Sanitizer builds keep their own allocator hooks; replacing operator new there
// is still supported by ASan, which intercepts malloc underneath.
// The whole non-aligned family is replaced so that every new/delete pair goes
// through the same malloc/free (ASan reports mixed pairs).
void* operator new(size_t size) { return triage::testing::CountedAlloc(size); }
void* operator new[](size_t size) { return triage::testing::CountedAlloc(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  try {
    return triage::testing::CountedAlloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
