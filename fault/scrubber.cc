#include "fault/scrubber.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "fault/checksum.h"
#include "fault/events.h"

namespace triage::fault {

Result<std::unique_ptr<Scrubber>> Scrubber::Create(ModelStore& store, const ScrubberOptions& options,
                                                   EventLog* events) {
  if (options.block_bytes == 0) return Status::Error(StatusCode::kInvalidArgument, "scrubber: block_bytes is 0");
  if (options.bytes_per_step == 0) {
    return Status::Error(StatusCode::kInvalidArgument, "scrubber: bytes_per_step is 0 (scrubbing off: do not create one)");
  }
  if (store.size() == 0) return Status::Error(StatusCode::kInvalidArgument, "scrubber: empty model image");
  std::unique_ptr<Scrubber> s(new (std::nothrow) Scrubber(store, options, events));
  if (!s) return Status::Error(StatusCode::kResourceExhausted, "scrubber: out of memory");

  const Span<const uint8_t> image = static_cast<const ModelStore&>(store).bytes(0);
  const size_t blocks = (image.size() + options.block_bytes - 1) / options.block_bytes;
  s->block_crcs_.resize(blocks);
  for (size_t b = 0; b < blocks; ++b) {
    const size_t off = b * options.block_bytes;
    s->block_crcs_[b] = Crc32(image.subspan(off, std::min<size_t>(options.block_bytes, image.size() - off)));
  }
  s->image_crc_ = Crc32(image);
  for (const WeightBuffer& w : store.weight_buffers()) {
    s->weight_crcs_.push_back(Crc32(image.subspan(w.offset, w.bytes)));
  }
  // The copies must start identical: the tables describe all of them.
  for (int c = 1; c < store.copies(); ++c) {
    const Span<const uint8_t> other = static_cast<const ModelStore&>(store).bytes(c);
    if (Crc32(other) != s->image_crc_ || std::memcmp(other.data(), image.data(), image.size()) != 0) {
      return Status::Error(StatusCode::kDataLoss, "scrubber: model copy %d differs from copy 0 at init", c);
    }
  }
  s->blocks_per_step_ = std::max<size_t>(1, options.bytes_per_step / options.block_bytes);
  s->stats_.total_blocks = blocks * static_cast<size_t>(store.copies());
  return s;
}

size_t Scrubber::period_steps() const {
  return (stats_.total_blocks + blocks_per_step_ - 1) / blocks_per_step_;
}

int Scrubber::WeightBufferIn(size_t offset, size_t length) const noexcept {
  const Span<const WeightBuffer> w = store_.weight_buffers();
  // Last buffer starting before the end of the range (buffers are sorted and disjoint).
  size_t lo = 0, hi = w.size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (w[mid].offset < offset + length) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return -1;
  const WeightBuffer& b = w[lo - 1];
  return b.offset + b.bytes > offset ? static_cast<int>(lo - 1) : -1;
}

bool Scrubber::BlockOk(int copy, size_t block) const noexcept {
  const Span<const uint8_t> image = static_cast<const ModelStore&>(store_).bytes(copy);
  const size_t off = block * options_.block_bytes;
  const size_t n = std::min<size_t>(options_.block_bytes, image.size() - off);
  return Crc32(image.subspan(off, n)) == block_crcs_[block];
}

size_t Scrubber::BadBlocks() const noexcept {
  size_t bad = 0;
  for (int c = 0; c < store_.copies(); ++c) {
    for (size_t b = 0; b < block_crcs_.size(); ++b) bad += BlockOk(c, b) ? 0 : 1;
  }
  return bad;
}

bool Scrubber::RepairFromPeer(int copy, size_t block) noexcept {
  const size_t off = block * options_.block_bytes;
  const size_t n = std::min<size_t>(options_.block_bytes, store_.size() - off);
  for (int peer = 0; peer < store_.copies(); ++peer) {
    if (peer == copy || !BlockOk(peer, block)) continue;
    std::memcpy(store_.bytes(copy).data() + off, store_.bytes(peer).data() + off, n);
    return BlockOk(copy, block);
  }
  return false;
}

bool Scrubber::Repair(int copy, size_t block) noexcept {
  if (store_.has_disk_copy()) {
    auto restored = store_.RestoreFromDisk();
    if (restored.ok()) {
      if (restored->primary_file_repaired) {
        ++stats_.file_repairs;
        if (events_ != nullptr) {
          events_->Report(kEventModelFileRepaired, Severity::kWarning, static_cast<int64_t>(store_.size()), 0, 0,
                          "model file failed SHA-256; rewritten from backup");
        }
      }
      if (BadBlocks() == 0) {
        ++stats_.disk_restores;
        if (events_ != nullptr) {
          events_->Report(kEventScrubRepaired, Severity::kInfo, restored->copies_changed,
                          static_cast<int64_t>(restored->source), static_cast<int64_t>(stats_.repairs + 1),
                          "model restored from %s file", restored->source == RestoreSource::kPrimary ? "primary" : "backup");
        }
        return true;
      }
    } else if (events_ != nullptr) {
      events_->Report(kEventScrubRepairFailed, Severity::kError, static_cast<int64_t>(restored.status().code()), 0, 0,
                      "disk restore failed: %.70s", restored.status().message());
    }
  }
  // No verified disk image: mend every bad block from a copy that still
  // matches the CRC table.
  bool all = RepairFromPeer(copy, block);
  for (int c = 0; c < store_.copies() && all; ++c) {
    for (size_t b = 0; b < block_crcs_.size() && all; ++b) {
      if (!BlockOk(c, b)) all = RepairFromPeer(c, b);
    }
  }
  if (all && events_ != nullptr) {
    events_->Report(kEventScrubRepaired, Severity::kInfo, 1, 2, static_cast<int64_t>(stats_.repairs + 1),
                    "model block restored from another in-memory copy");
  }
  if (!all && events_ != nullptr) {
    events_->Report(kEventScrubRepairFailed, Severity::kError, copy, static_cast<int64_t>(block), 0,
                    "no clean copy of block %zu; corruption remains", block);
  }
  return all;
}

ScrubStepResult Scrubber::Step() noexcept {
  ScrubStepResult result;
  ++stats_.steps;
  const size_t per_copy = block_crcs_.size();
  for (size_t i = 0; i < blocks_per_step_; ++i) {
    const size_t cursor = stats_.cursor;
    const int copy = static_cast<int>(cursor / per_copy);
    const size_t block = cursor % per_copy;
    const size_t off = block * options_.block_bytes;
    const size_t n = std::min<size_t>(options_.block_bytes, store_.size() - off);
    const bool ok = BlockOk(copy, block);
    result.bytes_checked += n;
    stats_.bytes_checked += n;
    stats_.cursor = cursor + 1;
    if (stats_.cursor == stats_.total_blocks) {
      stats_.cursor = 0;
      ++stats_.sweeps;
    }
    if (!ok) {
      ++stats_.mismatches;
      result.mismatch = true;
      result.copy = copy;
      result.offset = off;
      result.weight_buffer = WeightBufferIn(off, n);
      if (events_ != nullptr) {
        events_->Report(kEventScrubMismatch, Severity::kWarning, copy, static_cast<int64_t>(off),
                        result.weight_buffer, "CRC mismatch in model copy %d at byte %zu", copy, off);
      }
      result.repaired = Repair(copy, block);
      if (result.repaired) ++stats_.repairs; else ++stats_.repair_failures;
      break;
    }
  }
  return result;
}

size_t Scrubber::CheckAll() noexcept {
  size_t found = 0;
  int first_copy = -1;
  size_t first_block = 0;
  for (int c = 0; c < store_.copies(); ++c) {
    for (size_t b = 0; b < block_crcs_.size(); ++b) {
      if (BlockOk(c, b)) continue;
      if (found++ == 0) {
        first_copy = c;
        first_block = b;
      }
      ++stats_.mismatches;
      const size_t off = b * options_.block_bytes;
      if (events_ != nullptr) {
        events_->Report(kEventScrubMismatch, Severity::kWarning, c, static_cast<int64_t>(off),
                        WeightBufferIn(off, options_.block_bytes), "CRC mismatch in model copy %d at byte %zu", c,
                        off);
      }
    }
  }
  // One repair restores every copy (or mends every bad block from peers).
  if (found > 0) {
    if (Repair(first_copy, first_block)) ++stats_.repairs; else ++stats_.repair_failures;
  }
  return found;
}

}  // namespace triage::fault
