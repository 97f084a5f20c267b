// Training data: manifests, the group-wise split, augmentation and the
// dataset builder behind `triage-ground dataset`.
//
// Output layout (every folder is laid out like shared/datasets/real, so
// `triage-ground evaluate` runs on any of them):
//   OUT/train/<class>/*.png   augmented real + simulated samples at the model
//                             resolution, resized with the flight resampler
//   OUT/train/manifest.csv
//   OUT/val/<class>/<file>    the real validation images, unchanged
//   OUT/val/manifest.csv      (same columns as the source manifest)
//   OUT/val_sim/<class>/*.png simulated validation frames (no augmentation)
//   OUT/dataset.json          options, class balance, SHA-256 of the data
// Ground-side: allocates freely; deterministic for a given seed.
#ifndef TRIAGE_GROUND_DATASET_H_
#define TRIAGE_GROUND_DATASET_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "imaging/image.h"

namespace triage::ground {

struct ManifestRow {
  std::string file;        // relative to the manifest's folder
  std::string cls;         // class name
  std::string group;       // split unit (OPS-SAT pass); never split across train/val
  std::string confidence;  // h, m or l
  std::string origin;      // real, derived, sim
  std::string source;      // where it came from
  std::string scene;       // scene_id ("opssat:...", "landsat:...", ...), optional
  std::string root;        // folder the file is relative to (not written; set by BuildDataset)
};

// The source kind a row is reported under: "derived" for a documented
// degradation of a real image, otherwise the scene_id's prefix (opssat,
// opssat-case, landsat, eurosat, ...), or "sim" / "unknown".
std::string SourceKind(const ManifestRow& row);

// Parses a CSV manifest (RFC 4180 quoting). Needs the columns file and class;
// group, confidence, origin and source_repo/source are optional. Errors name
// the line.
Result<std::vector<ManifestRow>> ParseManifest(const std::string& text, const std::string& what);
// One CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
std::string CsvField(const std::string& s);
// The CSV records of a text (RFC 4180), header included; errors name the line.
Result<std::vector<std::vector<std::string>>> ParseCsvRecords(const std::string& text, const std::string& what);
Result<std::vector<ManifestRow>> ReadManifest(const std::string& path);
// A folder's manifest.csv if it has one; otherwise every image in its
// class subfolders (confidence "h", group = file name).
Result<std::vector<ManifestRow>> ListLabelledFolder(const std::string& dir);
Status WriteManifest(const std::string& path, const std::vector<ManifestRow>& rows);

// Group-wise split: returns true for rows that go to validation. Groups are
// shuffled with the seed and given to validation until each (class, source)
// stratum holds about `fraction` of its rows; a group goes to one side only.
std::vector<bool> SplitByGroup(const std::vector<ManifestRow>& rows, double fraction, uint64_t seed);

// Grouped, class-stratified k-fold assignment: every row of a group gets the
// same fold in [0, k), and each class is spread over the folds as evenly as
// whole groups allow (largest groups first, each to the fold where the
// class proportions stay most even; ties to the smaller fold, then by a
// seeded order).
std::vector<int> AssignFolds(const std::vector<ManifestRow>& rows, int k, uint64_t seed);

// Partly cloudy land: a cloud field cut from `cloud` (a real cloud sample of
// the same size) is laid over `land` with a smooth random mask covering
// `coverage` of the frame (soft edges, cloud shadow). Deterministic by seed.
// Labelling rule (docs): the result stays "land" while at least 55% of the
// land is visible, so coverage is drawn from [0.05, 0.45].
Result<imaging::Image> CompositeCloud(const imaging::Image& land, const imaging::Image& cloud, float coverage,
                                      uint64_t seed);

// Augmentation of one source image into a size x size training sample.
struct AugmentOptions {
  float min_crop_area = 0.6f;     // random crop, share of the image area
  float max_gain_jitter = 0.2f;   // white balance: per-channel gain in [1/(1+j), 1+j]
  float color_jitter = 0.2f;      // brightness, contrast and saturation, +- share
  float max_noise_dn = 4.f;       // Gaussian noise sigma, uniform in [0, max]
  float jpeg_probability = 0.6f;  // re-encode as JPEG at quality 40..95
  float opssat_look_probability = 0.f;  // apply the OPS-SAT colour cast (land from other sensors)
  bool flips = true;              // random flips and 90 degree rotations
  // Camera optics, drawn from their own seeded stream (off by default, so
  // samples made without them are unchanged):
  float vignetting_probability = 0.f;  // radial fall-off 1 - s r^2 (s 0.15..0.5 at the corners), centre jittered
  float blur_probability = 0.f;        // defocus: Gaussian blur, sigma 0.4..1.5 px at the output size
  float limb_probability = 0.f;        // Earth limb: dark space beyond a curved horizon over 5..30 % of the
                                       // frame, with an airglow band (label unchanged: >= 70 % stays Earth)
};
Result<imaging::Image> Augment(const imaging::Image& source, int size, const AugmentOptions& options, uint64_t seed);

// Resizes any RGB image to size x size with the flight resampler (area when
// shrinking, bilinear when enlarging), as the flight preprocessing does.
Result<imaging::Image> ResizeSquare(const imaging::Image& image, int size);

struct DatasetOptions {
  // Folders like shared/datasets/real (and extra), pooled; empty = simulated only.
  std::vector<std::string> real_dirs;
  std::string out_dir;
  int resolution = 128;
  int per_class = 800;            // training samples per class (explicit balance)
  double real_share = 0.6;        // up to this share of each class comes from augmented real images
  int max_variants_per_real = 40; // cap on augmented copies of one real image
  double val_fraction = 0.25;     // share of each class's real images (by group) held out; 0 = none
  int folds = 0;                  // > 0: validation is fold `fold` of AssignFolds(real, folds)
  int fold = 0;
  double cloud_composite_share = 0.0;  // share of land's real samples made partly cloudy (CompositeCloud)
  // Camera optics on real training samples: vignetting with this
  // probability, defocus blur and (land and cloud samples that are not
  // cloud composites) an Earth limb with half of it each. 0 = off.
  double optics_share = 0.0;
  int sim_val_per_class = 40;     // simulated validation frames per class
  int sim_width = 245, sim_height = 205;  // simulator render size (the 2448x2050 aspect)
  uint64_t seed = 1;
  bool progress = true;
};

struct ClassBalance {
  std::string cls;
  int real_train_images = 0, real_val_images = 0;
  int real_samples = 0, sim_samples = 0, sim_val = 0;
};

struct DatasetReport {
  std::vector<ClassBalance> classes;
  std::string data_sha256;  // over every output file, in sorted order
  std::string Table() const;
};

Result<DatasetReport> BuildDataset(const DatasetOptions& options);

// SHA-256 (hex) over every file under dir, by sorted relative path (path and
// bytes both hashed).
Result<std::string> HashTree(const std::string& dir);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_DATASET_H_
