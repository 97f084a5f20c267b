#include "downlink/catalog.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "downlink/queue.h"
#include "tests/downlink/test_util.h"

namespace triage::downlink {
namespace {

using testing::Meta;
using testing::Payload;
using testing::View;
using testing::SmallConfig;
using testing::TempDir;

CatalogRow Row(uint64_t frame, uint8_t decision, uint32_t bytes = 0) {
  CatalogRow r;
  r.frame_id = frame;
  r.timestamp = 5000 + frame;
  r.class_id = static_cast<uint16_t>(frame % 5);
  r.confidence = 0.25f * static_cast<float>(frame % 4);
  r.decision = decision;
  r.bytes = bytes;
  return r;
}

void ExpectSameRow(const CatalogRow& a, const CatalogRow& b) {
  EXPECT_EQ(a.frame_id, b.frame_id);
  EXPECT_EQ(a.timestamp, b.timestamp);
  EXPECT_EQ(a.class_id, b.class_id);
  EXPECT_EQ(a.confidence, b.confidence);
  EXPECT_EQ(a.decision, b.decision);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.evicted_kinds, b.evicted_kinds);
}

std::string JournalPath(const Config& c) { return c.storage_dir + "/catalog.journal"; }

TEST(Catalog, RowsOfKeptAndDiscardedFramesSurviveReopen) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  {
    Catalog c;
    ASSERT_TRUE(c.Open(config).ok());
    ASSERT_TRUE(c.Record(Row(1, static_cast<uint8_t>(FrameDecision::kDiscarded))).ok());
    ASSERT_TRUE(c.Record(Row(2, static_cast<uint8_t>(FrameDecision::kFull), 4000)).ok());
    ASSERT_TRUE(c.Record(Row(3, static_cast<uint8_t>(FrameDecision::kThumbnail), 300)).ok());
    CatalogRow updated = Row(2, static_cast<uint8_t>(FrameDecision::kFullAndThumbnail), 4500);
    ASSERT_TRUE(c.Record(updated).ok());  // replaces, does not add
    EXPECT_EQ(c.size(), 3u);
  }
  Catalog c;
  ASSERT_TRUE(c.Open(config).ok());
  EXPECT_EQ(c.recovery().records_read, 4u);
  ASSERT_EQ(c.size(), 3u);
  ExpectSameRow(c.row(0), Row(1, 0));
  ExpectSameRow(c.row(1), Row(2, 3, 4500));
  ExpectSameRow(*c.Find(3), Row(3, 1, 300));
  EXPECT_EQ(c.Find(4), nullptr);
}

TEST(Catalog, RowsSurviveEvictionMarkedEvicted) {
  TempDir dir;
  Config config = SmallConfig(dir.path());
  config.storage_quota_bytes = 2 * (kItemHeaderBytes + 1000);
  {
    Catalog catalog;
    ASSERT_TRUE(catalog.Open(config).ok());
    DownlinkQueue queue;
    ASSERT_TRUE(queue.Open(config, &catalog).ok());
    for (uint64_t frame = 1; frame <= 2; ++frame) {  // priorities 9 and 8 fill the quota
      ASSERT_TRUE(catalog.Record(Row(frame, static_cast<uint8_t>(FrameDecision::kFull), 1000)).ok());
      ASSERT_TRUE(queue.Enqueue(Meta(frame, static_cast<uint8_t>(10 - frame)), View(Payload(frame, 1000))).ok());
    }
    ASSERT_TRUE(catalog.Record(Row(3, static_cast<uint8_t>(FrameDecision::kDiscarded))).ok());
    ASSERT_TRUE(catalog.Record(Row(4, static_cast<uint8_t>(FrameDecision::kFull), 1000)).ok());
    ASSERT_TRUE(queue.Enqueue(Meta(4, 20), View(Payload(4, 1000))).ok());  // evicts frame 2
    ASSERT_NE(catalog.Find(2), nullptr);
    EXPECT_TRUE(catalog.Find(2)->evicted());
    EXPECT_EQ(catalog.Find(2)->evicted_kinds, 1u << static_cast<int>(ProductKind::kFull));
  }
  Catalog catalog;
  ASSERT_TRUE(catalog.Open(config).ok());
  EXPECT_EQ(catalog.size(), 4u);
  EXPECT_FALSE(catalog.Find(1)->evicted());
  EXPECT_TRUE(catalog.Find(2)->evicted());
  EXPECT_EQ(catalog.Find(2)->bytes, 1000u);  // the rest of the row is kept
  EXPECT_FALSE(catalog.Find(4)->evicted());
}

TEST(Catalog, TornTailRecordIsTruncatedAndLaterAppendsSurvive) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  {
    Catalog c;
    ASSERT_TRUE(c.Open(config).ok());
    ASSERT_TRUE(c.Record(Row(1, 0)).ok());
    ASSERT_TRUE(c.Record(Row(2, 0)).ok());
  }
  std::vector<uint8_t> journal = testing::ReadAll(JournalPath(config));
  ASSERT_EQ(journal.size(), 2u * kCatalogRecordBytes);
  // A half-written third record, as a crash mid-append leaves it.
  std::vector<uint8_t> torn(journal.begin(), journal.begin() + kCatalogRecordBytes / 2);
  journal.insert(journal.end(), torn.begin(), torn.end());
  testing::WriteAllBytes(JournalPath(config), journal);
  {
    Catalog c;
    ASSERT_TRUE(c.Open(config).ok());
    EXPECT_EQ(c.size(), 2u);
    EXPECT_EQ(c.recovery().torn_tail_bytes_dropped, kCatalogRecordBytes / 2);
    EXPECT_EQ(c.recovery().corrupt_records_skipped, 0u);
    ASSERT_TRUE(c.Record(Row(3, 0)).ok());
  }
  Catalog c;
  ASSERT_TRUE(c.Open(config).ok());
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.recovery().torn_tail_bytes_dropped, 0u);
  ASSERT_NE(c.Find(3), nullptr);
}

TEST(Catalog, FullSizeGarbageTailIsTreatedAsTorn) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  {
    Catalog c;
    ASSERT_TRUE(c.Open(config).ok());
    ASSERT_TRUE(c.Record(Row(1, 0)).ok());
  }
  std::vector<uint8_t> journal = testing::ReadAll(JournalPath(config));
  journal.resize(journal.size() + kCatalogRecordBytes, 0);  // zero-filled block after power loss
  testing::WriteAllBytes(JournalPath(config), journal);
  Catalog c;
  ASSERT_TRUE(c.Open(config).ok());
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.recovery().torn_tail_bytes_dropped, kCatalogRecordBytes);
  EXPECT_EQ(testing::ReadAll(JournalPath(config)).size(), kCatalogRecordBytes);
}

TEST(Catalog, CorruptMiddleRecordIsSkippedAndCounted) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  {
    Catalog c;
    ASSERT_TRUE(c.Open(config).ok());
    for (uint64_t f = 1; f <= 3; ++f) ASSERT_TRUE(c.Record(Row(f, 0)).ok());
  }
  std::vector<uint8_t> journal = testing::ReadAll(JournalPath(config));
  journal[kCatalogRecordBytes + 20] ^= 0x40;  // inside record 2
  testing::WriteAllBytes(JournalPath(config), journal);
  Catalog c;
  ASSERT_TRUE(c.Open(config).ok());
  EXPECT_EQ(c.recovery().corrupt_records_skipped, 1u);
  EXPECT_EQ(c.recovery().torn_tail_bytes_dropped, 0u);
  EXPECT_NE(c.Find(1), nullptr);
  EXPECT_EQ(c.Find(2), nullptr);
  EXPECT_NE(c.Find(3), nullptr);
}

TEST(Catalog, CsvExportListsEveryRowIncludingDiscarded) {
  TempDir dir;
  Catalog c;
  ASSERT_TRUE(c.Open(SmallConfig(dir.path())).ok());
  ASSERT_TRUE(c.Record(Row(7, static_cast<uint8_t>(FrameDecision::kDiscarded))).ok());
  ASSERT_TRUE(c.Record(Row(8, static_cast<uint8_t>(FrameDecision::kFull), 1234)).ok());
  ASSERT_TRUE(c.Record(Row(9, 42)).ok());  // a decision code downlink does not name
  ASSERT_TRUE(c.MarkEvicted(8, ProductKind::kFull).ok());
  ASSERT_TRUE(c.ExportCsv((dir / "catalog.csv").c_str()).ok());
  const std::vector<uint8_t> bytes = testing::ReadAll(dir / "catalog.csv");
  const std::string csv(bytes.begin(), bytes.end());
  EXPECT_EQ(csv,
            "frame_id,timestamp,class_id,confidence,decision,bytes,evicted,evicted_kinds\n"
            "7,5007,2,0.75,discarded,0,0,\n"
            "8,5008,3,0,full,1234,1,full\n"
            "9,5009,4,0.25,42,0,0,\n");
}

TEST(Catalog, FullCatalogRefusesNewFramesButUpdatesKnownOnes) {
  TempDir dir;
  Config config = SmallConfig(dir.path());
  config.catalog_capacity_rows = 2;
  Catalog c;
  ASSERT_TRUE(c.Open(config).ok());
  ASSERT_TRUE(c.Record(Row(1, 0)).ok());
  ASSERT_TRUE(c.Record(Row(2, 0)).ok());
  EXPECT_EQ(c.Record(Row(3, 0)).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(c.Record(Row(2, 1)).ok());
  EXPECT_EQ(c.Find(2)->decision, 1);
}

TEST(Catalog, CompactionKeepsTheLatestVersionOfEveryRow) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  {
    Catalog c;
    ASSERT_TRUE(c.Open(config).ok());
    // Many updates of few rows: more than 2 * rows + 1024 records.
    for (uint32_t i = 0; i < 1100; ++i) ASSERT_TRUE(c.Record(Row(i % 3, 0, i)).ok());
  }
  {
    Catalog c;
    ASSERT_TRUE(c.Open(config).ok());
    EXPECT_TRUE(c.recovery().compacted);
    EXPECT_EQ(testing::ReadAll(JournalPath(config)).size(), 3u * kCatalogRecordBytes);
    EXPECT_EQ(c.Find(0)->bytes, 1098u);
    EXPECT_EQ(c.Find(1)->bytes, 1099u);
    EXPECT_EQ(c.Find(2)->bytes, 1097u);
  }
  Catalog c;
  ASSERT_TRUE(c.Open(config).ok());
  EXPECT_FALSE(c.recovery().compacted);
  EXPECT_EQ(c.Find(1)->bytes, 1099u);
  EXPECT_EQ(c.last_change_seq(), 1100u);  // sequence numbers survive compaction
}

TEST(Catalog, InterruptedEvictionIsCompletedAtStartup) {
  TempDir dir;
  const Config config = SmallConfig(dir.path());
  Catalog catalog;
  ASSERT_TRUE(catalog.Open(config).ok());
  DownlinkQueue queue;
  ASSERT_TRUE(queue.Open(config, &catalog).ok());
  ASSERT_TRUE(catalog.Record(Row(1, 2, 100)).ok());
  ASSERT_TRUE(catalog.Record(Row(2, 2, 100)).ok());
  const uint32_t a = queue.Enqueue(Meta(1, 1), View(Payload(1, 100))).value();
  const uint32_t b = queue.Enqueue(Meta(2, 1), View(Payload(2, 100))).value();
  const uint32_t thumb = queue.Enqueue(Meta(2, 1, ProductKind::kThumbnail), View(Payload(3, 10))).value();
  // The catalog write happened, the unlink did not (crash in between).
  ASSERT_TRUE(catalog.MarkEvicted(2, ProductKind::kFull).ok());
  Result<uint32_t> removed = CompleteInterruptedEvictions(catalog, &queue);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed.value(), 1u);
  EXPECT_NE(queue.Find(a), nullptr);
  EXPECT_EQ(queue.Find(b), nullptr);
  EXPECT_NE(queue.Find(thumb), nullptr);  // only the evicted kind goes
}

TEST(Catalog, ChangedRowsAreChunkedIntoCatalogProducts) {
  TempDir dir;
  Catalog c;
  ASSERT_TRUE(c.Open(SmallConfig(dir.path())).ok());
  for (uint64_t f = 1; f <= 5; ++f) ASSERT_TRUE(c.Record(Row(f, 0)).ok());
  const uint64_t watermark = c.last_change_seq();
  ASSERT_TRUE(c.Record(Row(6, 0)).ok());
  ASSERT_TRUE(c.MarkEvicted(2, ProductKind::kThumbnail).ok());
  ASSERT_TRUE(c.Record(Row(7, 0)).ok());
  // Room for two rows per product: changed rows are 2, 6, 7 (row order).
  std::vector<uint8_t> buf(kCatalogProductHeaderBytes + 2 * kCatalogRowBytes);
  size_t cursor = 0;
  std::vector<uint64_t> frames;
  int products = 0;
  for (int guard = 0; guard < 10 && cursor < c.size(); ++guard) {
    uint32_t rows = 0;
    Result<size_t> n = c.EncodeChangedRows(watermark, &cursor, buf, &rows);
    ASSERT_TRUE(n.ok());
    if (rows == 0) continue;
    ++products;
    Result<uint32_t> parsed = ParseCatalogProduct(Span<const uint8_t>(buf.data(), n.value()));
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    ASSERT_EQ(parsed.value(), rows);
    for (uint32_t i = 0; i < rows; ++i) {
      Result<CatalogRow> row = DecodeCatalogRow(
          Span<const uint8_t>(buf.data() + kCatalogProductHeaderBytes + i * kCatalogRowBytes, kCatalogRowBytes));
      ASSERT_TRUE(row.ok());
      frames.push_back(row->frame_id);
    }
  }
  EXPECT_EQ(products, 2);
  EXPECT_EQ(frames, (std::vector<uint64_t>{2, 6, 7}));
}

TEST(Catalog, CatalogProductParserRejectsBadSizesAndHeaders) {
  std::vector<uint8_t> p(kCatalogProductHeaderBytes + kCatalogRowBytes, 0);
  EXPECT_FALSE(ParseCatalogProduct(p).ok());  // no magic
  p[0] = 'T'; p[1] = 'C'; p[2] = 'A'; p[3] = 'T';
  p[5] = 1;
  p[7] = 32;
  p[11] = 1;  // one row
  EXPECT_TRUE(ParseCatalogProduct(p).ok());
  p[11] = 2;
  EXPECT_EQ(ParseCatalogProduct(p).status().code(), StatusCode::kDataLoss);
  p[11] = 1;
  p[7] = 33;
  EXPECT_EQ(ParseCatalogProduct(p).status().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace triage::downlink
