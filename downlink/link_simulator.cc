#include "downlink/link_simulator.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "downlink/byte_order.h"
#include "downlink/checksum.h"
#include "downlink/space_packet.h"

namespace triage::downlink {
namespace {

constexpr uint8_t kStateMagic[4] = {'T', 'L', 'S', '1'};
constexpr size_t kStateFixedBytes = 44;
constexpr uint8_t kCatalogPriority = 255;
constexpr char kLogHeader[] = "pass,time_s,event,product_id,packet_index,packet_count,apid,seq_count,bytes\n";

size_t StateBytes(size_t ranges) { return kStateFixedBytes + ranges * kRetransmitRangeBytes + 4; }

}  // namespace

uint64_t PassByteBudget(const PassWindow& window, uint64_t rate_bps) noexcept {
  const double seconds = window.end_s - window.start_s;
  if (!(seconds > 0.0)) return 0;
  const double bytes = std::floor(seconds * static_cast<double>(rate_bps) / 8.0);
  if (!(bytes < 1.8e19)) return UINT64_MAX;
  return static_cast<uint64_t>(bytes);
}

Status LinkSimulator::Open(const Config& config, DownlinkQueue* queue, Catalog* catalog, const char* radio_path,
                           const char* log_path) noexcept {
  if (open_) return Status::Error(StatusCode::kFailedPrecondition, "link: already open");
  if (queue == nullptr || !queue->is_open() || catalog == nullptr) {
    return Status::Error(StatusCode::kFailedPrecondition, "link: queue and catalog must be open");
  }
  TRIAGE_RETURN_IF_ERROR(ValidateConfig(config));
  config_ = config;
  queue_ = queue;
  catalog_ = catalog;
  try {
    packet_.resize(kPacketOverheadBytes + config.packet_data_size);
    held_.resize(config.channel.any() ? packet_.size() : 0);
    data_.resize(config.packet_data_size);
    catalog_buffer_.resize(kCatalogProductHeaderBytes + size_t{config.catalog_rows_per_product} * kCatalogRowBytes);
    state_buffer_.resize(StateBytes(config.max_retransmit_ranges));
    retx_.resize(config.max_retransmit_ranges);
    incoming_.resize(config.max_retransmit_ranges);
  } catch (...) {
    return Status::Error(StatusCode::kResourceExhausted, "link: cannot allocate buffers");
  }
  if (catalog_buffer_.size() - kCatalogProductHeaderBytes > config.max_item_bytes) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "catalog_rows_per_product %u: a catalog product would exceed max_item_bytes",
                         config.catalog_rows_per_product);
  }
  radio_.Reset(::open(radio_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!radio_.valid()) return Status::Error(StatusCode::kIoError, "%s: open: %s", radio_path, std::strerror(errno));
  log_.Reset(::open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log_.valid()) return Status::Error(StatusCode::kIoError, "%s: open: %s", log_path, std::strerror(errno));
  if (::lseek(log_.get(), 0, SEEK_END) == 0) {
    TRIAGE_RETURN_IF_ERROR(
        WriteAll(log_.get(), Span<const uint8_t>(reinterpret_cast<const uint8_t*>(kLogHeader), sizeof(kLogHeader) - 1),
                 log_path));
  }
  TRIAGE_RETURN_IF_ERROR(LoadState());
  open_ = true;
  return Status::Ok();
}

Status LinkSimulator::LoadState() noexcept {
  char path[kMaxPath];
  TRIAGE_RETURN_IF_ERROR(FormatPath(path, "%s/link.state", config_.storage_dir.c_str()));
  // Sized for the largest state any config could have written.
  uint8_t* buf = state_buffer_.data();
  Result<size_t> got = ReadSmallFile(path, Span<uint8_t>(buf, state_buffer_.size()));
  // A damaged file (media error, or a shrunken max_retransmit_ranges) is
  // discarded rather than allowed to stall the downlink; the cost is
  // re-sending cut-off products from packet 0 and losing pending requests.
  if (!got.ok()) {
    state_discarded_ = got.status().code() != StatusCode::kNotFound;  // NotFound: first boot
    return Status::Ok();
  }
  const size_t size = got.value();
  state_discarded_ = true;
  if (size < StateBytes(0) || std::memcmp(buf, kStateMagic, 4) != 0) return Status::Ok();
  const size_t count = GetU32(buf + 40);
  if (count > retx_.size() || size != StateBytes(count) ||
      GetU32(buf + size - 4) != Crc32(Span<const uint8_t>(buf, size - 4))) {
    return Status::Ok();
  }
  state_discarded_ = false;
  catalog_watermark_ = GetU64(buf + 8);
  for (int k = 0; k < kProductKindCount; ++k) seq_[k] = GetU16(buf + 16 + 2 * k) & kSequenceCountMask;
  for (int slot = 0; slot < 2; ++slot) {
    resume_[slot].product_id = GetU32(buf + 24 + 8 * slot);
    resume_[slot].packet = GetU32(buf + 28 + 8 * slot);
  }
  retx_count_ = count;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* e = buf + kStateFixedBytes + i * kRetransmitRangeBytes;
    retx_[i] = PacketRange{GetU32(e), GetU32(e + 4), GetU32(e + 8)};
  }
  return Status::Ok();
}

Status LinkSimulator::SaveState() noexcept {
  uint8_t* buf = state_buffer_.data();
  const size_t size = StateBytes(retx_count_);
  std::memset(buf, 0, size);
  std::memcpy(buf, kStateMagic, 4);
  PutU64(buf + 8, catalog_watermark_);
  for (int k = 0; k < kProductKindCount; ++k) PutU16(buf + 16 + 2 * k, seq_[k]);
  for (int slot = 0; slot < 2; ++slot) {
    PutU32(buf + 24 + 8 * slot, resume_[slot].product_id);
    PutU32(buf + 28 + 8 * slot, resume_[slot].packet);
  }
  PutU32(buf + 40, static_cast<uint32_t>(retx_count_));
  for (size_t i = 0; i < retx_count_; ++i) {
    uint8_t* e = buf + kStateFixedBytes + i * kRetransmitRangeBytes;
    PutU32(e, retx_[i].product_id);
    PutU32(e + 4, retx_[i].first_packet);
    PutU32(e + 8, retx_[i].last_packet);
  }
  PutU32(buf + size - 4, Crc32(Span<const uint8_t>(buf, size - 4)));
  return ReplaceFileAtomically(config_.storage_dir.c_str(), "link.state", Span<const uint8_t>(buf, size));
}

Status LinkSimulator::AcceptRetransmitRequest(const char* path) noexcept {
  if (!open_) return Status::Error(StatusCode::kFailedPrecondition, "link: request before Open");
  // The state buffer is free between saves and larger than any request that
  // could fit in max_retransmit_ranges; a bigger file is refused unread.
  Result<size_t> got = ReadSmallFile(path, Span<uint8_t>(state_buffer_.data(), state_buffer_.size()));
  if (!got.ok()) return got.status().WithContext("retransmit request");
  return AcceptRetransmitRequest(Span<const uint8_t>(state_buffer_.data(), got.value()));
}

Status LinkSimulator::AcceptRetransmitRequest(Span<const uint8_t> request) noexcept {
  if (!open_) return Status::Error(StatusCode::kFailedPrecondition, "link: request before Open");
  Result<size_t> parsed = ParseRetransmitRequest(request, Span<PacketRange>(incoming_.data(), incoming_.size()));
  if (!parsed.ok()) return parsed.status();
  const size_t n = parsed.value();
  if (retx_count_ + n > retx_.size()) {
    return Status::Error(StatusCode::kResourceExhausted,
                         "retransmit request: %zu ranges + %zu pending exceed max_retransmit_ranges %zu", n,
                         retx_count_, retx_.size());
  }
  for (size_t i = 0; i < n; ++i) retx_[retx_count_ + i] = incoming_[i];
  retx_count_ += n;
  Status s = SaveState();
  if (!s.ok()) retx_count_ -= n;  // not durable: behave as if never accepted
  return s;
}

uint16_t LinkSimulator::ApidFor(ProductKind kind) const noexcept {
  switch (kind) {
    case ProductKind::kFull: return config_.apid_full;
    case ProductKind::kThumbnail: return config_.apid_thumbnail;
    case ProductKind::kCatalog: return config_.apid_catalog;
  }
  return config_.apid_full;
}

namespace {

// SplitMix64's finaliser: a stateless, well-mixed 64-bit hash step.
uint64_t Mix(uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
// Uniform in [0, 1) from the top 53 bits.
double Unit(uint64_t h) noexcept { return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0); }

}  // namespace

Status LinkSimulator::Transmit(Span<uint8_t> packet, uint32_t product_id, uint32_t index,
                               PassReport* report) noexcept {
  const ChannelFaults& ch = config_.channel;
  if (!ch.any()) return WriteAll(radio_.get(), Span<const uint8_t>(packet.data(), packet.size()), "radio");
  uint64_t h = Mix(ch.seed ^ Mix((uint64_t{pass_number_} << 32) ^ report->packets_sent));
  h = Mix(h ^ ((uint64_t{product_id} << 32) | index));
  const uint64_t draws[5] = {h, Mix(h ^ 1), Mix(h ^ 2), Mix(h ^ 3), Mix(h ^ 4)};
  if (Unit(draws[0]) < ch.loss_rate) {
    ++report->channel_lost;
    return Status::Ok();
  }
  if (Unit(draws[1]) < ch.corrupt_rate) {
    packet[draws[4] % packet.size()] ^= static_cast<uint8_t>(1u << (draws[4] >> 61));
    ++report->channel_corrupted;
  }
  if (held_bytes_ == 0 && Unit(draws[3]) < ch.reorder_rate) {
    std::memcpy(held_.data(), packet.data(), packet.size());
    held_bytes_ = packet.size();
    ++report->channel_reordered;
    return Status::Ok();
  }
  TRIAGE_RETURN_IF_ERROR(WriteAll(radio_.get(), Span<const uint8_t>(packet.data(), packet.size()), "radio"));
  if (Unit(draws[2]) < ch.duplicate_rate) {
    TRIAGE_RETURN_IF_ERROR(WriteAll(radio_.get(), Span<const uint8_t>(packet.data(), packet.size()), "radio"));
    ++report->channel_duplicated;
  }
  return FlushHeld();
}

Status LinkSimulator::FlushHeld() noexcept {
  if (held_bytes_ == 0) return Status::Ok();
  const size_t n = held_bytes_;
  held_bytes_ = 0;
  return WriteAll(radio_.get(), Span<const uint8_t>(held_.data(), n), "radio");
}

Result<LinkSimulator::Sent> LinkSimulator::SendPacket(const QueueItem& item, uint32_t index, const char* event,
                                                      PassReport* report) noexcept {
  const uint32_t d = config_.packet_data_size;
  size_t user = kMetadataBytes;
  uint64_t offset = 0;
  if (index > 0) {
    offset = uint64_t{index - 1} * d;
    user = static_cast<size_t>(std::min<uint64_t>(d, item.meta.payload_bytes - offset));
  }
  const size_t total = kPacketOverheadBytes + user;
  if (report->bytes_sent + total > report->budget_bytes) return Sent::kNoRoom;
  Span<uint8_t> data(data_.data(), user);
  if (index == 0) {
    TRIAGE_RETURN_IF_ERROR(EncodeMetadata(item.meta, data));
  } else {
    TRIAGE_RETURN_IF_ERROR(queue_->ReadPayload(item.product_id, offset, data));
  }
  const size_t kind = static_cast<size_t>(item.meta.kind);
  const uint16_t apid = ApidFor(item.meta.kind);
  SecondaryHeader sh{item.product_id, index, item.packet_count};
  Result<size_t> written = EncodePacket(apid, seq_[kind], sh, data, Span<uint8_t>(packet_.data(), packet_.size()));
  if (!written.ok()) return written.status();
  TRIAGE_RETURN_IF_ERROR(Transmit(Span<uint8_t>(packet_.data(), written.value()), item.product_id, index, report));
  const double t = pass_start_s_ + static_cast<double>(report->bytes_sent) * 8.0 / static_cast<double>(config_.link_rate_bps);
  char line[192];
  const int n = std::snprintf(line, sizeof(line), "%u,%.6f,%s,%u,%u,%u,%u,%u,%zu\n", pass_number_, t, event,
                              item.product_id, index, item.packet_count, apid, seq_[kind], total);
  if (n > 0) {
    TRIAGE_RETURN_IF_ERROR(WriteAll(
        log_.get(), Span<const uint8_t>(reinterpret_cast<uint8_t*>(line), std::min<size_t>(n, sizeof(line) - 1)),
        "send log"));
  }
  seq_[kind] = NextSequenceCount(seq_[kind]);
  report->bytes_sent += total;
  ++report->packets_sent;
  return Sent::kOk;
}

Result<LinkSimulator::Sent> LinkSimulator::SendProduct(uint32_t product_id, uint32_t first,
                                                       PassReport* report) noexcept {
  const QueueItem* found = queue_->Find(product_id);
  if (found == nullptr) return Sent::kOk;
  const QueueItem item = *found;  // copy: the queue index may move below
  const bool is_catalog = item.meta.kind == ProductKind::kCatalog;
  Resume& resume = resume_[is_catalog ? kCatalogSlot : kProductSlot];
  for (uint32_t i = first; i < item.packet_count; ++i) {
    Result<Sent> r = SendPacket(item, i, is_catalog ? "catalog" : "product", report);
    if (!r.ok()) return r.status();
    if (r.value() == Sent::kNoRoom) {
      resume = Resume{product_id, i};
      return Sent::kNoRoom;
    }
    if (is_catalog) ++report->catalog_packets;
  }
  TRIAGE_RETURN_IF_ERROR(queue_->MarkSent(product_id));
  if (resume.product_id == product_id) resume = Resume{};
  ++report->products_completed;
  return Sent::kOk;
}

Status LinkSimulator::EnqueueCatalog(const PassWindow& window, PassReport* report) noexcept {
  const uint64_t snapshot = catalog_->last_change_seq();
  if (snapshot <= catalog_watermark_) return Status::Ok();
  size_t cursor = 0;
  bool all_enqueued = true;
  const size_t rows = catalog_->size();
  for (size_t guard = 0; cursor < rows && guard <= rows; ++guard) {
    uint32_t count = 0;
    Result<size_t> bytes = catalog_->EncodeChangedRows(
        catalog_watermark_, &cursor, Span<uint8_t>(catalog_buffer_.data(), catalog_buffer_.size()), &count);
    if (!bytes.ok()) return bytes.status();
    if (count == 0) continue;
    ProductMeta meta;
    meta.kind = ProductKind::kCatalog;
    meta.priority = kCatalogPriority;
    meta.frame_id = snapshot;  // identifies the catalog snapshot on the ground
    meta.timestamp = static_cast<uint64_t>(window.start_s * 1000.0);
    Result<uint32_t> id = queue_->Enqueue(meta, Span<const uint8_t>(catalog_buffer_.data(), bytes.value()));
    if (!id.ok()) {
      all_enqueued = false;
      report->catalog_enqueue_failed = true;
      break;
    }
    ++report->catalog_products_enqueued;
  }
  if (!all_enqueued) return Status::Ok();
  catalog_watermark_ = snapshot;
  return SaveState();
}

Result<PassReport> LinkSimulator::RunPass(size_t index) noexcept {
  if (index >= config_.passes.size()) {
    return Status::Error(StatusCode::kOutOfRange, "pass %zu: schedule has %zu passes", index, config_.passes.size());
  }
  return RunWindow(static_cast<uint32_t>(index), config_.passes[index]);
}

Result<PassReport> LinkSimulator::RunWindow(uint32_t pass_number, const PassWindow& window) noexcept {
  if (!open_) return Status::Error(StatusCode::kFailedPrecondition, "link: RunWindow before Open");
  PassReport report;
  report.pass_number = pass_number;
  report.budget_bytes = PassByteBudget(window, config_.link_rate_bps);
  pass_number_ = pass_number;
  pass_start_s_ = window.start_s;
  TRIAGE_RETURN_IF_ERROR(EnqueueCatalog(window, &report));

  bool no_room = false;
  const size_t bound = queue_->items().size() + 1;
  // 1. Catalog products.
  for (size_t n = 0; n < bound && !no_room; ++n) {
    const QueueItem* next = queue_->NextPending();
    if (next == nullptr || next->meta.kind != ProductKind::kCatalog) break;
    const uint32_t id = next->product_id;
    const Resume& resume = resume_[kCatalogSlot];
    Result<Sent> r = SendProduct(id, resume.product_id == id ? resume.packet : 0, &report);
    if (!r.ok()) return r.status();
    no_room = r.value() == Sent::kNoRoom;
  }
  // 2. Ground-requested retransmissions, oldest request first.
  while (!no_room && retx_count_ > 0) {
    PacketRange& range = retx_[0];
    const QueueItem* found = queue_->Find(range.product_id);
    if (found != nullptr && range.first_packet < found->packet_count) {
      const QueueItem item = *found;
      // Exclusive end; packets of a product still being sent (cut off by a
      // pass end) from its resume point on go down anyway, so the ground,
      // which cannot tell a cut-off tail from a loss, is not served them twice.
      uint64_t end = uint64_t{std::min(range.last_packet, item.packet_count - 1)} + 1;
      const Resume& own = resume_[item.meta.kind == ProductKind::kCatalog ? kCatalogSlot : kProductSlot];
      if (item.state == ItemState::kPending && own.product_id == item.product_id) {
        end = std::min<uint64_t>(end, own.packet);
      }
      for (uint64_t p = range.first_packet; p < end; ++p) {
        Result<Sent> r = SendPacket(item, static_cast<uint32_t>(p), "retransmit", &report);
        if (!r.ok()) return r.status();
        if (r.value() == Sent::kNoRoom) {
          range.first_packet = static_cast<uint32_t>(p);
          no_room = true;
          break;
        }
        ++report.retransmitted_packets;
      }
      if (no_room) break;
    } else {
      // Evicted, released or never existed: tell the ground through the log.
      ++report.retransmit_ranges_unavailable;
      char line[160];
      const double t =
          pass_start_s_ + static_cast<double>(report.bytes_sent) * 8.0 / static_cast<double>(config_.link_rate_bps);
      const int n = std::snprintf(line, sizeof(line), "%u,%.6f,retransmit_unavailable,%u,%u,%u,0,0,0\n",
                                  pass_number_, t, range.product_id, range.first_packet, range.last_packet);
      if (n > 0) {
        TRIAGE_RETURN_IF_ERROR(WriteAll(
            log_.get(), Span<const uint8_t>(reinterpret_cast<uint8_t*>(line), std::min<size_t>(n, sizeof(line) - 1)),
            "send log"));
      }
    }
    for (size_t i = 1; i < retx_count_; ++i) retx_[i - 1] = retx_[i];
    --retx_count_;
  }
  // 3. The product cut off last pass, where it stopped.
  Resume& resume = resume_[kProductSlot];
  if (!no_room && resume.product_id != 0) {
    const QueueItem* item = queue_->Find(resume.product_id);
    if (item == nullptr || item->state != ItemState::kPending || resume.packet >= item->packet_count) {
      resume = Resume{};  // evicted or finished meanwhile
    } else {
      Result<Sent> r = SendProduct(resume.product_id, resume.packet, &report);
      if (!r.ok()) return r.status();
      no_room = r.value() == Sent::kNoRoom;
    }
  }
  // 4. Everything else, in queue order.
  for (size_t n = 0; n < bound && !no_room; ++n) {
    const QueueItem* next = queue_->NextPending();
    if (next == nullptr) break;
    const uint32_t id = next->product_id;
    const Resume& current = resume_[next->meta.kind == ProductKind::kCatalog ? kCatalogSlot : kProductSlot];
    Result<Sent> r = SendProduct(id, current.product_id == id ? current.packet : 0, &report);
    if (!r.ok()) return r.status();
    no_room = r.value() == Sent::kNoRoom;
  }
  TRIAGE_RETURN_IF_ERROR(FlushHeld());
  report.cut_off = no_room;
  report.resume_product_id = resume_[kProductSlot].product_id;
  report.resume_packet = resume_[kProductSlot].packet;
  report.catalog_resume_product_id = resume_[kCatalogSlot].product_id;
  report.catalog_resume_packet = resume_[kCatalogSlot].packet;
  TRIAGE_RETURN_IF_ERROR(SaveState());
  return report;
}

}  // namespace triage::downlink
