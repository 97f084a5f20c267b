// LinkSimulator: drains the queue over simulated ground-station passes.
//
// Each pass has a byte budget of floor((end_s - start_s) * link_rate_bps / 8).
// Within a pass, in this order:
//   1. the catalog: rows changed since the last pass are packed into catalog
//      products (Config::catalog_rows_per_product rows each), enqueued, and
//      sent before anything else;
//   2. ground-requested retransmissions, in the order they were accepted;
//   3. the product cut off at the end of the previous pass, from the packet
//      where it stopped;
//   4. the remaining pending products in queue order (priority, then age).
// A packet is sent only if it fits entirely in what is left of the budget; the
// first one that does not ends the pass and becomes the resume point. Time is
// simulated (no sleeping): packet k starts at start_s + bits_before_k / rate.
//
// Outputs: the packet stream is appended to the radio file; one CSV line per
// packet (and per unavailable retransmission) is appended to the send log:
//   pass,time_s,event,product_id,packet_index,packet_count,apid,seq_count,bytes
//
// Persistence: <storage_dir>/link.state (atomic replace) holds the resume
// points, the per-APID sequence counts, the catalog watermark and pending
// retransmission ranges. It is saved after catalog products are enqueued,
// when a request is accepted and at the end of each pass. A crash mid-pass
// resumes from the previous save; re-sent packets are harmless duplicates
// for the ground reassembler. Completed products are durably marked sent.
//
// Memory: Open allocates the packet, catalog-product and state buffers; a pass
// allocates nothing. Thread safety: none; one owner. Deterministic: the same
// queue, catalog, config and calls give byte-identical radio and log files.
#ifndef TRIAGE_DOWNLINK_LINK_SIMULATOR_H_
#define TRIAGE_DOWNLINK_LINK_SIMULATOR_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "downlink/catalog.h"
#include "downlink/config.h"
#include "downlink/durable_file.h"
#include "downlink/queue.h"
#include "downlink/retransmit.h"

namespace triage::downlink {

// floor((end_s - start_s) * rate_bps / 8), 0 for an empty or inverted window.
uint64_t PassByteBudget(const PassWindow& window, uint64_t rate_bps) noexcept;

struct PassReport {
  uint32_t pass_number = 0;
  uint64_t budget_bytes = 0;
  uint64_t bytes_sent = 0;
  uint32_t packets_sent = 0;
  uint32_t catalog_packets = 0;
  uint32_t retransmitted_packets = 0;
  uint32_t retransmit_ranges_unavailable = 0;
  uint32_t products_completed = 0;
  uint32_t catalog_products_enqueued = 0;
  // What the simulated channel (Config::channel) did to this pass's packets
  // on their way into the radio capture.
  uint32_t channel_lost = 0;
  uint32_t channel_corrupted = 0;
  uint32_t channel_duplicated = 0;
  uint32_t channel_reordered = 0;
  bool catalog_enqueue_failed = false;  // e.g. quota; rows go in a later pass
  bool cut_off = false;                 // budget ended with data still waiting
  uint32_t resume_product_id = 0;       // 0: no product in progress
  uint32_t resume_packet = 0;
  uint32_t catalog_resume_product_id = 0;  // catalog products resume separately
  uint32_t catalog_resume_packet = 0;
};

class LinkSimulator {
 public:
  LinkSimulator() = default;
  LinkSimulator(const LinkSimulator&) = delete;
  LinkSimulator& operator=(const LinkSimulator&) = delete;

  // Init-only. queue and catalog must be open and outlive the simulator.
  // radio_path and log_path are created if missing and appended to.
  Status Open(const Config& config, DownlinkQueue* queue, Catalog* catalog, const char* radio_path,
              const char* log_path) noexcept;

  // Validates an uplinked request (see retransmit.h) and appends its ranges
  // to the pending list, durably. All-or-nothing: a bad file or one that does
  // not fit in Config::max_retransmit_ranges changes nothing.
  Status AcceptRetransmitRequest(const char* path) noexcept;
  Status AcceptRetransmitRequest(Span<const uint8_t> request) noexcept;

  // Runs Config::passes[index] (pass_number = index).
  Result<PassReport> RunPass(size_t index) noexcept;
  // Runs an arbitrary window.
  Result<PassReport> RunWindow(uint32_t pass_number, const PassWindow& window) noexcept;

  // Where the product (not catalog) cut off by the last pass resumes.
  uint32_t resume_product_id() const { return resume_[kProductSlot].product_id; }
  uint32_t resume_packet() const { return resume_[kProductSlot].packet; }
  uint64_t catalog_watermark() const { return catalog_watermark_; }
  Span<const PacketRange> pending_retransmits() const {
    return Span<const PacketRange>(retx_.data(), retx_count_);
  }
  uint16_t sequence_count(ProductKind kind) const { return seq_[static_cast<size_t>(kind)]; }
  // True if Open found link.state but could not use it and started clean.
  bool state_discarded() const { return state_discarded_; }

 private:
  enum class Sent { kOk, kNoRoom };
  // A catalog product and a regular product can both be cut off (the
  // catalog one in a later pass, before the product resumes), so each
  // class keeps its own resume point.
  struct Resume {
    uint32_t product_id = 0;
    uint32_t packet = 0;
  };
  static constexpr int kCatalogSlot = 0;
  static constexpr int kProductSlot = 1;
  Status LoadState() noexcept;
  Status SaveState() noexcept;
  Status EnqueueCatalog(const PassWindow& window, PassReport* report) noexcept;
  // Sends one packet of an item if it fits; kNoRoom otherwise.
  Result<Sent> SendPacket(const QueueItem& item, uint32_t index, const char* event, PassReport* report) noexcept;
  // Sends an item from `first` to its end; marks it sent when complete.
  Result<Sent> SendProduct(uint32_t product_id, uint32_t first, PassReport* report) noexcept;
  uint16_t ApidFor(ProductKind kind) const noexcept;
  // Writes one encoded packet to the radio capture through the simulated
  // channel (Config::channel); a perfect channel writes it as it is.
  Status Transmit(Span<uint8_t> packet, uint32_t product_id, uint32_t index, PassReport* report) noexcept;
  Status FlushHeld() noexcept;

  Config config_;
  DownlinkQueue* queue_ = nullptr;
  Catalog* catalog_ = nullptr;
  bool open_ = false;
  UniqueFd radio_;
  UniqueFd log_;
  std::vector<uint8_t> packet_;
  std::vector<uint8_t> held_;  // a packet the channel delivers late (reorder)
  size_t held_bytes_ = 0;
  std::vector<uint8_t> data_;
  std::vector<uint8_t> catalog_buffer_;
  std::vector<uint8_t> state_buffer_;
  std::vector<PacketRange> retx_;  // capacity max_retransmit_ranges
  size_t retx_count_ = 0;
  std::vector<PacketRange> incoming_;  // parse buffer, same capacity
  std::array<uint16_t, kProductKindCount> seq_{};
  uint64_t catalog_watermark_ = 0;
  Resume resume_[2];
  bool state_discarded_ = false;
  // Per-pass timing, valid inside RunWindow.
  uint32_t pass_number_ = 0;
  double pass_start_s_ = 0.0;
};

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_LINK_SIMULATOR_H_
