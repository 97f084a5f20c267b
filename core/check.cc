#include "core/check.h"

#include <cstdio>
#include <cstdlib>

namespace triage {
namespace {
void DefaultHook(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "triage: check failed at %s:%d: %s\n", file, line, expr);
}
CheckFailureHook g_hook = &DefaultHook;
}  // namespace

CheckFailureHook SetCheckFailureHook(CheckFailureHook hook) {
  CheckFailureHook old = g_hook;
  g_hook = hook ? hook : &DefaultHook;
  return old;
}

void CheckFailed(const char* file, int line, const char* expr) {
  g_hook(file, line, expr);
  std::abort();
}

}  // namespace triage
