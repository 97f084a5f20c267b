#include "downlink/reassembler.h"

#include <cstring>
#include <new>
#include <utility>

#include "downlink/checksum.h"

namespace triage::downlink {

Status Reassembler::Add(const PacketView& packet) noexcept {
  try {
    return AddUnchecked(packet);
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kResourceExhausted, "product %u packet %u: out of memory",
                         packet.secondary.product_id, packet.secondary.packet_index);
  } catch (...) {
    return Status::Error(StatusCode::kInternal, "product %u packet %u: unexpected exception",
                         packet.secondary.product_id, packet.secondary.packet_index);
  }
}

Status Reassembler::AddUnchecked(const PacketView& packet) {
  const uint32_t id = packet.secondary.product_id;
  const uint32_t index = packet.secondary.packet_index;
  const uint32_t count = packet.secondary.packet_count;
  if (count == 0 || index >= count) {
    return Status::Error(StatusCode::kInvalidArgument, "product %u: packet index %u not below count %u", id, index,
                         count);
  }
  if (done_.count(id) != 0) return Status::Ok();  // late retransmission
  if (count > limits_.max_packets_per_product) {
    return Status::Error(StatusCode::kOutOfRange, "product %u: %u packets exceed the limit %u", id, count,
                         limits_.max_packets_per_product);
  }
  if (packet.user_data.size() > limits_.max_user_data) {
    return Status::Error(StatusCode::kOutOfRange, "product %u packet %u: %zu user bytes exceed %u", id, index,
                         packet.user_data.size(), limits_.max_user_data);
  }
  if (index == 0) {
    if (packet.user_data.size() != kMetadataBytes) {
      return Status::Error(StatusCode::kDataLoss, "product %u packet 0: metadata is %zu bytes, expected %u", id,
                           packet.user_data.size(), kMetadataBytes);
    }
    Result<ProductMeta> meta = DecodeMetadata(packet.user_data);
    if (!meta.ok()) return meta.status().WithContext("product %u packet 0", id);
    if (limits_.packet_data_size != 0) {
      Result<uint32_t> expected = PacketCountFor(meta.value().payload_bytes, limits_.packet_data_size);
      if (!expected.ok() || expected.value() != count) {
        return Status::Error(StatusCode::kDataLoss, "product %u packet 0: payload of %llu bytes disagrees with %u packets",
                             id, static_cast<unsigned long long>(meta.value().payload_bytes), count);
      }
    }
  } else {
    if (packet.user_data.empty()) {
      return Status::Error(StatusCode::kDataLoss, "product %u packet %u: empty payload packet", id, index);
    }
    if (limits_.packet_data_size != 0 && index + 1 < count && packet.user_data.size() != limits_.packet_data_size) {
      return Status::Error(StatusCode::kDataLoss, "product %u packet %u: %zu bytes, expected %u", id, index,
                           packet.user_data.size(), limits_.packet_data_size);
    }
  }

  auto it = open_.find(id);
  if (it == open_.end()) {
    if (open_.size() >= limits_.max_open_products) {
      return Status::Error(StatusCode::kResourceExhausted, "product %u: %u products already open", id,
                           limits_.max_open_products);
    }
  } else if (it->second.packet_count != count) {
    return Status::Error(StatusCode::kDataLoss, "product %u packet %u: packet count %u disagrees with %u seen before",
                         id, index, count, it->second.packet_count);
  }
  if (it != open_.end() && it->second.packets.count(index) != 0) return Status::Ok();  // duplicate
  if (buffered_bytes_ + packet.user_data.size() > limits_.max_buffered_bytes) {
    return Status::Error(StatusCode::kResourceExhausted, "product %u packet %u: buffer limit of %llu bytes reached",
                         id, index, static_cast<unsigned long long>(limits_.max_buffered_bytes));
  }
  if (it == open_.end()) {
    it = open_.emplace(id, Partial{}).first;
    it->second.packet_count = count;
  }
  Partial& partial = it->second;
  partial.packets.emplace(index, std::vector<uint8_t>(packet.user_data.begin(), packet.user_data.end()));
  partial.bytes += packet.user_data.size();
  buffered_bytes_ += packet.user_data.size();
  if (partial.packets.size() == partial.packet_count) return Complete(id, &partial);
  return Status::Ok();
}

Status Reassembler::Complete(uint32_t id, Partial* partial) {
  const std::vector<uint8_t>& meta_bytes = partial->packets.begin()->second;
  Result<ProductMeta> meta = DecodeMetadata(Span<const uint8_t>(meta_bytes.data(), meta_bytes.size()));
  Status problem;
  CompletedProduct product;
  if (!meta.ok()) {
    problem = meta.status();
  } else if (partial->bytes - meta_bytes.size() != meta.value().payload_bytes) {
    problem = Status::Error(StatusCode::kDataLoss, "payload is %llu bytes, metadata says %llu",
                            static_cast<unsigned long long>(partial->bytes - meta_bytes.size()),
                            static_cast<unsigned long long>(meta.value().payload_bytes));
  } else {
    product.product_id = id;
    product.meta = meta.value();
    product.payload.reserve(static_cast<size_t>(product.meta.payload_bytes));
    for (auto p = std::next(partial->packets.begin()); p != partial->packets.end(); ++p) {
      product.payload.insert(product.payload.end(), p->second.begin(), p->second.end());
    }
    Digest256 digest{};
    problem = Sha256::Of(Span<const uint8_t>(product.payload.data(), product.payload.size()), &digest);
    if (problem.ok() && digest != product.meta.payload_sha256) {
      problem = Status::Error(StatusCode::kDataLoss, "SHA-256 mismatch over %zu payload bytes",
                              product.payload.size());
    }
  }
  buffered_bytes_ -= partial->bytes;
  if (!problem.ok()) {
    // Keep the entry with no packets, so every packet is listed missing and
    // requested again.
    partial->packets.clear();
    partial->bytes = 0;
    return problem.WithContext("product %u", id);
  }
  open_.erase(id);
  done_.insert(id);
  completed_.push_back(std::move(product));
  return Status::Ok();
}

Status Reassembler::MarkComplete(uint32_t product_id) noexcept {
  try {
    auto it = open_.find(product_id);
    if (it != open_.end()) {
      buffered_bytes_ -= it->second.bytes;
      open_.erase(it);
    }
    done_.insert(product_id);
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kResourceExhausted, "product %u: out of memory", product_id);
  }
}

StreamSummary Reassembler::AddStream(Span<const uint8_t> stream) noexcept {
  StreamSummary summary;
  PacketReader reader(stream, limits_.max_user_data);
  bool in_garbage = false;
  while (!reader.done()) {  // bounded: every Next() advances at least one byte
    const size_t before = reader.offset();
    Result<PacketView> packet = reader.Next();
    if (!packet.ok()) {
      // Count one rejection per run of bad bytes, not one per byte.
      if (!in_garbage) {
        ++summary.packets_rejected;
        if (summary.first_error.ok()) summary.first_error = packet.status();
      }
      in_garbage = true;
      summary.bytes_skipped += reader.offset() - before;
      continue;
    }
    in_garbage = false;
    Status s = Add(packet.value());
    if (s.ok()) {
      ++summary.packets_accepted;
    } else {
      ++summary.packets_rejected;
      if (summary.first_error.ok()) summary.first_error = s.WithContext("offset %zu", before);
    }
  }
  return summary;
}

std::vector<CompletedProduct> Reassembler::TakeCompleted() noexcept {
  std::vector<CompletedProduct> out;
  out.swap(completed_);
  return out;
}

std::vector<PacketRange> Reassembler::MissingRanges(uint32_t product_id) const noexcept {
  std::vector<PacketRange> ranges;
  auto it = open_.find(product_id);
  if (it == open_.end()) return ranges;
  try {
    uint32_t next = 0;  // first index not yet known to be present
    for (const auto& [index, bytes] : it->second.packets) {
      if (index > next) ranges.push_back(PacketRange{product_id, next, index - 1});
      next = index + 1;
    }
    if (next < it->second.packet_count) ranges.push_back(PacketRange{product_id, next, it->second.packet_count - 1});
  } catch (...) {
    ranges.clear();
  }
  return ranges;
}

std::vector<PacketRange> Reassembler::AllMissingRanges() const noexcept {
  std::vector<PacketRange> all;
  try {
    for (const auto& entry : open_) {
      std::vector<PacketRange> one = MissingRanges(entry.first);
      all.insert(all.end(), one.begin(), one.end());
    }
  } catch (...) {
    all.clear();
  }
  return all;
}

}  // namespace triage::downlink
