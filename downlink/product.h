// Products: what the queue stores and the link sends, one metadata packet
// followed by the payload split into packets.
//
// Metadata block (kMetadataBytes = 136, big-endian), the user data of packet 0
// of every product and the metadata copy inside each queue item file:
//   0   1  format version (1)        32  8  payload size, bytes
//   1   1  product kind (ProductKind) 40 32  config hash (SHA-256, caller's)
//   2   1  priority                  72 32  model hash (SHA-256, caller's)
//   3   1  reserved (0)             104 32  payload SHA-256 (computed at enqueue)
//   4   2  class id
//   6   2  reserved (0)
//   8   8  frame id
//   16  8  capture timestamp (caller units, opaque)
//   24  4  confidence (IEEE-754 binary32)
//   28  4  reserved (0)
// Packet i >= 1 carries payload bytes [(i-1)*D, min(i*D, size)) where D is
// Config::packet_data_size. A product has 1 + ceil(size / D) packets.
//
// Pure functions; no allocation; thread safe.
#ifndef TRIAGE_DOWNLINK_PRODUCT_H_
#define TRIAGE_DOWNLINK_PRODUCT_H_

#include <cstdint>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "downlink/checksum.h"

namespace triage::downlink {

enum class ProductKind : uint8_t { kFull = 0, kThumbnail = 1, kCatalog = 2 };
constexpr int kProductKindCount = 3;
const char* ProductKindName(ProductKind kind) noexcept;

struct ProductMeta {
  uint64_t frame_id = 0;
  uint64_t timestamp = 0;
  uint16_t class_id = 0;
  float confidence = 0.0f;
  ProductKind kind = ProductKind::kFull;
  uint8_t priority = 0;  // higher is sent earlier and evicted later
  Digest256 config_hash{};
  Digest256 model_hash{};
  // Set by DownlinkQueue::Enqueue from the payload; ignored on input.
  uint64_t payload_bytes = 0;
  Digest256 payload_sha256{};
};

constexpr uint32_t kMetadataBytes = 136;
constexpr uint8_t kMetadataVersion = 1;

Status EncodeMetadata(const ProductMeta& meta, Span<uint8_t> out) noexcept;
// Validates version, kind and reserved bytes; names the offending field.
Result<ProductMeta> DecodeMetadata(Span<const uint8_t> in) noexcept;

// 1 + ceil(payload_bytes / packet_data_size); fails if it exceeds 2^32 - 1.
Result<uint32_t> PacketCountFor(uint64_t payload_bytes, uint32_t packet_data_size) noexcept;

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_PRODUCT_H_
