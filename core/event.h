// Events: fixed-size fault and status records, in the spirit of F Prime's
// event (EVR) system. Flight code reports what happened to external data or
// hardware (a corrupt frame, a vote mismatch, a missed deadline, a rejected
// config) as an Event, never as a printf and never as an assert.
//
// An Event is a plain value: id, severity, source, time and three integers,
// plus a short inline text (no heap). EventLog keeps the newest kCapacity
// events in a ring, throttles each id to `max_per_id` reports per throttle
// window (later ones are counted, not stored), and forwards accepted events to
// an optional sink (telemetry, spdlog) outside the core.
//
// Event ids are 16-bit; each module owns a range (see EventSource) and
// defines its ids as constants in its own headers.
//
// Thread safety: EventLog is single-owner (the flight loop thread). Report()
// never allocates and never throws.
#ifndef TRIAGE_CORE_EVENT_H_
#define TRIAGE_CORE_EVENT_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/clock.h"

namespace triage {

enum class Severity : uint8_t { kDebug = 0, kInfo, kWarning, kError, kFatal };
const char* SeverityName(Severity s);

// Which module raised the event; ids are (source << 8) | n.
enum class EventSource : uint8_t {
  kCore = 0,
  kApp = 1,
  kFault = 2,
  kConfig = 3,
  kDownlink = 4,
  kImaging = 5,
  kInference = 6,
  kGround = 7,
};

constexpr uint16_t MakeEventId(EventSource source, uint8_t n) {
  return static_cast<uint16_t>((static_cast<uint16_t>(source) << 8) | n);
}
constexpr EventSource EventSourceOf(uint16_t id) { return static_cast<EventSource>(id >> 8); }

struct Event {
  static constexpr size_t kMaxText = 96;
  uint16_t id = 0;
  Severity severity = Severity::kInfo;
  int64_t time_ns = 0;
  int64_t args[3] = {0, 0, 0};
  char text[kMaxText] = {};  // NUL-terminated, truncated
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnEvent(const Event& event) noexcept = 0;
};

class EventLog {
 public:
  static constexpr size_t kCapacity = 256;
  static constexpr size_t kMaxThrottledIds = 64;

  // clock must outlive the log. sink may be null.
  explicit EventLog(const Clock& clock, EventSink* sink = nullptr, uint32_t max_per_id = 20,
                    int64_t throttle_window_ns = 60 * kNanosPerSecond);

  // Records an event; returns false if it was throttled (still counted).
  // printf-style text, truncated to Event::kMaxText - 1.
  bool Report(uint16_t id, Severity severity, int64_t a0, int64_t a1, int64_t a2,
              const char* fmt, ...) noexcept __attribute__((format(printf, 7, 8)));
  bool Report(uint16_t id, Severity severity, const char* text) noexcept {
    return Report(id, severity, 0, 0, 0, "%s", text);
  }

  void set_sink(EventSink* sink) { sink_ = sink; }

  // Events accepted so far (including those overwritten in the ring).
  uint64_t total() const { return total_; }
  uint64_t throttled() const { return throttled_; }
  // Number of accepted events with this id (saturates at 2^32-1 per id slot;
  // ids beyond kMaxThrottledIds distinct ones are not tracked and return 0).
  uint32_t CountOf(uint16_t id) const;

  // The newest min(total, kCapacity) events, oldest first: index 0..size()-1.
  size_t size() const { return total_ < kCapacity ? static_cast<size_t>(total_) : kCapacity; }
  const Event& at(size_t i) const;
  const Event* Newest() const { return total_ == 0 ? nullptr : &at(size() - 1); }

 private:
  struct IdSlot {
    uint16_t id = 0;
    bool used = false;
    uint32_t in_window = 0;
    uint32_t accepted = 0;
    int64_t window_start_ns = 0;
  };
  IdSlot* SlotFor(uint16_t id);

  const Clock& clock_;
  EventSink* sink_;
  uint32_t max_per_id_;
  int64_t window_ns_;
  std::array<Event, kCapacity> ring_{};
  std::array<IdSlot, kMaxThrottledIds> slots_{};
  uint64_t total_ = 0;
  uint64_t throttled_ = 0;
};

}  // namespace triage

#endif  // TRIAGE_CORE_EVENT_H_
