// DownlinkQueue: the persistent, prioritised store of products awaiting
// downlink. One file per product under <storage_dir>/queue/.
//
// Durability: Enqueue writes "<id>.tmp", fsyncs it, renames it to "<id>.item"
// and fsyncs the directory before returning OK, so an accepted product
// survives kill -9 or power loss at any instant. Open() runs the recovery
// scan: it deletes torn .tmp files, checks every item's header CRC (and,
// if Config::verify_payload_on_open, its payload CRC), drops files that fail,
// and rebuilds the index. See downlink/README.md for the file format.
//
// Order: catalog products first, then higher priority first, then older
// (lower product id) first. Eviction, when the quota or max_queue_items is
// reached, first deletes already-sent items kept for retransmission (oldest
// first), then unsent items from the back of the send order, but only items
// that would be sent after the new one; otherwise Enqueue fails with
// kResourceExhausted and nothing is evicted.
//
// Memory: Open reserves the index (Config::max_queue_items entries, 168 B
// each) and a 64 KiB scratch buffer; Enqueue, ReadPayload and the state
// changes do not allocate (OpenSSL's SHA-256 context is created at Open).
// Thread safety: none; one owner (the downlink task) calls everything.
#ifndef TRIAGE_DOWNLINK_QUEUE_H_
#define TRIAGE_DOWNLINK_QUEUE_H_

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "downlink/checksum.h"
#include "downlink/config.h"
#include "downlink/durable_file.h"
#include "downlink/product.h"

namespace triage::downlink {

enum class ItemState : uint8_t {
  kPending = 0,  // not completely sent yet
  kSent = 1,     // every packet sent once; kept for retransmission requests
};

struct QueueItem {
  uint32_t product_id = 0;
  ProductMeta meta;  // payload_bytes and payload_sha256 filled in
  uint32_t packet_count = 0;
  uint64_t file_bytes = 0;
  ItemState state = ItemState::kPending;
  bool evict_planned = false;  // internal scratch flag during Enqueue
};

// True if a is sent before b (the queue's total order).
bool SendsBefore(const QueueItem& a, const QueueItem& b) noexcept;

struct QueueRecovery {
  uint32_t items_loaded = 0;
  uint32_t temp_files_dropped = 0;
  uint32_t corrupt_files_dropped = 0;
  uint32_t unknown_files_ignored = 0;
  Status last_drop;  // why the last corrupt file was dropped (OK if none)
};

// Told about each unsent item just before eviction deletes it (the catalog
// marks the frame's row evicted). A non-OK Status aborts the Enqueue.
class EvictionListener {
 public:
  virtual ~EvictionListener() = default;
  virtual Status OnEvicting(const QueueItem& item) noexcept = 0;
};

constexpr uint32_t kItemHeaderBytes = 168;

class DownlinkQueue {
 public:
  DownlinkQueue() = default;
  DownlinkQueue(const DownlinkQueue&) = delete;
  DownlinkQueue& operator=(const DownlinkQueue&) = delete;

  // Init-only. Validates config, creates directories, recovers. The listener
  // (may be null) must outlive the queue.
  Status Open(const Config& config, EvictionListener* listener = nullptr) noexcept;
  bool is_open() const { return open_; }
  const QueueRecovery& recovery() const { return recovery_; }

  // Stores the payload with its metadata. meta.payload_bytes/payload_sha256
  // are computed here; meta.confidence must be finite. Returns the new
  // product id (>= 1) only once the item is durable. May evict (see above).
  Result<uint32_t> Enqueue(const ProductMeta& meta, Span<const uint8_t> payload) noexcept;

  // Highest-ranked pending item, or nullptr when nothing is pending.
  const QueueItem* NextPending() const noexcept;
  const QueueItem* Find(uint32_t product_id) const noexcept;
  // All items (pending and sent) in product-id order. Invalidated by any
  // mutating call.
  Span<const QueueItem> items() const { return Span<const QueueItem>(items_.data(), items_.size()); }
  size_t pending_count() const noexcept;
  uint64_t used_bytes() const { return used_bytes_; }
  uint64_t evicted_count() const { return evicted_count_; }

  // Copies payload bytes [offset, offset + out.size()) of a product.
  Status ReadPayload(uint32_t product_id, uint64_t offset, Span<uint8_t> out) noexcept;
  // Pending -> sent, durably (rename + directory fsync).
  Status MarkSent(uint32_t product_id) noexcept;
  // Deletes a product (ground acknowledgement, reconciliation). Does not call
  // the eviction listener.
  Status Remove(uint32_t product_id) noexcept;

 private:
  Status Recover() noexcept;
  Status LoadItemFile(const char* name, uint32_t id, ItemState state) noexcept;
  Status ReserveIds() noexcept;
  Status ItemPath(uint32_t id, ItemState state, char* out) const noexcept;
  Status DeleteItemAt(size_t index) noexcept;  // unlink + erase, no dir fsync
  size_t IndexOf(uint32_t product_id) const noexcept;
  Status PlanEviction(const QueueItem& incoming) noexcept;
  void ClearPlan() noexcept;

  Config config_;
  EvictionListener* listener_ = nullptr;
  bool open_ = false;
  char queue_dir_[kMaxPath] = {};
  std::vector<QueueItem> items_;  // sorted by product id; capacity fixed at Open
  std::vector<uint8_t> scratch_;
  Sha256 sha_;
  uint64_t used_bytes_ = 0;
  uint64_t evicted_count_ = 0;
  uint32_t next_id_ = 1;
  uint32_t reserved_until_ = 1;  // ids below this are durably reserved
  UniqueFd cached_fd_;
  uint32_t cached_id_ = 0;
  QueueRecovery recovery_;
};

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_QUEUE_H_
