// CCSDS Space Packets (CCSDS 133.0-B-2) as triage sends them.
//
// Layout of every packet (all fields big-endian):
//   offset size  field
//   0      6     primary header: version(3)=0 | type(1)=0 telemetry |
//                sec-hdr flag(1)=1 | APID(11) || seq flags(2) | seq count(14) ||
//                data length(16) = bytes in data field - 1
//   6      4     secondary header: product id
//   10     4     secondary header: packet index within the product (0 = metadata)
//   14     4     secondary header: packet count of the product
//   18     N     user data (N <= Config::packet_data_size)
//   18+N   4     CRC-32 (zlib) over bytes [0, 18+N)
// The data field is therefore secondary header + user data + CRC = N + 16
// bytes. The sequence count is per APID and wraps at 2^14; products are
// identified by (product id, packet index), never by the sequence count.
//
// Everything here is pure: no allocation, no I/O, thread safe. The parser is
// meant for untrusted input (the ground side, fuzzed): it never reads past the
// span and reports the stream offset and the problem in the Status.
#ifndef TRIAGE_DOWNLINK_SPACE_PACKET_H_
#define TRIAGE_DOWNLINK_SPACE_PACKET_H_

#include <cstddef>
#include <cstdint>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "downlink/config.h"

namespace triage::downlink {

enum class PacketType : uint8_t { kTelemetry = 0, kTelecommand = 1 };

enum class SequenceFlags : uint8_t {
  kContinuation = 0,
  kFirst = 1,
  kLast = 2,
  kUnsegmented = 3,
};

constexpr uint16_t kSequenceCountMask = 0x3FFF;
constexpr uint16_t NextSequenceCount(uint16_t count) {
  return static_cast<uint16_t>((count + 1) & kSequenceCountMask);
}

struct PrimaryHeader {
  uint8_t version = 0;  // 3 bits
  PacketType type = PacketType::kTelemetry;
  bool secondary_header = true;
  uint16_t apid = 0;  // 11 bits
  SequenceFlags sequence_flags = SequenceFlags::kUnsegmented;
  uint16_t sequence_count = 0;  // 14 bits
  uint16_t data_length = 0;     // data field bytes - 1
};

// Writes exactly kPrimaryHeaderBytes. Fails (kOutOfRange) if a field does not
// fit its bit width, or (kResourceExhausted) if out is shorter than 6 bytes.
Status EncodePrimaryHeader(const PrimaryHeader& header, Span<uint8_t> out) noexcept;
// Reads the first 6 bytes; fails with kDataLoss if fewer are given.
Result<PrimaryHeader> DecodePrimaryHeader(Span<const uint8_t> in) noexcept;

struct SecondaryHeader {
  uint32_t product_id = 0;
  uint32_t packet_index = 0;
  uint32_t packet_count = 0;
};

// The sequence flags a packet at `index` of a `count`-packet product carries.
SequenceFlags FlagsForIndex(uint32_t index, uint32_t count) noexcept;

// Encodes a complete packet into out; returns the bytes written
// (kPacketOverheadBytes + user_data.size()).
Result<size_t> EncodePacket(uint16_t apid, uint16_t sequence_count, const SecondaryHeader& secondary,
                            Span<const uint8_t> user_data, Span<uint8_t> out) noexcept;

// A parsed packet. user_data points into the caller's buffer.
struct PacketView {
  PrimaryHeader primary;
  SecondaryHeader secondary;
  Span<const uint8_t> user_data;
  size_t total_bytes = 0;
};

// Parses the packet at the start of bytes. stream_offset is only used in error
// messages ("offset 1046: ..."). Rejects: truncated header or body, version
// != 0, telecommand type, missing secondary header, a data field too short for
// the secondary header and CRC or longer than max_user_data allows, a CRC
// mismatch, packet index >= packet count, and sequence flags that disagree
// with the index.
Result<PacketView> ParsePacket(Span<const uint8_t> bytes, size_t stream_offset = 0,
                               uint32_t max_user_data = kMaxPacketDataSize) noexcept;

// Walks a concatenated packet stream (a radio capture). After a bad packet it
// advances one byte, so a caller that keeps calling Next() resynchronises on
// the next valid packet. Each call does bounded work.
class PacketReader {
 public:
  explicit PacketReader(Span<const uint8_t> stream, uint32_t max_user_data = kMaxPacketDataSize)
      : stream_(stream), max_user_data_(max_user_data) {}
  bool done() const { return offset_ >= stream_.size(); }
  size_t offset() const { return offset_; }
  Result<PacketView> Next() noexcept;

 private:
  Span<const uint8_t> stream_;
  uint32_t max_user_data_;
  size_t offset_ = 0;
};

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_SPACE_PACKET_H_
