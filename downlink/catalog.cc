#include "downlink/catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "downlink/byte_order.h"
#include "downlink/checksum.h"

namespace triage::downlink {
namespace {

constexpr uint8_t kRecordMagic[4] = {'T', 'C', 'J', '1'};
constexpr uint8_t kProductMagic[4] = {'T', 'C', 'A', 'T'};
constexpr uint16_t kProductVersion = 1;
constexpr size_t kRecordsPerRead = 1024;

void EncodeRecord(const CatalogRow& row, uint64_t seq, uint8_t* r) {
  std::memcpy(r, kRecordMagic, 4);
  PutU64(r + 4, seq);
  EncodeCatalogRow(row, r + 12);
  PutU32(r + 44, Crc32(Span<const uint8_t>(r, 44)));
}

bool SameRow(const CatalogRow& a, const CatalogRow& b) {
  uint8_t ea[kCatalogRowBytes];
  uint8_t eb[kCatalogRowBytes];
  EncodeCatalogRow(a, ea);
  EncodeCatalogRow(b, eb);
  return std::memcmp(ea, eb, kCatalogRowBytes) == 0;
}

}  // namespace

const char* FrameDecisionName(uint8_t decision) noexcept {
  switch (static_cast<FrameDecision>(decision)) {
    case FrameDecision::kDiscarded: return "discarded";
    case FrameDecision::kThumbnail: return "thumbnail";
    case FrameDecision::kFull: return "full";
    case FrameDecision::kFullAndThumbnail: return "full+thumbnail";
  }
  return nullptr;
}

void EncodeCatalogRow(const CatalogRow& row, uint8_t* p) noexcept {
  PutU64(p, row.frame_id);
  PutU64(p + 8, row.timestamp);
  PutF32(p + 16, row.confidence);
  PutU32(p + 20, row.bytes);
  PutU16(p + 24, row.class_id);
  p[26] = row.decision;
  p[27] = row.evicted_kinds;
  PutU32(p + 28, 0);
}

Result<CatalogRow> DecodeCatalogRow(Span<const uint8_t> in) noexcept {
  if (in.size() < kCatalogRowBytes) {
    return Status::Error(StatusCode::kDataLoss, "catalog row: truncated: %zu of %u bytes", in.size(),
                         kCatalogRowBytes);
  }
  const uint8_t* p = in.data();
  if (GetU32(p + 28) != 0) return Status::Error(StatusCode::kInvalidArgument, "catalog row: reserved bytes not 0");
  if (p[27] >= (1u << kProductKindCount)) {
    return Status::Error(StatusCode::kInvalidArgument, "catalog row: evicted kinds 0x%02x has unknown bits", p[27]);
  }
  CatalogRow row;
  row.frame_id = GetU64(p);
  row.timestamp = GetU64(p + 8);
  row.confidence = GetF32(p + 16);
  row.bytes = GetU32(p + 20);
  row.class_id = GetU16(p + 24);
  row.decision = p[26];
  row.evicted_kinds = p[27];
  return row;
}

Result<uint32_t> ParseCatalogProduct(Span<const uint8_t> payload) noexcept {
  if (payload.size() < kCatalogProductHeaderBytes) {
    return Status::Error(StatusCode::kDataLoss, "catalog product: %zu bytes, shorter than its header",
                         payload.size());
  }
  const uint8_t* p = payload.data();
  if (std::memcmp(p, kProductMagic, 4) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "catalog product: bad magic");
  }
  if (GetU16(p + 4) != kProductVersion || GetU16(p + 6) != kCatalogRowBytes || GetU32(p + 12) != 0) {
    return Status::Error(StatusCode::kUnsupported, "catalog product: version %u row size %u not supported",
                         GetU16(p + 4), GetU16(p + 6));
  }
  const uint32_t rows = GetU32(p + 8);
  const uint64_t expected = kCatalogProductHeaderBytes + uint64_t{rows} * kCatalogRowBytes;
  if (payload.size() != expected) {
    return Status::Error(StatusCode::kDataLoss, "catalog product: %u rows need %llu bytes, have %zu", rows,
                         static_cast<unsigned long long>(expected), payload.size());
  }
  return rows;
}

Status Catalog::Open(const Config& config) noexcept {
  if (open_) return Status::Error(StatusCode::kFailedPrecondition, "catalog: already open");
  TRIAGE_RETURN_IF_ERROR(ValidateConfig(config));
  config_ = config;
  size_t slots = 1;
  while (slots < size_t{config.catalog_capacity_rows} * 2) slots <<= 1;
  rows_.clear();
  seqs_.clear();
  last_seq_ = 0;
  recovery_ = CatalogRecovery{};
  try {
    rows_.reserve(config.catalog_capacity_rows);
    seqs_.reserve(config.catalog_capacity_rows);
    slots_.assign(slots, 0);
    scratch_.resize(kRecordsPerRead * kCatalogRecordBytes);
  } catch (...) {
    return Status::Error(StatusCode::kResourceExhausted, "catalog: cannot reserve %u rows",
                         config.catalog_capacity_rows);
  }
  TRIAGE_RETURN_IF_ERROR(MakeDirs(config_.storage_dir.c_str()));
  TRIAGE_RETURN_IF_ERROR(FormatPath(journal_path_, "%s/catalog.journal", config_.storage_dir.c_str()));
  TRIAGE_RETURN_IF_ERROR(Recover().WithContext("catalog %s", journal_path_));
  open_ = true;
  return Status::Ok();
}

size_t Catalog::Slot(uint64_t frame_id) const noexcept {
  // Fibonacci hashing; the table is a power of two at least twice the rows,
  // so a probe always finds the key or an empty slot within the loop bound.
  const size_t mask = slots_.size() - 1;
  size_t s = static_cast<size_t>((frame_id * 0x9E3779B97F4A7C15ull) >> 17) & mask;
  for (size_t probe = 0; probe < slots_.size(); ++probe) {
    const uint32_t v = slots_[s];
    if (v == 0 || rows_[v - 1].frame_id == frame_id) return s;
    s = (s + 1) & mask;
  }
  return slots_.size();  // unreachable while rows < slots
}

const CatalogRow* Catalog::Find(uint64_t frame_id) const noexcept {
  const size_t s = Slot(frame_id);
  if (s == slots_.size() || slots_[s] == 0) return nullptr;
  return &rows_[slots_[s] - 1];
}

void Catalog::Apply(const CatalogRow& row, uint64_t seq) noexcept {
  const size_t s = Slot(row.frame_id);
  TRIAGE_DCHECK(s < slots_.size());
  if (slots_[s] != 0) {
    rows_[slots_[s] - 1] = row;
    seqs_[slots_[s] - 1] = seq;
  } else {
    rows_.push_back(row);  // capacity checked by callers
    seqs_.push_back(seq);
    slots_[s] = static_cast<uint32_t>(rows_.size());
  }
  last_seq_ = std::max(last_seq_, seq);
}

Status Catalog::Recover() noexcept {
  char tmp[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(FormatPath(tmp, "%s.tmp", journal_path_));
  TRIAGE_RETURN_IF_ERROR(RemoveFile(tmp));  // an interrupted compaction
  bool created = false;
  int raw = ::open(journal_path_, O_RDWR | O_CLOEXEC);
  if (raw < 0 && errno == ENOENT) {
    raw = ::open(journal_path_, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    created = true;
  }
  if (raw < 0) return Status::Error(StatusCode::kIoError, "open: %s", std::strerror(errno));
  fd_.Reset(raw);
  if (created) TRIAGE_RETURN_IF_ERROR(SyncDir(config_.storage_dir.c_str()));
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0) return Status::Error(StatusCode::kIoError, "stat: %s", std::strerror(errno));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint64_t records = size / kCatalogRecordBytes;
  uint64_t good_end = 0;  // end of the last valid record
  uint64_t i = 0;
  while (i < records) {  // bounded: i advances by at least one batch each turn
    const uint64_t batch = std::min<uint64_t>(kRecordsPerRead, records - i);
    TRIAGE_RETURN_IF_ERROR(PreadAll(fd_.get(), i * kCatalogRecordBytes,
                                    Span<uint8_t>(scratch_.data(), batch * kCatalogRecordBytes), journal_path_));
    for (uint64_t j = 0; j < batch; ++j) {
      const uint8_t* r = scratch_.data() + j * kCatalogRecordBytes;
      Result<CatalogRow> row = DecodeCatalogRow(Span<const uint8_t>(r + 12, kCatalogRowBytes));
      const bool valid = std::memcmp(r, kRecordMagic, 4) == 0 &&
                         GetU32(r + 44) == Crc32(Span<const uint8_t>(r, 44)) && row.ok();
      if (!valid) {
        ++recovery_.corrupt_records_skipped;
        continue;
      }
      if (Find(row.value().frame_id) == nullptr && rows_.size() >= config_.catalog_capacity_rows) {
        return Status::Error(StatusCode::kResourceExhausted, "journal holds more than %u frames",
                             config_.catalog_capacity_rows);
      }
      Apply(row.value(), GetU64(r + 4));
      ++recovery_.records_read;
      good_end = (i + j + 1) * kCatalogRecordBytes;
    }
    i += batch;
  }
  // Invalid records after the last valid one are a torn append, not damage.
  const uint64_t torn_records = (size - good_end) / kCatalogRecordBytes;
  recovery_.corrupt_records_skipped -= std::min(recovery_.corrupt_records_skipped, torn_records);
  if (good_end != size) {
    recovery_.torn_tail_bytes_dropped = size - good_end;
    if (::ftruncate(fd_.get(), static_cast<off_t>(good_end)) != 0) {
      return Status::Error(StatusCode::kIoError, "truncate torn tail: %s", std::strerror(errno));
    }
    TRIAGE_RETURN_IF_ERROR(SyncFd(fd_.get(), journal_path_));
  }
  file_bytes_ = good_end;
  record_count_ = good_end / kCatalogRecordBytes;
  if (record_count_ > 2 * rows_.size() + kRecordsPerRead) TRIAGE_RETURN_IF_ERROR(Compact());
  return Status::Ok();
}

Status Catalog::Compact() noexcept {
  char tmp[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(FormatPath(tmp, "%s.tmp", journal_path_));
  {
    UniqueFd out(::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!out.valid()) return Status::Error(StatusCode::kIoError, "%s: open: %s", tmp, std::strerror(errno));
    size_t i = 0;
    while (i < rows_.size()) {
      const size_t batch = std::min(kRecordsPerRead, rows_.size() - i);
      for (size_t j = 0; j < batch; ++j) {
        EncodeRecord(rows_[i + j], seqs_[i + j], scratch_.data() + j * kCatalogRecordBytes);
      }
      TRIAGE_RETURN_IF_ERROR(
          WriteAll(out.get(), Span<const uint8_t>(scratch_.data(), batch * kCatalogRecordBytes), tmp));
      i += batch;
    }
    TRIAGE_RETURN_IF_ERROR(SyncFd(out.get(), tmp));
  }
  if (::rename(tmp, journal_path_) != 0) {
    return Status::Error(StatusCode::kIoError, "%s: rename: %s", journal_path_, std::strerror(errno));
  }
  TRIAGE_RETURN_IF_ERROR(SyncDir(config_.storage_dir.c_str()));
  fd_.Reset(::open(journal_path_, O_RDWR | O_CLOEXEC));
  if (!fd_.valid()) return Status::Error(StatusCode::kIoError, "reopen: %s", std::strerror(errno));
  record_count_ = rows_.size();
  file_bytes_ = record_count_ * kCatalogRecordBytes;
  recovery_.compacted = true;
  return Status::Ok();
}

Status Catalog::Append(const CatalogRow& row) noexcept {
  uint8_t r[kCatalogRecordBytes];
  const uint64_t seq = last_seq_ + 1;
  EncodeRecord(row, seq, r);
  // pwrite at our own end offset (not O_APPEND) so that a failed, partial
  // write is overwritten by the next attempt instead of leaving a torn record
  // in the middle of the journal.
  size_t done = 0;
  for (int tries = 0; done < kCatalogRecordBytes && tries < 64; ++tries) {
    const ssize_t n = ::pwrite(fd_.get(), r + done, kCatalogRecordBytes - done,
                               static_cast<off_t>(file_bytes_ + done));
    if (n < 0 && errno != EINTR) {
      return Status::Error(StatusCode::kIoError, "catalog append: %s", std::strerror(errno));
    }
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (done != kCatalogRecordBytes) return Status::Error(StatusCode::kIoError, "catalog append made no progress");
  if (::fdatasync(fd_.get()) != 0) {
    return Status::Error(StatusCode::kIoError, "catalog fdatasync: %s", std::strerror(errno));
  }
  file_bytes_ += kCatalogRecordBytes;
  ++record_count_;
  Apply(row, seq);
  return Status::Ok();
}

Status Catalog::Record(const CatalogRow& row) noexcept {
  if (!open_) return Status::Error(StatusCode::kFailedPrecondition, "catalog: Record before Open");
  if (row.evicted_kinds >= (1u << kProductKindCount)) {
    return Status::Error(StatusCode::kInvalidArgument, "catalog frame %llu: evicted kinds 0x%02x has unknown bits",
                         static_cast<unsigned long long>(row.frame_id), row.evicted_kinds);
  }
  const CatalogRow* existing = Find(row.frame_id);
  CatalogRow merged = row;
  if (existing != nullptr) {
    merged.evicted_kinds = static_cast<uint8_t>(merged.evicted_kinds | existing->evicted_kinds);
    if (SameRow(merged, *existing)) return Status::Ok();
  } else if (rows_.size() >= config_.catalog_capacity_rows) {
    return Status::Error(StatusCode::kResourceExhausted, "catalog full: %u frames recorded; frame %llu refused",
                         config_.catalog_capacity_rows, static_cast<unsigned long long>(row.frame_id));
  }
  return Append(merged);
}

Status Catalog::MarkEvicted(uint64_t frame_id, ProductKind kind) noexcept {
  if (!open_) return Status::Error(StatusCode::kFailedPrecondition, "catalog: MarkEvicted before Open");
  const CatalogRow* existing = Find(frame_id);
  if (existing == nullptr) return Status::Ok();
  const uint8_t bit = static_cast<uint8_t>(1u << static_cast<uint8_t>(kind));
  if (existing->evicted_kinds & bit) return Status::Ok();
  CatalogRow updated = *existing;
  updated.evicted_kinds = static_cast<uint8_t>(updated.evicted_kinds | bit);
  return Append(updated);
}

Status Catalog::OnEvicting(const QueueItem& item) noexcept {
  if (item.meta.kind == ProductKind::kCatalog) return Status::Ok();
  return MarkEvicted(item.meta.frame_id, item.meta.kind);
}

Result<size_t> Catalog::EncodeChangedRows(uint64_t since, size_t* cursor, Span<uint8_t> out,
                                          uint32_t* rows_written) const noexcept {
  if (out.size() < kCatalogProductHeaderBytes + kCatalogRowBytes) {
    return Status::Error(StatusCode::kResourceExhausted, "catalog product buffer of %zu bytes holds no row",
                         out.size());
  }
  const size_t capacity = (out.size() - kCatalogProductHeaderBytes) / kCatalogRowBytes;
  uint32_t count = 0;
  size_t i = *cursor;
  for (; i < rows_.size(); ++i) {
    if (seqs_[i] <= since) continue;
    if (count == capacity) break;
    EncodeCatalogRow(rows_[i], out.data() + kCatalogProductHeaderBytes + size_t{count} * kCatalogRowBytes);
    ++count;
  }
  *cursor = i;
  uint8_t* h = out.data();
  std::memcpy(h, kProductMagic, 4);
  PutU16(h + 4, kProductVersion);
  PutU16(h + 6, kCatalogRowBytes);
  PutU32(h + 8, count);
  PutU32(h + 12, 0);
  *rows_written = count;
  return kCatalogProductHeaderBytes + size_t{count} * kCatalogRowBytes;
}

Status Catalog::ExportCsv(const char* path) const noexcept {
  char tmp[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(FormatPath(tmp, "%s.tmp", path));
  std::FILE* f = std::fopen(tmp, "w");
  if (f == nullptr) return Status::Error(StatusCode::kIoError, "%s: fopen: %s", tmp, std::strerror(errno));
  bool ok = std::fprintf(f, "frame_id,timestamp,class_id,confidence,decision,bytes,evicted,evicted_kinds\n") > 0;
  for (size_t i = 0; i < rows_.size() && ok; ++i) {
    const CatalogRow& r = rows_[i];
    char decision[16];
    const char* name = FrameDecisionName(r.decision);
    std::snprintf(decision, sizeof(decision), "%s", name != nullptr ? name : "");
    if (name == nullptr) std::snprintf(decision, sizeof(decision), "%u", r.decision);
    char kinds[40] = "";
    size_t used = 0;
    for (int k = 0; k < kProductKindCount; ++k) {
      if (!(r.evicted_kinds & (1u << k))) continue;
      used += static_cast<size_t>(std::snprintf(kinds + used, sizeof(kinds) - used, "%s%s", used ? "|" : "",
                                                ProductKindName(static_cast<ProductKind>(k))));
    }
    ok = std::fprintf(f, "%llu,%llu,%u,%.9g,%s,%u,%d,%s\n", static_cast<unsigned long long>(r.frame_id),
                      static_cast<unsigned long long>(r.timestamp), r.class_id, static_cast<double>(r.confidence),
                      decision, r.bytes, r.evicted() ? 1 : 0, kinds) > 0;
  }
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(::fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) return Status::Error(StatusCode::kIoError, "%s: write failed", tmp);
  if (std::rename(tmp, path) != 0) {
    return Status::Error(StatusCode::kIoError, "%s: rename: %s", path, std::strerror(errno));
  }
  return Status::Ok();
}

Result<uint32_t> CompleteInterruptedEvictions(const Catalog& catalog, DownlinkQueue* queue) noexcept {
  if (queue == nullptr || !queue->is_open()) {
    return Status::Error(StatusCode::kFailedPrecondition, "reconcile: queue not open");
  }
  uint32_t removed = 0;
  const size_t bound = queue->items().size();
  size_t i = 0;
  for (size_t n = 0; n < bound && i < queue->items().size(); ++n) {
    const QueueItem& item = queue->items()[i];
    const CatalogRow* row = item.meta.kind == ProductKind::kCatalog ? nullptr : catalog.Find(item.meta.frame_id);
    const uint8_t bit = static_cast<uint8_t>(1u << static_cast<uint8_t>(item.meta.kind));
    if (row != nullptr && item.state == ItemState::kPending && (row->evicted_kinds & bit) != 0) {
      TRIAGE_RETURN_IF_ERROR(queue->Remove(item.product_id));
      ++removed;
    } else {
      ++i;
    }
  }
  return removed;
}

}  // namespace triage::downlink
