#include "imaging/simulated_camera.h"

#include <cstdio>
#include <cstring>
#include <utility>

#include "imaging/det_math.h"

namespace triage::imaging {

Result<SimulatedCamera> SimulatedCamera::Create(const SimulatedCameraConfig& config) {
  if (config.width < 8 || config.height < 8 || config.width > kMaxRenderDimension ||
      config.height > kMaxRenderDimension) {
    return Status::Error(StatusCode::kInvalidArgument, "sim camera: size %dx%d outside 8..%d",
                         config.width, config.height, kMaxRenderDimension);
  }
  const float rates[3] = {config.distorted_rate, config.washed_out_rate, config.limb_rate};
  for (float r : rates) {
    if (!(r >= 0.f && r <= 1.f)) {
      return Status::Error(StatusCode::kInvalidArgument, "sim camera: rate %g outside 0..1",
                           static_cast<double>(r));
    }
  }
  if (config.distorted_rate + config.washed_out_rate + config.limb_rate > 1.f) {
    return Status::Error(StatusCode::kInvalidArgument, "sim camera: fault rates sum above 1");
  }
  if (config.render_divisor < 1 || config.render_divisor > 16) {
    return Status::Error(StatusCode::kInvalidArgument, "sim camera: render_divisor %d outside 1..16",
                         config.render_divisor);
  }
  if (!(config.orbit.period_s > 0.0)) {
    return Status::Error(StatusCode::kInvalidArgument, "sim camera: orbit period %g s",
                         config.orbit.period_s);
  }
  JpegEncoderConfig jc;
  jc.max_width = config.width;
  jc.max_height = config.height;
  jc.quality = config.jpeg_quality;
  Result<JpegEncoder> encoder = JpegEncoder::Create(jc);
  if (!encoder.ok()) return encoder.status().WithContext("sim camera");
  SimulatedCamera cam(std::move(encoder.value()));
  cam.config_ = config;
  cam.render_width_ = (config.width + config.render_divisor - 1) / config.render_divisor;
  cam.render_height_ = (config.height + config.render_divisor - 1) / config.render_divisor;
  cam.render_.resize(static_cast<size_t>(cam.render_width_) * cam.render_height_ * 3);
  if (config.render_divisor > 1) {
    Result<Resampler> up = Resampler::Create(cam.render_width_, cam.render_height_, config.width,
                                             config.height, 3);
    if (!up.ok()) return up.status().WithContext("sim camera");
    cam.upscaler_ = std::move(up.value());
    cam.frame_rgb_.resize(static_cast<size_t>(config.width) * config.height * 3);
  }
  return cam;
}

SceneParams SimulatedCamera::ChooseScene(uint64_t index, const OrbitState& orbit) const {
  det::Rng rng(det::MixSeed(config_.seed, index ^ 0x0DDBA11ull));
  const double u = rng.Uniform();
  const bool day = orbit.sun_elevation_deg >= 2.0;
  SceneKind kind;
  if (u < config_.distorted_rate) {
    kind = SceneKind::kDistorted;
  } else if (day && u < config_.distorted_rate + config_.washed_out_rate) {
    kind = SceneKind::kWashedOut;
  } else if (day && u < config_.distorted_rate + config_.washed_out_rate + config_.limb_rate) {
    kind = SceneKind::kLimb;
  } else if (!day) {
    kind = SceneKind::kNight;
  } else {
    // Nadir day view: land, cloud or open water by the simulator's weights.
    const float* w = config_.simulator.kind_weights;
    const float wl = w[static_cast<int>(SceneKind::kLand)];
    const float wc = w[static_cast<int>(SceneKind::kCloud)];
    const float ww = w[static_cast<int>(SceneKind::kOpenWater)];
    const float total = wl + wc + ww;
    const float pick = static_cast<float>(rng.Uniform()) * (total > 0.f ? total : 1.f);
    kind = pick < wl ? SceneKind::kLand : (pick < wl + wc ? SceneKind::kCloud : SceneKind::kOpenWater);
  }
  SceneParams p = SampleSceneOfKind(config_.simulator, kind, config_.seed, index);
  p.latitude_deg = static_cast<float>(orbit.latitude_deg);
  if (kind != SceneKind::kNight || !day) {
    // Lighting follows the orbit, except that a night scene stays dark.
    if (kind == SceneKind::kNight) {
      p.sun_elevation_deg = static_cast<float>(orbit.sun_elevation_deg < -8.0 ? orbit.sun_elevation_deg : -8.0);
    } else if (day) {
      p.sun_elevation_deg = static_cast<float>(orbit.sun_elevation_deg);
    }
  }
  return p;
}

Status SimulatedCamera::Capture(Frame& frame) {
  const uint64_t index = frame_index_++;
  const double t_s = static_cast<double>(config_.camera.frame_interval_us) * 1e-6 *
                     static_cast<double>(index);
  const OrbitState orbit = PropagateOrbit(config_.orbit, t_s);
  const SceneParams scene = ChooseScene(index, orbit);

  frame.Clear();
  TRIAGE_RETURN_IF_ERROR(RenderScene(scene, render_width_, render_height_, render_.data(),
                                     render_width_ * 3, &last_stats_));
  const uint8_t* full = render_.data();
  if (config_.render_divisor > 1) {
    TRIAGE_RETURN_IF_ERROR(upscaler_.Run(render_.data(), render_width_, render_height_,
                                         render_width_ * 3, frame_rgb_.data(), config_.width * 3));
    full = frame_rgb_.data();
  }
  Result<Span<const uint8_t>> jpeg =
      encoder_.Encode(full, config_.width, config_.height, config_.width * 3);
  if (!jpeg.ok()) return jpeg.status().WithContext("sim camera frame %llu",
                                                    static_cast<unsigned long long>(index));
  if (jpeg->size() > frame.encoded.size()) {
    return Status::Error(StatusCode::kResourceExhausted,
                         "sim camera frame %llu: %zu-byte JPEG does not fit the frame's %zu bytes",
                         static_cast<unsigned long long>(index), jpeg->size(), frame.encoded.size());
  }
  std::memcpy(frame.encoded.data(), jpeg->data(), jpeg->size());
  frame.encoding = FrameEncoding::kJpeg;
  frame.encoded_size = jpeg->size();
  frame.width = config_.width;
  frame.height = config_.height;

  FrameMetadata& m = frame.meta;
  m.frame_id = index;
  m.timestamp_us = config_.camera.start_time_us +
                   config_.camera.frame_interval_us * static_cast<int64_t>(index);
  m.exposure_ms = config_.camera.exposure_ms * scene.camera.exposure;
  for (int c = 0; c < 3; ++c) m.gain[c] = config_.camera.gain[c] * scene.camera.gain[c];
  m.sensor_temperature_c =
      config_.sensor_temperature_c +
      config_.temperature_swing_c * static_cast<float>(det::Cos(det::DegToRad(orbit.orbit_angle_deg - 40.0)));
  std::snprintf(m.source, sizeof(m.source), "sim:%llu/%llu",
                static_cast<unsigned long long>(config_.seed), static_cast<unsigned long long>(index));
  m.has_truth = true;
  m.truth_class = SceneClassOf(scene.kind);
  m.truth_scene = scene;
  return Status::Ok();
}

}  // namespace triage::imaging
