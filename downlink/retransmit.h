// Ground-to-spacecraft retransmission request (an uplinked file).
//
// Format (big-endian):
//   0       4   magic "TRRQ"
//   4       2   version (1)
//   6       2   range count N (1..65535)
//   8       12N ranges: product id (4), first packet index (4), last packet
//               index (4, inclusive, >= first)
//   8+12N   4   CRC-32 (zlib) over bytes [0, 8+12N)
// Packet indices are the per-product indices of the secondary header (0 is the
// metadata packet), not CCSDS sequence counts. The file must be exactly
// 12 + 12N bytes. Ranges are served in file order.
//
// Pure functions; no allocation; the parser is fuzzed (uplink is untrusted).
#ifndef TRIAGE_DOWNLINK_RETRANSMIT_H_
#define TRIAGE_DOWNLINK_RETRANSMIT_H_

#include <cstddef>
#include <cstdint>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"

namespace triage::downlink {

struct PacketRange {
  uint32_t product_id = 0;
  uint32_t first_packet = 0;
  uint32_t last_packet = 0;  // inclusive
};

constexpr size_t kRetransmitHeaderBytes = 8;
constexpr size_t kRetransmitRangeBytes = 12;
constexpr size_t kMaxRetransmitRanges = 65535;

constexpr size_t RetransmitRequestBytes(size_t ranges) {
  return kRetransmitHeaderBytes + ranges * kRetransmitRangeBytes + 4;
}

// Returns bytes written (RetransmitRequestBytes(ranges.size())).
Result<size_t> EncodeRetransmitRequest(Span<const PacketRange> ranges, Span<uint8_t> out) noexcept;
// Validates everything (size, magic, version, count, CRC, first <= last,
// product id != 0) and copies the ranges into out; returns their count.
// kResourceExhausted if out is too small for the request.
Result<size_t> ParseRetransmitRequest(Span<const uint8_t> in, Span<PacketRange> out) noexcept;

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_RETRANSMIT_H_
