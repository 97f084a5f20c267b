#include "downlink/product.h"

#include "downlink/byte_order.h"

namespace triage::downlink {

const char* ProductKindName(ProductKind kind) noexcept {
  switch (kind) {
    case ProductKind::kFull: return "full";
    case ProductKind::kThumbnail: return "thumbnail";
    case ProductKind::kCatalog: return "catalog";
  }
  return "unknown";
}

Status EncodeMetadata(const ProductMeta& m, Span<uint8_t> out) noexcept {
  if (out.size() < kMetadataBytes) {
    return Status::Error(StatusCode::kResourceExhausted, "metadata: need %u bytes, have %zu", kMetadataBytes,
                         out.size());
  }
  uint8_t* p = out.data();
  for (uint32_t i = 0; i < kMetadataBytes; ++i) p[i] = 0;
  p[0] = kMetadataVersion;
  p[1] = static_cast<uint8_t>(m.kind);
  p[2] = m.priority;
  PutU16(p + 4, m.class_id);
  PutU64(p + 8, m.frame_id);
  PutU64(p + 16, m.timestamp);
  PutF32(p + 24, m.confidence);
  PutU64(p + 32, m.payload_bytes);
  for (int i = 0; i < 32; ++i) {
    p[40 + i] = m.config_hash[i];
    p[72 + i] = m.model_hash[i];
    p[104 + i] = m.payload_sha256[i];
  }
  return Status::Ok();
}

Result<ProductMeta> DecodeMetadata(Span<const uint8_t> in) noexcept {
  if (in.size() < kMetadataBytes) {
    return Status::Error(StatusCode::kDataLoss, "metadata: truncated: %zu of %u bytes", in.size(), kMetadataBytes);
  }
  const uint8_t* p = in.data();
  if (p[0] != kMetadataVersion) {
    return Status::Error(StatusCode::kUnsupported, "metadata: byte 0: version %u, expected %u", p[0],
                         kMetadataVersion);
  }
  if (p[1] >= kProductKindCount) {
    return Status::Error(StatusCode::kInvalidArgument, "metadata: byte 1: product kind %u unknown", p[1]);
  }
  if (p[3] != 0 || GetU16(p + 6) != 0 || GetU32(p + 28) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "metadata: bytes 3, 6-7 or 28-31: reserved must be 0");
  }
  ProductMeta m;
  m.kind = static_cast<ProductKind>(p[1]);
  m.priority = p[2];
  m.class_id = GetU16(p + 4);
  m.frame_id = GetU64(p + 8);
  m.timestamp = GetU64(p + 16);
  m.confidence = GetF32(p + 24);
  m.payload_bytes = GetU64(p + 32);
  for (int i = 0; i < 32; ++i) {
    m.config_hash[i] = p[40 + i];
    m.model_hash[i] = p[72 + i];
    m.payload_sha256[i] = p[104 + i];
  }
  return m;
}

Result<uint32_t> PacketCountFor(uint64_t payload_bytes, uint32_t packet_data_size) noexcept {
  if (packet_data_size == 0) return Status::Error(StatusCode::kInvalidArgument, "packet_data_size is 0");
  const uint64_t data_packets = payload_bytes / packet_data_size + (payload_bytes % packet_data_size != 0);
  if (data_packets >= 0xFFFFFFFFull) {
    return Status::Error(StatusCode::kOutOfRange, "payload of %llu bytes needs more than 2^32-1 packets",
                         static_cast<unsigned long long>(payload_bytes));
  }
  return static_cast<uint32_t>(1 + data_packets);
}

}  // namespace triage::downlink
