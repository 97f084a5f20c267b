// Ground truth that travels with simulated frames: the class the classifier
// should output and the parameters the simulator rendered from.
//
// Plain values, no allocation; safe to copy into Frame metadata and to log.
#ifndef TRIAGE_IMAGING_SCENE_H_
#define TRIAGE_IMAGING_SCENE_H_

#include <cstdint>

namespace triage::imaging {

// The classifier's classes, ids 0..4 in this order (the model's output order).
enum class SceneClass : uint8_t { kBlack = 0, kCloud = 1, kDistorted = 2, kLand = 3, kWhite = 4 };
constexpr int kSceneClassCount = 5;
const char* SceneClassName(SceneClass c);  // "black", "cloud", ...

// What the simulator drew. The class follows from the kind (see SceneClassOf).
enum class SceneKind : uint8_t {
  kLand,        // terrain, coastlines, rivers; little cloud        -> land
  kCloud,       // fractal cloud field over land or ocean           -> cloud
  kOpenWater,   // ocean, optional sun glint ("non-land, discard")  -> cloud
  kNight,       // dark, sensor noise, optional city lights         -> black
  kLimb,        // mostly dark space with a thin Earth limb          -> black
  kWashedOut,   // over-exposure / gain saturation                  -> white
  kDistorted,   // readout fault or stray light (see Distortion)    -> distorted
};
constexpr int kSceneKindCount = 7;
const char* SceneKindName(SceneKind k);
SceneClass SceneClassOf(SceneKind k);

enum class Distortion : uint8_t {
  kNone,
  kRowStripes,      // per-row offsets (readout banding)
  kColumnStripes,   // per-column offsets (fixed-pattern / dead columns)
  kDroppedBlocks,   // 8x8 JPEG blocks replaced by flat DC colours after a corrupt MCU
  kSmear,           // motion smear along the track plus CCD column smear
  kLineSyncLoss,    // rows shifted by a drifting offset, some rows lost
  kStrayLight,      // out-of-focus structure lit by stray light, no Earth in view
  kHeavyNoise,      // very high read noise
};
constexpr int kDistortionCount = 8;
const char* DistortionName(Distortion d);

// Camera response applied after the scene radiance. Units: radiance is 0..1
// of full scale; DN are 8-bit output counts.
struct CameraEffects {
  float exposure = 1.0f;                     // radiance multiplier (1 = nominal)
  float gain[3] = {1.0f, 1.0f, 1.0f};        // per-channel analog gain (RGB)
  float cast[3] = {1.0f, 1.0f, 1.0f};        // colour cast multiplier (RGB)
  float vignetting = 0.25f;                  // relative fall-off at the frame corner
  float read_noise_dn = 1.5f;                // Gaussian read noise, DN (1 sigma)
  float shot_noise = 0.25f;                  // shot noise sigma = sqrt(shot_noise * signal_dn)
  float pedestal_dn = 2.0f;                  // black level, DN
  float haze = 0.05f;                        // additive blue path radiance, 0..1
  float contrast = 1.0f;                     // radiance contrast around mid-grey
};

struct SceneParams {
  SceneKind kind = SceneKind::kLand;
  uint64_t seed = 0;               // everything procedural derives from this
  float sun_elevation_deg = 45.f;  // < 0: night side
  float latitude_deg = 30.f;       // drives biome temperature
  float ground_scale = 1.0f;       // terrain feature size (larger = more zoomed out)
  float land_fraction = 0.7f;      // target share of land (vs water) under the clouds
  float moisture = 0.5f;           // 0 desert .. 1 forest
  float cloud_fraction = 0.1f;     // target share of the frame covered by cloud
  float river_density = 0.5f;      // 0..1
  float sun_glint = 0.f;           // glint strength on water, 0..1
  float glint_x = 0.5f, glint_y = 0.5f;  // glint centre, frame fractions
  float city_lights = 0.f;         // night only, 0..1
  float limb_space_fraction = 0.f; // share of the frame that is dark space (limb views)
  float limb_angle_deg = 30.f;     // orientation of the limb
  Distortion distortion = Distortion::kNone;
  float distortion_strength = 0.f; // 0..1
  CameraEffects camera;
};

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_SCENE_H_
