#include "downlink/retransmit.h"

#include <cstring>

#include "downlink/byte_order.h"
#include "downlink/checksum.h"

namespace triage::downlink {
namespace {
constexpr uint8_t kMagic[4] = {'T', 'R', 'R', 'Q'};
constexpr uint16_t kVersion = 1;
}  // namespace

Result<size_t> EncodeRetransmitRequest(Span<const PacketRange> ranges, Span<uint8_t> out) noexcept {
  if (ranges.empty() || ranges.size() > kMaxRetransmitRanges) {
    return Status::Error(StatusCode::kInvalidArgument, "retransmit request: %zu ranges, need 1..65535",
                         ranges.size());
  }
  const size_t total = RetransmitRequestBytes(ranges.size());
  if (out.size() < total) {
    return Status::Error(StatusCode::kResourceExhausted, "retransmit request: need %zu bytes, have %zu", total,
                         out.size());
  }
  uint8_t* p = out.data();
  std::memcpy(p, kMagic, 4);
  PutU16(p + 4, kVersion);
  PutU16(p + 6, static_cast<uint16_t>(ranges.size()));
  for (size_t i = 0; i < ranges.size(); ++i) {
    const PacketRange& r = ranges[i];
    if (r.product_id == 0 || r.first_packet > r.last_packet) {
      return Status::Error(StatusCode::kInvalidArgument, "retransmit request: range %zu (product %u, %u..%u) invalid",
                           i, r.product_id, r.first_packet, r.last_packet);
    }
    uint8_t* e = p + kRetransmitHeaderBytes + i * kRetransmitRangeBytes;
    PutU32(e, r.product_id);
    PutU32(e + 4, r.first_packet);
    PutU32(e + 8, r.last_packet);
  }
  PutU32(p + total - 4, Crc32(Span<const uint8_t>(p, total - 4)));
  return total;
}

Result<size_t> ParseRetransmitRequest(Span<const uint8_t> in, Span<PacketRange> out) noexcept {
  if (in.size() < RetransmitRequestBytes(1)) {
    return Status::Error(StatusCode::kDataLoss, "retransmit request: %zu bytes, shorter than the minimum %zu",
                         in.size(), RetransmitRequestBytes(1));
  }
  const uint8_t* p = in.data();
  if (std::memcmp(p, kMagic, 4) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "retransmit request: offset 0: bad magic");
  }
  if (GetU16(p + 4) != kVersion) {
    return Status::Error(StatusCode::kUnsupported, "retransmit request: offset 4: version %u, expected %u",
                         GetU16(p + 4), kVersion);
  }
  const size_t count = GetU16(p + 6);
  if (count == 0) return Status::Error(StatusCode::kInvalidArgument, "retransmit request: offset 6: no ranges");
  if (in.size() != RetransmitRequestBytes(count)) {
    return Status::Error(StatusCode::kDataLoss, "retransmit request: %zu ranges need %zu bytes, file has %zu",
                         count, RetransmitRequestBytes(count), in.size());
  }
  const size_t crc_at = in.size() - 4;
  const uint32_t stored = GetU32(p + crc_at);
  const uint32_t computed = Crc32(Span<const uint8_t>(p, crc_at));
  if (stored != computed) {
    return Status::Error(StatusCode::kDataLoss, "retransmit request: offset %zu: CRC mismatch: stored 0x%08x, "
                         "computed 0x%08x", crc_at, stored, computed);
  }
  if (count > out.size()) {
    return Status::Error(StatusCode::kResourceExhausted, "retransmit request: %zu ranges, room for %zu", count,
                         out.size());
  }
  for (size_t i = 0; i < count; ++i) {
    const size_t at = kRetransmitHeaderBytes + i * kRetransmitRangeBytes;
    PacketRange r;
    r.product_id = GetU32(p + at);
    r.first_packet = GetU32(p + at + 4);
    r.last_packet = GetU32(p + at + 8);
    if (r.product_id == 0 || r.first_packet > r.last_packet) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "retransmit request: offset %zu: range %zu (product %u, packets %u..%u) invalid", at, i,
                           r.product_id, r.first_packet, r.last_packet);
    }
    out[i] = r;
  }
  return count;
}

}  // namespace triage::downlink
