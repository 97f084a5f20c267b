#include "downlink/queue.h"

#include <sys/stat.h>

#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/downlink/test_util.h"
#include "tests/support/alloc_guard.h"

namespace triage::downlink {
namespace {

using testing::Meta;
using testing::Payload;
using testing::View;
using testing::SmallConfig;
using testing::TempDir;

std::vector<uint8_t> ReadBack(DownlinkQueue& q, uint32_t id) {
  const QueueItem* item = q.Find(id);
  if (item == nullptr) return {};
  std::vector<uint8_t> out(item->meta.payload_bytes);
  Status s = q.ReadPayload(id, 0, out);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

uint32_t MustEnqueue(DownlinkQueue& q, const ProductMeta& meta, const std::vector<uint8_t>& payload) {
  Result<uint32_t> id = q.Enqueue(meta, payload);
  EXPECT_TRUE(id.ok()) << id.status().message();
  return id.ok() ? id.value() : 0;
}

// Records what the queue evicted.
class RecordingListener : public EvictionListener {
 public:
  Status OnEvicting(const QueueItem& item) noexcept override {
    evicted.push_back(item.meta.frame_id);
    return Status::Ok();
  }
  std::vector<uint64_t> evicted;
};

TEST(DownlinkQueue, EnqueuedItemSurvivesReopenIntact) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  const std::vector<uint8_t> payload = Payload(1, 5000);
  uint32_t id = 0;
  {
    DownlinkQueue q;
    ASSERT_TRUE(q.Open(config).ok());
    id = MustEnqueue(q, Meta(10, 3), payload);
    EXPECT_GE(id, 1u);
  }
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config).ok());
  EXPECT_EQ(q.recovery().items_loaded, 1u);
  const QueueItem* item = q.Find(id);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->meta.frame_id, 10u);
  EXPECT_EQ(item->meta.priority, 3);
  EXPECT_EQ(item->meta.payload_bytes, 5000u);
  EXPECT_EQ(item->packet_count, 1u + 25u);
  Digest256 sha{};
  ASSERT_TRUE(Sha256::Of(payload, &sha).ok());
  EXPECT_EQ(item->meta.payload_sha256, sha);
  EXPECT_EQ(ReadBack(q, id), payload);
  EXPECT_EQ(q.used_bytes(), kItemHeaderBytes + 5000u);
}

TEST(DownlinkQueue, NextPendingFollowsPriorityThenAge) {
  TempDir dir;
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(SmallConfig(dir.path())).ok());
  const uint32_t low = MustEnqueue(q, Meta(1, 1), Payload(1, 10));
  const uint32_t high_old = MustEnqueue(q, Meta(2, 9), Payload(2, 10));
  const uint32_t mid = MustEnqueue(q, Meta(3, 5), Payload(3, 10));
  const uint32_t high_new = MustEnqueue(q, Meta(4, 9), Payload(4, 10));
  std::vector<uint32_t> order;
  for (int i = 0; i < 10 && q.NextPending() != nullptr; ++i) {
    order.push_back(q.NextPending()->product_id);
    ASSERT_TRUE(q.MarkSent(order.back()).ok());
  }
  EXPECT_EQ(order, (std::vector<uint32_t>{high_old, high_new, mid, low}));
}

TEST(DownlinkQueue, CatalogProductsGoBeforeAnyPriority) {
  TempDir dir;
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(SmallConfig(dir.path())).ok());
  MustEnqueue(q, Meta(1, 255), Payload(1, 10));
  const uint32_t catalog = MustEnqueue(q, Meta(0, 0, ProductKind::kCatalog), Payload(2, 10));
  EXPECT_EQ(q.NextPending()->product_id, catalog);
}

TEST(DownlinkQueue, OverflowEvictsLowestPriority) {
  TempDir dir;
  Config config = SmallConfig(dir.path());
  config.storage_quota_bytes = 3 * (kItemHeaderBytes + 1000);  // room for three items
  RecordingListener listener;
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config, &listener).ok());
  const uint32_t p5 = MustEnqueue(q, Meta(1, 5), Payload(1, 1000));
  const uint32_t p1 = MustEnqueue(q, Meta(2, 1), Payload(2, 1000));
  const uint32_t p7 = MustEnqueue(q, Meta(3, 7), Payload(3, 1000));
  const uint32_t p6 = MustEnqueue(q, Meta(4, 6), Payload(4, 1000));  // evicts priority 1
  EXPECT_EQ(q.Find(p1), nullptr);
  EXPECT_NE(q.Find(p5), nullptr);
  EXPECT_NE(q.Find(p6), nullptr);
  EXPECT_NE(q.Find(p7), nullptr);
  EXPECT_EQ(listener.evicted, (std::vector<uint64_t>{2}));
  const uint32_t p9 = MustEnqueue(q, Meta(5, 9), Payload(5, 1000));  // evicts priority 5
  EXPECT_EQ(q.Find(p5), nullptr);
  EXPECT_NE(q.Find(p9), nullptr);
  EXPECT_EQ(listener.evicted, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(q.evicted_count(), 2u);
  EXPECT_LE(q.used_bytes(), config.storage_quota_bytes);
  // The eviction is durable: the files are gone after a restart too.
  DownlinkQueue reopened;
  ASSERT_TRUE(reopened.Open(config).ok());
  EXPECT_EQ(reopened.items().size(), 3u);
  EXPECT_EQ(reopened.Find(p1), nullptr);
}

TEST(DownlinkQueue, OverflowEvictsSeveralSmallItemsForOneLargeOne) {
  TempDir dir;
  Config config = SmallConfig(dir.path());
  config.storage_quota_bytes = 4 * (kItemHeaderBytes + 500);
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config).ok());
  for (int i = 0; i < 4; ++i) MustEnqueue(q, Meta(i, 1), Payload(i, 500));
  const uint32_t big = MustEnqueue(q, Meta(9, 2), Payload(9, 1500));
  EXPECT_NE(q.Find(big), nullptr);
  EXPECT_EQ(q.items().size(), 2u);  // the three newest evicted, the oldest kept
  EXPECT_EQ(q.items()[0].meta.frame_id, 0u);
}

TEST(DownlinkQueue, SentCopiesAreReclaimedBeforeUnsentItems) {
  TempDir dir;
  Config config = SmallConfig(dir.path());
  config.storage_quota_bytes = 2 * (kItemHeaderBytes + 1000);
  RecordingListener listener;
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config, &listener).ok());
  const uint32_t sent = MustEnqueue(q, Meta(1, 9), Payload(1, 1000));
  const uint32_t low = MustEnqueue(q, Meta(2, 1), Payload(2, 1000));
  ASSERT_TRUE(q.MarkSent(sent).ok());
  MustEnqueue(q, Meta(3, 5), Payload(3, 1000));
  EXPECT_EQ(q.Find(sent), nullptr);
  EXPECT_NE(q.Find(low), nullptr);
  EXPECT_TRUE(listener.evicted.empty());  // a sent copy is not an eviction
}

TEST(DownlinkQueue, RefusesItemWhenNothingRanksBelowIt) {
  TempDir dir;
  Config config = SmallConfig(dir.path());
  config.storage_quota_bytes = 2 * (kItemHeaderBytes + 1000);
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config).ok());
  const uint32_t a = MustEnqueue(q, Meta(1, 5), Payload(1, 1000));
  const uint32_t b = MustEnqueue(q, Meta(2, 5), Payload(2, 1000));
  Result<uint32_t> same = q.Enqueue(Meta(3, 5), View(Payload(3, 1000)));
  EXPECT_EQ(same.status().code(), StatusCode::kResourceExhausted);
  Result<uint32_t> lower = q.Enqueue(Meta(4, 2), View(Payload(4, 1000)));
  EXPECT_EQ(lower.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(lower.status().message()).find("queue full"), std::string::npos);
  EXPECT_NE(q.Find(a), nullptr);
  EXPECT_NE(q.Find(b), nullptr);
  Result<uint32_t> too_big = q.Enqueue(Meta(5, 9), View(Payload(5, 3000)));
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(q.items().size(), 2u);  // a refused item evicts nothing
}

TEST(DownlinkQueue, MaxItemsTriggersEvictionLikeTheQuota) {
  TempDir dir;
  Config config = SmallConfig(dir.path());
  config.max_queue_items = 3;
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config).ok());
  MustEnqueue(q, Meta(1, 4), Payload(1, 10));
  const uint32_t lowest = MustEnqueue(q, Meta(2, 3), Payload(2, 10));
  MustEnqueue(q, Meta(3, 4), Payload(3, 10));
  MustEnqueue(q, Meta(4, 4), Payload(4, 10));
  EXPECT_EQ(q.items().size(), 3u);
  EXPECT_EQ(q.Find(lowest), nullptr);
}

TEST(DownlinkQueue, RecoveryDropsTornTempFiles) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  uint32_t id = 0;
  {
    DownlinkQueue q;
    ASSERT_TRUE(q.Open(config).ok());
    id = MustEnqueue(q, Meta(1, 1), Payload(1, 100));
  }
  // What a kill between open() and rename() leaves behind.
  testing::WriteAllBytes(config.storage_dir + "/queue/000000ff.tmp", Payload(2, 77));
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config).ok());
  EXPECT_EQ(q.recovery().temp_files_dropped, 1u);
  EXPECT_EQ(q.items().size(), 1u);
  EXPECT_NE(q.Find(id), nullptr);
  struct stat st;
  EXPECT_NE(::stat((config.storage_dir + "/queue/000000ff.tmp").c_str(), &st), 0);
}

TEST(DownlinkQueue, RecoveryDropsCorruptItemFiles) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  uint32_t good = 0, flipped = 0, truncated = 0;
  {
    DownlinkQueue q;
    ASSERT_TRUE(q.Open(config).ok());
    good = MustEnqueue(q, Meta(1, 1), Payload(1, 300));
    flipped = MustEnqueue(q, Meta(2, 1), Payload(2, 300));
    truncated = MustEnqueue(q, Meta(3, 1), Payload(3, 300));
  }
  char name[64];
  std::snprintf(name, sizeof(name), "/queue/%08x.item", flipped);
  std::vector<uint8_t> bytes = testing::ReadAll(config.storage_dir + name);
  bytes[kItemHeaderBytes + 100] ^= 0x01;
  testing::WriteAllBytes(config.storage_dir + name, bytes);
  std::snprintf(name, sizeof(name), "/queue/%08x.item", truncated);
  bytes = testing::ReadAll(config.storage_dir + name);
  bytes.resize(bytes.size() - 1);
  testing::WriteAllBytes(config.storage_dir + name, bytes);

  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config).ok());
  EXPECT_EQ(q.recovery().corrupt_files_dropped, 2u);
  EXPECT_FALSE(q.recovery().last_drop.ok());
  EXPECT_NE(q.Find(good), nullptr);
  EXPECT_EQ(q.Find(flipped), nullptr);
  EXPECT_EQ(q.Find(truncated), nullptr);
  EXPECT_EQ(ReadBack(q, good), Payload(1, 300));
}

TEST(DownlinkQueue, ProductIdsNeverRepeatAfterRestart) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  uint32_t first = 0;
  {
    DownlinkQueue q;
    ASSERT_TRUE(q.Open(config).ok());
    first = MustEnqueue(q, Meta(1, 1), Payload(1, 10));
    ASSERT_TRUE(q.Remove(first).ok());
  }
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config).ok());
  EXPECT_TRUE(q.items().empty());
  EXPECT_GT(MustEnqueue(q, Meta(2, 1), Payload(2, 10)), first);
}

TEST(DownlinkQueue, MarkSentSurvivesReopen) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  uint32_t id = 0;
  {
    DownlinkQueue q;
    ASSERT_TRUE(q.Open(config).ok());
    id = MustEnqueue(q, Meta(1, 1), Payload(1, 10));
    ASSERT_TRUE(q.MarkSent(id).ok());
    EXPECT_EQ(q.NextPending(), nullptr);
  }
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config).ok());
  ASSERT_NE(q.Find(id), nullptr);
  EXPECT_EQ(q.Find(id)->state, ItemState::kSent);
  EXPECT_EQ(q.pending_count(), 0u);
  EXPECT_EQ(ReadBack(q, id), Payload(1, 10));  // still readable for retransmission
}

TEST(DownlinkQueue, EnqueueAndReadDoNotAllocate) {
  TempDir dir;
  Config config = SmallConfig(dir.path());
  config.storage_quota_bytes = 3 * (kItemHeaderBytes + 100);
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(config).ok());
  const std::vector<uint8_t> payload = Payload(1, 100);
  std::vector<uint8_t> out(100);
  const ProductMeta meta = Meta(1, 1);
  size_t allocations = 0;
  {
    triage::testing::AllocGuard guard;
    for (int i = 0; i < 6; ++i) {  // also exercises eviction
      Result<uint32_t> id = q.Enqueue(meta, payload);
      if (!id.ok() || !q.ReadPayload(id.value(), 0, out).ok()) break;
    }
    allocations = guard.count();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(q.items().size(), 3u);
}

TEST(DownlinkQueue, RejectsBadInputWithoutStoringAnything) {
  TempDir dir;
  DownlinkQueue q;
  EXPECT_EQ(q.Enqueue(Meta(1, 1), View(Payload(1, 1))).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(q.Open(SmallConfig(dir.path())).ok());
  ProductMeta nan = Meta(1, 1);
  nan.confidence = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(q.Enqueue(nan, View(Payload(1, 1))).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(q.Enqueue(Meta(1, 1), View(Payload(1, 256 * 1024 + 1))).status().code(), StatusCode::kOutOfRange);
  std::vector<uint8_t> out(10);
  EXPECT_EQ(q.ReadPayload(99, 0, out).code(), StatusCode::kNotFound);
  EXPECT_TRUE(q.items().empty());
}

TEST(DownlinkQueue, ReadPastPayloadIsOutOfRange) {
  TempDir dir;
  DownlinkQueue q;
  ASSERT_TRUE(q.Open(SmallConfig(dir.path())).ok());
  const uint32_t id = MustEnqueue(q, Meta(1, 1), Payload(1, 50));
  std::vector<uint8_t> out(10);
  EXPECT_TRUE(q.ReadPayload(id, 40, out).ok());
  EXPECT_EQ(q.ReadPayload(id, 41, out).code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace triage::downlink
