// Assertions for programmer invariants only. Bad external data (models, frames,
// configs, packets) must return a Status instead; never assert on it.
//
// TRIAGE_CHECK is always on; TRIAGE_DCHECK compiles out in NDEBUG builds.
// A failed check calls the installed hook (default: print and abort), so the
// supervisor sees a crash and restarts the process.
#ifndef TRIAGE_CORE_CHECK_H_
#define TRIAGE_CORE_CHECK_H_

namespace triage {

using CheckFailureHook = void (*)(const char* file, int line, const char* expr);
// Replaces the failure hook; returns the previous one. Init-only, not thread safe.
CheckFailureHook SetCheckFailureHook(CheckFailureHook hook);
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr);

}  // namespace triage

#define TRIAGE_CHECK(cond) \
  ((cond) ? (void)0 : ::triage::CheckFailed(__FILE__, __LINE__, #cond))

#ifdef NDEBUG
#define TRIAGE_DCHECK(cond) ((void)sizeof(cond))
#else
#define TRIAGE_DCHECK(cond) TRIAGE_CHECK(cond)
#endif

#endif  // TRIAGE_CORE_CHECK_H_
