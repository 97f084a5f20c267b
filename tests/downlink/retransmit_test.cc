#include "downlink/retransmit.h"

#include <vector>

#include <gtest/gtest.h>

namespace triage::downlink {
namespace {

std::vector<uint8_t> Encode(const std::vector<PacketRange>& ranges) {
  std::vector<uint8_t> out(RetransmitRequestBytes(ranges.size()));
  Result<size_t> n = EncodeRetransmitRequest(ranges, out);
  EXPECT_TRUE(n.ok()) << n.status().message();
  return out;
}

TEST(RetransmitRequest, RoundTripsRangesInOrder) {
  const std::vector<PacketRange> ranges = {{7, 0, 0}, {7, 5, 9}, {3, 2, 0xFFFFFFFFu}};
  const std::vector<uint8_t> bytes = Encode(ranges);
  EXPECT_EQ(bytes.size(), 8u + 36u + 4u);
  EXPECT_EQ(bytes[0], 'T');
  PacketRange out[4];
  Result<size_t> n = ParseRetransmitRequest(bytes, out);
  ASSERT_TRUE(n.ok()) << n.status().message();
  ASSERT_EQ(n.value(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].product_id, ranges[i].product_id);
    EXPECT_EQ(out[i].first_packet, ranges[i].first_packet);
    EXPECT_EQ(out[i].last_packet, ranges[i].last_packet);
  }
}

TEST(RetransmitRequest, AnyFlippedBitIsRejected) {
  const std::vector<uint8_t> good = Encode({{1, 2, 3}, {4, 5, 6}});
  PacketRange out[4];
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::vector<uint8_t> bad = good;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(ParseRetransmitRequest(bad, out).ok()) << "bit " << bit;
  }
}

TEST(RetransmitRequest, RejectsTruncatedPaddedAndEmptyRequests) {
  const std::vector<uint8_t> good = Encode({{1, 2, 3}});
  PacketRange out[4];
  for (size_t len = 0; len < good.size(); ++len) {
    EXPECT_FALSE(ParseRetransmitRequest(Span<const uint8_t>(good.data(), len), out).ok()) << len;
  }
  std::vector<uint8_t> padded = good;
  padded.push_back(0);
  EXPECT_EQ(ParseRetransmitRequest(padded, out).status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(EncodeRetransmitRequest(Span<const PacketRange>(), Span<uint8_t>(padded)).ok());
}

TEST(RetransmitRequest, RejectsInvertedRangesAndProductZero) {
  std::vector<uint8_t> buf(RetransmitRequestBytes(1));
  const PacketRange inverted[] = {{1, 5, 4}};
  EXPECT_EQ(EncodeRetransmitRequest(inverted, buf).status().code(), StatusCode::kInvalidArgument);
  const PacketRange zero[] = {{0, 1, 1}};
  EXPECT_EQ(EncodeRetransmitRequest(zero, buf).status().code(), StatusCode::kInvalidArgument);
}

TEST(RetransmitRequest, MoreRangesThanRoomIsResourceExhausted) {
  const std::vector<uint8_t> bytes = Encode({{1, 0, 0}, {2, 0, 0}, {3, 0, 0}});
  PacketRange out[2];
  EXPECT_EQ(ParseRetransmitRequest(bytes, out).status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace triage::downlink
