#include "downlink/config.h"

#include <cmath>

#include "downlink/product.h"

namespace triage::downlink {

Status ValidateConfig(const Config& c) noexcept {
  if (c.storage_dir.empty() || c.storage_dir.size() > 200) {
    return Status::Error(StatusCode::kInvalidArgument, "storage_dir: length %zu not in [1, 200]",
                         c.storage_dir.size());
  }
  if (c.packet_data_size < kMetadataBytes || c.packet_data_size > kMaxPacketDataSize) {
    return Status::Error(StatusCode::kInvalidArgument, "packet_data_size %u: must be in [%u, %u]",
                         c.packet_data_size, kMetadataBytes, kMaxPacketDataSize);
  }
  const uint16_t apids[3] = {c.apid_full, c.apid_thumbnail, c.apid_catalog};
  for (int i = 0; i < 3; ++i) {
    if (apids[i] > kMaxApid) {
      return Status::Error(StatusCode::kInvalidArgument, "apid %u: exceeds 11 bits (max %u)", apids[i], kMaxApid);
    }
  }
  if (c.apid_full == c.apid_thumbnail || c.apid_full == c.apid_catalog || c.apid_thumbnail == c.apid_catalog) {
    return Status::Error(StatusCode::kInvalidArgument, "apids %u/%u/%u: must be distinct", c.apid_full,
                         c.apid_thumbnail, c.apid_catalog);
  }
  if (c.link_rate_bps == 0 || c.link_rate_bps > (1ull << 40)) {
    return Status::Error(StatusCode::kInvalidArgument, "link_rate_bps %llu: must be in [1, 2^40]",
                         static_cast<unsigned long long>(c.link_rate_bps));
  }
  const double rates[4] = {c.channel.loss_rate, c.channel.corrupt_rate, c.channel.duplicate_rate,
                           c.channel.reorder_rate};
  static const char* const kRateNames[4] = {"loss_rate", "corrupt_rate", "duplicate_rate", "reorder_rate"};
  for (int i = 0; i < 4; ++i) {
    if (!(rates[i] >= 0.0 && rates[i] <= 0.5)) {
      return Status::Error(StatusCode::kInvalidArgument, "channel.%s %g: must be in [0, 0.5]", kRateNames[i],
                           rates[i]);
    }
  }
  double previous_end = -INFINITY;
  for (size_t i = 0; i < c.passes.size(); ++i) {
    const PassWindow& w = c.passes[i];
    if (!std::isfinite(w.start_s) || !std::isfinite(w.end_s) || w.start_s < 0 || w.end_s <= w.start_s ||
        w.end_s - w.start_s > 86400.0) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "passes[%zu] [%g, %g]: need 0 <= start < end, length <= 86400 s", i, w.start_s,
                           w.end_s);
    }
    if (w.start_s < previous_end) {
      return Status::Error(StatusCode::kInvalidArgument, "passes[%zu] starts at %g before the previous end %g",
                           i, w.start_s, previous_end);
    }
    previous_end = w.end_s;
  }
  if (c.max_queue_items == 0 || c.max_queue_items > (1u << 20)) {
    return Status::Error(StatusCode::kInvalidArgument, "max_queue_items %u: must be in [1, 2^20]",
                         c.max_queue_items);
  }
  if (c.max_item_bytes == 0 || c.max_item_bytes > (1ull << 40)) {
    return Status::Error(StatusCode::kInvalidArgument, "max_item_bytes %llu: must be in [1, 2^40]",
                         static_cast<unsigned long long>(c.max_item_bytes));
  }
  if (c.storage_quota_bytes == 0) {
    return Status::Error(StatusCode::kInvalidArgument, "storage_quota_bytes 0: must be > 0");
  }
  if (c.catalog_capacity_rows == 0 || c.catalog_capacity_rows > (1u << 24)) {
    return Status::Error(StatusCode::kInvalidArgument, "catalog_capacity_rows %u: must be in [1, 2^24]",
                         c.catalog_capacity_rows);
  }
  if (c.catalog_rows_per_product == 0 || c.catalog_rows_per_product > (1u << 20)) {
    return Status::Error(StatusCode::kInvalidArgument, "catalog_rows_per_product %u: must be in [1, 2^20]",
                         c.catalog_rows_per_product);
  }
  if (c.max_retransmit_ranges == 0 || c.max_retransmit_ranges > 65535) {
    return Status::Error(StatusCode::kInvalidArgument, "max_retransmit_ranges %u: must be in [1, 65535]",
                         c.max_retransmit_ranges);
  }
  return Status::Ok();
}

}  // namespace triage::downlink
