// The target that compiles GoogleTest's precompiled header once; every
// triage_add_test executable reuses it (tests/CMakeLists.txt).
#include <gtest/gtest.h>
