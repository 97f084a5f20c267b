// AllocGuard: proves a region of code performs no heap allocation.
//
// The test support library replaces global operator new/delete. While an
// AllocGuard is alive on a thread, every operator new on that thread is
// counted. Usage:
//   { triage::testing::AllocGuard guard; interpreter.Invoke(); EXPECT_EQ(guard.count(), 0); }
// Only operator new is tracked (C++ containers, std::string, etc.); malloc
// from C libraries is not.
#ifndef TRIAGE_TESTS_SUPPORT_ALLOC_GUARD_H_
#define TRIAGE_TESTS_SUPPORT_ALLOC_GUARD_H_

#include <cstddef>

namespace triage::testing {

class AllocGuard {
 public:
  AllocGuard();
  ~AllocGuard();
  AllocGuard(const AllocGuard&) = delete;
  AllocGuard& operator=(const AllocGuard&) = delete;
  size_t count() const;
  size_t bytes() const;

 private:
  size_t start_count_;
  size_t start_bytes_;
  bool previous_active_;
};

// Makes the Nth allocation (1-based, counted from now, on this thread) throw
// std::bad_alloc; 0 disables. For out-of-memory tests in the spirit of ncnn.
void FailNthAllocation(size_t n);

}  // namespace triage::testing

#endif  // TRIAGE_TESTS_SUPPORT_ALLOC_GUARD_H_
