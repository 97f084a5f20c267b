#include "core/event.h"

#include <cstdarg>
#include <cstdio>

namespace triage {

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kDebug: return "debug";
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
    case Severity::kFatal: return "fatal";
  }
  return "unknown";
}

EventLog::EventLog(const Clock& clock, EventSink* sink, uint32_t max_per_id,
                   int64_t throttle_window_ns)
    : clock_(clock), sink_(sink), max_per_id_(max_per_id), window_ns_(throttle_window_ns) {}

EventLog::IdSlot* EventLog::SlotFor(uint16_t id) {
  for (IdSlot& slot : slots_) {
    if (slot.used && slot.id == id) return &slot;
  }
  for (IdSlot& slot : slots_) {
    if (!slot.used) {
      slot.used = true;
      slot.id = id;
      return &slot;
    }
  }
  return nullptr;  // more distinct ids than slots: not throttled, not counted
}

bool EventLog::Report(uint16_t id, Severity severity, int64_t a0, int64_t a1, int64_t a2,
                      const char* fmt, ...) noexcept {
  const int64_t now = clock_.NowNanos();
  IdSlot* slot = SlotFor(id);
  if (slot != nullptr) {
    if (slot->in_window == 0 || now - slot->window_start_ns >= window_ns_) {
      slot->window_start_ns = now;
      slot->in_window = 0;
    }
    if (slot->in_window >= max_per_id_) {
      ++throttled_;
      return false;
    }
    ++slot->in_window;
    if (slot->accepted != UINT32_MAX) ++slot->accepted;
  }
  Event& e = ring_[total_ % kCapacity];
  e.id = id;
  e.severity = severity;
  e.time_ns = now;
  e.args[0] = a0;
  e.args[1] = a1;
  e.args[2] = a2;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(e.text, sizeof(e.text), fmt, ap);
  va_end(ap);
  ++total_;
  if (sink_ != nullptr) sink_->OnEvent(e);
  return true;
}

uint32_t EventLog::CountOf(uint16_t id) const {
  for (const IdSlot& slot : slots_) {
    if (slot.used && slot.id == id) return slot.accepted;
  }
  return 0;
}

const Event& EventLog::at(size_t i) const {
  const uint64_t first = total_ < kCapacity ? 0 : total_ - kCapacity;
  return ring_[(first + i) % kCapacity];
}

}  // namespace triage
