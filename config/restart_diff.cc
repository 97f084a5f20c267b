// Which config changes a running mission can take between frames. Hot:
// model (rebuilt and swapped at a safe point), triage policy, codecs, pass
// schedule, mission name. Everything that sized a buffer or opened a file at
// start-up needs a restart.
#include <cstring>

#include "config/mission.h"

namespace triage::config {
namespace {

class Diff {
 public:
  explicit Diff(std::vector<std::string>* out) : out_(out) {}
  template <typename T>
  void Check(const char* path, const T& a, const T& b) {
    if (!(a == b)) out_->push_back(path);
  }
  void Floats(const char* path, const float* a, const float* b, int n) {
    for (int i = 0; i < n; ++i) {
      if (a[i] != b[i]) {
        out_->push_back(path);
        return;
      }
    }
  }

 private:
  std::vector<std::string>* out_;
};

}  // namespace

std::vector<std::string> RestartOnlyDifferences(const MissionConfig& a, const MissionConfig& b) {
  std::vector<std::string> out;
  Diff d(&out);
  const CameraSection& ca = a.camera;
  const CameraSection& cb = b.camera;
  d.Check("camera.source", ca.source, cb.source);
  d.Check("camera.frame_interval_s", ca.frame_interval_s, cb.frame_interval_s);
  d.Check("camera.start_time_s", ca.start_time_s, cb.start_time_s);
  d.Check("camera.exposure_ms", ca.simulated.camera.exposure_ms, cb.simulated.camera.exposure_ms);
  d.Floats("camera.gain", ca.simulated.camera.gain, cb.simulated.camera.gain, 3);
  d.Check("camera.pool_frames", ca.pool.frame_count, cb.pool.frame_count);
  d.Check("camera.max_jpeg_bytes", ca.pool.encoded_bytes, cb.pool.encoded_bytes);
  d.Check("camera.max_raw_width", ca.pool.raw_max_width, cb.pool.raw_max_width);
  d.Check("camera.max_raw_height", ca.pool.raw_max_height, cb.pool.raw_max_height);
  const imaging::SimulatedCameraConfig& sa = ca.simulated;
  const imaging::SimulatedCameraConfig& sb = cb.simulated;
  d.Check("camera.simulated.seed", sa.seed, sb.seed);
  d.Check("camera.simulated.width", sa.width, sb.width);
  d.Check("camera.simulated.height", sa.height, sb.height);
  d.Check("camera.simulated.jpeg_quality", sa.jpeg_quality, sb.jpeg_quality);
  d.Check("camera.simulated.render_divisor", sa.render_divisor, sb.render_divisor);
  d.Check("camera.simulated.distorted_rate", sa.distorted_rate, sb.distorted_rate);
  d.Check("camera.simulated.washed_out_rate", sa.washed_out_rate, sb.washed_out_rate);
  d.Check("camera.simulated.limb_rate", sa.limb_rate, sb.limb_rate);
  d.Check("camera.simulated.opssat_look", sa.simulator.opssat_look, sb.simulator.opssat_look);
  d.Check("camera.simulated.jitter_camera", sa.simulator.jitter_camera, sb.simulator.jitter_camera);
  d.Check("camera.simulated.sensor_temperature_c", sa.sensor_temperature_c, sb.sensor_temperature_c);
  d.Check("camera.simulated.temperature_swing_c", sa.temperature_swing_c, sb.temperature_swing_c);
  d.Check("camera.simulated.orbit.period_s", sa.orbit.period_s, sb.orbit.period_s);
  d.Check("camera.simulated.orbit.inclination_deg", sa.orbit.inclination_deg, sb.orbit.inclination_deg);
  d.Check("camera.simulated.orbit.beta_deg", sa.orbit.beta_deg, sb.orbit.beta_deg);
  d.Check("camera.simulated.orbit.phase_at_epoch_deg", sa.orbit.phase_at_epoch_deg, sb.orbit.phase_at_epoch_deg);
  d.Check("camera.simulated.orbit.node_offset_deg", sa.orbit.node_offset_deg, sb.orbit.node_offset_deg);
  d.Check("camera.directory.path", ca.directory.directory, cb.directory.directory);
  d.Check("camera.directory.order", ca.directory.order, cb.directory.order);
  d.Check("camera.directory.loop", ca.directory.loop, cb.directory.loop);

  d.Check("thumbnail.width", a.thumbnail.width, b.thumbnail.width);
  d.Check("thumbnail.height", a.thumbnail.height, b.thumbnail.height);
  d.Check("thumbnail.max_source_width", a.thumbnail.max_source_width, b.thumbnail.max_source_width);
  d.Check("thumbnail.max_source_height", a.thumbnail.max_source_height, b.thumbnail.max_source_height);
  d.Check("thumbnail.dct_scaling", a.thumbnail.dct_scaling, b.thumbnail.dct_scaling);
  d.Check("thumbnail.decode_buffer_bytes", a.thumbnail.decode_buffer_bytes, b.thumbnail.decode_buffer_bytes);

  const downlink::Config& da = a.downlink;
  const downlink::Config& db = b.downlink;
  d.Check("storage.dir", da.storage_dir, db.storage_dir);
  d.Check("storage.quota_bytes", da.storage_quota_bytes, db.storage_quota_bytes);
  d.Check("storage.max_queue_items", da.max_queue_items, db.max_queue_items);
  d.Check("storage.max_item_bytes", da.max_item_bytes, db.max_item_bytes);
  d.Check("storage.catalog_capacity_rows", da.catalog_capacity_rows, db.catalog_capacity_rows);
  d.Check("storage.verify_payload_on_open", da.verify_payload_on_open, db.verify_payload_on_open);
  d.Check("downlink.packet_data_size", da.packet_data_size, db.packet_data_size);
  d.Check("downlink.apid.full", da.apid_full, db.apid_full);
  d.Check("downlink.apid.thumbnail", da.apid_thumbnail, db.apid_thumbnail);
  d.Check("downlink.apid.catalog", da.apid_catalog, db.apid_catalog);
  d.Check("downlink.link_rate_bps", da.link_rate_bps, db.link_rate_bps);
  d.Check("downlink.catalog_rows_per_product", da.catalog_rows_per_product, db.catalog_rows_per_product);
  d.Check("downlink.max_retransmit_ranges", da.max_retransmit_ranges, db.max_retransmit_ranges);

  d.Check("logging.dir", a.logging.dir, b.logging.dir);
  d.Check("logging.max_file_bytes", a.logging.max_file_bytes, b.logging.max_file_bytes);
  d.Check("logging.max_files", a.logging.max_files, b.logging.max_files);
  d.Check("logging.telemetry_file", a.logging.telemetry_file, b.logging.telemetry_file);
  d.Check("uplink.dir", a.uplink.dir, b.uplink.dir);

  const fault::Config& fa = a.fault;
  const fault::Config& fb = b.fault;
  d.Check("fault.redundancy", fa.redundancy, fb.redundancy);
  d.Check("fault.separate_weight_copy", fa.separate_weight_copy, fb.separate_weight_copy);
  d.Check("fault.scrub_bytes_per_frame", fa.scrub_bytes_per_frame, fb.scrub_bytes_per_frame);
  d.Check("fault.model_backup_path", fa.model_backup_path, fb.model_backup_path);
  if (std::memcmp(fa.stage_deadline_ms, fb.stage_deadline_ms, sizeof(fa.stage_deadline_ms)) != 0) {
    out.push_back("fault.stage_deadline_ms");
  }
  d.Check("fault.misses_to_safe_mode", fa.misses_to_safe_mode, fb.misses_to_safe_mode);
  d.Check("fault.miss_window_s", fa.miss_window_s, fb.miss_window_s);
  d.Check("fault.watchdog_device", fa.watchdog_device, fb.watchdog_device);
  d.Check("fault.watchdog_timeout_s", fa.watchdog_timeout_s, fb.watchdog_timeout_s);
  d.Check("fault.max_resets", fa.max_resets, fb.max_resets);
  d.Check("fault.reset_window_s", fa.reset_window_s, fb.reset_window_s);
  return out;
}

}  // namespace triage::config
