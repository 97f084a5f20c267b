#include "imaging/frame.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/support/alloc_guard.h"

namespace triage::imaging {
namespace {

FramePoolConfig SmallPool(int frames) {
  FramePoolConfig c;
  c.frame_count = frames;
  c.encoded_bytes = 1000;
  c.raw_max_width = 10;
  c.raw_max_height = 5;
  return c;
}

TEST(FramePool, ExhaustionIsACleanResourceExhaustedError) {
  Result<FramePool> pool = FramePool::Create(SmallPool(3));
  ASSERT_TRUE(pool.ok());
  Frame* frames[3];
  for (auto& f : frames) {
    Result<Frame*> r = pool->Acquire();
    ASSERT_TRUE(r.ok());
    f = r.value();
  }
  EXPECT_EQ(pool->available(), 0u);
  Result<Frame*> extra = pool->Acquire();
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(extra.status().message()).find("3 frames"), std::string::npos);
  ASSERT_TRUE(pool->Release(frames[1]).ok());
  Result<Frame*> again = pool->Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), frames[1]);
}

TEST(FramePool, FramesHaveDistinctFixedBuffersOfTheConfiguredSize) {
  Result<FramePool> pool = FramePool::Create(SmallPool(4));
  ASSERT_TRUE(pool.ok());
  std::set<const uint8_t*> starts;
  for (int i = 0; i < 4; ++i) {
    Frame* f = pool->Acquire().value();
    EXPECT_EQ(f->encoded.size(), 1000u);
    EXPECT_EQ(f->pixels.size(), 150u);
    EXPECT_EQ(f->encoding, FrameEncoding::kEmpty);
    starts.insert(f->encoded.data());
    starts.insert(f->pixels.data());
    f->encoded[999] = static_cast<uint8_t>(i);  // writable to the end
  }
  EXPECT_EQ(starts.size(), 8u);
  EXPECT_GE(pool->memory_bytes(), 4u * 1150u);
}

TEST(FramePool, DoubleAndForeignReleasesAreRejected) {
  Result<FramePool> pool = FramePool::Create(SmallPool(2));
  Result<FramePool> other = FramePool::Create(SmallPool(2));
  ASSERT_TRUE(pool.ok() && other.ok());
  Frame* f = pool->Acquire().value();
  Frame* g = other->Acquire().value();
  ASSERT_TRUE(pool->Release(f).ok());
  EXPECT_EQ(pool->Release(f).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->Release(g).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->Release(nullptr).code(), StatusCode::kInvalidArgument);
  Frame stack_frame;
  EXPECT_EQ(pool->Release(&stack_frame).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->available(), 2u);
}

TEST(FramePool, AcquireClearsThePreviousContent) {
  Result<FramePool> pool = FramePool::Create(SmallPool(1));
  ASSERT_TRUE(pool.ok());
  Frame* f = pool->Acquire().value();
  f->encoding = FrameEncoding::kJpeg;
  f->encoded_size = 10;
  f->meta.frame_id = 7;
  f->meta.has_truth = true;
  ASSERT_TRUE(pool->Release(f).ok());
  f = pool->Acquire().value();
  EXPECT_EQ(f->encoding, FrameEncoding::kEmpty);
  EXPECT_EQ(f->encoded_size, 0u);
  EXPECT_EQ(f->meta.frame_id, 0u);
  EXPECT_FALSE(f->meta.has_truth);
}

TEST(FramePool, LeaseReturnsTheFrameWhenDestroyed) {
  Result<FramePool> pool = FramePool::Create(SmallPool(1));
  ASSERT_TRUE(pool.ok());
  {
    Result<FrameLease> lease = AcquireLease(*pool);
    ASSERT_TRUE(lease.ok());
    EXPECT_EQ(pool->available(), 0u);
    EXPECT_FALSE(AcquireLease(*pool).ok());
    FrameLease moved = std::move(lease.value());
    EXPECT_TRUE(static_cast<bool>(moved));
  }
  EXPECT_EQ(pool->available(), 1u);
}

TEST(FramePool, CreateRejectsBadConfigs) {
  FramePoolConfig c = SmallPool(0);
  EXPECT_EQ(FramePool::Create(c).status().code(), StatusCode::kInvalidArgument);
  c = SmallPool(1);
  c.encoded_bytes = 0;
  c.raw_max_width = 0;
  EXPECT_FALSE(FramePool::Create(c).ok());
  c = SmallPool(1);
  c.raw_max_width = -1;
  EXPECT_FALSE(FramePool::Create(c).ok());
}

TEST(FramePool, AcquireAndReleaseDoNotAllocate) {
  Result<FramePool> pool = FramePool::Create(SmallPool(2));
  ASSERT_TRUE(pool.ok());
  triage::testing::AllocGuard guard;
  for (int i = 0; i < 10; ++i) {
    Frame* f = pool->Acquire().value();
    ASSERT_TRUE(pool->Release(f).ok());
  }
  EXPECT_FALSE(pool->Release(nullptr).ok());
  EXPECT_EQ(guard.count(), 0u);
}

}  // namespace
}  // namespace triage::imaging
