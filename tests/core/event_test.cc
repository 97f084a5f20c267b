#include "core/event.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace triage {
namespace {

constexpr uint16_t kA = MakeEventId(EventSource::kFault, 1);
constexpr uint16_t kB = MakeEventId(EventSource::kApp, 2);

struct RecordingSink : EventSink {
  std::vector<Event> events;
  void OnEvent(const Event& e) noexcept override { events.push_back(e); }
};

TEST(EventLog, RecordsFieldsTimeAndFormattedText) {
  FakeClock clock(5);
  RecordingSink sink;
  EventLog log(clock, &sink);
  ASSERT_TRUE(log.Report(kA, Severity::kWarning, 1, 2, 3, "frame %d bad", 42));
  ASSERT_EQ(log.size(), 1u);
  const Event& e = log.at(0);
  EXPECT_EQ(e.id, kA);
  EXPECT_EQ(e.severity, Severity::kWarning);
  EXPECT_EQ(e.time_ns, 5);
  EXPECT_EQ(e.args[2], 3);
  EXPECT_STREQ(e.text, "frame 42 bad");
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(EventSourceOf(e.id), EventSource::kFault);
}

TEST(EventLog, ThrottlesEachIdPerWindowAndCountsTheRest) {
  FakeClock clock;
  EventLog log(clock, nullptr, /*max_per_id=*/3, /*window=*/100);
  for (int i = 0; i < 10; ++i) log.Report(kA, Severity::kError, "a");
  EXPECT_TRUE(log.Report(kB, Severity::kError, "b"));  // other ids unaffected
  EXPECT_EQ(log.CountOf(kA), 3u);
  EXPECT_EQ(log.throttled(), 7u);
  clock.AdvanceNanos(100);
  EXPECT_TRUE(log.Report(kA, Severity::kError, "a again"));
  EXPECT_EQ(log.CountOf(kA), 4u);
}

TEST(EventLog, RingKeepsTheNewestInOrder) {
  FakeClock clock;
  EventLog log(clock, nullptr, /*max_per_id=*/1'000'000);
  const size_t n = EventLog::kCapacity + 10;
  for (size_t i = 0; i < n; ++i) log.Report(kA, Severity::kInfo, static_cast<int64_t>(i), 0, 0, "x");
  EXPECT_EQ(log.total(), n);
  EXPECT_EQ(log.size(), EventLog::kCapacity);
  EXPECT_EQ(log.at(0).args[0], 10);
  EXPECT_EQ(log.Newest()->args[0], static_cast<int64_t>(n - 1));
}

TEST(EventLog, LongTextIsTruncatedNotOverflowed) {
  FakeClock clock;
  EventLog log(clock);
  std::string big(500, 'x');
  log.Report(kA, Severity::kInfo, big.c_str());
  EXPECT_EQ(std::strlen(log.at(0).text), Event::kMaxText - 1);
}

TEST(Clock, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(10);
  EXPECT_EQ(clock.NowNanos(), 10);
  clock.AdvanceMillis(2);
  EXPECT_EQ(clock.NowNanos(), 10 + 2 * kNanosPerMilli);
  const int64_t a = SteadyClock::Instance().NowNanos();
  const int64_t b = SteadyClock::Instance().NowNanos();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace triage
