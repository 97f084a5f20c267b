#include "downlink/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "downlink/byte_order.h"

namespace triage::downlink {
namespace {

constexpr uint8_t kItemMagic[4] = {'T', 'Q', 'I', '1'};
constexpr uint8_t kIdsMagic[4] = {'T', 'Q', 'I', 'D'};
constexpr uint32_t kIdsFileBytes = 12;
// Ids are reserved durably in blocks so that a restart never reuses an id even
// when every item file has been deleted, at the cost of one small atomic file
// write per block rather than per Enqueue.
constexpr uint32_t kIdBlock = 256;
constexpr size_t kScratchBytes = 64 * 1024;
constexpr size_t kMaxDirEntries = size_t{1} << 22;

const char* Suffix(ItemState state) { return state == ItemState::kSent ? "sent" : "item"; }

// Parses "xxxxxxxx.<suffix>" (8 lower-case hex digits). Returns false otherwise.
bool ParseItemName(const char* name, uint32_t* id, const char** suffix) {
  uint32_t v = 0;
  for (int i = 0; i < 8; ++i) {
    const char c = name[i];
    uint32_t d;
    if (c >= '0' && c <= '9') d = static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<uint32_t>(c - 'a' + 10);
    else return false;
    v = (v << 4) | d;
  }
  if (name[8] != '.') return false;
  *id = v;
  *suffix = name + 9;
  return true;
}

void EncodeItemHeader(uint32_t id, const ProductMeta& meta, uint32_t payload_crc, uint8_t* h) {
  std::memset(h, 0, kItemHeaderBytes);
  std::memcpy(h, kItemMagic, 4);
  PutU32(h + 4, id);
  PutU64(h + 8, meta.payload_bytes);
  PutU32(h + 16, payload_crc);
  (void)EncodeMetadata(meta, Span<uint8_t>(h + 24, kMetadataBytes));
  PutU32(h + 164, Crc32(Span<const uint8_t>(h, 164)));
}

}  // namespace

bool SendsBefore(const QueueItem& a, const QueueItem& b) noexcept {
  const bool a_catalog = a.meta.kind == ProductKind::kCatalog;
  const bool b_catalog = b.meta.kind == ProductKind::kCatalog;
  if (a_catalog != b_catalog) return a_catalog;
  if (a.meta.priority != b.meta.priority) return a.meta.priority > b.meta.priority;
  return a.product_id < b.product_id;
}

Status DownlinkQueue::Open(const Config& config, EvictionListener* listener) noexcept {
  if (open_) return Status::Error(StatusCode::kFailedPrecondition, "queue: already open");
  TRIAGE_RETURN_IF_ERROR(ValidateConfig(config));
  items_.clear();
  used_bytes_ = 0;
  try {
    config_ = config;
    items_.reserve(config.max_queue_items);
    scratch_.resize(kScratchBytes);
  } catch (...) {
    return Status::Error(StatusCode::kResourceExhausted, "queue: cannot reserve index for %u items",
                         config.max_queue_items);
  }
  listener_ = listener;
  TRIAGE_RETURN_IF_ERROR(sha_.Init());
  TRIAGE_RETURN_IF_ERROR(FormatPath(queue_dir_, "%s/queue", config_.storage_dir.c_str()));
  TRIAGE_RETURN_IF_ERROR(MakeDirs(queue_dir_));
  TRIAGE_RETURN_IF_ERROR(Recover().WithContext("queue recovery in %s", queue_dir_));
  open_ = true;
  return Status::Ok();
}

Status DownlinkQueue::Recover() noexcept {
  recovery_ = QueueRecovery{};
  DIR* dir = ::opendir(queue_dir_);
  if (dir == nullptr) return Status::Error(StatusCode::kIoError, "opendir: %s", std::strerror(errno));
  Status status;
  bool deleted_any = false;
  for (size_t n = 0; n < kMaxDirEntries && status.ok(); ++n) {
    errno = 0;
    const dirent* e = ::readdir(dir);
    if (e == nullptr) {
      if (errno != 0) status = Status::Error(StatusCode::kIoError, "readdir: %s", std::strerror(errno));
      break;
    }
    if (e->d_name[0] == '.') continue;
    uint32_t id = 0;
    const char* suffix = nullptr;
    if (!ParseItemName(e->d_name, &id, &suffix)) {
      ++recovery_.unknown_files_ignored;
      continue;
    }
    char path[kMaxPath];
    status = FormatPath(path, "%s/%s", queue_dir_, e->d_name);
    if (!status.ok()) break;
    if (std::strcmp(suffix, "tmp") == 0) {
      // An Enqueue that never reached its rename: never acknowledged, drop it.
      status = RemoveFile(path);
      ++recovery_.temp_files_dropped;
      deleted_any = true;
    } else if (std::strcmp(suffix, "item") == 0 || std::strcmp(suffix, "sent") == 0) {
      const ItemState state = suffix[0] == 's' ? ItemState::kSent : ItemState::kPending;
      const uint32_t before = recovery_.corrupt_files_dropped;
      status = LoadItemFile(path, id, state);
      deleted_any = deleted_any || recovery_.corrupt_files_dropped != before;
    } else {
      ++recovery_.unknown_files_ignored;
    }
  }
  ::closedir(dir);
  TRIAGE_RETURN_IF_ERROR(status);
  std::sort(items_.begin(), items_.end(),
            [](const QueueItem& a, const QueueItem& b) { return a.product_id < b.product_id; });
  if (deleted_any) TRIAGE_RETURN_IF_ERROR(SyncDir(queue_dir_));
  recovery_.items_loaded = static_cast<uint32_t>(items_.size());

  // Next id: past both the durable reservation and every id on disk.
  char ids_path[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(FormatPath(ids_path, "%s/queue.ids", config_.storage_dir.c_str()));
  uint8_t ids[kIdsFileBytes];
  uint32_t next = 1;
  Result<size_t> got = ReadSmallFile(ids_path, Span<uint8_t>(ids, sizeof(ids)));
  if (got.ok() && got.value() == kIdsFileBytes && std::memcmp(ids, kIdsMagic, 4) == 0 &&
      GetU32(ids + 8) == Crc32(Span<const uint8_t>(ids, 8))) {
    next = std::max<uint32_t>(next, GetU32(ids + 4));
  } else if (!got.ok() && got.status().code() != StatusCode::kNotFound) {
    return got.status();
  }
  if (!items_.empty()) next = std::max(next, items_.back().product_id + 1);
  if (next == 0) return Status::Error(StatusCode::kResourceExhausted, "product ids exhausted");
  next_id_ = next;
  reserved_until_ = next;
  return Status::Ok();
}

Status DownlinkQueue::LoadItemFile(const char* path, uint32_t id, ItemState state) noexcept {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Error(StatusCode::kIoError, "%s: open: %s", path, std::strerror(errno));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::Error(StatusCode::kIoError, "%s: stat", path);
  uint8_t h[kItemHeaderBytes];
  const char* problem = nullptr;
  QueueItem item;
  if (static_cast<uint64_t>(st.st_size) < kItemHeaderBytes ||
      !PreadAll(fd.get(), 0, Span<uint8_t>(h, kItemHeaderBytes), path).ok()) {
    problem = "shorter than its header";
  } else if (std::memcmp(h, kItemMagic, 4) != 0) {
    problem = "bad magic";
  } else if (GetU32(h + 164) != Crc32(Span<const uint8_t>(h, 164))) {
    problem = "header CRC mismatch";
  } else if (GetU32(h + 4) != id) {
    problem = "product id differs from file name";
  } else {
    Result<ProductMeta> meta = DecodeMetadata(Span<const uint8_t>(h + 24, kMetadataBytes));
    if (!meta.ok() || meta.value().payload_bytes != GetU64(h + 8)) {
      problem = "bad metadata";
    } else if (static_cast<uint64_t>(st.st_size) != kItemHeaderBytes + meta.value().payload_bytes) {
      problem = "file size disagrees with payload size";
    } else {
      item.meta = meta.value();
      Result<uint32_t> count = PacketCountFor(item.meta.payload_bytes, config_.packet_data_size);
      if (!count.ok()) problem = "payload too large for packet_data_size";
      else item.packet_count = count.value();
    }
  }
  if (problem == nullptr && config_.verify_payload_on_open) {
    uint32_t crc = 0;
    uint64_t left = item.meta.payload_bytes;
    uint64_t offset = kItemHeaderBytes;
    while (left > 0 && problem == nullptr) {  // bounded: left shrinks each turn
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, scratch_.size()));
      if (!PreadAll(fd.get(), offset, Span<uint8_t>(scratch_.data(), n), path).ok()) {
        problem = "payload unreadable";
        break;
      }
      crc = Crc32(Span<const uint8_t>(scratch_.data(), n), crc);
      offset += n;
      left -= n;
    }
    if (problem == nullptr && crc != GetU32(h + 16)) problem = "payload CRC mismatch";
  }
  if (problem == nullptr && Find(id) != nullptr) problem = "duplicate product id";
  if (problem == nullptr && items_.size() >= config_.max_queue_items) {
    return Status::Error(StatusCode::kResourceExhausted, "more than max_queue_items %u items on disk",
                         config_.max_queue_items);
  }
  if (problem != nullptr) {
    // Only media corruption produces these: every accepted item was complete
    // and fsynced before its rename. Drop it so it cannot be sent garbled.
    ++recovery_.corrupt_files_dropped;
    recovery_.last_drop = Status::Error(StatusCode::kDataLoss, "%s: %s", path, problem);
    return RemoveFile(path);
  }
  item.product_id = id;
  item.file_bytes = static_cast<uint64_t>(st.st_size);
  item.state = state;
  items_.push_back(item);
  used_bytes_ += item.file_bytes;
  return Status::Ok();
}

Status DownlinkQueue::ItemPath(uint32_t id, ItemState state, char* out) const noexcept {
  return FormatPath(out, "%s/%08x.%s", queue_dir_, id, Suffix(state));
}

size_t DownlinkQueue::IndexOf(uint32_t product_id) const noexcept {
  // items_ is sorted by product id.
  size_t lo = 0, hi = items_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (items_[mid].product_id < product_id) lo = mid + 1;
    else hi = mid;
  }
  return (lo < items_.size() && items_[lo].product_id == product_id) ? lo : items_.size();
}

const QueueItem* DownlinkQueue::Find(uint32_t product_id) const noexcept {
  const size_t i = IndexOf(product_id);
  return i < items_.size() ? &items_[i] : nullptr;
}

const QueueItem* DownlinkQueue::NextPending() const noexcept {
  const QueueItem* best = nullptr;
  for (const QueueItem& item : items_) {
    if (item.state == ItemState::kPending && (best == nullptr || SendsBefore(item, *best))) best = &item;
  }
  return best;
}

size_t DownlinkQueue::pending_count() const noexcept {
  size_t n = 0;
  for (const QueueItem& item : items_) n += item.state == ItemState::kPending;
  return n;
}

void DownlinkQueue::ClearPlan() noexcept {
  for (QueueItem& item : items_) item.evict_planned = false;
}

Status DownlinkQueue::PlanEviction(const QueueItem& incoming) noexcept {
  uint64_t used = used_bytes_;
  size_t count = items_.size();
  for (size_t round = 0; round <= items_.size(); ++round) {
    if (used + incoming.file_bytes <= config_.storage_quota_bytes && count < config_.max_queue_items) {
      return Status::Ok();
    }
    QueueItem* victim = nullptr;
    for (QueueItem& item : items_) {  // sent copies go first, oldest first
      if (!item.evict_planned && item.state == ItemState::kSent) {
        victim = &item;
        break;
      }
    }
    if (victim == nullptr) {  // then the unsent item sent last, if it ranks below the new one
      for (QueueItem& item : items_) {
        if (item.evict_planned || !SendsBefore(incoming, item)) continue;
        if (victim == nullptr || SendsBefore(*victim, item)) victim = &item;
      }
    }
    if (victim == nullptr) break;
    victim->evict_planned = true;
    used -= victim->file_bytes;
    --count;
  }
  ClearPlan();
  return Status::Error(StatusCode::kResourceExhausted,
                       "queue full: %llu bytes of %llu used, %zu items; nothing ranks below a %s product of "
                       "priority %u (%llu bytes)",
                       static_cast<unsigned long long>(used_bytes_),
                       static_cast<unsigned long long>(config_.storage_quota_bytes), items_.size(),
                       ProductKindName(incoming.meta.kind), incoming.meta.priority,
                       static_cast<unsigned long long>(incoming.file_bytes));
}

Status DownlinkQueue::ReserveIds() noexcept {
  const uint64_t until = std::min<uint64_t>(uint64_t{next_id_} + kIdBlock, 0xFFFFFFFFull);
  uint8_t ids[kIdsFileBytes];
  std::memcpy(ids, kIdsMagic, 4);
  PutU32(ids + 4, static_cast<uint32_t>(until));
  PutU32(ids + 8, Crc32(Span<const uint8_t>(ids, 8)));
  TRIAGE_RETURN_IF_ERROR(ReplaceFileAtomically(config_.storage_dir.c_str(), "queue.ids",
                                               Span<const uint8_t>(ids, sizeof(ids))));
  reserved_until_ = static_cast<uint32_t>(until);
  return Status::Ok();
}

Status DownlinkQueue::DeleteItemAt(size_t index) noexcept {
  const QueueItem& item = items_[index];
  if (cached_id_ == item.product_id) {
    cached_fd_.Reset();
    cached_id_ = 0;
  }
  char path[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(ItemPath(item.product_id, item.state, path));
  TRIAGE_RETURN_IF_ERROR(RemoveFile(path));
  used_bytes_ -= item.file_bytes;
  items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(index));
  return Status::Ok();
}

Result<uint32_t> DownlinkQueue::Enqueue(const ProductMeta& meta, Span<const uint8_t> payload) noexcept {
  if (!open_) return Status::Error(StatusCode::kFailedPrecondition, "queue: Enqueue before Open");
  if (!std::isfinite(meta.confidence)) {
    return Status::Error(StatusCode::kInvalidArgument, "enqueue frame %llu: confidence is not finite",
                         static_cast<unsigned long long>(meta.frame_id));
  }
  if (static_cast<uint8_t>(meta.kind) >= kProductKindCount) {
    return Status::Error(StatusCode::kInvalidArgument, "enqueue frame %llu: product kind %u unknown",
                         static_cast<unsigned long long>(meta.frame_id), static_cast<unsigned>(meta.kind));
  }
  if (payload.size() > config_.max_item_bytes) {
    return Status::Error(StatusCode::kOutOfRange, "enqueue frame %llu: payload %zu bytes exceeds max_item_bytes %llu",
                         static_cast<unsigned long long>(meta.frame_id), payload.size(),
                         static_cast<unsigned long long>(config_.max_item_bytes));
  }
  if (next_id_ == 0xFFFFFFFFu) return Status::Error(StatusCode::kResourceExhausted, "product ids exhausted");
  QueueItem incoming;
  incoming.product_id = next_id_;
  incoming.meta = meta;
  incoming.meta.payload_bytes = payload.size();
  incoming.file_bytes = kItemHeaderBytes + payload.size();
  Result<uint32_t> count = PacketCountFor(payload.size(), config_.packet_data_size);
  if (!count.ok()) return count.status();
  incoming.packet_count = count.value();
  if (incoming.file_bytes > config_.storage_quota_bytes) {
    return Status::Error(StatusCode::kResourceExhausted, "enqueue: item of %llu bytes exceeds the quota of %llu",
                         static_cast<unsigned long long>(incoming.file_bytes),
                         static_cast<unsigned long long>(config_.storage_quota_bytes));
  }
  TRIAGE_RETURN_IF_ERROR(PlanEviction(incoming));
  if (next_id_ >= reserved_until_) {
    Status s = ReserveIds();
    if (!s.ok()) {
      ClearPlan();
      return s;
    }
  }

  // Evict: the listener durably records the eviction before the file goes, so
  // a crash in between leaves a catalog row that already says "evicted" and
  // reconciliation completes the deletion.
  bool evicted_any = false;
  for (size_t i = 0; i < items_.size();) {  // bounded: each turn erases or advances
    if (!items_[i].evict_planned) {
      ++i;
      continue;
    }
    if (items_[i].state == ItemState::kPending) {
      if (listener_ != nullptr) {
        Status s = listener_->OnEvicting(items_[i]);
        if (!s.ok()) {
          ClearPlan();
          return s.WithContext("evicting product %u", items_[i].product_id);
        }
      }
      ++evicted_count_;
    }
    Status s = DeleteItemAt(i);
    if (!s.ok()) {
      ClearPlan();
      return s;
    }
    evicted_any = true;
  }
  if (evicted_any) TRIAGE_RETURN_IF_ERROR(SyncDir(queue_dir_));

  TRIAGE_RETURN_IF_ERROR(sha_.Reset());
  TRIAGE_RETURN_IF_ERROR(sha_.Update(payload));
  TRIAGE_RETURN_IF_ERROR(sha_.Final(&incoming.meta.payload_sha256));
  uint8_t header[kItemHeaderBytes];
  EncodeItemHeader(incoming.product_id, incoming.meta, Crc32(payload), header);

  char tmp_path[kMaxPath];
  char final_path[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(FormatPath(tmp_path, "%s/%08x.tmp", queue_dir_, incoming.product_id));
  TRIAGE_RETURN_IF_ERROR(ItemPath(incoming.product_id, ItemState::kPending, final_path));
  Status s;
  {
    UniqueFd fd(::open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      return Status::Error(StatusCode::kIoError, "%s: open: %s", tmp_path, std::strerror(errno));
    }
    s = WriteAll(fd.get(), Span<const uint8_t>(header, kItemHeaderBytes), tmp_path);
    if (s.ok()) s = WriteAll(fd.get(), payload, tmp_path);
    if (s.ok()) s = SyncFd(fd.get(), tmp_path);
  }
  if (s.ok() && ::rename(tmp_path, final_path) != 0) {
    s = Status::Error(StatusCode::kIoError, "%s: rename: %s", final_path, std::strerror(errno));
  }
  if (!s.ok()) {
    (void)RemoveFile(tmp_path);
    return s;
  }
  TRIAGE_RETURN_IF_ERROR(SyncDir(queue_dir_));
  items_.push_back(incoming);  // ids only grow, so the index stays sorted
  used_bytes_ += incoming.file_bytes;
  ++next_id_;
  return incoming.product_id;
}

Status DownlinkQueue::ReadPayload(uint32_t product_id, uint64_t offset, Span<uint8_t> out) noexcept {
  const QueueItem* item = Find(product_id);
  if (item == nullptr) return Status::Error(StatusCode::kNotFound, "product %u not in queue", product_id);
  if (offset > item->meta.payload_bytes || out.size() > item->meta.payload_bytes - offset) {
    return Status::Error(StatusCode::kOutOfRange, "product %u: read [%llu, +%zu) past payload of %llu bytes",
                         product_id, static_cast<unsigned long long>(offset), out.size(),
                         static_cast<unsigned long long>(item->meta.payload_bytes));
  }
  if (cached_id_ != product_id || !cached_fd_.valid()) {
    char path[kMaxPath];
    TRIAGE_RETURN_IF_ERROR(ItemPath(product_id, item->state, path));
    cached_fd_.Reset(::open(path, O_RDONLY | O_CLOEXEC));
    cached_id_ = 0;
    if (!cached_fd_.valid()) {
      return Status::Error(StatusCode::kIoError, "%s: open: %s", path, std::strerror(errno));
    }
    cached_id_ = product_id;
  }
  return PreadAll(cached_fd_.get(), kItemHeaderBytes + offset, out, "queue item");
}

Status DownlinkQueue::MarkSent(uint32_t product_id) noexcept {
  const size_t i = IndexOf(product_id);
  if (i == items_.size()) return Status::Error(StatusCode::kNotFound, "product %u not in queue", product_id);
  if (items_[i].state == ItemState::kSent) return Status::Ok();
  char from[kMaxPath];
  char to[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(ItemPath(product_id, ItemState::kPending, from));
  TRIAGE_RETURN_IF_ERROR(ItemPath(product_id, ItemState::kSent, to));
  if (::rename(from, to) != 0) {
    return Status::Error(StatusCode::kIoError, "%s: rename: %s", to, std::strerror(errno));
  }
  items_[i].state = ItemState::kSent;
  return SyncDir(queue_dir_);
}

Status DownlinkQueue::Remove(uint32_t product_id) noexcept {
  const size_t i = IndexOf(product_id);
  if (i == items_.size()) return Status::Error(StatusCode::kNotFound, "product %u not in queue", product_id);
  TRIAGE_RETURN_IF_ERROR(DeleteItemAt(i));
  return SyncDir(queue_dir_);
}

}  // namespace triage::downlink
