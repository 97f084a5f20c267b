// Scrubber: finds bit flips in the in-memory model copies between frames and
// repairs them.
//
// At Create it computes, over copy 0 (all copies must be identical), a CRC32
// per weight buffer, a CRC32 over the whole model image (the file as loaded)
// and a CRC32 per fixed-size block of the image (block_bytes). Step()
// re-checks the next whole blocks of every copy, at most bytes_per_step
// bytes (at least one block), so its cost per frame is bounded. One full
// sweep over all copies takes period_steps() steps, and an upset anywhere in
// any copy is found within one period of the moment it happened.
//
// On a mismatch it raises an event, restores every copy from the model file
// verified against its stored SHA-256 (ModelStore::RestoreFromDisk, falling
// back to the backup file and repairing the primary), and re-verifies all
// copies. When there is no disk copy, or the disk copies fail their digest,
// it repairs the block from another in-memory copy whose block still matches
// its CRC. Otherwise the mismatch stays, is reported, and is retried on the
// next sweep.
//
// Phase: Create is init-time (CRC tables). Step, CheckAll and the telemetry
// are flight-safe: no allocation, no exceptions; a repair costs one file read,
// one SHA-256 and a copy of the image (rare). Thread safety: single owner,
// between frames (never while an interpreter on the store runs).
#ifndef TRIAGE_FAULT_SCRUBBER_H_
#define TRIAGE_FAULT_SCRUBBER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/event.h"
#include "core/result.h"
#include "fault/model_store.h"

namespace triage::fault {

struct ScrubberOptions {
  uint32_t bytes_per_step = 64 * 1024;  // fault::Config::scrub_bytes_per_frame
  uint32_t block_bytes = 1024;          // CRC granularity
};

struct ScrubStats {
  uint64_t steps = 0;
  uint64_t bytes_checked = 0;
  uint64_t sweeps = 0;            // completed full passes over every copy
  uint64_t mismatches = 0;        // blocks found corrupted
  uint64_t repairs = 0;           // successful restores (disk or in-memory)
  uint64_t disk_restores = 0;     // of which from a verified disk image
  uint64_t file_repairs = 0;      // primary file rewritten from the backup
  uint64_t repair_failures = 0;
  size_t cursor = 0;              // next block (over all copies)
  size_t total_blocks = 0;        // blocks per sweep (all copies)
  uint32_t progress_permille() const {
    return total_blocks == 0 ? 0 : static_cast<uint32_t>(cursor * 1000 / total_blocks);
  }
};

struct ScrubStepResult {
  size_t bytes_checked = 0;
  bool mismatch = false;   // a corrupted block was found in this step
  bool repaired = false;   // ... and every copy is clean again
  int copy = -1;           // where the mismatch was
  size_t offset = 0;       // byte offset of the block in that copy
  int weight_buffer = -1;  // index into ModelStore::weight_buffers(), -1 if not weights
};

class Scrubber {
 public:
  // The store must outlive the scrubber; events may be null.
  static Result<std::unique_ptr<Scrubber>> Create(ModelStore& store, const ScrubberOptions& options,
                                                  EventLog* events);

  ScrubStepResult Step() noexcept;
  // Checks every block of every copy now and repairs once if any is bad (as
  // Step would). Returns the number of corrupted blocks found.
  size_t CheckAll() noexcept;
  // Restarts the sweep at a block (tests and the injection campaign).
  void SeekBlock(size_t block) noexcept { stats_.cursor = block % stats_.total_blocks; }

  size_t period_steps() const;
  size_t blocks_per_step() const { return blocks_per_step_; }
  size_t blocks_per_copy() const { return block_crcs_.size(); }
  const ScrubStats& stats() const { return stats_; }
  uint32_t image_crc() const { return image_crc_; }
  Span<const uint32_t> weight_crcs() const { return Span<const uint32_t>(weight_crcs_); }
  // Index of a weight buffer overlapping [offset, offset + length), or -1.
  int WeightBufferIn(size_t offset, size_t length) const noexcept;

 private:
  Scrubber(ModelStore& store, const ScrubberOptions& options, EventLog* events)
      : store_(store), options_(options), events_(events) {}
  bool BlockOk(int copy, size_t block) const noexcept;
  bool Repair(int copy, size_t block) noexcept;
  bool RepairFromPeer(int copy, size_t block) noexcept;
  size_t BadBlocks() const noexcept;

  ModelStore& store_;
  ScrubberOptions options_;
  EventLog* events_;
  std::vector<uint32_t> block_crcs_;
  std::vector<uint32_t> weight_crcs_;
  uint32_t image_crc_ = 0;
  size_t blocks_per_step_ = 1;
  ScrubStats stats_;
};

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_SCRUBBER_H_
