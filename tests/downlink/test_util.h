// Helpers shared by the downlink tests: a scratch directory, a small config,
// deterministic payloads and file reading.
#ifndef TRIAGE_TESTS_DOWNLINK_TEST_UTIL_H_
#define TRIAGE_TESTS_DOWNLINK_TEST_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/span.h"
#include "downlink/checksum.h"
#include "downlink/config.h"
#include "downlink/product.h"
#include "downlink/space_packet.h"
#include "tests/support/temp_dir.h"

namespace triage::downlink::testing {

// A fresh directory removed with its contents (tests/support/temp_dir.h).
class TempDir : public triage::testing::TempDir {
 public:
  TempDir() : triage::testing::TempDir("triage_downlink") {}
};

inline Config SmallConfig(const std::string& dir) {
  Config c;
  c.storage_dir = dir + "/store";
  c.storage_quota_bytes = 1 << 20;
  c.packet_data_size = 200;
  c.link_rate_bps = 8000;  // 1000 bytes per second of pass
  c.max_queue_items = 64;
  c.max_item_bytes = 256 * 1024;
  c.catalog_capacity_rows = 256;
  c.catalog_rows_per_product = 16;
  c.max_retransmit_ranges = 32;
  return c;
}

// Bytes that depend only on (seed, size).
inline std::vector<uint8_t> Payload(uint64_t seed, size_t size) {
  std::vector<uint8_t> out(size);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x12345;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<uint8_t>(x >> 24);
  }
  return out;
}

// A span over a vector that may be a temporary: valid until the end of the
// full expression, e.g. q.Enqueue(meta, View(Payload(1, 10))).
inline Span<const uint8_t> View(const std::vector<uint8_t>& v) { return Span<const uint8_t>(v); }

inline ProductMeta Meta(uint64_t frame_id, uint8_t priority, ProductKind kind = ProductKind::kFull) {
  ProductMeta m;
  m.frame_id = frame_id;
  m.timestamp = 1000 * frame_id;
  m.class_id = static_cast<uint16_t>(frame_id % 7);
  m.confidence = 0.5f + static_cast<float>(frame_id % 10) / 20.0f;
  m.kind = kind;
  m.priority = priority;
  for (int i = 0; i < 32; ++i) {
    m.config_hash[i] = static_cast<uint8_t>(i);
    m.model_hash[i] = static_cast<uint8_t>(0xA0 + i);
  }
  return m;
}

inline std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void WriteAllBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// The packets of one product the way the link sends them (metadata packet,
// then the payload in `data_size` slices); good_sha false forges its SHA-256.
inline std::vector<std::vector<uint8_t>> Packetize(uint32_t id, const ProductMeta& meta_in,
                                                   const std::vector<uint8_t>& payload, uint32_t data_size,
                                                   bool good_sha = true) {
  ProductMeta meta = meta_in;
  meta.payload_bytes = payload.size();
  EXPECT_TRUE(Sha256::Of(payload, &meta.payload_sha256).ok());
  if (!good_sha) meta.payload_sha256[0] ^= 1;
  const uint32_t count = PacketCountFor(payload.size(), data_size).value();
  std::vector<std::vector<uint8_t>> packets;
  for (uint32_t i = 0; i < count; ++i) {
    std::vector<uint8_t> user;
    if (i == 0) {
      user.resize(kMetadataBytes);
      EXPECT_TRUE(EncodeMetadata(meta, user).ok());
    } else {
      const size_t begin = size_t{i - 1} * data_size;
      user.assign(payload.begin() + begin, payload.begin() + std::min(payload.size(), begin + data_size));
    }
    std::vector<uint8_t> p(kPacketOverheadBytes + user.size());
    EXPECT_TRUE(EncodePacket(0x100, static_cast<uint16_t>(i), SecondaryHeader{id, i, count}, user, p).ok());
    packets.push_back(p);
  }
  return packets;
}

}  // namespace triage::downlink::testing

#endif  // TRIAGE_TESTS_DOWNLINK_TEST_UTIL_H_
