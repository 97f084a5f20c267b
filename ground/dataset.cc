#include "ground/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "downlink/checksum.h"
#include "ground/mobilenet.h"
#include "ground/model_runner.h"
#include "ground/progress.h"
#include "imaging/det_math.h"
#include "imaging/jpeg_codec.h"
#include "imaging/resample.h"
#include "imaging/simulator.h"

namespace triage::ground {
namespace fs = std::filesystem;
namespace {

using imaging::Image;
using imaging::det::MixSeed;
using imaging::det::Rng;

// Splits CSV text into records of fields (RFC 4180: quotes, doubled quotes,
// commas and newlines inside quotes). Returns false on an unterminated quote.
bool ParseCsv(const std::string& text, std::vector<std::vector<std::string>>* records, size_t* bad_line) {
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, any = false;
  size_t line = 1, quote_line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      quote_line = line;
      any = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        record.push_back(std::move(field));
        records->push_back(std::move(record));
      }
      record.clear();
      field.clear();
      any = false;
      ++line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) {
    *bad_line = quote_line;
    return false;
  }
  if (any || !field.empty()) {
    record.push_back(std::move(field));
    records->push_back(std::move(record));
  }
  return true;
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(StatusCode::kNotFound, "%s: cannot open", path.c_str());
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

uint8_t Clamp8(float v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

float Gaussian(Rng& rng) {
  // Box-Muller; ground-side, libm is fine.
  const double u1 = std::max(rng.Uniform(), 1e-12), u2 = rng.Uniform();
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

// Random flips and quarter turns of a square image, in place.
void FlipRotate(Image* img, Rng& rng) {
  const int n = img->width;
  const int k = static_cast<int>(rng.Below(4));
  const bool flip = rng.Bernoulli(0.5);
  if (k == 0 && !flip) return;
  Image out = imaging::MakeImage(n, n, 3);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      int sx = flip ? n - 1 - x : x, sy = y;
      for (int r = 0; r < k; ++r) {
        const int t = sx;
        sx = sy;
        sy = n - 1 - t;
      }
      for (int c = 0; c < 3; ++c) out.pixels[(y * n + x) * 3 + c] = img->pixels[(sy * n + sx) * 3 + c];
    }
  }
  *img = std::move(out);
}

bool IsOpsSat(const ManifestRow& row) {
  return row.source.find("opssat") != std::string::npos || row.source.find("georgeslabreche") != std::string::npos;
}

Status EnsureDir(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec) return Status::Error(StatusCode::kIoError, "%s: cannot create folder: %s", p.c_str(), ec.message().c_str());
  return Status::Ok();
}

}  // namespace

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::vector<std::vector<std::string>>> ParseCsvRecords(const std::string& text, const std::string& what) {
  std::vector<std::vector<std::string>> records;
  size_t bad_line = 0;
  if (!ParseCsv(text, &records, &bad_line)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s:%zu: unterminated quoted field starts here", what.c_str(),
                         bad_line);
  }
  return records;
}

Result<std::vector<ManifestRow>> ParseManifest(const std::string& text, const std::string& what) {
  std::vector<std::vector<std::string>> records;
  size_t bad_line = 0;
  if (!ParseCsv(text, &records, &bad_line)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s:%zu: unterminated quoted field starts here", what.c_str(), bad_line);
  }
  if (records.empty()) return Status::Error(StatusCode::kInvalidArgument, "%s: empty manifest", what.c_str());
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < records[0].size(); ++i) col[records[0][i]] = i;
  if (!col.count("file") || !col.count("class")) {
    return Status::Error(StatusCode::kInvalidArgument, "%s:1: header needs 'file' and 'class' columns", what.c_str());
  }
  auto get = [&](const std::vector<std::string>& r, const char* name) -> std::string {
    auto it = col.find(name);
    return it != col.end() && it->second < r.size() ? r[it->second] : std::string();
  };
  std::vector<ManifestRow> rows;
  for (size_t i = 1; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.size() != records[0].size()) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: record %zu has %zu fields, header has %zu", what.c_str(),
                           i + 1, r.size(), records[0].size());
    }
    ManifestRow row;
    row.file = get(r, "file");
    row.cls = get(r, "class");
    row.group = get(r, "group");
    row.confidence = get(r, "confidence");
    row.origin = get(r, "origin");
    row.source = col.count("source_repo") ? get(r, "source_repo") : get(r, "source");
    row.scene = get(r, "scene_id");
    if (row.file.empty() || row.cls.empty()) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: record %zu: empty file or class", what.c_str(), i + 1);
    }
    if (row.file.find("..") != std::string::npos || row.file[0] == '/') {
      return Status::Error(StatusCode::kInvalidArgument, "%s: record %zu: file '%s' leaves the folder", what.c_str(),
                           i + 1, row.file.c_str());
    }
    if (row.group.empty()) row.group = row.file;
    if (row.confidence.empty()) row.confidence = "h";
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<ManifestRow>> ReadManifest(const std::string& path) {
  Result<std::string> text = ReadText(path);
  if (!text.ok()) return text.status();
  return ParseManifest(*text, path);
}

Result<std::vector<ManifestRow>> ListLabelledFolder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Error(StatusCode::kNotFound, "%s: not a folder", dir.c_str());
  const fs::path manifest = fs::path(dir) / "manifest.csv";
  if (fs::exists(manifest, ec)) return ReadManifest(manifest.string());
  std::vector<ManifestRow> rows;
  for (const std::string& cls : TriageLabels()) {
    const fs::path sub = fs::path(dir) / cls;
    if (!fs::is_directory(sub, ec)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(sub, ec)) {
      if (!e.is_regular_file()) continue;
      std::string ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp") files.push_back(e.path().filename());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) rows.push_back({cls + "/" + f, cls, f, "h", "", "", "", ""});
  }
  if (rows.empty()) {
    return Status::Error(StatusCode::kNotFound, "%s: no manifest.csv and no images in class subfolders", dir.c_str());
  }
  return rows;
}

Status WriteManifest(const std::string& path, const std::vector<ManifestRow>& rows) {
  std::ofstream out(path, std::ios::trunc);
  out << "file,class,group,confidence,origin,source,scene_id\n";
  for (const ManifestRow& r : rows) {
    out << CsvField(r.file) << ',' << CsvField(r.cls) << ',' << CsvField(r.group) << ',' << CsvField(r.confidence)
        << ',' << CsvField(r.origin) << ',' << CsvField(r.source) << ',' << CsvField(r.scene) << '\n';
  }
  if (!out) return Status::Error(StatusCode::kIoError, "%s: cannot write", path.c_str());
  return Status::Ok();
}

std::vector<bool> SplitByGroup(const std::vector<ManifestRow>& rows, double fraction, uint64_t seed) {
  // Strata are (class, source): each source of each class (EuroSAT land,
  // Landsat land, OPS-SAT land, ...) is held out in about the same share, so
  // validation does not end up with one sensor the training set barely has.
  std::vector<bool> val(rows.size(), false);
  std::map<std::string, std::vector<size_t>> groups;
  std::map<std::string, int> stratum_total, stratum_val;
  auto stratum = [&](const ManifestRow& r) { return r.cls + "|" + r.source; };
  for (size_t i = 0; i < rows.size(); ++i) {
    groups[rows[i].group].push_back(i);
    ++stratum_total[stratum(rows[i])];
  }
  // Deterministic shuffle: order groups by a seeded hash of their name.
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [name, members] : groups) {
    uint64_t h = seed;
    for (char c : name) h = MixSeed(h, static_cast<uint8_t>(c));
    order.push_back({h, name});
  }
  std::sort(order.begin(), order.end());
  for (const auto& [hash, name] : order) {
    const std::vector<size_t>& members = groups[name];
    // The group helps if every stratum it touches is still below target and
    // it would not overshoot by more than half a group.
    std::map<std::string, int> counts;
    for (size_t i : members) ++counts[stratum(rows[i])];
    bool take = true;
    for (const auto& [st, n] : counts) {
      const double target = fraction * stratum_total[st];
      if (stratum_val[st] >= target || stratum_val[st] + n > target + std::max(1.0, 0.5 * n)) take = false;
    }
    if (!take) continue;
    for (size_t i : members) val[i] = true;
    for (const auto& [st, n] : counts) stratum_val[st] += n;
  }
  return val;
}

std::string SourceKind(const ManifestRow& row) {
  if (row.origin == "derived") return "derived";
  if (row.origin == "sim") return "sim";
  const size_t colon = row.scene.find(':');
  if (colon != std::string::npos && colon > 0) return row.scene.substr(0, colon);
  return row.scene.empty() ? "unknown" : row.scene;
}

std::vector<int> AssignFolds(const std::vector<ManifestRow>& rows, int k, uint64_t seed) {
  std::vector<int> fold(rows.size(), 0);
  if (k < 2) return fold;
  std::map<std::string, size_t> class_index;
  for (const ManifestRow& r : rows) class_index.emplace(r.cls, class_index.size());
  const size_t nc = class_index.size();
  struct Group {
    std::string name;
    std::vector<size_t> members;
    std::vector<int> counts;
    uint64_t order = 0;
  };
  std::map<std::string, Group> by_name;
  for (size_t i = 0; i < rows.size(); ++i) {
    Group& g = by_name[rows[i].group];
    if (g.counts.empty()) {
      g.name = rows[i].group;
      g.counts.assign(nc, 0);
      uint64_t h = seed;
      for (char c : g.name) h = MixSeed(h, static_cast<uint8_t>(c));
      g.order = h;
    }
    g.members.push_back(i);
    ++g.counts[class_index[rows[i].cls]];
  }
  std::vector<Group*> groups;
  for (auto& [name, g] : by_name) groups.push_back(&g);
  // Largest first; among equals, a seeded order.
  std::sort(groups.begin(), groups.end(), [](const Group* a, const Group* b) {
    if (a->members.size() != b->members.size()) return a->members.size() > b->members.size();
    return a->order < b->order;
  });
  std::vector<int> class_total(nc, 0);
  for (const ManifestRow& r : rows) ++class_total[class_index[r.cls]];
  std::vector<std::vector<int>> per_fold(static_cast<size_t>(k), std::vector<int>(nc, 0));
  std::vector<size_t> fold_size(static_cast<size_t>(k), 0);
  for (const Group* g : groups) {
    int best = 0;
    double best_spread = 1e300;
    for (int f = 0; f < k; ++f) {
      // Spread: per class, the variance over folds of the fold's share of
      // the class, summed (sklearn's StratifiedGroupKFold criterion).
      double spread = 0;
      for (size_t c = 0; c < nc; ++c) {
        double mean = 0, sq = 0;
        for (int j = 0; j < k; ++j) {
          const double v = (per_fold[j][c] + (j == f ? g->counts[c] : 0)) / static_cast<double>(class_total[c]);
          mean += v;
          sq += v * v;
        }
        mean /= k;
        spread += sq / k - mean * mean;
      }
      if (spread < best_spread - 1e-12 ||
          (std::fabs(spread - best_spread) <= 1e-12 && fold_size[f] < fold_size[static_cast<size_t>(best)])) {
        best = f;
        best_spread = spread;
      }
    }
    for (size_t c = 0; c < nc; ++c) per_fold[static_cast<size_t>(best)][c] += g->counts[c];
    fold_size[static_cast<size_t>(best)] += g->members.size();
    for (size_t i : g->members) fold[i] = best;
  }
  return fold;
}

namespace {
// Smooth value noise in [0, 1): octaves of bilinearly interpolated random
// grids (4, 8, 16 cells across), weights 1/2, 1/4, 1/8 (normalized).
std::vector<float> ValueNoise(int size, Rng& rng) {
  std::vector<float> field(static_cast<size_t>(size) * size, 0.f);
  float total = 0.f, weight = 0.5f;
  for (int cells = 3; cells <= 24; cells *= 2, weight *= 0.5f) {
    std::vector<float> grid(static_cast<size_t>(cells + 1) * (cells + 1));
    for (float& g : grid) g = rng.Uniform();
    for (int y = 0; y < size; ++y) {
      const float gy = static_cast<float>(y) * cells / size;
      const int y0 = static_cast<int>(gy);
      const float fy = gy - y0;
      for (int x = 0; x < size; ++x) {
        const float gx = static_cast<float>(x) * cells / size;
        const int x0 = static_cast<int>(gx);
        const float fx = gx - x0;
        const float* r0 = &grid[static_cast<size_t>(y0) * (cells + 1) + x0];
        const float* r1 = r0 + cells + 1;
        const float v = (r0[0] * (1 - fx) + r0[1] * fx) * (1 - fy) + (r1[0] * (1 - fx) + r1[1] * fx) * fy;
        field[static_cast<size_t>(y) * size + x] += weight * v;
      }
    }
    total += weight;
  }
  for (float& v : field) v /= total;
  return field;
}
}  // namespace

Result<Image> CompositeCloud(const Image& land, const Image& cloud, float coverage, uint64_t seed) {
  if (land.channels != 3 || cloud.channels != 3 || land.width != land.height || cloud.width != land.width ||
      cloud.height != land.height) {
    return Status::Error(StatusCode::kInvalidArgument, "cloud composite: need two RGB squares of one size");
  }
  if (!(coverage >= 0.f && coverage <= 1.f)) {
    return Status::Error(StatusCode::kInvalidArgument, "cloud composite: coverage %g outside [0, 1]",
                         static_cast<double>(coverage));
  }
  const int n = land.width;
  Rng rng(seed);
  std::vector<float> noise = ValueNoise(n, rng);
  // Threshold at the (1 - coverage) quantile, with a soft edge of 0.04.
  std::vector<float> sorted = noise;
  const size_t at = std::min(sorted.size() - 1, static_cast<size_t>((1.0 - coverage) * (sorted.size() - 1)));
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(at), sorted.end());
  const float threshold = coverage <= 0.f ? 2.f : sorted[at];
  // Cloud shadow: the mask shifted by a few pixels darkens the land beneath.
  const int sx = static_cast<int>(rng.Below(7)) - 3, sy = static_cast<int>(rng.Below(7)) - 3;
  const float shadow = rng.Uniform(0.f, 0.35f);
  auto mask_at = [&](int x, int y) {
    x = std::clamp(x, 0, n - 1);
    y = std::clamp(y, 0, n - 1);
    return std::clamp((noise[static_cast<size_t>(y) * n + x] - threshold) / 0.04f + 0.5f, 0.f, 1.f);
  };
  Image out = imaging::MakeImage(n, n, 3);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      const float m = mask_at(x, y);
      const float dark = 1.f - shadow * mask_at(x + sx, y + sy) * (1.f - m);
      for (int c = 0; c < 3; ++c) {
        const size_t p = (static_cast<size_t>(y) * n + x) * 3 + c;
        out.pixels[p] = Clamp8(land.pixels[p] * dark * (1.f - m) + cloud.pixels[p] * m);
      }
    }
  }
  return out;
}

Result<Image> ResizeSquare(const Image& image, int size) {
  if (image.channels != 3) return Status::Error(StatusCode::kUnsupported, "ResizeSquare needs RGB");
  Result<imaging::Resampler> rs = imaging::Resampler::Create(image.width, image.height, size, size, 3);
  if (!rs.ok()) return rs.status();
  Image out = imaging::MakeImage(size, size, 3);
  TRIAGE_RETURN_IF_ERROR(rs->Run(image.pixels.data(), image.width, image.height, image.stride(), out.pixels.data(),
                                 out.stride()));
  return out;
}

// Separable Gaussian blur of an RGB image in place (edges clamped).
void GaussianBlur(Image* img, float sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3.f * sigma)));
  std::vector<float> w(2 * radius + 1);
  float sum = 0.f;
  for (int i = -radius; i <= radius; ++i) sum += w[i + radius] = std::exp(-0.5f * i * i / (sigma * sigma));
  for (float& v : w) v /= sum;
  const int W = img->width, H = img->height;
  std::vector<float> tmp(static_cast<size_t>(W) * H * 3);
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      for (int c = 0; c < 3; ++c) {
        float acc = 0.f;
        for (int i = -radius; i <= radius; ++i) {
          acc += w[i + radius] * img->pixels[(y * W + std::clamp(x + i, 0, W - 1)) * 3 + c];
        }
        tmp[(static_cast<size_t>(y) * W + x) * 3 + c] = acc;
      }
    }
  }
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      for (int c = 0; c < 3; ++c) {
        float acc = 0.f;
        for (int i = -radius; i <= radius; ++i) {
          acc += w[i + radius] * tmp[(static_cast<size_t>(std::clamp(y + i, 0, H - 1)) * W + x) * 3 + c];
        }
        img->pixels[(y * W + x) * 3 + c] = Clamp8(acc);
      }
    }
  }
}

// Earth limb: pixels beyond a curved horizon become dark space, with a thin
// blue-white airglow band on the Earth side. `coverage` of the frame is space.
void AddLimb(Image* img, float coverage, Rng& rng) {
  const int W = img->width, H = img->height;
  const double angle = rng.Uniform(0.f, 6.2831853f);
  const float nx = static_cast<float>(std::cos(angle)), ny = static_cast<float>(std::sin(angle));
  const float curvature = rng.Uniform(0.1f, 0.6f), band = rng.Uniform(0.01f, 0.05f);
  const float sky = rng.Uniform(0.f, 10.f);
  auto distance = [&](int x, int y, float c) {
    const float du = (x + 0.5f) / W - 0.5f, dv = (y + 0.5f) / H - 0.5f;
    const float across = -du * ny + dv * nx;
    return du * nx + dv * ny + curvature * across * across - c;  // > 0: space
  };
  // Bisect the horizon offset for the wanted space share (coarse grid).
  float lo = -1.5f, hi = 1.5f;
  for (int it = 0; it < 30; ++it) {
    const float c = 0.5f * (lo + hi);
    int space = 0, total = 0;
    for (int y = 0; y < H; y += 4) {
      for (int x = 0; x < W; x += 4, ++total) space += distance(x, y, c) > 0.f;
    }
    if (static_cast<float>(space) / total > coverage) lo = c; else hi = c;
  }
  const float c = 0.5f * (lo + hi);
  const float glow[3] = {150.f, 185.f, 235.f};
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const float d = distance(x, y, c);
      uint8_t* px = &img->pixels[(y * W + x) * 3];
      if (d > 0.f) {
        const float edge = std::exp(-d / (0.5f * band));  // the atmosphere fades into space
        for (int k = 0; k < 3; ++k) px[k] = Clamp8(sky + edge * 0.5f * (glow[k] - sky));
      } else if (d > -band) {
        const float a = 0.6f * (1.f + d / band);
        for (int k = 0; k < 3; ++k) px[k] = Clamp8(px[k] + a * (glow[k] - px[k]));
      }
    }
  }
}

// Vignetting: multiplies by 1 - strength * r^2 / r_corner^2 around a
// jittered centre.
void Vignette(Image* img, float strength, float cu, float cv) {
  const int W = img->width, H = img->height;
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const float du = (x + 0.5f) / W - cu, dv = (y + 0.5f) / H - cv;
      const float f = std::max(0.f, 1.f - strength * (du * du + dv * dv) / 0.5f);
      uint8_t* px = &img->pixels[(y * W + x) * 3];
      for (int k = 0; k < 3; ++k) px[k] = Clamp8(px[k] * f);
    }
  }
}

Result<Image> Augment(const Image& source, int size, const AugmentOptions& o, uint64_t seed) {
  if (source.channels != 3 || source.width < 1 || source.height < 1) {
    return Status::Error(StatusCode::kInvalidArgument, "augment: need a non-empty RGB image");
  }
  Rng rng(seed);
  // 1. Random crop (area share and aspect jitter), then the flight resize.
  const float area = rng.Uniform(o.min_crop_area, 1.f);
  const float aspect = std::exp(rng.Uniform(-0.2f, 0.2f));
  int cw = std::clamp(static_cast<int>(std::lround(source.width * std::sqrt(area * aspect))), 1, source.width);
  int ch = std::clamp(static_cast<int>(std::lround(source.height * std::sqrt(area / aspect))), 1, source.height);
  const int cx = static_cast<int>(rng.Below(static_cast<uint32_t>(source.width - cw + 1)));
  const int cy = static_cast<int>(rng.Below(static_cast<uint32_t>(source.height - ch + 1)));
  Image crop = imaging::MakeImage(cw, ch, 3);
  for (int y = 0; y < ch; ++y) {
    std::copy_n(&source.pixels[((cy + y) * source.width + cx) * 3], cw * 3, &crop.pixels[y * cw * 3]);
  }
  Result<Image> resized = ResizeSquare(crop, size);
  if (!resized.ok()) return resized.status();
  Image img = std::move(resized).value();
  if (o.flips) FlipRotate(&img, rng);

  // 1b. Camera optics (own stream): the limb and defocus happen before the
  // sensor, vignetting in the lens; colour, pedestal and noise follow.
  Rng optics(MixSeed(seed, 0x0971c5));
  if (optics.Bernoulli(o.limb_probability)) AddLimb(&img, optics.Uniform(0.05f, 0.3f), optics);
  if (optics.Bernoulli(o.blur_probability)) GaussianBlur(&img, optics.Uniform(0.4f, 1.5f));
  if (optics.Bernoulli(o.vignetting_probability)) {
    const float strength = optics.Uniform(0.15f, 0.5f);
    const float cu = optics.Uniform(0.35f, 0.65f), cv = optics.Uniform(0.35f, 0.65f);
    Vignette(&img, strength, cu, cv);
  }

  // 2. Colour: OPS-SAT look (cyan cast, low contrast, pedestal), white
  // balance, brightness, contrast, saturation, noise.
  float gain[3], cast[3] = {1.f, 1.f, 1.f};
  float contrast = 1.f + rng.Uniform(-o.color_jitter, o.color_jitter);
  float pedestal = 0.f;
  if (rng.Bernoulli(o.opssat_look_probability)) {
    cast[0] = rng.Uniform(0.55f, 0.75f);
    cast[2] = rng.Uniform(1.02f, 1.15f);
    contrast *= rng.Uniform(0.7f, 0.85f);
    pedestal = rng.Uniform(6.f, 12.f);
  }
  for (float& g : gain) g = std::exp(rng.Uniform(-1.f, 1.f) * std::log1p(o.max_gain_jitter));
  const float brightness = 1.f + rng.Uniform(-o.color_jitter, o.color_jitter);
  const float saturation = 1.f + rng.Uniform(-o.color_jitter, o.color_jitter);
  const float noise = rng.Uniform(0.f, o.max_noise_dn);
  double mean = 0;
  for (uint8_t v : img.pixels) mean += v;
  mean /= static_cast<double>(img.pixels.size());
  for (size_t p = 0; p < img.pixels.size(); p += 3) {
    float rgb[3];
    for (int c = 0; c < 3; ++c) rgb[c] = img.pixels[p + c] * gain[c] * cast[c] * brightness;
    const float luma = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
    for (int c = 0; c < 3; ++c) {
      float v = luma + (rgb[c] - luma) * saturation;
      v = static_cast<float>(mean) + (v - static_cast<float>(mean)) * contrast + pedestal;
      if (noise > 0.f) v += noise * Gaussian(rng);
      img.pixels[p + c] = Clamp8(v);
    }
  }

  // 3. JPEG re-encoding at a random quality (TurboJPEG, as on board).
  if (rng.Bernoulli(o.jpeg_probability)) {
    imaging::JpegEncoderConfig jc;
    jc.max_width = size;
    jc.max_height = size;
    jc.quality = 40 + static_cast<int>(rng.Below(56));
    Result<imaging::JpegEncoder> enc = imaging::JpegEncoder::Create(jc);
    if (!enc.ok()) return enc.status();
    Result<Span<const uint8_t>> jpeg = enc->Encode(img.pixels.data(), size, size, img.stride());
    if (!jpeg.ok()) return jpeg.status();
    Result<Image> dec = imaging::DecodeImage(*jpeg, "augmented sample");
    if (!dec.ok()) return dec.status();
    if (dec->channels == 3) img = std::move(dec).value();
  }
  return img;
}

Result<std::string> HashTree(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().filename() != "dataset.json") {
      files.push_back(fs::relative(e.path(), dir).string());
    }
  }
  if (ec) return Status::Error(StatusCode::kIoError, "%s: cannot list: %s", dir.c_str(), ec.message().c_str());
  std::sort(files.begin(), files.end());
  downlink::Sha256 sha;
  TRIAGE_RETURN_IF_ERROR(sha.Init());
  TRIAGE_RETURN_IF_ERROR(sha.Reset());
  for (const std::string& f : files) {
    TRIAGE_RETURN_IF_ERROR(sha.Update(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(f.c_str()), f.size() + 1)));
    Result<std::string> bytes = ReadText((fs::path(dir) / f).string());
    if (!bytes.ok()) return bytes.status();
    TRIAGE_RETURN_IF_ERROR(
        sha.Update(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size())));
  }
  downlink::Digest256 digest;
  TRIAGE_RETURN_IF_ERROR(sha.Final(&digest));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::string DatasetReport::Table() const {
  std::string s = "class       real train  real val  train real-aug  train sim  train total  val sim\n";
  int tot[6] = {};
  char line[160];
  for (const ClassBalance& c : classes) {
    std::snprintf(line, sizeof(line), "%-10s  %10d  %8d  %14d  %9d  %11d  %7d\n", c.cls.c_str(), c.real_train_images,
                  c.real_val_images, c.real_samples, c.sim_samples, c.real_samples + c.sim_samples, c.sim_val);
    s += line;
    tot[0] += c.real_train_images;
    tot[1] += c.real_val_images;
    tot[2] += c.real_samples;
    tot[3] += c.sim_samples;
    tot[4] += c.real_samples + c.sim_samples;
    tot[5] += c.sim_val;
  }
  std::snprintf(line, sizeof(line), "%-10s  %10d  %8d  %14d  %9d  %11d  %7d\n", "total", tot[0], tot[1], tot[2], tot[3],
                tot[4], tot[5]);
  return s + line;
}

Result<DatasetReport> BuildDataset(const DatasetOptions& o) {
  if (o.resolution < 32 || o.resolution > 512) {
    return Status::Error(StatusCode::kInvalidArgument, "resolution %d: must be 32..512", o.resolution);
  }
  if (o.per_class < 1 || o.real_share < 0 || o.real_share > 1 || o.val_fraction < 0 || o.val_fraction >= 1) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "per-class must be >= 1, real-share in [0,1], val-fraction in [0,1)");
  }
  if (o.folds < 0 || o.folds == 1 || o.folds > 20 || (o.folds > 0 && (o.fold < 0 || o.fold >= o.folds))) {
    return Status::Error(StatusCode::kInvalidArgument, "folds must be 0 or 2..20 and fold in [0, folds)");
  }
  if (o.cloud_composite_share < 0 || o.cloud_composite_share > 1) {
    return Status::Error(StatusCode::kInvalidArgument, "cloud-composite share must be in [0,1]");
  }
  if (!(o.optics_share >= 0 && o.optics_share <= 1)) {
    return Status::Error(StatusCode::kInvalidArgument, "optics share %g: must be in [0,1]", o.optics_share);
  }
  const std::vector<std::string>& labels = TriageLabels();
  const fs::path out(o.out_dir);
  std::error_code ec;
  if (fs::exists(out / "train", ec) || fs::exists(out / "val", ec)) {
    return Status::Error(StatusCode::kFailedPrecondition, "%s: already holds a dataset; choose an empty folder",
                         o.out_dir.c_str());
  }
  for (const char* split : {"train", "val", "val_sim"}) {
    for (const std::string& cls : labels) TRIAGE_RETURN_IF_ERROR(EnsureDir(out / split / cls));
  }

  std::vector<ManifestRow> real;
  std::set<std::string> seen_files;
  for (const std::string& dir : o.real_dirs) {
    Result<std::vector<ManifestRow>> rows = ListLabelledFolder(dir);
    if (!rows.ok()) return rows.status();
    for (ManifestRow& r : *rows) {
      if (std::find(labels.begin(), labels.end(), r.cls) == labels.end()) {
        return Status::Error(StatusCode::kInvalidArgument, "%s: file %s has unknown class '%s'", dir.c_str(),
                             r.file.c_str(), r.cls.c_str());
      }
      if (!seen_files.insert(r.file).second) {
        return Status::Error(StatusCode::kInvalidArgument, "%s: file %s is also in an earlier folder", dir.c_str(),
                             r.file.c_str());
      }
      r.root = dir;
      real.push_back(std::move(r));
    }
  }
  std::vector<bool> is_val(real.size(), false);
  if (o.folds > 0) {
    const std::vector<int> folds = AssignFolds(real, o.folds, o.seed);
    for (size_t i = 0; i < real.size(); ++i) is_val[i] = folds[i] == o.fold;
  } else if (o.val_fraction > 0) {
    is_val = SplitByGroup(real, o.val_fraction, o.seed);
  }

  DatasetReport report;
  std::vector<ManifestRow> train_rows, val_rows, val_sim_rows;
  // Validation: the real files, unchanged.
  for (size_t i = 0; i < real.size(); ++i) {
    if (!is_val[i]) continue;
    const fs::path dst = out / "val" / real[i].file;
    TRIAGE_RETURN_IF_ERROR(EnsureDir(dst.parent_path()));
    fs::copy_file(fs::path(real[i].root) / real[i].file, dst, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status::Error(StatusCode::kIoError, "%s: cannot copy: %s", real[i].file.c_str(), ec.message().c_str());
    val_rows.push_back(real[i]);
  }

  size_t total_work = 0;
  std::vector<int> real_samples(labels.size()), sim_samples(labels.size());
  std::vector<std::vector<size_t>> train_of_class(labels.size());
  for (size_t i = 0; i < real.size(); ++i) {
    if (is_val[i]) continue;
    const size_t c = std::find(labels.begin(), labels.end(), real[i].cls) - labels.begin();
    train_of_class[c].push_back(i);
  }
  for (size_t c = 0; c < labels.size(); ++c) {
    const int n = static_cast<int>(train_of_class[c].size());
    real_samples[c] = std::min(static_cast<int>(std::lround(o.per_class * o.real_share)), n * o.max_variants_per_real);
    sim_samples[c] = o.per_class - real_samples[c];
    total_work += real_samples[c] + sim_samples[c] + o.sim_val_per_class;
  }
  Progress progress("dataset", total_work, o.progress);

  for (size_t c = 0; c < labels.size(); ++c) {
    ClassBalance bal;
    bal.cls = labels[c];
    bal.real_train_images = static_cast<int>(train_of_class[c].size());
    for (const ManifestRow& r : val_rows) bal.real_val_images += r.cls == labels[c];
    // Augmented real: variants spread evenly over the class's images.
    const int n = bal.real_train_images;
    const bool is_land = labels[c] == "land";
    const bool limb_class = is_land || labels[c] == "cloud";
    const std::vector<size_t>& clouds = train_of_class[std::find(labels.begin(), labels.end(), "cloud") - labels.begin()];
    for (int k = 0; k < n; ++k) {
      const ManifestRow& row = real[train_of_class[c][k]];
      const int variants = real_samples[c] / n + (k < real_samples[c] % n ? 1 : 0);
      if (variants == 0) continue;
      Result<Image> src = imaging::LoadImageFile((fs::path(row.root) / row.file).string());
      if (!src.ok()) return src.status();
      const Image rgb = ToRgb(*src);
      AugmentOptions ao;
      ao.opssat_look_probability = IsOpsSat(row) ? 0.f : 0.5f;
      ao.vignetting_probability = static_cast<float>(o.optics_share);
      ao.blur_probability = static_cast<float>(0.5 * o.optics_share);
      for (int v = 0; v < variants; ++v) {
        const uint64_t seed = MixSeed(o.seed, (c << 40) ^ (static_cast<uint64_t>(k) << 16) ^ v);
        // Partly cloudy land: a real training cloud frame over this land
        // sample. Such a sample gets no limb, so that the labelling rule
        // (>= 55 % of the land visible) holds.
        Rng pick(MixSeed(seed, 0xc10d));
        const bool composite = is_land && !clouds.empty() && pick.Bernoulli(o.cloud_composite_share);
        ao.limb_probability = limb_class && !composite ? static_cast<float>(0.5 * o.optics_share) : 0.f;
        Result<Image> sample = Augment(rgb, o.resolution, ao, seed);
        if (!sample.ok()) return sample.status().WithContext("%s", row.file.c_str());
        if (composite) {
          const ManifestRow& cloud_row = real[clouds[pick.Below(static_cast<uint32_t>(clouds.size()))]];
          Result<Image> cloud_src = imaging::LoadImageFile((fs::path(cloud_row.root) / cloud_row.file).string());
          if (!cloud_src.ok()) return cloud_src.status();
          AugmentOptions co;
          co.opssat_look_probability = 0.f;
          Result<Image> cloud = Augment(ToRgb(*cloud_src), o.resolution, co, MixSeed(seed, 0xc10e));
          if (!cloud.ok()) return cloud.status().WithContext("%s", cloud_row.file.c_str());
          Result<Image> mixed = CompositeCloud(*sample, *cloud, pick.Uniform(0.05f, 0.45f), MixSeed(seed, 0xc10f));
          if (!mixed.ok()) return mixed.status();
          sample = std::move(mixed);
        }
        char name[96];
        std::snprintf(name, sizeof(name), "%s/real_%04d_%03d.png", labels[c].c_str(), k, v);
        TRIAGE_RETURN_IF_ERROR(imaging::WriteImageFile((out / "train" / name).string(), *sample));
        train_rows.push_back({name, labels[c], row.group, row.confidence, "real-augmented", row.file, row.scene, ""});
        ++bal.real_samples;
        progress.Advance();
      }
    }
    // Simulated frames of this class: half with the OPS-SAT look.
    imaging::SimulatorConfig plain, opssat;
    opssat.opssat_look = true;
    Image frame = imaging::MakeImage(o.sim_width, o.sim_height, 3);
    auto render = [&](uint64_t stream, uint64_t index, imaging::SceneParams* params) -> Status {
      const imaging::SimulatorConfig& cfg = (index % 2) ? opssat : plain;
      *params = imaging::SampleSceneOfClass(cfg, static_cast<imaging::SceneClass>(c), stream, index);
      return imaging::RenderScene(*params, o.sim_width, o.sim_height, frame.pixels.data(), frame.stride(), nullptr);
    };
    AugmentOptions sim_aug;
    sim_aug.min_crop_area = 0.8f;
    sim_aug.max_gain_jitter = 0.1f;
    sim_aug.color_jitter = 0.1f;
    const uint64_t train_stream = MixSeed(o.seed, 1000 + c), val_stream = MixSeed(o.seed, 2000 + c);
    for (int i = 0; i < sim_samples[c]; ++i) {
      imaging::SceneParams params;
      TRIAGE_RETURN_IF_ERROR(render(train_stream, static_cast<uint64_t>(i), &params));
      Result<Image> sample = Augment(frame, o.resolution, sim_aug, MixSeed(train_stream, 7'000'000 + i));
      if (!sample.ok()) return sample.status();
      char name[96];
      std::snprintf(name, sizeof(name), "%s/sim_%05d.png", labels[c].c_str(), i);
      TRIAGE_RETURN_IF_ERROR(imaging::WriteImageFile((out / "train" / name).string(), *sample));
      train_rows.push_back({name, labels[c], "sim", "h", "sim", imaging::SceneKindName(params.kind), "", ""});
      ++bal.sim_samples;
      progress.Advance();
    }
    for (int i = 0; i < o.sim_val_per_class; ++i) {
      imaging::SceneParams params;
      TRIAGE_RETURN_IF_ERROR(render(val_stream, static_cast<uint64_t>(i), &params));
      char name[96];
      std::snprintf(name, sizeof(name), "%s/sim_%05d.png", labels[c].c_str(), i);
      TRIAGE_RETURN_IF_ERROR(imaging::WriteImageFile((out / "val_sim" / name).string(), frame));
      val_sim_rows.push_back({name, labels[c], "sim-val", "h", "sim", imaging::SceneKindName(params.kind), "", ""});
      ++bal.sim_val;
      progress.Advance();
    }
    report.classes.push_back(bal);
  }
  progress.Finish();
  TRIAGE_RETURN_IF_ERROR(WriteManifest((out / "train" / "manifest.csv").string(), train_rows));
  TRIAGE_RETURN_IF_ERROR(WriteManifest((out / "val" / "manifest.csv").string(), val_rows));
  TRIAGE_RETURN_IF_ERROR(WriteManifest((out / "val_sim" / "manifest.csv").string(), val_sim_rows));
  Result<std::string> hash = HashTree(o.out_dir);
  if (!hash.ok()) return hash.status();
  report.data_sha256 = *hash;

  nlohmann::json j;
  j["real_dirs"] = o.real_dirs;
  j["folds"] = o.folds;
  j["fold"] = o.fold;
  j["cloud_composite_share"] = o.cloud_composite_share;
  j["optics_share"] = o.optics_share;
  j["resolution"] = o.resolution;
  j["per_class"] = o.per_class;
  j["real_share"] = o.real_share;
  j["val_fraction"] = o.val_fraction;
  j["seed"] = o.seed;
  j["sha256"] = report.data_sha256;
  for (const ClassBalance& b : report.classes) {
    j["classes"][b.cls] = {{"real_train_images", b.real_train_images}, {"real_val_images", b.real_val_images},
                           {"train_real_augmented", b.real_samples}, {"train_sim", b.sim_samples},
                           {"val_sim", b.sim_val}};
  }
  std::ofstream(out / "dataset.json") << j.dump(2) << "\n";
  return report;
}

}  // namespace triage::ground
