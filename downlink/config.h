// downlink::Config: plain data, filled by config/ from YAML (or by tests).
// Read once at Open; nothing here is consulted per packet except through the
// values copied into the objects that were opened with it.
//
// Payloads arrive already compressed; downlink/ never compresses or inspects
// them. Units are in the field names.
#ifndef TRIAGE_DOWNLINK_CONFIG_H_
#define TRIAGE_DOWNLINK_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace triage::downlink {

// One ground-station contact, in simulated mission seconds. end_s > start_s.
struct PassWindow {
  double start_s = 0.0;
  double end_s = 0.0;
};

// The radio channel between the spacecraft and the ground, for testing the
// ground station: each packet written to the radio capture is independently
// lost, corrupted (one byte flipped; its CRC then fails), duplicated, or held
// back and delivered after the next packet (reordered), at these rates. The
// draw for a packet is a hash of (seed, pass, product id, packet index, the
// pass's packet ordinal), so it needs no state and a resumed run draws the
// same. The spacecraft does not know: the send log and counters record every
// packet as sent. All zero (the default): a perfect channel.
struct ChannelFaults {
  double loss_rate = 0.0;
  double corrupt_rate = 0.0;
  double duplicate_rate = 0.0;
  double reorder_rate = 0.0;
  uint64_t seed = 1;
  bool any() const { return loss_rate > 0 || corrupt_rate > 0 || duplicate_rate > 0 || reorder_rate > 0; }
};

struct Config {
  // Directory holding queue items (q/), the catalog journal and link state.
  // Created at Open if missing. Must be on a filesystem with working fsync.
  std::string storage_dir = "/var/lib/triage/downlink";
  // Byte ceiling for queued product files (header + payload). Past it the
  // lowest-priority items are evicted. Catalog and state files are not counted
  // (the catalog is bounded by catalog_capacity_rows instead).
  uint64_t storage_quota_bytes = 256ull << 20;
  // User data bytes per Space Packet (excluding the 6-byte primary header, the
  // 12-byte secondary header and the 4-byte CRC). Must hold the 136-byte
  // metadata block and keep the CCSDS data field <= 65536 bytes.
  uint32_t packet_data_size = 1024;
  // 11-bit APIDs, one per product kind (each keeps its own sequence count).
  uint16_t apid_full = 0x100;
  uint16_t apid_thumbnail = 0x101;
  uint16_t apid_catalog = 0x102;
  // Downlink rate during a pass, bit/s.
  uint64_t link_rate_bps = 2'000'000;
  // Contact windows, in time order, non-overlapping.
  std::vector<PassWindow> passes;
  // Simulated channel faults (tests and ground-station drills).
  ChannelFaults channel;

  // Capacities reserved at Open (memory is fixed after that).
  uint32_t max_queue_items = 4096;            // queued + retained-sent products
  uint64_t max_item_bytes = 64ull << 20;      // largest single payload
  uint32_t catalog_capacity_rows = 65536;     // frames ever recorded
  uint32_t catalog_rows_per_product = 4096;   // rows per catalog product
  uint32_t max_retransmit_ranges = 256;       // pending ground requests
  // Re-read every payload and check its CRC when the queue is opened.
  bool verify_payload_on_open = true;
};

// Names the first offending field and value, e.g.
// "packet_data_size 100: must be in [136, 65520]".
Status ValidateConfig(const Config& config) noexcept;

// Full packet size on air for a given data size: 6 + 12 + data + 4.
constexpr uint32_t kPrimaryHeaderBytes = 6;
constexpr uint32_t kSecondaryHeaderBytes = 12;
constexpr uint32_t kPacketCrcBytes = 4;
constexpr uint32_t kPacketOverheadBytes = kPrimaryHeaderBytes + kSecondaryHeaderBytes + kPacketCrcBytes;
constexpr uint32_t kMaxApid = 0x7FF;
// The CCSDS data field is at most 65536 bytes (length field + 1).
constexpr uint32_t kMaxPacketDataSize = 65536 - kSecondaryHeaderBytes - kPacketCrcBytes;

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_CONFIG_H_
