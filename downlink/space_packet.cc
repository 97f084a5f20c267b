#include "downlink/space_packet.h"

#include "downlink/byte_order.h"
#include "downlink/checksum.h"

namespace triage::downlink {

Status EncodePrimaryHeader(const PrimaryHeader& h, Span<uint8_t> out) noexcept {
  if (out.size() < kPrimaryHeaderBytes) {
    return Status::Error(StatusCode::kResourceExhausted, "primary header: need 6 bytes, have %zu", out.size());
  }
  if (h.version > 7) return Status::Error(StatusCode::kOutOfRange, "primary header: version %u > 7", h.version);
  if (h.apid > kMaxApid) return Status::Error(StatusCode::kOutOfRange, "primary header: APID %u > 2047", h.apid);
  if (h.sequence_count > kSequenceCountMask) {
    return Status::Error(StatusCode::kOutOfRange, "primary header: sequence count %u > 16383", h.sequence_count);
  }
  const uint16_t word0 = static_cast<uint16_t>((h.version << 13) | (static_cast<uint16_t>(h.type) << 12) |
                                               ((h.secondary_header ? 1 : 0) << 11) | h.apid);
  const uint16_t word1 =
      static_cast<uint16_t>((static_cast<uint16_t>(h.sequence_flags) << 14) | h.sequence_count);
  PutU16(out.data(), word0);
  PutU16(out.data() + 2, word1);
  PutU16(out.data() + 4, h.data_length);
  return Status::Ok();
}

Result<PrimaryHeader> DecodePrimaryHeader(Span<const uint8_t> in) noexcept {
  if (in.size() < kPrimaryHeaderBytes) {
    return Status::Error(StatusCode::kDataLoss, "truncated primary header: have %zu of 6 bytes", in.size());
  }
  const uint16_t word0 = GetU16(in.data());
  const uint16_t word1 = GetU16(in.data() + 2);
  PrimaryHeader h;
  h.version = static_cast<uint8_t>(word0 >> 13);
  h.type = static_cast<PacketType>((word0 >> 12) & 1);
  h.secondary_header = ((word0 >> 11) & 1) != 0;
  h.apid = word0 & kMaxApid;
  h.sequence_flags = static_cast<SequenceFlags>(word1 >> 14);
  h.sequence_count = word1 & kSequenceCountMask;
  h.data_length = GetU16(in.data() + 4);
  return h;
}

SequenceFlags FlagsForIndex(uint32_t index, uint32_t count) noexcept {
  if (count <= 1) return SequenceFlags::kUnsegmented;
  if (index == 0) return SequenceFlags::kFirst;
  if (index + 1 == count) return SequenceFlags::kLast;
  return SequenceFlags::kContinuation;
}

Result<size_t> EncodePacket(uint16_t apid, uint16_t sequence_count, const SecondaryHeader& secondary,
                            Span<const uint8_t> user_data, Span<uint8_t> out) noexcept {
  if (user_data.size() > kMaxPacketDataSize) {
    return Status::Error(StatusCode::kOutOfRange, "packet: %zu user bytes exceed %u", user_data.size(),
                         kMaxPacketDataSize);
  }
  const size_t total = kPacketOverheadBytes + user_data.size();
  if (out.size() < total) {
    return Status::Error(StatusCode::kResourceExhausted, "packet: need %zu bytes, buffer has %zu", total,
                         out.size());
  }
  if (secondary.packet_count == 0 || secondary.packet_index >= secondary.packet_count) {
    return Status::Error(StatusCode::kInvalidArgument, "packet: index %u not below count %u",
                         secondary.packet_index, secondary.packet_count);
  }
  PrimaryHeader h;
  h.apid = apid;
  h.sequence_count = sequence_count;
  h.sequence_flags = FlagsForIndex(secondary.packet_index, secondary.packet_count);
  h.data_length = static_cast<uint16_t>(kSecondaryHeaderBytes + user_data.size() + kPacketCrcBytes - 1);
  TRIAGE_RETURN_IF_ERROR(EncodePrimaryHeader(h, out));
  uint8_t* p = out.data() + kPrimaryHeaderBytes;
  PutU32(p, secondary.product_id);
  PutU32(p + 4, secondary.packet_index);
  PutU32(p + 8, secondary.packet_count);
  p += kSecondaryHeaderBytes;
  for (size_t i = 0; i < user_data.size(); ++i) p[i] = user_data[i];
  const size_t crc_at = total - kPacketCrcBytes;
  PutU32(out.data() + crc_at, Crc32(Span<const uint8_t>(out.data(), crc_at)));
  return total;
}

Result<PacketView> ParsePacket(Span<const uint8_t> bytes, size_t off, uint32_t max_user_data) noexcept {
  Result<PrimaryHeader> header = DecodePrimaryHeader(bytes);
  if (!header.ok()) return header.status().WithContext("offset %zu", off);
  const PrimaryHeader& h = header.value();
  if (h.version != 0) {
    return Status::Error(StatusCode::kUnsupported, "offset %zu: packet version %u, expected 0", off, h.version);
  }
  if (h.type != PacketType::kTelemetry) {
    return Status::Error(StatusCode::kUnsupported, "offset %zu: telecommand packet (APID %u) on the downlink",
                         off, h.apid);
  }
  if (!h.secondary_header) {
    return Status::Error(StatusCode::kUnsupported, "offset %zu: APID %u: secondary header flag is 0", off, h.apid);
  }
  const size_t data_field = size_t{h.data_length} + 1;
  constexpr size_t kMinField = kSecondaryHeaderBytes + kPacketCrcBytes;
  if (data_field < kMinField) {
    return Status::Error(StatusCode::kDataLoss, "offset %zu: data field of %zu bytes is shorter than %zu", off,
                         data_field, kMinField);
  }
  const size_t user_bytes = data_field - kMinField;
  if (user_bytes > max_user_data) {
    return Status::Error(StatusCode::kOutOfRange, "offset %zu: oversized packet: %zu user bytes exceed limit %u",
                         off, user_bytes, max_user_data);
  }
  const size_t total = kPrimaryHeaderBytes + data_field;
  if (bytes.size() < total) {
    return Status::Error(StatusCode::kDataLoss, "offset %zu: truncated packet: header says %zu bytes, have %zu",
                         off, total, bytes.size());
  }
  const size_t crc_at = total - kPacketCrcBytes;
  const uint32_t stored = GetU32(bytes.data() + crc_at);
  const uint32_t computed = Crc32(Span<const uint8_t>(bytes.data(), crc_at));
  if (stored != computed) {
    return Status::Error(StatusCode::kDataLoss, "offset %zu: CRC mismatch: stored 0x%08x, computed 0x%08x", off,
                         stored, computed);
  }
  PacketView v;
  v.primary = h;
  const uint8_t* s = bytes.data() + kPrimaryHeaderBytes;
  v.secondary.product_id = GetU32(s);
  v.secondary.packet_index = GetU32(s + 4);
  v.secondary.packet_count = GetU32(s + 8);
  if (v.secondary.packet_count == 0 || v.secondary.packet_index >= v.secondary.packet_count) {
    return Status::Error(StatusCode::kInvalidArgument, "offset %zu: product %u: packet index %u not below count %u",
                         off, v.secondary.product_id, v.secondary.packet_index, v.secondary.packet_count);
  }
  const SequenceFlags expected = FlagsForIndex(v.secondary.packet_index, v.secondary.packet_count);
  if (h.sequence_flags != expected) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "offset %zu: product %u packet %u of %u: sequence flags %u, expected %u", off,
                         v.secondary.product_id, v.secondary.packet_index, v.secondary.packet_count,
                         static_cast<unsigned>(h.sequence_flags), static_cast<unsigned>(expected));
  }
  v.user_data = Span<const uint8_t>(s + kSecondaryHeaderBytes, user_bytes);
  v.total_bytes = total;
  return v;
}

Result<PacketView> PacketReader::Next() noexcept {
  if (done()) return Status::Error(StatusCode::kOutOfRange, "offset %zu: end of stream", offset_);
  Result<PacketView> r =
      ParsePacket(stream_.subspan(offset_, stream_.size() - offset_), offset_, max_user_data_);
  offset_ += r.ok() ? r.value().total_bytes : 1;
  return r;
}

}  // namespace triage::downlink
