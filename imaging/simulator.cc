// Procedural scene renderer. See simulator.h for the determinism rules; the
// short version: integer hashes for randomness, float + - * / sqrt only, no
// libm transcendental per pixel, this file compiled with -ffp-contract=off.
#include "imaging/simulator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "imaging/det_math.h"

namespace triage::imaging {

const char* SceneClassName(SceneClass c) {
  switch (c) {
    case SceneClass::kBlack: return "black";
    case SceneClass::kCloud: return "cloud";
    case SceneClass::kDistorted: return "distorted";
    case SceneClass::kLand: return "land";
    case SceneClass::kWhite: return "white";
  }
  return "unknown";
}

const char* SceneKindName(SceneKind k) {
  switch (k) {
    case SceneKind::kLand: return "land";
    case SceneKind::kCloud: return "cloud";
    case SceneKind::kOpenWater: return "open_water";
    case SceneKind::kNight: return "night";
    case SceneKind::kLimb: return "limb";
    case SceneKind::kWashedOut: return "washed_out";
    case SceneKind::kDistorted: return "distorted";
  }
  return "unknown";
}

SceneClass SceneClassOf(SceneKind k) {
  switch (k) {
    case SceneKind::kLand: return SceneClass::kLand;
    case SceneKind::kCloud:
    case SceneKind::kOpenWater: return SceneClass::kCloud;
    case SceneKind::kNight:
    case SceneKind::kLimb: return SceneClass::kBlack;
    case SceneKind::kWashedOut: return SceneClass::kWhite;
    case SceneKind::kDistorted: return SceneClass::kDistorted;
  }
  return SceneClass::kCloud;
}

const char* DistortionName(Distortion d) {
  switch (d) {
    case Distortion::kNone: return "none";
    case Distortion::kRowStripes: return "row_stripes";
    case Distortion::kColumnStripes: return "column_stripes";
    case Distortion::kDroppedBlocks: return "dropped_blocks";
    case Distortion::kSmear: return "smear";
    case Distortion::kLineSyncLoss: return "line_sync_loss";
    case Distortion::kStrayLight: return "stray_light";
    case Distortion::kHeavyNoise: return "heavy_noise";
  }
  return "unknown";
}

namespace {

using det::Hash2;
using det::HashToUnit;

// ------------------------------------------------------------------ helpers

inline float Clamp01(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float Lerp(float a, float b, float t) { return a + (b - a) * t; }
inline float Smoothstep(float e0, float e1, float x) {
  const float t = Clamp01((x - e0) / (e1 - e0));
  return t * t * (3.f - 2.f * t);
}
inline int FloorToInt(float x) {
  const int i = static_cast<int>(x);
  return x < static_cast<float>(i) ? i - 1 : i;
}
inline float Abs(float x) { return x < 0.f ? -x : x; }

struct Rgb {
  float r, g, b;
};
inline Rgb Mix(Rgb a, Rgb b, float t) { return {Lerp(a.r, b.r, t), Lerp(a.g, b.g, t), Lerp(a.b, b.b, t)}; }
inline Rgb Scale(Rgb a, float s) { return {a.r * s, a.g * s, a.b * s}; }

// Value noise on the integer lattice with quintic fade; range [0, 1).
float ValueNoise(float x, float y, uint32_t seed) {
  const int ix = FloorToInt(x), iy = FloorToInt(y);
  const float fx = x - static_cast<float>(ix), fy = y - static_cast<float>(iy);
  const float ux = fx * fx * fx * (fx * (fx * 6.f - 15.f) + 10.f);
  const float uy = fy * fy * fy * (fy * (fy * 6.f - 15.f) + 10.f);
  const float a = HashToUnit(Hash2(ix, iy, seed));
  const float b = HashToUnit(Hash2(ix + 1, iy, seed));
  const float c = HashToUnit(Hash2(ix, iy + 1, seed));
  const float d = HashToUnit(Hash2(ix + 1, iy + 1, seed));
  return a + (b - a) * ux + (c - a) * uy + (a - b - c + d) * ux * uy;
}

// Fractal sum of value noise; mean ~0.5. Octaves above the render's Nyquist
// limit are dropped (set per render by OctavesFor).
struct Fbm {
  float base_freq = 1.f;  // cycles per frame height
  int octaves = 1;
  uint32_t seed = 0;
  float Eval(float x, float y) const {
    float sum = 0.f, amp = 0.5f, norm = 0.f, freq = base_freq;
    for (int o = 0; o < octaves; ++o) {
      // Per-octave offsets avoid the lattice origin lining up across octaves.
      sum += amp * ValueNoise(x * freq + 17.13f * static_cast<float>(o),
                              y * freq - 9.71f * static_cast<float>(o),
                              seed + 0x9E3779B9u * static_cast<uint32_t>(o));
      norm += amp;
      amp *= 0.5f;
      freq *= 2.f;
    }
    return sum / norm;
  }
};

int OctavesFor(float base_freq, int height, int max_octaves) {
  int o = 1;
  float f = base_freq;
  // Finest octave: ~4 px wavelength; finer value noise only adds aliasing.
  const float limit = static_cast<float>(height) / 4.f;
  while (o < max_octaves && f * 2.f <= limit) {
    f *= 2.f;
    ++o;
  }
  return o;
}

// Standard-normal approximation from one hash (Irwin-Hall of 4 bytes).
inline float Gauss(uint32_t h) {
  const float s = static_cast<float>((h & 0xFF) + ((h >> 8) & 0xFF) + ((h >> 16) & 0xFF) + (h >> 24));
  return (s * (1.f / 255.f) - 2.f) * 1.7320508f;
}

// The q-quantile of an fbm over a coarse grid of the frame: sets a threshold
// so that the realized coverage of the frame matches the requested fraction
// scene by scene (not only on average).
constexpr int kGridW = 40, kGridH = 32;
float FbmQuantile(const Fbm& f, float aspect, float scale, float q) {
  std::array<float, kGridW * kGridH> v;
  Fbm coarse = f;
  coarse.octaves = std::min(f.octaves, 4);
  for (int j = 0; j < kGridH; ++j) {
    for (int i = 0; i < kGridW; ++i) {
      const float x = ((static_cast<float>(i) + 0.5f) / kGridW - 0.5f) * aspect * scale;
      const float y = ((static_cast<float>(j) + 0.5f) / kGridH - 0.5f) * scale;
      v[static_cast<size_t>(j * kGridW + i)] = coarse.Eval(x, y);
    }
  }
  int k = static_cast<int>(q * static_cast<float>(v.size()));
  k = std::max(0, std::min(k, static_cast<int>(v.size()) - 1));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[static_cast<size_t>(k)];
}

// ------------------------------------------------------------------ palette

const Rgb kDeepWater{0.025f, 0.065f, 0.12f};
const Rgb kShallowWater{0.06f, 0.16f, 0.19f};
const Rgb kRiver{0.07f, 0.13f, 0.14f};
const Rgb kSand{0.62f, 0.56f, 0.42f};
const Rgb kDesert{0.66f, 0.51f, 0.34f};
const Rgb kSavanna{0.43f, 0.41f, 0.24f};
const Rgb kGrass{0.20f, 0.33f, 0.12f};
const Rgb kForest{0.07f, 0.17f, 0.07f};
const Rgb kTundra{0.42f, 0.40f, 0.35f};
const Rgb kRock{0.37f, 0.34f, 0.31f};
const Rgb kSnow{0.88f, 0.90f, 0.94f};
const Rgb kAtmosphere{0.35f, 0.58f, 1.0f};
const Rgb kCityLight{1.0f, 0.72f, 0.38f};
const Rgb kHazeColour{0.55f, 0.72f, 1.0f};

enum Label : uint8_t { kWater = 0, kLandPx = 1, kCloudPx = 2, kSpacePx = 3 };

struct StrayBlob {
  float cx, cy, ca, sa, inv_rx2, inv_ry2, intensity;
};

// Everything derived once per frame.
struct Ctx {
  const SceneParams* p = nullptr;
  int w = 0, h = 0;
  float aspect = 1.f;
  float scale = 1.f;
  Fbm terrain, moisture, river, cloud, detail, city, wave;
  bool has_land = true, has_clouds = false, has_rivers = false, no_earth = false;
  float sea_level = 0.f, cloud_threshold = 2.f;
  float illum = 1.f;    // sunlight on the ground, 0..1
  float night_floor = 0.f;
  // Limb geometry in frame coordinates (u, v in [0,1]).
  bool limb = false;
  float limb_nx = 0.f, limb_ny = 0.f, limb_c = 0.f, limb_curv = 0.f;
  // Stray light.
  std::array<StrayBlob, 4> blobs{};
  int blob_count = 0;
  float edge_glow = 0.f, edge_nx = 0.f, edge_ny = 0.f;
  // Camera.
  float gain[3] = {1.f, 1.f, 1.f};
  float haze[3] = {0.f, 0.f, 0.f};
  float pedestal = 0.f, read_var = 0.f, shot = 0.f, vignetting = 0.f, contrast = 1.f;
  float inv_r2max = 1.f;
  uint32_t noise_seed = 0, stripe_seed = 0;
};

float LimbSignedDistance(const Ctx& c, float u, float v) {
  const float du = (u - 0.5f) * c.aspect, dv = v - 0.5f;
  const float along = du * c.limb_nx + dv * c.limb_ny;
  const float across = -du * c.limb_ny + dv * c.limb_nx;
  return along + c.limb_curv * across * across - c.limb_c;  // > 0: space
}

// Ground (and cloud) colour at world position (x, y); frame position (u, v)
// for effects tied to the frame (glint).
Rgb Surface(const Ctx& c, float x, float y, float u, float v, Label* label) {
  const SceneParams& p = *c.p;
  Rgb col;
  const float hgt = c.has_land ? c.terrain.Eval(x, y) : 0.f;
  const bool water = !c.has_land || hgt < c.sea_level;
  const float detail = c.detail.Eval(x, y);
  if (water) {
    const float depth = c.has_land ? c.sea_level - hgt : 1.f;
    col = Mix(kShallowWater, kDeepWater, Smoothstep(0.f, 0.05f, depth));
    if (p.sun_glint > 0.f) {
      const float du = (u - p.glint_x) * c.aspect, dv = v - p.glint_y;
      const float q = (du * du + dv * dv) * (1.f / 0.045f);
      const float g = 1.f / ((1.f + q) * (1.f + q));
      const float waves = 0.6f + 0.8f * c.wave.Eval(x, y);
      col.r += p.sun_glint * g * waves * 1.0f;
      col.g += p.sun_glint * g * waves * 0.97f;
      col.b += p.sun_glint * g * waves * 0.90f;
    }
    *label = kWater;
  } else {
    const float e = (hgt - c.sea_level) / (1.f - c.sea_level + 1e-3f);
    const float m = Clamp01(p.moisture + 0.9f * (c.moisture.Eval(x, y) - 0.5f));
    const float lat = Abs(p.latitude_deg);
    const float t = 1.f - lat / 75.f - 0.9f * e;
    const Rgb dry = Mix(kDesert, kSavanna, Smoothstep(0.2f, 0.45f, m));
    const Rgb wet = Mix(kGrass, kForest, Smoothstep(0.55f, 0.85f, m));
    col = Mix(dry, wet, Smoothstep(0.35f, 0.6f, m));
    col = Mix(col, kRock, Smoothstep(0.35f, 0.7f, e) * 0.7f);
    col = Mix(kTundra, col, Smoothstep(0.12f, 0.32f, t));
    col = Mix(kSnow, col, Smoothstep(0.0f, 0.12f, t));
    col = Mix(col, kSand, 0.45f * (1.f - Smoothstep(0.003f, 0.015f, e)));  // beaches
    col = Scale(col, 0.8f + 0.4f * detail);               // fields, texture
    *label = kLandPx;
    if (c.has_rivers) {
      const float r = Abs(c.river.Eval(x, y) - 0.5f);
      const float width = 0.002f + 0.003f * p.river_density;
      const float in_river = (1.f - Smoothstep(width * 0.5f, width, r)) * (1.f - Smoothstep(0.3f, 0.5f, e));
      col = Mix(col, kRiver, in_river);
    }
  }
  if (c.has_clouds) {
    const float cv = c.cloud.Eval(x, y);
    const float density = Smoothstep(c.cloud_threshold - 0.015f, c.cloud_threshold + 0.06f, cv);
    if (density > 0.f) {
      const float thick = Clamp01((cv - c.cloud_threshold) * 6.f);
      const float bright = 0.68f + 0.26f * thick + 0.06f * (detail - 0.5f);
      col = Mix(col, Rgb{bright, bright, bright * 1.01f}, density);
      if (density > 0.5f) *label = kCloudPx;
    }
  }
  return col;
}

Rgb StrayLight(const Ctx& c, float u, float v, float x, float y) {
  const float du = (u - 0.5f) * c.aspect, dv = v - 0.5f;
  float s = 0.05f;
  for (int i = 0; i < c.blob_count; ++i) {
    const StrayBlob& b = c.blobs[static_cast<size_t>(i)];
    const float px = du - b.cx, py = dv - b.cy;
    const float a = px * b.ca + py * b.sa, d = -px * b.sa + py * b.ca;
    const float q = a * a * b.inv_rx2 + d * d * b.inv_ry2;
    s += b.intensity / ((1.f + q) * (1.f + q));
  }
  const float edge = Clamp01(0.5f + du * c.edge_nx + dv * c.edge_ny);
  s += c.edge_glow * edge * edge;
  s *= 0.75f + 0.5f * c.detail.Eval(x * 0.25f, y * 0.25f);  // mottled out-of-focus structure
  return Rgb{s * 0.85f, s * 1.0f, s * 0.8f};
}

void SetUpContext(const SceneParams& p, int w, int h, Ctx* c) {
  c->p = &p;
  c->w = w;
  c->h = h;
  c->aspect = static_cast<float>(w) / static_cast<float>(h);
  c->scale = p.ground_scale > 0.05f ? p.ground_scale : 0.05f;
  const uint32_t s32 = static_cast<uint32_t>(det::MixSeed(p.seed, 1));
  det::Rng rng(det::MixSeed(p.seed, 2));

  c->terrain = Fbm{1.2f, OctavesFor(1.2f * c->scale, h, 9), s32 ^ 0x1111u};
  c->moisture = Fbm{0.8f, OctavesFor(0.8f * c->scale, h, 3), s32 ^ 0x2222u};
  c->river = Fbm{1.6f, OctavesFor(1.6f * c->scale, h, 5), s32 ^ 0x3333u};
  c->cloud = Fbm{1.5f, OctavesFor(1.5f * c->scale, h, 8), s32 ^ 0x4444u};
  c->detail = Fbm{12.f, OctavesFor(12.f * c->scale, h, 3), s32 ^ 0x5555u};
  c->city = Fbm{9.f, OctavesFor(9.f * c->scale, h, 3), s32 ^ 0x6666u};
  c->wave = Fbm{40.f, OctavesFor(40.f * c->scale, h, 2), s32 ^ 0x7777u};
  c->noise_seed = static_cast<uint32_t>(det::MixSeed(p.seed, 3));
  c->stripe_seed = static_cast<uint32_t>(det::MixSeed(p.seed, 4));

  c->no_earth = p.kind == SceneKind::kDistorted && p.distortion == Distortion::kStrayLight;
  c->has_land = p.land_fraction > 0.f;
  if (c->has_land) {
    c->sea_level = p.land_fraction >= 1.f
                       ? -1.f
                       : FbmQuantile(c->terrain, c->aspect, c->scale, 1.f - p.land_fraction);
  }
  c->has_clouds = p.cloud_fraction > 0.f;
  if (c->has_clouds) {
    c->cloud_threshold = p.cloud_fraction >= 1.f
                             ? -1.f
                             : FbmQuantile(c->cloud, c->aspect, c->scale, 1.f - p.cloud_fraction);
  }
  c->has_rivers = c->has_land && p.river_density > 0.f;

  const double elev = det::DegToRad(p.sun_elevation_deg);
  const double sin_elev = det::Sin(elev);
  // Sunlight normalized to 1 at 45 degrees; twilight fades to 0 at -6.
  float illum = static_cast<float>(sin_elev / 0.70710678);
  if (p.sun_elevation_deg < 2.f) {
    illum = 0.03f * Clamp01((p.sun_elevation_deg + 6.f) / 8.f);
  }
  c->illum = std::min(illum, 1.3f);
  c->night_floor = p.kind == SceneKind::kNight ? 0.006f : 0.f;

  c->limb = p.limb_space_fraction > 0.f && !c->no_earth;
  if (c->limb) {
    const double a = det::DegToRad(p.limb_angle_deg);
    c->limb_nx = static_cast<float>(det::Cos(a));
    c->limb_ny = static_cast<float>(det::Sin(a));
    c->limb_curv = 0.35f;
    // Bisection on the offset so that the space share matches the request.
    float lo = -2.f, hi = 2.f;
    for (int it = 0; it < 24; ++it) {
      c->limb_c = 0.5f * (lo + hi);
      int space = 0;
      for (int j = 0; j < kGridH; ++j) {
        for (int i = 0; i < kGridW; ++i) {
          space += LimbSignedDistance(*c, (i + 0.5f) / kGridW, (j + 0.5f) / kGridH) > 0.f;
        }
      }
      const float frac = static_cast<float>(space) / (kGridW * kGridH);
      if (frac > p.limb_space_fraction) lo = c->limb_c; else hi = c->limb_c;
    }
  }
  if (c->no_earth) {
    c->blob_count = 2 + static_cast<int>(rng.Below(3));
    for (int i = 0; i < c->blob_count; ++i) {
      const double ang = rng.Uniform() * det::kPi;
      const float rx = rng.Uniform(0.15f, 0.6f), ry = rng.Uniform(0.04f, 0.25f);
      c->blobs[static_cast<size_t>(i)] =
          StrayBlob{rng.Uniform(-0.7f, 0.7f), rng.Uniform(-0.6f, 0.6f),
                    static_cast<float>(det::Cos(ang)), static_cast<float>(det::Sin(ang)),
                    1.f / (rx * rx), 1.f / (ry * ry),
                    rng.Uniform(0.1f, 0.35f) * (0.5f + p.distortion_strength)};
    }
    const double ea = rng.Uniform() * 2.0 * det::kPi;
    c->edge_nx = static_cast<float>(det::Cos(ea));
    c->edge_ny = static_cast<float>(det::Sin(ea));
    c->edge_glow = rng.Uniform(0.1f, 0.4f);
  }

  const CameraEffects& cam = p.camera;
  for (int i = 0; i < 3; ++i) {
    c->gain[i] = cam.exposure * cam.gain[i] * cam.cast[i];
  }
  c->haze[0] = cam.haze * kHazeColour.r;
  c->haze[1] = cam.haze * kHazeColour.g;
  c->haze[2] = cam.haze * kHazeColour.b;
  c->pedestal = cam.pedestal_dn;
  float read = cam.read_noise_dn;
  if (p.kind == SceneKind::kDistorted && p.distortion == Distortion::kHeavyNoise) {
    read += 18.f + 30.f * p.distortion_strength;
  }
  c->read_var = read * read;
  c->shot = cam.shot_noise;
  c->vignetting = cam.vignetting;
  c->contrast = cam.contrast;
  const float corner = 0.25f * c->aspect * c->aspect + 0.25f;
  c->inv_r2max = 1.f / corner;
}

// Additive DN offsets of banded rows and bad columns.
float StripeOffset(const Ctx& c, int x, int y) {
  const SceneParams& p = *c.p;
  if (p.kind != SceneKind::kDistorted) return 0.f;
  const float s = p.distortion_strength;
  if (p.distortion == Distortion::kRowStripes) {
    const int band = std::max(1, c.h / 120);
    const uint32_t hb = Hash2(y / band, 7, c.stripe_seed);
    float o = (HashToUnit(hb) - 0.5f) * 70.f * s;
    if ((hb & 0x1F) == 0) o -= 120.f * s;  // occasional dead line
    return o;
  }
  if (p.distortion == Distortion::kColumnStripes) {
    const uint32_t hc = Hash2(x, 11, c.stripe_seed);
    const float u = HashToUnit(hc);
    if (u < 0.35f) return -(30.f + 90.f * HashToUnit(hc * 0x9E3779B9u)) * s;
    if (u > 0.97f) return 70.f * s;
    return 0.f;
  }
  return 0.f;
}

// ------------------------------------------------------------ post effects

void DroppedBlocks(const Ctx& c, uint8_t* rgb, int stride) {
  det::Rng rng(det::MixSeed(c.p->seed, 5));
  const float s = c.p->distortion_strength;
  const int across = 40 + static_cast<int>((1.f - s) * 110.f);
  const int bs = std::max(2, c.w / across);
  const int bw = (c.w + bs - 1) / bs, bh = (c.h + bs - 1) / bs;
  const int total = bw * bh;
  const int start = static_cast<int>(rng.Uniform(0.05f, 0.65f) * static_cast<float>(total));
  const float p_drop = 0.35f + 0.6f * s;
  // A corrupted stream shifts the DC of everything after the error.
  const float dy = rng.Uniform(-40.f, 40.f);
  for (int b = start; b < total; ++b) {
    const int bx = b % bw, by = b / bw;
    const uint32_t hb = Hash2(bx, by, c.noise_seed ^ 0xB10Cu);
    uint8_t col[3] = {0, 0, 0};
    bool flat = HashToUnit(hb) < p_drop;
    if (flat) {
      // Flat DC colour: luma plus a strong chroma error, greens and tans.
      const float y = 40.f + 170.f * HashToUnit(hb * 0x27D4EB2Du);
      const float cb = (HashToUnit(hb * 0x165667B1u) - 0.6f) * 90.f;
      const float cr = (HashToUnit(hb * 0xD3A2646Cu) - 0.65f) * 90.f;
      const float r = y + 1.402f * cr, g = y - 0.344f * cb - 0.714f * cr, bl = y + 1.772f * cb;
      col[0] = static_cast<uint8_t>(std::min(255.f, std::max(0.f, r)));
      col[1] = static_cast<uint8_t>(std::min(255.f, std::max(0.f, g)));
      col[2] = static_cast<uint8_t>(std::min(255.f, std::max(0.f, bl)));
    }
    for (int y = by * bs; y < std::min(c.h, (by + 1) * bs); ++y) {
      uint8_t* row = rgb + static_cast<size_t>(y) * stride;
      for (int x = bx * bs; x < std::min(c.w, (bx + 1) * bs); ++x) {
        for (int ch = 0; ch < 3; ++ch) {
          if (flat) {
            row[x * 3 + ch] = col[ch];
          } else {
            const float v = static_cast<float>(row[x * 3 + ch]) + dy;
            row[x * 3 + ch] = static_cast<uint8_t>(std::min(255.f, std::max(0.f, v)));
          }
        }
      }
    }
  }
}

void Smear(const Ctx& c, uint8_t* rgb, int stride) {
  const float s = c.p->distortion_strength;
  // Motion smear along the track (vertical box blur) ...
  const int len = std::min(255, 2 + static_cast<int>(s * static_cast<float>(c.h) / 12.f));
  std::array<uint8_t, 256> ring{};
  for (int x = 0; x < c.w; ++x) {
    for (int ch = 0; ch < 3; ++ch) {
      uint32_t sum = 0;
      int filled = 0;
      for (int y = 0; y < c.h; ++y) {
        uint8_t* p = rgb + static_cast<size_t>(y) * stride + x * 3 + ch;
        const int slot = y % len;
        if (filled == len) sum -= ring[static_cast<size_t>(slot)]; else ++filled;
        ring[static_cast<size_t>(slot)] = *p;
        sum += *p;
        *p = static_cast<uint8_t>((sum + static_cast<uint32_t>(filled) / 2) / static_cast<uint32_t>(filled));
      }
    }
  }
  // ... plus CCD column smear: each column gains a share of its mean.
  std::array<uint32_t, kMaxRenderDimension> col_sum{};
  for (int y = 0; y < c.h; ++y) {
    const uint8_t* row = rgb + static_cast<size_t>(y) * stride;
    for (int x = 0; x < c.w; ++x) col_sum[static_cast<size_t>(x)] += row[x * 3 + 1];
  }
  const float k = 0.5f * s / static_cast<float>(c.h);
  for (int y = 0; y < c.h; ++y) {
    uint8_t* row = rgb + static_cast<size_t>(y) * stride;
    for (int x = 0; x < c.w; ++x) {
      const float add = static_cast<float>(col_sum[static_cast<size_t>(x)]) * k;
      for (int ch = 0; ch < 3; ++ch) {
        const float v = static_cast<float>(row[x * 3 + ch]) + add;
        row[x * 3 + ch] = static_cast<uint8_t>(v > 255.f ? 255.f : v);
      }
    }
  }
}

void LineSyncLoss(const Ctx& c, uint8_t* rgb, int stride) {
  det::Rng rng(det::MixSeed(c.p->seed, 6));
  const float s = c.p->distortion_strength;
  const int start = static_cast<int>(rng.Uniform(0.1f, 0.6f) * static_cast<float>(c.h));
  int offset = 0;
  const int step = std::max(1, c.w / 60);
  for (int y = start; y < c.h; ++y) {
    uint8_t* row = rgb + static_cast<size_t>(y) * stride;
    if (rng.Bernoulli(0.02 + 0.05 * s)) {  // resync to a wrong position
      offset = static_cast<int>(rng.Below(static_cast<uint32_t>(c.w)));
    } else {
      offset += static_cast<int>(rng.Below(static_cast<uint32_t>(2 * step + 1))) - step;
    }
    offset = ((offset % c.w) + c.w) % c.w;
    std::rotate(row, row + offset * 3, row + c.w * 3);
    if (rng.Bernoulli(0.03 + 0.06 * s)) {  // a lost line reads out black
      const int lines = 1 + static_cast<int>(rng.Below(static_cast<uint32_t>(std::max(1, c.h / 100))));
      for (int l = 0; l < lines && y + l < c.h; ++l) {
        std::memset(rgb + static_cast<size_t>(y + l) * stride, 2, static_cast<size_t>(c.w) * 3);
      }
      y += lines - 1;
    }
  }
}

}  // namespace

// ------------------------------------------------------------------ render

Status RenderScene(const SceneParams& params, int width, int height, uint8_t* rgb,
                   int stride_bytes, RenderStats* stats) {
  if (width < 1 || height < 1 || width > kMaxRenderDimension || height > kMaxRenderDimension) {
    return Status::Error(StatusCode::kInvalidArgument, "simulator: size %dx%d outside 1..%d",
                         width, height, kMaxRenderDimension);
  }
  if (rgb == nullptr || stride_bytes < width * 3) {
    return Status::Error(StatusCode::kInvalidArgument, "simulator: null buffer or stride %d < %d",
                         stride_bytes, width * 3);
  }
  Ctx c;
  SetUpContext(params, width, height, &c);
  const SceneParams& p = params;

  uint64_t n_cloud = 0, n_land = 0, n_water = 0, n_space = 0;
  const float inv_w = 1.f / static_cast<float>(width), inv_h = 1.f / static_cast<float>(height);
  for (int yi = 0; yi < height; ++yi) {
    uint8_t* row = rgb + static_cast<size_t>(yi) * stride_bytes;
    const float v = (static_cast<float>(yi) + 0.5f) * inv_h;
    for (int xi = 0; xi < width; ++xi) {
      const float u = (static_cast<float>(xi) + 0.5f) * inv_w;
      const float x = (u - 0.5f) * c.aspect * c.scale;
      const float y = (v - 0.5f) * c.scale;
      Rgb rad{0.f, 0.f, 0.f};
      Label label = kSpacePx;
      float sky_lift = 1.f;  // haze and contrast pivot apply to lit Earth only
      if (c.no_earth) {
        rad = StrayLight(c, u, v, x, y);
        sky_lift = 0.f;
      } else {
        const float limb_d = c.limb ? LimbSignedDistance(c, u, v) : -1.f;
        if (limb_d > 0.f) {
          // Space, with a thin airglow just above the limb.
          const float glow = c.illum * 0.25f * (1.f - Smoothstep(0.f, 0.02f, limb_d));
          rad = Scale(kAtmosphere, glow);
          sky_lift = 0.f;
        } else {
          rad = Surface(c, x, y, u, v, &label);
          rad = Scale(rad, c.illum);
          if (c.limb) {  // atmosphere thickens toward the limb
            const float a = Smoothstep(-0.15f, 0.f, limb_d) * 0.8f * (c.illum > 0.2f ? 1.f : c.illum * 5.f);
            rad = Mix(rad, Scale(kAtmosphere, c.illum * 0.9f), a);
          }
          if (p.kind == SceneKind::kNight) {
            rad = Scale(rad, c.night_floor);
            if (p.city_lights > 0.f && label == kLandPx) {
              const float lights = Smoothstep(0.66f, 0.8f, c.city.Eval(x, y)) * p.city_lights;
              rad.r += kCityLight.r * lights * 0.6f;
              rad.g += kCityLight.g * lights * 0.6f;
              rad.b += kCityLight.b * lights * 0.6f;
            }
            sky_lift = 0.f;
          }
        }
      }
      switch (label) {
        case kWater: ++n_water; break;
        case kLandPx: ++n_land; break;
        case kCloudPx: ++n_cloud; break;
        case kSpacePx: ++n_space; break;
      }
      // Camera: contrast about a lit mid-level, haze, exposure x gain x cast,
      // vignetting, pedestal, read + shot noise, stripes.
      const float du = (u - 0.5f) * c.aspect, dv = v - 0.5f;
      const float vig = 1.f - c.vignetting * (du * du + dv * dv) * c.inv_r2max;
      const float pivot = 0.3f * c.illum * sky_lift;
      const float lift = c.illum * sky_lift;
      const float chans[3] = {rad.r, rad.g, rad.b};
      const float stripe = StripeOffset(c, xi, yi);
      for (int ch = 0; ch < 3; ++ch) {
        float val = pivot + (chans[ch] - pivot) * c.contrast + c.haze[ch] * lift;
        if (val < 0.f) val = 0.f;
        const float signal = 255.f * val * c.gain[ch] * vig;
        const float sigma = std::sqrt(c.read_var + c.shot * signal);
        float dn = c.pedestal + signal + stripe +
                   sigma * Gauss(Hash2(xi, yi, c.noise_seed + 0x9E3779B9u * static_cast<uint32_t>(ch)));
        dn = dn < 0.f ? 0.f : (dn > 255.f ? 255.f : dn);
        row[xi * 3 + ch] = static_cast<uint8_t>(dn + 0.5f);
      }
    }
  }

  if (p.kind == SceneKind::kDistorted) {
    switch (p.distortion) {
      case Distortion::kDroppedBlocks: DroppedBlocks(c, rgb, stride_bytes); break;
      case Distortion::kSmear: Smear(c, rgb, stride_bytes); break;
      case Distortion::kLineSyncLoss: LineSyncLoss(c, rgb, stride_bytes); break;
      default: break;
    }
  }

  if (stats != nullptr) {
    const double n = static_cast<double>(width) * height;
    stats->cloud_fraction = static_cast<float>(n_cloud / n);
    stats->land_fraction = static_cast<float>(n_land / n);
    stats->water_fraction = static_cast<float>(n_water / n);
    stats->space_fraction = static_cast<float>(n_space / n);
    uint64_t saturated = 0, luma = 0;
    for (int yi = 0; yi < height; ++yi) {
      const uint8_t* row = rgb + static_cast<size_t>(yi) * stride_bytes;
      for (int xi = 0; xi < width; ++xi) {
        const uint8_t* px = row + xi * 3;
        saturated += (px[0] == 255 || px[1] == 255 || px[2] == 255);
        luma += (px[0] * 4899u + px[1] * 9617u + px[2] * 1868u + 8192u) >> 14;
      }
    }
    stats->saturated_fraction = static_cast<float>(saturated / n);
    stats->mean_luma = static_cast<float>(luma / n);
  }
  return Status::Ok();
}

// ----------------------------------------------------------------- sampling

void ApplyOpsSatLook(CameraEffects* camera) {
  camera->cast[0] *= 0.58f;
  camera->cast[1] *= 1.0f;
  camera->cast[2] *= 1.12f;
  camera->pedestal_dn = 10.f;
  camera->haze = 0.12f;
  camera->contrast *= 0.72f;
  camera->vignetting = std::max(camera->vignetting, 0.3f);
}

namespace {

void JitterCamera(det::Rng& rng, CameraEffects* cam) {
  cam->exposure = rng.Uniform(0.8f, 1.25f);
  for (int c = 0; c < 3; ++c) {
    cam->gain[c] = rng.Uniform(0.92f, 1.08f);
    cam->cast[c] = rng.Uniform(0.93f, 1.07f);
  }
  cam->vignetting = rng.Uniform(0.05f, 0.45f);
  cam->read_noise_dn = rng.Uniform(0.8f, 3.f);
  cam->shot_noise = rng.Uniform(0.1f, 0.5f);
  cam->pedestal_dn = rng.Uniform(0.f, 4.f);
  cam->haze = rng.Uniform(0.02f, 0.1f);
  cam->contrast = rng.Uniform(0.9f, 1.1f);
}

}  // namespace

SceneParams SampleSceneOfKind(const SimulatorConfig& config, SceneKind kind, uint64_t seed,
                              uint64_t index) {
  det::Rng rng(det::MixSeed(seed, index * 0x100000001B3ull + 0xC0FFEE));
  SceneParams p;
  p.kind = kind;
  p.seed = rng.Next();
  p.sun_elevation_deg = rng.Uniform(15.f, 75.f);
  p.latitude_deg = rng.Uniform(-52.f, 52.f);  // ISS-like inclination
  p.ground_scale = rng.Uniform(0.6f, 2.5f);
  p.land_fraction = rng.Uniform(0.3f, 1.f);
  p.moisture = rng.Uniform(0.f, 1.f);
  p.cloud_fraction = rng.Uniform(0.f, 0.5f);
  p.river_density = rng.Bernoulli(0.6) ? rng.Uniform(0.1f, 1.f) : 0.f;
  p.glint_x = rng.Uniform(0.1f, 0.9f);
  p.glint_y = rng.Uniform(0.1f, 0.9f);
  p.limb_angle_deg = rng.Uniform(0.f, 360.f);
  if (config.jitter_camera) JitterCamera(rng, &p.camera);

  switch (kind) {
    case SceneKind::kLand:
      p.land_fraction = rng.Uniform(0.6f, 1.f);
      p.cloud_fraction = rng.Bernoulli(0.3) ? 0.f : rng.Uniform(0.f, 0.2f);
      break;
    case SceneKind::kCloud:
      p.cloud_fraction = rng.Uniform(0.6f, 1.f);
      p.land_fraction = rng.Bernoulli(0.4) ? 0.f : rng.Uniform(0.f, 1.f);
      break;
    case SceneKind::kOpenWater:
      p.land_fraction = 0.f;
      p.cloud_fraction = rng.Bernoulli(0.3) ? 0.f : rng.Uniform(0.f, 0.35f);
      p.sun_glint = rng.Bernoulli(0.5) ? rng.Uniform(0.3f, 1.2f) : 0.f;
      break;
    case SceneKind::kNight:
      p.sun_elevation_deg = rng.Uniform(-60.f, -8.f);
      p.city_lights = rng.Bernoulli(0.5) ? rng.Uniform(0.2f, 1.f) : 0.f;
      p.cloud_fraction = rng.Uniform(0.f, 0.6f);
      break;
    case SceneKind::kLimb:
      p.limb_space_fraction = rng.Uniform(0.8f, 0.96f);
      p.cloud_fraction = rng.Uniform(0.2f, 0.9f);
      p.sun_elevation_deg = rng.Uniform(5.f, 60.f);
      break;
    case SceneKind::kWashedOut:
      p.land_fraction = rng.Uniform(0.6f, 1.f);
      p.cloud_fraction = rng.Uniform(0.3f, 1.f);
      p.camera.exposure = rng.Bernoulli(0.25) ? rng.Uniform(12.f, 30.f) : rng.Uniform(4.5f, 9.f);
      for (int c = 0; c < 3; ++c) p.camera.gain[c] *= rng.Uniform(1.f, 1.6f);
      break;
    case SceneKind::kDistorted: {
      p.distortion = static_cast<Distortion>(1 + rng.Below(kDistortionCount - 1));
      p.distortion_strength = rng.Uniform(0.5f, 1.f);
      if (p.distortion == Distortion::kStrayLight) {
        p.land_fraction = 0.f;
        p.cloud_fraction = 0.f;
      }
      break;
    }
  }
  if (config.opssat_look) ApplyOpsSatLook(&p.camera);
  return p;
}

SceneParams SampleSceneOfClass(const SimulatorConfig& config, SceneClass cls, uint64_t seed,
                               uint64_t index) {
  det::Rng rng(det::MixSeed(seed, index ^ 0xA5A5A5A5ull));
  float total = 0.f;
  for (int k = 0; k < kSceneKindCount; ++k) {
    if (SceneClassOf(static_cast<SceneKind>(k)) == cls) total += std::max(0.f, config.kind_weights[k]);
  }
  float pick = static_cast<float>(rng.Uniform()) * total;
  SceneKind chosen = SceneKind::kLand;
  bool found = false;
  for (int k = 0; k < kSceneKindCount; ++k) {
    const SceneKind kind = static_cast<SceneKind>(k);
    if (SceneClassOf(kind) != cls) continue;
    if (!found) chosen = kind;  // fallback when all weights are zero
    found = true;
    const float w = std::max(0.f, config.kind_weights[k]);
    if (pick < w) {
      chosen = kind;
      break;
    }
    pick -= w;
  }
  return SampleSceneOfKind(config, chosen, seed, index);
}

SceneParams SampleScene(const SimulatorConfig& config, uint64_t seed, uint64_t index) {
  det::Rng rng(det::MixSeed(seed, index ^ 0x5A5A5A5Aull));
  float total = 0.f;
  for (float w : config.kind_weights) total += std::max(0.f, w);
  float pick = static_cast<float>(rng.Uniform()) * total;
  SceneKind chosen = SceneKind::kLand;
  for (int k = 0; k < kSceneKindCount; ++k) {
    const float w = std::max(0.f, config.kind_weights[k]);
    if (pick < w) {
      chosen = static_cast<SceneKind>(k);
      break;
    }
    pick -= w;
  }
  return SampleSceneOfKind(config, chosen, seed, index);
}

// ------------------------------------------------------------------- orbit

OrbitState PropagateOrbit(const OrbitConfig& orbit, double t) {
  OrbitState s;
  double angle = orbit.phase_at_epoch_deg + 360.0 * t / orbit.period_s;
  angle -= 360.0 * static_cast<double>(static_cast<int64_t>(angle / 360.0));
  if (angle < 0) angle += 360.0;
  s.orbit_angle_deg = angle;
  const double phi = det::DegToRad(angle);
  const double sin_elev = det::Cos(det::DegToRad(orbit.beta_deg)) * det::Cos(phi);
  s.sun_elevation_deg = det::Asin(sin_elev) * (180.0 / det::kPi);
  const double sin_lat =
      det::Sin(det::DegToRad(orbit.inclination_deg)) * det::Sin(phi + det::DegToRad(orbit.node_offset_deg));
  s.latitude_deg = det::Asin(sin_lat) * (180.0 / det::kPi);
  return s;
}

}  // namespace triage::imaging
