#include "downlink/reassembler.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "downlink/checksum.h"
#include "tests/downlink/test_util.h"

namespace triage::downlink {
namespace {

constexpr uint32_t kData = 200;

std::vector<std::vector<uint8_t>> Packetize(uint32_t id, const ProductMeta& meta_in,
                                            const std::vector<uint8_t>& payload, bool good_sha = true) {
  return testing::Packetize(id, meta_in, payload, kData, good_sha);
}

Status AddBytes(Reassembler& r, const std::vector<uint8_t>& bytes) {
  Result<PacketView> v = ParsePacket(bytes);
  if (!v.ok()) return v.status();
  return r.Add(v.value());
}

TEST(Reassembler, CompletesAProductFedOutOfOrderAndVerifiesIt) {
  const std::vector<uint8_t> payload = testing::Payload(1, 1000);
  auto packets = Packetize(5, testing::Meta(77, 3), payload);
  ASSERT_EQ(packets.size(), 6u);
  Reassembler r;
  for (size_t i : {3, 0, 5, 1, 4}) ASSERT_TRUE(AddBytes(r, packets[i]).ok());
  EXPECT_TRUE(r.TakeCompleted().empty());
  ASSERT_TRUE(AddBytes(r, packets[2]).ok());
  std::vector<CompletedProduct> done = r.TakeCompleted();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].product_id, 5u);
  EXPECT_EQ(done[0].meta.frame_id, 77u);
  EXPECT_EQ(done[0].meta.model_hash, testing::Meta(77, 3).model_hash);
  EXPECT_EQ(done[0].payload, payload);
  EXPECT_TRUE(r.IsComplete(5));
  EXPECT_EQ(r.open_products(), 0u);
}

TEST(Reassembler, ReportsGapsAsMergedRangesIncludingTheTail) {
  auto packets = Packetize(9, testing::Meta(1, 1), testing::Payload(2, 2000));  // 11 packets
  ASSERT_EQ(packets.size(), 11u);
  Reassembler r;
  for (size_t i : {1, 2, 5, 6, 7}) ASSERT_TRUE(AddBytes(r, packets[i]).ok());
  const std::vector<PacketRange> gaps = r.MissingRanges(9);
  ASSERT_EQ(gaps.size(), 3u);
  EXPECT_EQ(gaps[0].first_packet, 0u);
  EXPECT_EQ(gaps[0].last_packet, 0u);
  EXPECT_EQ(gaps[1].first_packet, 3u);
  EXPECT_EQ(gaps[1].last_packet, 4u);
  EXPECT_EQ(gaps[2].first_packet, 8u);
  EXPECT_EQ(gaps[2].last_packet, 10u);
  for (const PacketRange& g : gaps) EXPECT_EQ(g.product_id, 9u);
  // Filling the gaps completes it.
  for (const PacketRange& g : gaps) {
    for (uint32_t i = g.first_packet; i <= g.last_packet; ++i) ASSERT_TRUE(AddBytes(r, packets[i]).ok());
  }
  EXPECT_EQ(r.TakeCompleted().size(), 1u);
  EXPECT_TRUE(r.MissingRanges(9).empty());
  EXPECT_TRUE(r.AllMissingRanges().empty());
}

TEST(Reassembler, DuplicatesAndLateRetransmissionsAreIgnored) {
  auto packets = Packetize(3, testing::Meta(1, 1), testing::Payload(3, 300));
  Reassembler r;
  ASSERT_TRUE(AddBytes(r, packets[1]).ok());
  ASSERT_TRUE(AddBytes(r, packets[1]).ok());
  for (auto& p : packets) ASSERT_TRUE(AddBytes(r, p).ok());
  EXPECT_EQ(r.TakeCompleted().size(), 1u);
  ASSERT_TRUE(AddBytes(r, packets[0]).ok());  // after completion
  EXPECT_TRUE(r.TakeCompleted().empty());
  EXPECT_EQ(r.open_products(), 0u);
}

TEST(Reassembler, ConflictingPacketCountIsDataLoss) {
  auto a = Packetize(4, testing::Meta(1, 1), testing::Payload(4, 300));   // 3 packets
  auto b = Packetize(4, testing::Meta(1, 1), testing::Payload(4, 1000));  // 6 packets
  Reassembler r;
  ASSERT_TRUE(AddBytes(r, a[1]).ok());
  Status s = AddBytes(r, b[2]);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(std::string(s.message()).find("product 4"), std::string::npos) << s.message();
}

TEST(Reassembler, ShaMismatchResetsTheProductSoEveryPacketIsRequested) {
  auto packets = Packetize(6, testing::Meta(1, 1), testing::Payload(5, 500), /*good_sha=*/false);
  Reassembler r;
  Status last;
  for (auto& p : packets) last = AddBytes(r, p);
  EXPECT_EQ(last.code(), StatusCode::kDataLoss);
  EXPECT_NE(std::string(last.message()).find("SHA-256 mismatch"), std::string::npos) << last.message();
  EXPECT_TRUE(r.TakeCompleted().empty());
  const std::vector<PacketRange> gaps = r.MissingRanges(6);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].first_packet, 0u);
  EXPECT_EQ(gaps[0].last_packet, packets.size() - 1);
}

TEST(Reassembler, DataSizeLimitCatchesShortMiddlePackets) {
  ReassemblerLimits limits;
  limits.packet_data_size = kData + 100;  // flight config disagrees with the stream
  Reassembler r(limits);
  auto packets = Packetize(2, testing::Meta(1, 1), testing::Payload(6, 500));
  EXPECT_EQ(AddBytes(r, packets[1]).code(), StatusCode::kDataLoss);
  EXPECT_EQ(AddBytes(r, packets[0]).code(), StatusCode::kDataLoss);
}

TEST(Reassembler, StreamSkipsGarbageAndCountsIt) {
  const std::vector<uint8_t> payload = testing::Payload(7, 700);
  auto packets = Packetize(8, testing::Meta(1, 1), payload);
  std::vector<uint8_t> stream = {0xDE, 0xAD, 0xBE, 0xEF};
  for (auto& p : packets) {
    stream.insert(stream.end(), p.begin(), p.end());
    stream.push_back(0x00);  // one junk byte between packets
  }
  Reassembler r;
  StreamSummary s = r.AddStream(stream);
  EXPECT_EQ(s.packets_accepted, packets.size());
  EXPECT_EQ(s.bytes_skipped, 4u + packets.size());
  EXPECT_FALSE(s.first_error.ok());
  EXPECT_NE(std::string(s.first_error.message()).find("offset 0"), std::string::npos) << s.first_error.message();
  std::vector<CompletedProduct> done = r.TakeCompleted();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].payload, payload);
}

TEST(Reassembler, LimitsBoundOpenProductsAndBufferedBytes) {
  ReassemblerLimits limits;
  limits.max_open_products = 2;
  limits.max_buffered_bytes = 600;
  limits.max_packets_per_product = 8;
  Reassembler r(limits);
  auto a = Packetize(1, testing::Meta(1, 1), testing::Payload(1, 1000));  // 6 packets
  auto b = Packetize(2, testing::Meta(2, 1), testing::Payload(2, 1000));
  auto c = Packetize(3, testing::Meta(3, 1), testing::Payload(3, 1000));
  auto big = Packetize(4, testing::Meta(4, 1), testing::Payload(4, 2000));  // 11 packets
  ASSERT_TRUE(AddBytes(r, a[1]).ok());
  ASSERT_TRUE(AddBytes(r, b[1]).ok());
  EXPECT_EQ(AddBytes(r, c[1]).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(AddBytes(r, big[1]).code(), StatusCode::kOutOfRange);
  ASSERT_TRUE(AddBytes(r, a[2]).ok());
  EXPECT_EQ(AddBytes(r, a[3]).code(), StatusCode::kResourceExhausted);  // 800 > 600 bytes
}

TEST(Reassembler, ZeroLengthPayloadIsOneUnsegmentedPacket) {
  auto packets = Packetize(11, testing::Meta(1, 1), {});
  ASSERT_EQ(packets.size(), 1u);
  Result<PacketView> v = ParsePacket(packets[0]);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->primary.sequence_flags, SequenceFlags::kUnsegmented);
  Reassembler r;
  ASSERT_TRUE(r.Add(v.value()).ok());
  std::vector<CompletedProduct> done = r.TakeCompleted();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].payload.empty());
}

}  // namespace
}  // namespace triage::downlink
