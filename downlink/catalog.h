// Catalog: one row per frame the payload ever saw, including discarded ones,
// persisted crash-safely and sent down at the start of every pass.
//
// Storage: an append-only journal, <storage_dir>/catalog.journal, of fixed
// 48-byte records, each with its own CRC-32. A change is durable when Record
// or MarkEvicted returns OK (write + fdatasync). Open replays the journal:
// a torn or corrupt last record is truncated away (a crash mid-append), a bad
// record in the middle is skipped and counted (media damage; fixed-size
// records let the scan resynchronise), and rows are rebuilt by frame id, last
// record wins. When the journal holds more than twice as many records as
// rows, Open compacts it (temp file, fsync, rename, directory fsync).
//
// Memory: Open reserves Config::catalog_capacity_rows rows (32 B + 8 B change
// sequence + 8 B hash slots each) and a 48 KiB read buffer. Record, MarkEvicted
// and EncodeChangedRows do not allocate. ExportCsv uses stdio (ground/debug).
// Thread safety: none; one owner.
#ifndef TRIAGE_DOWNLINK_CATALOG_H_
#define TRIAGE_DOWNLINK_CATALOG_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "downlink/config.h"
#include "downlink/durable_file.h"
#include "downlink/product.h"
#include "downlink/queue.h"

namespace triage::downlink {

// What the application decided for a frame. Stored as a byte; values the
// application adds later are kept and printed as numbers.
enum class FrameDecision : uint8_t {
  kDiscarded = 0,
  kThumbnail = 1,
  kFull = 2,
  kFullAndThumbnail = 3,
};
const char* FrameDecisionName(uint8_t decision) noexcept;  // nullptr if unknown

struct CatalogRow {
  uint64_t frame_id = 0;
  uint64_t timestamp = 0;  // capture time, caller units
  uint16_t class_id = 0;
  float confidence = 0.0f;
  uint8_t decision = 0;     // FrameDecision
  uint32_t bytes = 0;       // payload bytes queued for the frame, all products
  uint8_t evicted_kinds = 0;  // bit (1 << ProductKind) set once that product was evicted unsent
  bool evicted() const { return evicted_kinds != 0; }
};

// Compact binary row (32 bytes, big-endian):
//   0 8 frame id | 8 8 timestamp | 16 4 confidence (binary32) | 20 4 bytes |
//   24 2 class id | 26 1 decision | 27 1 evicted kinds | 28 4 reserved (0)
constexpr uint32_t kCatalogRowBytes = 32;
void EncodeCatalogRow(const CatalogRow& row, uint8_t* out) noexcept;  // writes 32 bytes
Result<CatalogRow> DecodeCatalogRow(Span<const uint8_t> in) noexcept;

// Catalog product payload: 16-byte header then rows.
//   0 4 "TCAT" | 4 2 version (1) | 6 2 row size (32) | 8 4 row count | 12 4 reserved (0)
constexpr uint32_t kCatalogProductHeaderBytes = 16;
// Validates the header and size; returns the row count. Row i starts at
// kCatalogProductHeaderBytes + i * kCatalogRowBytes.
Result<uint32_t> ParseCatalogProduct(Span<const uint8_t> payload) noexcept;

// Journal record (48 bytes): 0 4 "TCJ1" | 4 8 change sequence | 12 32 row |
// 44 4 CRC-32 over bytes [0, 44).
constexpr uint32_t kCatalogRecordBytes = 48;

struct CatalogRecovery {
  uint64_t records_read = 0;
  uint64_t torn_tail_bytes_dropped = 0;
  uint64_t corrupt_records_skipped = 0;
  bool compacted = false;
};

class Catalog : public EvictionListener {
 public:
  Catalog() = default;
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // Init-only: validates config, opens or creates the journal, recovers.
  Status Open(const Config& config) noexcept;
  const CatalogRecovery& recovery() const { return recovery_; }

  // Adds the row of a new frame or replaces the row of a known frame id
  // (keeping already-set evicted bits). Durable on OK. kResourceExhausted when
  // catalog_capacity_rows distinct frames are already recorded.
  Status Record(const CatalogRow& row) noexcept;
  // Sets the evicted bit for one product kind of a frame. Durable on OK; an
  // unknown frame id is not an error (nothing to mark).
  Status MarkEvicted(uint64_t frame_id, ProductKind kind) noexcept;
  // EvictionListener: marks the frame of an evicted full/thumbnail product.
  Status OnEvicting(const QueueItem& item) noexcept override;

  const CatalogRow* Find(uint64_t frame_id) const noexcept;
  size_t size() const { return rows_.size(); }
  const CatalogRow& row(size_t i) const { return rows_[i]; }
  // Change sequence of row i: increases with every durable change.
  uint64_t change_seq(size_t i) const { return seqs_[i]; }
  uint64_t last_change_seq() const { return last_seq_; }

  // Writes a catalog product (header + rows) into out from the rows with
  // change_seq > since, starting at row index *cursor, as many as fit. Moves
  // *cursor past the rows examined; the caller loops until *cursor == size().
  // Returns the bytes written and the row count via rows_written.
  Result<size_t> EncodeChangedRows(uint64_t since, size_t* cursor, Span<uint8_t> out,
                                   uint32_t* rows_written) const noexcept;

  // Writes every row as CSV (header line first) to path, atomically.
  Status ExportCsv(const char* path) const noexcept;

 private:
  Status Recover() noexcept;
  Status Compact() noexcept;
  Status Append(const CatalogRow& row) noexcept;  // durable journal write
  void Apply(const CatalogRow& row, uint64_t seq) noexcept;
  size_t Slot(uint64_t frame_id) const noexcept;

  Config config_;
  bool open_ = false;
  char journal_path_[kMaxPath] = {};
  UniqueFd fd_;
  uint64_t file_bytes_ = 0;
  uint64_t record_count_ = 0;
  uint64_t last_seq_ = 0;
  std::vector<CatalogRow> rows_;   // insertion order, capacity fixed at Open
  std::vector<uint64_t> seqs_;     // change sequence per row
  std::vector<uint32_t> slots_;    // open-addressing frame id -> row index + 1
  std::vector<uint8_t> scratch_;
  CatalogRecovery recovery_;
};

// Start-up reconciliation, after both are opened: eviction records the
// catalog row first and deletes the file second, so a crash in between leaves
// a pending item whose row already says evicted. This finishes those
// deletions and returns how many items it removed.
Result<uint32_t> CompleteInterruptedEvictions(const Catalog& catalog, DownlinkQueue* queue) noexcept;

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_CATALOG_H_
