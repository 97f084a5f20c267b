#include "inference/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace triage::inference {
namespace {
size_t AlignUp(size_t v) { return (v + MemoryPlanner::kAlignment - 1) / MemoryPlanner::kAlignment * MemoryPlanner::kAlignment; }
bool LifetimesOverlap(const PlannedBuffer& a, const PlannedBuffer& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}
}  // namespace

size_t MemoryPlanner::Plan(std::vector<PlannedBuffer>& buffers) {
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].size != buffers[b].size) return buffers[a].size > buffers[b].size;
    return buffers[a].first_use < buffers[b].first_use;
  });
  std::vector<size_t> placed;  // indices, kept sorted by offset
  placed.reserve(buffers.size());
  size_t arena = 0;
  for (size_t id : order) {
    PlannedBuffer& buf = buffers[id];
    const size_t size = AlignUp(buf.size);
    size_t candidate = 0;
    for (size_t other_id : placed) {
      const PlannedBuffer& other = buffers[other_id];
      if (!LifetimesOverlap(buf, other)) continue;
      const size_t other_end = other.offset + AlignUp(other.size);
      if (other.offset >= candidate + size) break;  // gap before `other` fits
      candidate = std::max(candidate, other_end);
    }
    buf.offset = candidate;
    arena = std::max(arena, candidate + size);
    placed.insert(std::upper_bound(placed.begin(), placed.end(), id,
                                   [&](size_t a, size_t b) { return buffers[a].offset < buffers[b].offset; }),
                  id);
  }
  return arena;
}

}  // namespace triage::inference
