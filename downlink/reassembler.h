// Reassembler: the ground side of the link. Feed it packets (or a whole radio
// capture); it returns complete products verified against the SHA-256 in
// their metadata packet, and lists the missing packet ranges of every
// incomplete product, ready to go into a retransmission request.
//
// Ground code (STYLE rule 24): it allocates per product and per packet, but
// every allocation is bounded by ReassemblerLimits, and no exception escapes
// (allocation failure becomes kResourceExhausted). Input is untrusted and
// fuzzed. Not thread safe.
#ifndef TRIAGE_DOWNLINK_REASSEMBLER_H_
#define TRIAGE_DOWNLINK_REASSEMBLER_H_

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "downlink/config.h"
#include "downlink/product.h"
#include "downlink/retransmit.h"
#include "downlink/space_packet.h"

namespace triage::downlink {

struct ReassemblerLimits {
  uint32_t max_open_products = 4096;          // incomplete products tracked at once
  uint32_t max_packets_per_product = 1u << 20;
  uint64_t max_buffered_bytes = 1ull << 30;   // user data held for incomplete products
  // The flight Config::packet_data_size. When non-zero, every payload packet
  // but the last must carry exactly this many bytes and the packet count must
  // match the metadata's payload size; 0 checks only the total at the end.
  uint32_t packet_data_size = 0;
  uint32_t max_user_data = kMaxPacketDataSize;
};

struct CompletedProduct {
  uint32_t product_id = 0;
  ProductMeta meta;
  std::vector<uint8_t> payload;
};

struct StreamSummary {
  uint64_t packets_accepted = 0;   // parsed and taken (including duplicates)
  uint64_t packets_rejected = 0;   // failed parsing or Add
  uint64_t bytes_skipped = 0;      // resynchronisation after bad bytes
  Status first_error;              // OK if nothing was rejected
};

class Reassembler {
 public:
  explicit Reassembler(const ReassemblerLimits& limits = ReassemblerLimits()) : limits_(limits) {}

  // Takes one parsed packet. Duplicates (including packets of products that
  // already completed) are accepted and ignored. Errors name the product and
  // packet: inconsistent packet counts, a bad metadata block, a payload that
  // does not match its size or SHA-256 (the product is then reset so that
  // every packet is requested again), or a limit reached.
  Status Add(const PacketView& packet) noexcept;
  // Parses a concatenated capture and Adds every packet, resynchronising on
  // bad bytes. Never fails; problems are counted in the summary.
  StreamSummary AddStream(Span<const uint8_t> stream) noexcept;

  // Moves out the products completed so far, in completion order.
  std::vector<CompletedProduct> TakeCompleted() noexcept;
  bool IsComplete(uint32_t product_id) const noexcept { return done_.count(product_id) != 0; }
  // Records a product completed in an earlier session (the ground's receive
  // state): its packets are then ignored like late retransmissions, and any
  // partial copy is dropped.
  Status MarkComplete(uint32_t product_id) noexcept;

  // Missing packet ranges of one incomplete product (empty if unknown or
  // complete), ascending, merged.
  std::vector<PacketRange> MissingRanges(uint32_t product_id) const noexcept;
  // Missing ranges of every incomplete product, by product id.
  std::vector<PacketRange> AllMissingRanges() const noexcept;
  size_t open_products() const { return open_.size(); }
  // Visits every buffered packet of every incomplete product, by product id
  // then packet index: fn(product_id, packet_index, packet_count, user_data).
  // Lets the ground persist exactly what it holds.
  template <typename Fn>
  void ForEachBufferedPacket(Fn&& fn) const {
    for (const auto& [id, partial] : open_) {
      for (const auto& [index, data] : partial.packets) {
        fn(id, index, partial.packet_count, Span<const uint8_t>(data.data(), data.size()));
      }
    }
  }

 private:
  struct Partial {
    uint32_t packet_count = 0;
    std::map<uint32_t, std::vector<uint8_t>> packets;  // by packet index
    uint64_t bytes = 0;
  };
  Status AddUnchecked(const PacketView& packet);
  Status Complete(uint32_t product_id, Partial* partial);

  ReassemblerLimits limits_;
  std::map<uint32_t, Partial> open_;
  std::set<uint32_t> done_;
  std::vector<CompletedProduct> completed_;
  uint64_t buffered_bytes_ = 0;
};

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_REASSEMBLER_H_
