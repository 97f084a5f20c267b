#include "downlink/space_packet.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "downlink/product.h"
#include "tests/downlink/test_util.h"

namespace triage::downlink {
namespace {

std::vector<uint8_t> MakePacket(uint16_t apid, uint16_t seq, uint32_t id, uint32_t index, uint32_t count,
                                const std::vector<uint8_t>& user) {
  std::vector<uint8_t> out(kPacketOverheadBytes + user.size());
  Result<size_t> n = EncodePacket(apid, seq, SecondaryHeader{id, index, count}, user, out);
  EXPECT_TRUE(n.ok()) << n.status().message();
  return out;
}

TEST(SpacePacketHeader, EncodesKnownBigEndianBytes) {
  PrimaryHeader h;
  h.apid = 0x7FF;  // max APID
  h.sequence_flags = SequenceFlags::kFirst;
  h.sequence_count = 0x3FFF;
  h.data_length = 0x1234;
  uint8_t out[6] = {};
  ASSERT_TRUE(EncodePrimaryHeader(h, out).ok());
  // version 000, type 0, sec hdr 1, APID 111 1111 1111 -> 0x0FFF; flags 01 + count -> 0x7FFF.
  const uint8_t expected[6] = {0x0F, 0xFF, 0x7F, 0xFF, 0x12, 0x34};
  EXPECT_EQ(0, std::memcmp(out, expected, 6));
}

TEST(SpacePacketHeader, RoundTripsEveryFieldAtItsExtremes) {
  for (uint16_t apid : {0, 1, 0x400, 0x7FF}) {
    for (uint16_t seq : {0, 1, 0x2000, 0x3FFF}) {
      for (uint8_t flags = 0; flags < 4; ++flags) {
        PrimaryHeader h;
        h.apid = apid;
        h.sequence_count = seq;
        h.sequence_flags = static_cast<SequenceFlags>(flags);
        h.data_length = static_cast<uint16_t>(apid ^ seq);
        uint8_t buf[6];
        ASSERT_TRUE(EncodePrimaryHeader(h, buf).ok());
        Result<PrimaryHeader> d = DecodePrimaryHeader(buf);
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(d->version, 0);
        EXPECT_EQ(d->type, PacketType::kTelemetry);
        EXPECT_TRUE(d->secondary_header);
        EXPECT_EQ(d->apid, apid);
        EXPECT_EQ(d->sequence_count, seq);
        EXPECT_EQ(d->sequence_flags, h.sequence_flags);
        EXPECT_EQ(d->data_length, h.data_length);
      }
    }
  }
}

TEST(SpacePacketHeader, RejectsFieldsWiderThanTheirBits) {
  uint8_t buf[6];
  PrimaryHeader h;
  h.apid = 0x800;
  EXPECT_EQ(EncodePrimaryHeader(h, buf).code(), StatusCode::kOutOfRange);
  h.apid = 0x7FF;
  h.sequence_count = 0x4000;
  EXPECT_EQ(EncodePrimaryHeader(h, buf).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(EncodePrimaryHeader(PrimaryHeader{}, Span<uint8_t>(buf, 5)).code(), StatusCode::kResourceExhausted);
}

TEST(SpacePacketHeader, SequenceCountWrapsAfter14Bits) {
  EXPECT_EQ(NextSequenceCount(0), 1);
  EXPECT_EQ(NextSequenceCount(0x3FFE), 0x3FFF);
  EXPECT_EQ(NextSequenceCount(0x3FFF), 0);
  // A packet encoded with the last count, then the wrapped one, both decode.
  std::vector<uint8_t> a = MakePacket(5, 0x3FFF, 1, 0, 2, std::vector<uint8_t>(3, 1));
  std::vector<uint8_t> b = MakePacket(5, NextSequenceCount(0x3FFF), 1, 1, 2, std::vector<uint8_t>(3, 2));
  EXPECT_EQ(ParsePacket(a)->primary.sequence_count, 0x3FFF);
  EXPECT_EQ(ParsePacket(b)->primary.sequence_count, 0);
}

TEST(SpacePacket, RoundTripsHeaderSecondaryHeaderAndData) {
  const std::vector<uint8_t> user = testing::Payload(1, 200);
  std::vector<uint8_t> bytes = MakePacket(kMaxApid, 77, 123456, 3, 9, user);
  ASSERT_EQ(bytes.size(), 222u);
  // Data length field = data field bytes - 1 = 12 + 200 + 4 - 1.
  EXPECT_EQ((bytes[4] << 8) | bytes[5], 215);
  Result<PacketView> v = ParsePacket(bytes);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->primary.apid, kMaxApid);
  EXPECT_EQ(v->primary.sequence_count, 77);
  EXPECT_EQ(v->primary.sequence_flags, SequenceFlags::kContinuation);
  EXPECT_EQ(v->secondary.product_id, 123456u);
  EXPECT_EQ(v->secondary.packet_index, 3u);
  EXPECT_EQ(v->secondary.packet_count, 9u);
  EXPECT_EQ(v->total_bytes, bytes.size());
  EXPECT_EQ(std::vector<uint8_t>(v->user_data.begin(), v->user_data.end()), user);
}

TEST(SpacePacket, SequenceFlagsFollowThePacketIndex) {
  EXPECT_EQ(FlagsForIndex(0, 1), SequenceFlags::kUnsegmented);
  EXPECT_EQ(FlagsForIndex(0, 3), SequenceFlags::kFirst);
  EXPECT_EQ(FlagsForIndex(1, 3), SequenceFlags::kContinuation);
  EXPECT_EQ(FlagsForIndex(2, 3), SequenceFlags::kLast);
  // A packet whose flags were rewritten (with a fixed-up CRC) is refused.
  std::vector<uint8_t> p = MakePacket(1, 0, 1, 1, 3, {1, 2, 3});
  p[2] = static_cast<uint8_t>((p[2] & 0x3F) | 0xC0);  // unsegmented
  const uint32_t crc = Crc32(Span<const uint8_t>(p.data(), p.size() - 4));
  p[p.size() - 4] = static_cast<uint8_t>(crc >> 24);
  p[p.size() - 3] = static_cast<uint8_t>(crc >> 16);
  p[p.size() - 2] = static_cast<uint8_t>(crc >> 8);
  p[p.size() - 1] = static_cast<uint8_t>(crc);
  Result<PacketView> v = ParsePacket(p);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(std::string(v.status().message()).find("sequence flags"), std::string::npos);
}

TEST(SpacePacket, AnySingleFlippedBitIsRejected) {
  const std::vector<uint8_t> good = MakePacket(0x123, 42, 7, 1, 4, testing::Payload(2, 64));
  ASSERT_TRUE(ParsePacket(good).ok());
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::vector<uint8_t> bad = good;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(ParsePacket(bad).ok()) << "bit " << bit;
  }
  // A flip in the user data specifically reports the CRC.
  std::vector<uint8_t> bad = good;
  bad[30] ^= 0x10;
  Result<PacketView> v = ParsePacket(bad, 1000);
  EXPECT_EQ(v.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(std::string(v.status().message()).find("offset 1000: CRC mismatch"), std::string::npos)
      << v.status().message();
}

TEST(SpacePacket, EveryTruncationIsRejectedWithItsOffset) {
  const std::vector<uint8_t> good = MakePacket(9, 1, 2, 0, 1, testing::Payload(3, 50));
  for (size_t len = 0; len < good.size(); ++len) {
    Result<PacketView> v = ParsePacket(Span<const uint8_t>(good.data(), len), 77);
    ASSERT_FALSE(v.ok()) << len;
    EXPECT_EQ(v.status().code(), StatusCode::kDataLoss) << len;
    EXPECT_NE(std::string(v.status().message()).find("offset 77"), std::string::npos) << v.status().message();
  }
}

TEST(SpacePacket, OversizedPacketIsRejected) {
  const std::vector<uint8_t> good = MakePacket(9, 1, 2, 0, 1, testing::Payload(4, 300));
  EXPECT_TRUE(ParsePacket(good, 0, 300).ok());
  Result<PacketView> v = ParsePacket(good, 0, 299);
  EXPECT_EQ(v.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(std::string(v.status().message()).find("oversized"), std::string::npos);
  // A length field claiming 64 KiB with only a few bytes present.
  std::vector<uint8_t> huge = good;
  huge[4] = 0xFF;
  huge[5] = 0xFF;
  EXPECT_FALSE(ParsePacket(huge).ok());
}

TEST(SpacePacket, RejectsWrongVersionTelecommandAndMissingSecondaryHeader) {
  const std::vector<uint8_t> good = MakePacket(9, 1, 2, 0, 1, {1});
  std::vector<uint8_t> v1 = good;
  v1[0] |= 0x20;  // version 1
  EXPECT_EQ(ParsePacket(v1).status().code(), StatusCode::kUnsupported);
  std::vector<uint8_t> tc = good;
  tc[0] |= 0x10;
  EXPECT_EQ(ParsePacket(tc).status().code(), StatusCode::kUnsupported);
  std::vector<uint8_t> nosec = good;
  nosec[0] &= static_cast<uint8_t>(~0x08);
  EXPECT_EQ(ParsePacket(nosec).status().code(), StatusCode::kUnsupported);
  std::vector<uint8_t> short_field = good;
  short_field[4] = 0;
  short_field[5] = 3;  // 4-byte data field: no room for secondary header + CRC
  EXPECT_EQ(ParsePacket(short_field).status().code(), StatusCode::kDataLoss);
}

TEST(SpacePacket, RandomGarbageNeverParses) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> junk(rng() % 300);
    for (uint8_t& b : junk) b = static_cast<uint8_t>(rng());
    EXPECT_FALSE(ParsePacket(junk).ok());
  }
}

TEST(PacketReader, ResynchronisesAfterGarbageAndReportsOffsets) {
  const std::vector<uint8_t> a = MakePacket(1, 0, 5, 0, 2, testing::Payload(5, 136));
  const std::vector<uint8_t> b = MakePacket(1, 1, 5, 1, 2, testing::Payload(6, 10));
  std::vector<uint8_t> stream = a;
  stream.push_back(0xEE);
  stream.insert(stream.end(), b.begin(), b.end());
  PacketReader reader(stream);
  std::vector<uint32_t> indices;
  std::vector<std::string> errors;
  for (int guard = 0; guard < 1000 && !reader.done(); ++guard) {
    Result<PacketView> v = reader.Next();
    if (v.ok()) indices.push_back(v->secondary.packet_index);
    else errors.push_back(v.status().message());
  }
  EXPECT_EQ(indices, (std::vector<uint32_t>{0, 1}));
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].rfind("offset " + std::to_string(a.size()), 0), 0u) << errors[0];
}

TEST(ProductMetadata, RoundTripsEveryField) {
  ProductMeta m = testing::Meta(0x0123456789ABCDEFull, 9, ProductKind::kThumbnail);
  m.payload_bytes = 123456789;
  for (int i = 0; i < 32; ++i) m.payload_sha256[i] = static_cast<uint8_t>(255 - i);
  uint8_t buf[kMetadataBytes];
  ASSERT_TRUE(EncodeMetadata(m, buf).ok());
  Result<ProductMeta> d = DecodeMetadata(buf);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->frame_id, m.frame_id);
  EXPECT_EQ(d->timestamp, m.timestamp);
  EXPECT_EQ(d->class_id, m.class_id);
  EXPECT_EQ(d->confidence, m.confidence);
  EXPECT_EQ(d->kind, ProductKind::kThumbnail);
  EXPECT_EQ(d->priority, 9);
  EXPECT_EQ(d->payload_bytes, m.payload_bytes);
  EXPECT_EQ(d->config_hash, m.config_hash);
  EXPECT_EQ(d->model_hash, m.model_hash);
  EXPECT_EQ(d->payload_sha256, m.payload_sha256);
}

TEST(ProductMetadata, RejectsUnknownVersionKindAndReservedBytes) {
  uint8_t buf[kMetadataBytes];
  ASSERT_TRUE(EncodeMetadata(testing::Meta(1, 1), buf).ok());
  uint8_t bad[kMetadataBytes];
  std::memcpy(bad, buf, sizeof(bad));
  bad[0] = 2;
  EXPECT_EQ(DecodeMetadata(bad).status().code(), StatusCode::kUnsupported);
  std::memcpy(bad, buf, sizeof(bad));
  bad[1] = 3;
  EXPECT_EQ(DecodeMetadata(bad).status().code(), StatusCode::kInvalidArgument);
  std::memcpy(bad, buf, sizeof(bad));
  bad[30] = 1;
  EXPECT_EQ(DecodeMetadata(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeMetadata(Span<const uint8_t>(buf, 135)).status().code(), StatusCode::kDataLoss);
}

TEST(ProductMetadata, PacketCountIsOnePlusCeilingOfPayloadOverDataSize) {
  EXPECT_EQ(PacketCountFor(0, 200).value(), 1u);
  EXPECT_EQ(PacketCountFor(1, 200).value(), 2u);
  EXPECT_EQ(PacketCountFor(200, 200).value(), 2u);
  EXPECT_EQ(PacketCountFor(201, 200).value(), 3u);
  EXPECT_FALSE(PacketCountFor(uint64_t{1} << 40, 136).ok());
  EXPECT_FALSE(PacketCountFor(10, 0).ok());
}

TEST(DownlinkConfig, ValidationNamesTheOffendingField) {
  Config c;
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.packet_data_size = 100;
  Status s = ValidateConfig(c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("packet_data_size 100"), std::string::npos) << s.message();
  c = Config();
  c.apid_thumbnail = 0x800;
  EXPECT_FALSE(ValidateConfig(c).ok());
  c = Config();
  c.passes = {{10, 20}, {15, 30}};
  EXPECT_NE(std::string(ValidateConfig(c).message()).find("passes[1]"), std::string::npos);
  c.passes = {{10, 5}};
  EXPECT_FALSE(ValidateConfig(c).ok());
}

}  // namespace
}  // namespace triage::downlink
