#include "fault/scrubber.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/event.h"
#include "fault/checksum.h"
#include "fault/events.h"
#include "fault/model_store.h"
#include "fault/synthetic_model.h"
#include "tests/fault/test_util.h"
#include "tests/support/alloc_guard.h"

namespace triage::fault {
namespace {

using testing::ReadBytes;
using testing::TempDir;
using testing::WriteBytes;

class ScrubberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pristine_ = BuildSyntheticClassifier();
    ASSERT_FALSE(dir_.path().empty());
    path_ = dir_.File("model.tflite");
    backup_ = dir_.File("backup/model.tflite");
    ASSERT_EQ(::system(("mkdir -p " + dir_.File("backup")).c_str()), 0);
    WriteBytes(path_, pristine_);
  }

  std::unique_ptr<ModelStore> Load(int copies, bool backup = true) {
    ModelStoreOptions o;
    o.path = path_;
    o.backup_path = backup ? backup_ : "";
    o.copies = copies;
    auto s = ModelStore::Load(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }

  std::unique_ptr<Scrubber> MakeScrubber(ModelStore& store, uint32_t per_step = 4096, uint32_t block = 1024) {
    ScrubberOptions o;
    o.bytes_per_step = per_step;
    o.block_bytes = block;
    auto s = Scrubber::Create(store, o, &events_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }

  bool AllCopiesPristine(const ModelStore& store) {
    for (int c = 0; c < store.copies(); ++c) {
      const Span<const uint8_t> b = store.bytes(c);
      if (b.size() != pristine_.size() || std::memcmp(b.data(), pristine_.data(), b.size()) != 0) return false;
    }
    return true;
  }

  TempDir dir_;
  std::string path_, backup_;
  std::vector<uint8_t> pristine_;
  FakeClock clock_;
  EventLog events_{clock_};
};

TEST_F(ScrubberTest, LoadCreatesTheBackupAndListsWeightBuffers) {
  auto store = Load(3);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ReadBytes(backup_), pristine_);
  EXPECT_EQ(store->copies(), 3);
  EXPECT_EQ(store->sha256(), Sha256(Span<const uint8_t>(pristine_)));
  // 5 weighted layers x (weights + bias).
  EXPECT_EQ(store->weight_buffers().size(), 10u);
  size_t last_end = 0;
  for (const WeightBuffer& w : store->weight_buffers()) {
    EXPECT_GE(w.offset, last_end);
    last_end = w.offset + w.bytes;
  }
  EXPECT_LE(last_end, store->size());
  EXPECT_TRUE(AllCopiesPristine(*store));
}

TEST_F(ScrubberTest, LoadRepairsACorruptPrimaryFromAVerifiedBackup) {
  WriteBytes(backup_, pristine_);
  std::vector<uint8_t> bad = pristine_;
  bad[bad.size() / 2] ^= 0x10;
  WriteBytes(path_, bad);
  char hex[65];
  FormatSha256Hex(Sha256(Span<const uint8_t>(pristine_)), hex);
  WriteBytes(path_ + ".sha256", std::vector<uint8_t>(hex, hex + 64));
  auto store = Load(1);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(AllCopiesPristine(*store));
  EXPECT_EQ(ReadBytes(path_), pristine_);
}

TEST_F(ScrubberTest, LoadRefusesAFileThatFailsItsDigestWithoutABackup) {
  Sha256Digest wrong;
  ModelStoreOptions o;
  o.path = path_;
  o.expected_sha256 = wrong;
  auto s = ModelStore::Load(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  o.path = dir_.File("missing.tflite");
  EXPECT_EQ(ModelStore::Load(o).status().code(), StatusCode::kNotFound);
}

TEST_F(ScrubberTest, PeriodCoversEveryBlockOfEveryCopyWithinTheByteBudget) {
  auto store = Load(3);
  auto scrubber = MakeScrubber(*store, 4096, 1024);
  ASSERT_NE(scrubber, nullptr);
  const size_t blocks = (store->size() + 1023) / 1024;
  EXPECT_EQ(scrubber->blocks_per_copy(), blocks);
  EXPECT_EQ(scrubber->blocks_per_step(), 4u);
  EXPECT_EQ(scrubber->period_steps(), (3 * blocks + 3) / 4);
  uint64_t bytes = 0;
  for (size_t i = 0; i < scrubber->period_steps(); ++i) {
    const ScrubStepResult r = scrubber->Step();
    EXPECT_LE(r.bytes_checked, 4096u);
    EXPECT_FALSE(r.mismatch);
    bytes += r.bytes_checked;
  }
  EXPECT_GE(bytes, 3 * store->size());
  EXPECT_EQ(scrubber->stats().sweeps, 1u);
  EXPECT_EQ(scrubber->stats().mismatches, 0u);
}

TEST_F(ScrubberTest, EveryWeightUpsetIsFoundWithinOnePeriodAndRepairedFromDisk) {
  auto store = Load(3);
  auto scrubber = MakeScrubber(*store, 2048, 512);
  ASSERT_NE(scrubber, nullptr);
  uint32_t x = 99;
  for (int trial = 0; trial < 60; ++trial) {
    x = x * 1664525u + 1013904223u;
    const int copy = static_cast<int>(x % 3);
    const Span<const WeightBuffer> weights = store->weight_buffers();
    const WeightBuffer& w = weights[(x >> 8) % weights.size()];
    const size_t offset = w.offset + (x >> 4) % w.bytes;
    store->bytes(copy)[offset] ^= static_cast<uint8_t>(1u << (x % 8));
    size_t steps = 0;
    ScrubStepResult r;
    do {
      r = scrubber->Step();
      ++steps;
    } while (!r.mismatch && steps <= scrubber->period_steps());
    ASSERT_TRUE(r.mismatch) << "trial " << trial;
    EXPECT_LE(steps, scrubber->period_steps());
    EXPECT_EQ(r.copy, copy);
    EXPECT_EQ(r.offset, offset / 512 * 512);
    EXPECT_GE(r.weight_buffer, 0);
    EXPECT_TRUE(r.repaired);
    EXPECT_TRUE(AllCopiesPristine(*store));
  }
  EXPECT_EQ(scrubber->stats().repairs, 60u);
  EXPECT_EQ(scrubber->stats().disk_restores, 60u);
  EXPECT_EQ(events_.total() + events_.throttled(), 120u);  // a mismatch and a repair each
}

TEST_F(ScrubberTest, ACorruptedFileIsRepairedFromTheBackupWhileMemoryIsRestored) {
  auto store = Load(1);
  auto scrubber = MakeScrubber(*store, 1 << 20, 1024);
  std::vector<uint8_t> bad = pristine_;
  bad[100] ^= 1;
  WriteBytes(path_, bad);
  const WeightBuffer& w = store->weight_buffers()[3];
  store->bytes(0)[w.offset] ^= 0x80;
  const ScrubStepResult r = scrubber->Step();
  EXPECT_TRUE(r.mismatch);
  EXPECT_TRUE(r.repaired);
  EXPECT_TRUE(AllCopiesPristine(*store));
  EXPECT_EQ(ReadBytes(path_), pristine_);
  EXPECT_EQ(scrubber->stats().file_repairs, 1u);
  EXPECT_EQ(events_.CountOf(kEventModelFileRepaired), 1u);
}

TEST_F(ScrubberTest, WithoutADiskImageABlockIsMendedFromAnotherCopy) {
  auto store = ModelStore::FromBytes(Span<const uint8_t>(pristine_), 3);
  ASSERT_TRUE(store.ok());
  auto scrubber = MakeScrubber(**store, 1 << 20, 256);
  (*store)->bytes(1)[(*store)->weight_buffers()[0].offset] ^= 4;
  (*store)->bytes(2)[(*store)->size() - 1] ^= 4;
  EXPECT_EQ(scrubber->CheckAll(), 2u);
  EXPECT_TRUE(AllCopiesPristine(**store));
  EXPECT_EQ(scrubber->stats().repairs, 1u);
  EXPECT_EQ(scrubber->stats().disk_restores, 0u);
}

TEST_F(ScrubberTest, ASingleCopyWithoutDiskImageReportsTheCorruption) {
  auto store = ModelStore::FromBytes(Span<const uint8_t>(pristine_), 1);
  ASSERT_TRUE(store.ok());
  auto scrubber = MakeScrubber(**store, 1 << 20, 1024);
  (*store)->bytes(0)[10] ^= 1;
  const ScrubStepResult r = scrubber->Step();
  EXPECT_TRUE(r.mismatch);
  EXPECT_FALSE(r.repaired);
  EXPECT_EQ(scrubber->stats().repair_failures, 1u);
  EXPECT_GE(events_.CountOf(kEventScrubRepairFailed), 1u);
}

TEST_F(ScrubberTest, StepAndRepairDoNotAllocate) {
  auto store = Load(3);
  auto scrubber = MakeScrubber(*store, 8192, 1024);
  (void)scrubber->Step();
  ::triage::testing::AllocGuard guard;
  for (int i = 0; i < 10; ++i) (void)scrubber->Step();
  store->bytes(2)[store->weight_buffers()[1].offset] ^= 1;
  scrubber->SeekBlock(0);
  EXPECT_EQ(scrubber->CheckAll(), 1u);
  EXPECT_EQ(guard.count(), 0u);
  EXPECT_TRUE(AllCopiesPristine(*store));
}

TEST_F(ScrubberTest, CreateRejectsCopiesThatDifferAndZeroBudgets) {
  auto store = Load(2);
  ScrubberOptions o;
  o.bytes_per_step = 0;
  EXPECT_FALSE(Scrubber::Create(*store, o, nullptr).ok());
  o.bytes_per_step = 1024;
  store->bytes(1)[5] ^= 1;
  auto s = Scrubber::Create(*store, o, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
}

TEST(Checksum, KnownVectors) {
  const char* text = "123456789";
  EXPECT_EQ(Crc32(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(text), 9)), 0xCBF43926u);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(text);
  EXPECT_EQ(Crc32(Span<const uint8_t>(p + 4, 5), Crc32(Span<const uint8_t>(p, 4))), 0xCBF43926u);
  char hex[65];
  FormatSha256Hex(Sha256(Span<const uint8_t>(reinterpret_cast<const uint8_t*>("abc"), 3)), hex);
  EXPECT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Digest d;
  EXPECT_TRUE(ParseSha256Hex(hex, 64, &d));
  EXPECT_FALSE(ParseSha256Hex(hex, 63, &d));
  hex[3] = 'x';
  EXPECT_FALSE(ParseSha256Hex(hex, 64, &d));
}

}  // namespace
}  // namespace triage::fault
