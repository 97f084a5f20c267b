// Crash consistency: a child process writes in a loop and reports each write
// that returned OK through a pipe; the parent SIGKILLs it at a random (seeded)
// instant, reopens the store and checks that every acknowledged write is
// present and intact and that nothing is corrupt. SIGKILL cannot model a lost
// page cache (power loss); that part rests on the fsync/rename protocol
// described in downlink/README.md.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "downlink/catalog.h"
#include "downlink/queue.h"
#include "tests/downlink/test_util.h"

namespace triage::downlink {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kIterations = 100;
constexpr double kBudgetSeconds = 5.0;  // per test; keeps the suite well under 20 s
constexpr int kMaxDelayUs = 200000;
// Writes per child before it idles, so that on a fast disk the totals stay
// inside max_queue_items (no legitimate eviction of acknowledged items) and
// catalog_capacity_rows.
constexpr uint64_t kQueueWritesPerChild = 25;
constexpr uint64_t kCatalogWritesPerChild = 100;
constexpr uint64_t kEvictionWritesPerChild = 40;

[[noreturn]] void WaitForKill() {
  for (;;) ::pause();
}

size_t PayloadSize(uint64_t frame) { return 1 + (frame * 7919) % 12000; }

CatalogRow RowFor(uint64_t frame) {
  CatalogRow r;
  r.frame_id = frame;
  r.timestamp = frame * 3;
  r.class_id = static_cast<uint16_t>(frame % 11);
  r.confidence = static_cast<float>(frame % 100) / 100.0f;
  r.decision = static_cast<uint8_t>(frame % 4);
  r.bytes = static_cast<uint32_t>(PayloadSize(frame));
  return r;
}

// Where to kill: after `acks_first` acknowledged writes, then a random delay
// up to 1.5x the mean time per write seen so far, so the kill lands at a
// uniformly random point inside the next write (or inside Open and recovery
// when acks_first is 0), whatever the disk speed.
struct KillPlanner {
  std::mt19937 rng;
  uint64_t writes_per_child;
  double mean_write_us = 5000.0;
};

// Runs body(first_frame, ack) in a child, kills it as planned, and returns
// the frames it acknowledged. ack(frame) writes the frame id to a pipe.
template <typename Body>
std::vector<uint64_t> RunAndKill(KillPlanner& plan, uint64_t first_frame, Body body) {
  int fds[2];
  if (::pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return {};
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const int write_fd = fds[1];
    auto ack = [write_fd](uint64_t frame) {
      if (::write(write_fd, &frame, sizeof(frame)) != sizeof(frame)) ::_exit(4);
    };
    body(first_frame, ack);
    // Done writing: close the pipe so the parent stops waiting for acks,
    // then idle until killed.
    ::close(write_fd);
    WaitForKill();
  }
  ::close(fds[1]);
  const uint64_t acks_first =
      std::uniform_int_distribution<uint64_t>(0, plan.writes_per_child - 1)(plan.rng);
  std::vector<uint64_t> acked;
  uint64_t frame = 0;
  auto last = Clock::now();
  while (acked.size() < acks_first && ::read(fds[0], &frame, sizeof(frame)) == sizeof(frame)) {
    acked.push_back(frame);
    const auto now = Clock::now();
    if (acked.size() > 1) {  // the first ack also includes the child's Open
      const double us = std::chrono::duration<double, std::micro>(now - last).count();
      plan.mean_write_us = 0.8 * plan.mean_write_us + 0.2 * us;
    }
    last = now;
  }
  const int window = static_cast<int>(std::min(1.5 * plan.mean_write_us, double{kMaxDelayUs}));
  ::usleep(static_cast<useconds_t>(std::uniform_int_distribution<int>(0, window)(plan.rng)));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "child exited on its own with " << WEXITSTATUS(status);
  while (::read(fds[0], &frame, sizeof(frame)) == sizeof(frame)) acked.push_back(frame);
  ::close(fds[0]);
  return acked;
}

Config CrashConfig(const std::string& dir) {
  Config c = testing::SmallConfig(dir);
  c.storage_quota_bytes = 64ull << 20;
  c.max_queue_items = 4096;
  c.catalog_capacity_rows = 1 << 16;
  return c;
}

TEST(DownlinkQueueCrash, KillAtAnyInstantKeepsEveryAcknowledgedItemIntact) {
  testing::TempDir dir;
  const Config config = CrashConfig(dir.path());
  KillPlanner plan{std::mt19937(0x5EED0001), kQueueWritesPerChild};
  std::set<uint64_t> acked;
  uint64_t next_frame = 1;
  const auto start = Clock::now();
  int iterations = 0;
  for (; iterations < kIterations; ++iterations) {
    if (std::chrono::duration<double>(Clock::now() - start).count() > kBudgetSeconds) break;
    for (uint64_t f : RunAndKill(plan, next_frame, [&](uint64_t first, auto ack) {
           DownlinkQueue q;
           if (!q.Open(config).ok()) ::_exit(2);
           for (uint64_t f = first; f < first + kQueueWritesPerChild; ++f) {
             const std::vector<uint8_t> payload = testing::Payload(f, PayloadSize(f));
             if (!q.Enqueue(testing::Meta(f, static_cast<uint8_t>(f % 8)), payload).ok()) ::_exit(3);
             ack(f);
           }
         })) {
      acked.insert(f);
    }
    DownlinkQueue q;
    Status s = q.Open(config);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(q.recovery().corrupt_files_dropped, 0u) << q.recovery().last_drop.message();
    std::map<uint64_t, const QueueItem*> by_frame;
    for (const QueueItem& item : q.items()) {
      EXPECT_EQ(by_frame.count(item.meta.frame_id), 0u) << "frame stored twice";
      by_frame[item.meta.frame_id] = &item;
      next_frame = std::max(next_frame, item.meta.frame_id + 1);
    }
    for (uint64_t f : acked) {
      auto it = by_frame.find(f);
      ASSERT_NE(it, by_frame.end()) << "acknowledged frame " << f << " lost (iteration " << iterations << ")";
    }
    // Every item present, acknowledged or not, is intact.
    for (const auto& [frame, item] : by_frame) {
      std::vector<uint8_t> payload(item->meta.payload_bytes);
      ASSERT_TRUE(q.ReadPayload(item->product_id, 0, payload).ok());
      ASSERT_EQ(payload, testing::Payload(frame, PayloadSize(frame))) << "frame " << frame;
      Digest256 sha{};
      ASSERT_TRUE(Sha256::Of(payload, &sha).ok());
      EXPECT_EQ(sha, item->meta.payload_sha256);
      EXPECT_EQ(item->meta.priority, frame % 8);
    }
    if (!acked.empty()) next_frame = std::max(next_frame, *acked.rbegin() + 1);
  }
  EXPECT_GE(iterations, 8);
  EXPECT_GT(acked.size(), 0u);
  std::printf("queue crash: %d kills, %zu acknowledged items verified\n", iterations, acked.size());
}

TEST(CatalogCrash, KillAtAnyInstantKeepsEveryAcknowledgedRow) {
  testing::TempDir dir;
  const Config config = CrashConfig(dir.path());
  KillPlanner plan{std::mt19937(0x5EED0002), kCatalogWritesPerChild};
  std::set<uint64_t> acked;
  uint64_t next_frame = 1;
  const auto start = Clock::now();
  int iterations = 0;
  for (; iterations < kIterations; ++iterations) {
    if (std::chrono::duration<double>(Clock::now() - start).count() > kBudgetSeconds) break;
    for (uint64_t f : RunAndKill(plan, next_frame, [&](uint64_t first, auto ack) {
           Catalog c;
           if (!c.Open(config).ok()) ::_exit(2);
           for (uint64_t f = first; f < first + kCatalogWritesPerChild; ++f) {
             if (!c.Record(RowFor(f)).ok()) ::_exit(3);
             ack(f);
           }
         })) {
      acked.insert(f);
    }
    Catalog c;
    Status s = c.Open(config);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(c.recovery().corrupt_records_skipped, 0u);
    for (uint64_t f : acked) {
      const CatalogRow* row = c.Find(f);
      ASSERT_NE(row, nullptr) << "acknowledged row " << f << " lost";
      const CatalogRow want = RowFor(f);
      EXPECT_EQ(row->timestamp, want.timestamp);
      EXPECT_EQ(row->confidence, want.confidence);
      EXPECT_EQ(row->bytes, want.bytes);
    }
    for (size_t i = 0; i < c.size(); ++i) {
      EXPECT_EQ(c.row(i).timestamp, RowFor(c.row(i).frame_id).timestamp);
      next_frame = std::max(next_frame, c.row(i).frame_id + 1);
    }
  }
  EXPECT_GE(iterations, 8);
  EXPECT_GT(acked.size(), 0u);
  std::printf("catalog crash: %d kills, %zu acknowledged rows verified\n", iterations, acked.size());
}

TEST(DownlinkEvictionCrash, AcknowledgedItemIsEitherIntactOrMarkedEvicted) {
  testing::TempDir dir;
  Config config = CrashConfig(dir.path());
  config.storage_quota_bytes = 40000;  // a handful of items: eviction on most enqueues
  KillPlanner plan{std::mt19937(0x5EED0003), kEvictionWritesPerChild};
  std::set<uint64_t> acked;
  uint64_t next_frame = 1;
  const auto start = Clock::now();
  int iterations = 0;
  for (; iterations < kIterations; ++iterations) {
    if (std::chrono::duration<double>(Clock::now() - start).count() > kBudgetSeconds) break;
    for (uint64_t f : RunAndKill(plan, next_frame, [&](uint64_t first, auto ack) {
           Catalog c;
           if (!c.Open(config).ok()) ::_exit(2);
           DownlinkQueue q;
           if (!q.Open(config, &c).ok()) ::_exit(2);
           for (uint64_t f = first; f < first + kEvictionWritesPerChild; ++f) {
             if (!c.Record(RowFor(f)).ok()) ::_exit(3);
             // Rising priorities so that the new item always outranks the oldest.
             const uint8_t priority = static_cast<uint8_t>(f % 250);
             Result<uint32_t> id = q.Enqueue(testing::Meta(f, priority), testing::View(testing::Payload(f, PayloadSize(f))));
             if (id.ok()) ack(f);
             else if (id.status().code() != StatusCode::kResourceExhausted) ::_exit(3);
           }
         })) {
      acked.insert(f);
    }
    Catalog c;
    ASSERT_TRUE(c.Open(config).ok());
    DownlinkQueue q;
    Status s = q.Open(config, &c);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(CompleteInterruptedEvictions(c, &q).ok());
    EXPECT_EQ(q.recovery().corrupt_files_dropped, 0u);
    EXPECT_EQ(c.recovery().corrupt_records_skipped, 0u);
    EXPECT_LE(q.used_bytes(), config.storage_quota_bytes);
    std::set<uint64_t> present;
    for (const QueueItem& item : q.items()) {
      present.insert(item.meta.frame_id);
      std::vector<uint8_t> payload(item.meta.payload_bytes);
      ASSERT_TRUE(q.ReadPayload(item.product_id, 0, payload).ok());
      ASSERT_EQ(payload, testing::Payload(item.meta.frame_id, PayloadSize(item.meta.frame_id)));
      const CatalogRow* row = c.Find(item.meta.frame_id);
      ASSERT_NE(row, nullptr);
      EXPECT_FALSE(row->evicted()) << "frame " << item.meta.frame_id << " present but marked evicted";
    }
    for (uint64_t f : acked) {
      const CatalogRow* row = c.Find(f);
      ASSERT_NE(row, nullptr) << "row of acknowledged frame " << f << " lost";
      EXPECT_TRUE(present.count(f) != 0 || row->evicted()) << "frame " << f << " vanished without eviction mark";
    }
    for (size_t i = 0; i < c.size(); ++i) next_frame = std::max(next_frame, c.row(i).frame_id + 1);
  }
  EXPECT_GE(iterations, 8);
  EXPECT_GT(acked.size(), 0u);
  std::printf("eviction crash: %d kills, %zu acknowledged items checked\n", iterations, acked.size());
}

}  // namespace
}  // namespace triage::downlink
