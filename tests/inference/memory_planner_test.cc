#include "inference/memory_planner.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

namespace triage::inference {
namespace {

size_t Aligned(size_t v) { return (v + 15) / 16 * 16; }

void ExpectNoConflicts(const std::vector<PlannedBuffer>& b, size_t arena) {
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(b[i].offset % MemoryPlanner::kAlignment, 0u);
    EXPECT_LE(b[i].offset + b[i].size, arena);
    for (size_t j = i + 1; j < b.size(); ++j) {
      const bool live_together = b[i].first_use <= b[j].last_use && b[j].first_use <= b[i].last_use;
      const bool overlap = b[i].offset < b[j].offset + Aligned(b[j].size) && b[j].offset < b[i].offset + Aligned(b[i].size);
      EXPECT_FALSE(live_together && overlap) << "buffers " << i << " and " << j;
    }
  }
}

TEST(MemoryPlanner, ChainReusesMemoryOfDeadBuffers) {
  // a -> b -> c -> d: only two neighbours are ever live together.
  std::vector<PlannedBuffer> b = {{1000, 0, 1, 0}, {2000, 1, 2, 0}, {1000, 2, 3, 0}, {2000, 3, 4, 0}};
  const size_t arena = MemoryPlanner::Plan(b);
  ExpectNoConflicts(b, arena);
  EXPECT_EQ(arena, Aligned(2000) + Aligned(1000));
}

TEST(MemoryPlanner, RandomGraphsNeverOverlapLiveBuffersAndAreDeterministic) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<PlannedBuffer> b(1 + rng() % 40);
    for (auto& x : b) {
      x.size = 1 + rng() % 5000;
      x.first_use = static_cast<int>(rng() % 30);
      x.last_use = x.first_use + static_cast<int>(rng() % 6);
    }
    std::vector<PlannedBuffer> again = b;
    const size_t arena = MemoryPlanner::Plan(b);
    ExpectNoConflicts(b, arena);
    // Lower bound: the largest set of simultaneously live buffers.
    size_t peak = 0;
    for (int t = 0; t < 40; ++t) {
      size_t live = 0;
      for (const auto& x : b)
        if (x.first_use <= t && t <= x.last_use) live += Aligned(x.size);
      peak = std::max(peak, live);
    }
    EXPECT_GE(arena, peak);
    EXPECT_EQ(MemoryPlanner::Plan(again), arena);
    for (size_t i = 0; i < b.size(); ++i) EXPECT_EQ(again[i].offset, b[i].offset);
  }
}

TEST(MemoryPlanner, EmptyPlanNeedsNoArena) {
  std::vector<PlannedBuffer> none;
  EXPECT_EQ(MemoryPlanner::Plan(none), 0u);
}

}  // namespace
}  // namespace triage::inference
