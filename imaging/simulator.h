// Orbital frame simulator: procedural ISS-like nadir (and limb) views with a
// camera model and readout faults, each frame with its ground-truth class.
// Used by SimulatedCamera on board (tests, bench) and by ground-side
// training-set generation.
//
// Determinism: the same SceneParams and output size give bit-identical pixels
// on every run, compiler and platform. All randomness comes from SplitMix64
// and integer lattice hashes (imaging/det_math.h); per-pixel maths uses only
// + - * / and sqrt in float with FMA contraction disabled; there is no libm
// transcendental on any render path and no std::*_distribution anywhere.
//
// Resolution: scenes are defined in frame-relative coordinates, so the same
// params render the same scene at 2448x2050 or 128x128; fine noise octaves
// above the output's Nyquist limit are skipped, so small renders are cheap.
//
// Phase: everything here is allocation-free and thread-safe (no state).
// RenderScene works in place in the caller's buffer.
#ifndef TRIAGE_IMAGING_SIMULATOR_H_
#define TRIAGE_IMAGING_SIMULATOR_H_

#include <cstdint>

#include "core/status.h"
#include "imaging/scene.h"

namespace triage::imaging {

struct SimulatorConfig {
  // Relative frequency of each SceneKind when sampling without a class
  // (order: land, cloud, open water, night, limb, washed out, distorted).
  float kind_weights[kSceneKindCount] = {0.26f, 0.30f, 0.10f, 0.10f, 0.06f, 0.08f, 0.10f};
  // Give every sampled scene the OPS-SAT camera look (cyan cast, ~10 DN
  // pedestal, haze, lower contrast; see ApplyOpsSatLook).
  bool opssat_look = false;
  // Randomize camera effects (exposure, gains, vignetting, noise, cast) around
  // nominal, as training augmentation.
  bool jitter_camera = true;
};

// Draws scene parameters for frame `index` of the stream `seed`.
SceneParams SampleScene(const SimulatorConfig& config, uint64_t seed, uint64_t index);
// Same, but of one kind or one class (class: a kind is drawn among those
// that produce it, weighted by kind_weights).
SceneParams SampleSceneOfKind(const SimulatorConfig& config, SceneKind kind, uint64_t seed,
                              uint64_t index);
SceneParams SampleSceneOfClass(const SimulatorConfig& config, SceneClass cls, uint64_t seed,
                               uint64_t index);

// The OPS-SAT camera's look, fitted to the real frames in
// shared/datasets/real (land thumbnails: red ~0.55 of green, blue ~1.05 of
// green): cast (0.58, 1, 1.12) before haze, ~10 DN pedestal, contrast 0.72.
void ApplyOpsSatLook(CameraEffects* camera);

// What the render contained, measured while rendering (before camera noise).
struct RenderStats {
  float cloud_fraction = 0.f;      // pixels with cloud opacity > 0.5
  float land_fraction = 0.f;       // visible (not cloud, not space) land pixels
  float water_fraction = 0.f;      // visible water pixels
  float space_fraction = 0.f;      // dark space (limb views, stray light)
  float saturated_fraction = 0.f;  // output pixels with any channel at 255
  float mean_luma = 0.f;           // mean BT.601 luma of the output, DN
};

// Largest render accepted on either axis.
constexpr int kMaxRenderDimension = 4096;

// Renders `params` as interleaved RGB into rgb (width x height, stride in
// bytes). Errors: sizes outside 1..kMaxRenderDimension, null buffer, small
// stride. stats may be null.
Status RenderScene(const SceneParams& params, int width, int height, uint8_t* rgb,
                   int stride_bytes, RenderStats* stats);

// A simple circular orbit over a fixed Sun, enough for a day/night cycle.
struct OrbitConfig {
  double period_s = 5554.0;        // ISS-like, ~92.6 min
  double inclination_deg = 51.6;
  double beta_deg = 20.0;          // Sun angle to the orbital plane
  double phase_at_epoch_deg = 0.0; // 0: over the subsolar point (local noon) at t = 0
  double node_offset_deg = 30.0;   // orbit angle from the ascending node to local noon
};

struct OrbitState {
  double latitude_deg = 0.0;       // of the sub-satellite point
  double sun_elevation_deg = 0.0;  // at the sub-satellite point; < 0 is night
  double orbit_angle_deg = 0.0;    // from local noon, 0..360
};

OrbitState PropagateOrbit(const OrbitConfig& orbit, double seconds_since_epoch);

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_SIMULATOR_H_
