#include "ground/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "imaging/image.h"
#include "tests/support/shared_paths.h"

namespace triage::ground {
namespace fs = std::filesystem;
namespace {

fs::path TempDir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("triage_ground_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

TEST(Manifest, ParsesQuotedFieldsWithCommasQuotesAndNewlines) {
  const std::string csv =
      "file,class,notes,group,confidence,source_repo\n"
      "land/a.png,land,\"coast, \"\"river\"\"\nsecond line\",pass01,h,repo/x\r\n"
      "cloud/b.jpeg,cloud,plain,pass02,l,repo/y\n";
  Result<std::vector<ManifestRow>> rows = ParseManifest(csv, "m.csv");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].file, "land/a.png");
  EXPECT_EQ((*rows)[0].group, "pass01");
  EXPECT_EQ((*rows)[0].source, "repo/x");
  EXPECT_EQ((*rows)[1].confidence, "l");
}

TEST(Manifest, RejectsMissingColumnsUnterminatedQuotesAndEscapingPaths) {
  EXPECT_FALSE(ParseManifest("name,class\na,land\n", "m").ok());
  Result<std::vector<ManifestRow>> q = ParseManifest("file,class\n\"a,land\n", "m.csv");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(std::string(q.status().message()).find("m.csv:2"), std::string::npos) << q.status().message();
  EXPECT_FALSE(ParseManifest("file,class\n../../etc/passwd,land\n", "m").ok());
  EXPECT_FALSE(ParseManifest("file,class\n/etc/passwd,land\n", "m").ok());
  EXPECT_FALSE(ParseManifest("file,class\na,land,extra\n", "m").ok());
}

TEST(Split, NeverSplitsAGroupAndApproachesTheFraction) {
  std::vector<ManifestRow> rows;
  for (int g = 0; g < 40; ++g) {
    for (int i = 0; i < 1 + g % 4; ++i) {
      rows.push_back({"f" + std::to_string(g) + "_" + std::to_string(i), g % 2 ? "land" : "cloud",
                      "pass" + std::to_string(g), "h", "real", "", "", ""});
    }
  }
  const std::vector<bool> val = SplitByGroup(rows, 0.25, 7);
  std::map<std::string, std::set<bool>> sides;
  std::map<std::string, int> total, held;
  for (size_t i = 0; i < rows.size(); ++i) {
    sides[rows[i].group].insert(val[i]);
    ++total[rows[i].cls];
    held[rows[i].cls] += val[i];
  }
  for (const auto& [g, s] : sides) EXPECT_EQ(s.size(), 1u) << g;
  for (const auto& [cls, n] : total) {
    EXPECT_GE(held[cls], n * 0.15) << cls;
    EXPECT_LE(held[cls], n * 0.35) << cls;
  }
  EXPECT_EQ(val, SplitByGroup(rows, 0.25, 7));   // deterministic
  EXPECT_NE(val, SplitByGroup(rows, 0.25, 8));   // and seeded
}

TEST(Augment, DeterministicBySeedAndSized) {
  imaging::Image src = imaging::MakeImage(90, 70, 3);
  for (size_t i = 0; i < src.pixels.size(); ++i) src.pixels[i] = static_cast<uint8_t>((i * 7) % 251);
  AugmentOptions o;
  Result<imaging::Image> a = Augment(src, 32, o, 1), b = Augment(src, 32, o, 1), c = Augment(src, 32, o, 2);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->width, 32);
  EXPECT_EQ(a->height, 32);
  EXPECT_EQ(a->pixels, b->pixels);
  EXPECT_NE(a->pixels, c->pixels);
  imaging::Image gray = imaging::MakeImage(8, 8, 1);
  EXPECT_FALSE(Augment(gray, 32, o, 1).ok());
}

// Plain options: no crop, colour, noise or JPEG, so that only the effect under test acts.
AugmentOptions PlainOptions() {
  AugmentOptions o;
  o.min_crop_area = 1.f;
  o.max_gain_jitter = 0.f;
  o.color_jitter = 0.f;
  o.max_noise_dn = 0.f;
  o.jpeg_probability = 0.f;
  return o;
}

TEST(Augment, OpsSatLookCastsTowardCyan) {
  imaging::Image grey = imaging::MakeImage(64, 64, 3);
  std::fill(grey.pixels.begin(), grey.pixels.end(), 128);
  AugmentOptions o = PlainOptions();
  o.opssat_look_probability = 1.f;
  Result<imaging::Image> a = Augment(grey, 32, o, 3);
  ASSERT_TRUE(a.ok());
  double r = 0, b = 0;
  for (size_t i = 0; i < a->pixels.size(); i += 3) {
    r += a->pixels[i];
    b += a->pixels[i + 2];
  }
  EXPECT_LT(r, b * 0.8);
}

TEST(Augment, LimbTurnsBetweenFiveAndThirtyPercentIntoDarkSpace) {
  imaging::Image grey = imaging::MakeImage(96, 96, 3);
  std::fill(grey.pixels.begin(), grey.pixels.end(), 128);
  AugmentOptions o = PlainOptions();
  o.limb_probability = 1.f;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    Result<imaging::Image> a = Augment(grey, 64, o, seed);
    ASSERT_TRUE(a.ok());
    int dark = 0, unchanged = 0;
    const int n = 64 * 64;
    for (int p = 0; p < n; ++p) {
      const uint8_t* px = &a->pixels[p * 3];
      dark += px[0] < 40 && px[1] < 40 && px[2] < 40;
      unchanged += px[0] == 128 && px[1] == 128 && px[2] == 128;
    }
    // Space (minus its airglow fringe) within the drawn 5..30 %; the Earth
    // side outside the thin band is untouched.
    EXPECT_GE(dark, n * 0.02) << "seed " << seed;
    EXPECT_LE(dark, n * 0.31) << "seed " << seed;
    EXPECT_GE(unchanged, n * 0.55) << "seed " << seed;
  }
  o.limb_probability = 0.f;
  Result<imaging::Image> off = Augment(grey, 64, o, 1);
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(std::all_of(off->pixels.begin(), off->pixels.end(), [](uint8_t v) { return v == 128; }));
}

TEST(Augment, VignettingDarkensTheCornersAndDefocusSoftensEdges) {
  imaging::Image grey = imaging::MakeImage(64, 64, 3);
  std::fill(grey.pixels.begin(), grey.pixels.end(), 200);
  AugmentOptions o = PlainOptions();
  o.vignetting_probability = 1.f;
  Result<imaging::Image> v = Augment(grey, 64, o, 5);
  ASSERT_TRUE(v.ok());
  const auto at = [&](const imaging::Image& im, int x, int y) { return im.pixels[(y * 64 + x) * 3 + 1]; };
  EXPECT_LT(at(*v, 0, 0) + 0, at(*v, 32, 32) * 0.9);
  EXPECT_LT(at(*v, 63, 63) + 0, at(*v, 32, 32) * 0.9);

  // Vertical stripes, 1 px: a defocus blur pulls them toward their mean.
  imaging::Image stripes = imaging::MakeImage(64, 64, 3);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      for (int c = 0; c < 3; ++c) stripes.pixels[(y * 64 + x) * 3 + c] = (x % 2) ? 220 : 30;
    }
  }
  o = PlainOptions();
  o.flips = false;
  Result<imaging::Image> sharp = Augment(stripes, 64, o, 9);
  o.blur_probability = 1.f;
  Result<imaging::Image> soft = Augment(stripes, 64, o, 9);
  ASSERT_TRUE(sharp.ok() && soft.ok());
  // Same seed, same crop (the optics draw from their own stream).
  const auto contrast = [&](const imaging::Image& im) {
    double sum = 0;
    for (int y = 0; y < 64; ++y) {
      for (int x = 1; x < 64; ++x) sum += std::abs(at(im, x, y) - at(im, x - 1, y));
    }
    return sum;
  };
  EXPECT_GT(contrast(*sharp), 0.0);
  EXPECT_LT(contrast(*soft), 0.6 * contrast(*sharp));
}

TEST(Dataset, BuildsABalancedGroupSplitDatasetDeterministically) {
  // A tiny "real" folder: 3 groups per class, 2 images each.
  const fs::path real = TempDir("real");
  std::ofstream manifest(real / "manifest.csv");
  manifest << "file,class,group,confidence,origin,source_repo\n";
  const char* classes[] = {"black", "cloud", "distorted", "land", "white"};
  int n = 0;
  for (const char* cls : classes) {
    fs::create_directories(real / cls);
    for (int g = 0; g < 3; ++g) {
      for (int i = 0; i < 2; ++i) {
        imaging::Image img = imaging::MakeImage(40, 30, 3);
        for (size_t p = 0; p < img.pixels.size(); ++p) img.pixels[p] = static_cast<uint8_t>((p + n * 17) % 256);
        const std::string file = std::string(cls) + "/img" + std::to_string(n++) + ".png";
        ASSERT_TRUE(imaging::WriteImageFile((real / file).string(), img).ok());
        manifest << file << "," << cls << ",g" << cls << g << ",h,real,opssat\n";
      }
    }
  }
  manifest.close();
  DatasetOptions o;
  o.real_dirs = {real.string()};
  o.resolution = 32;
  o.per_class = 10;
  o.real_share = 0.5;
  o.val_fraction = 0.34;
  o.sim_val_per_class = 1;
  o.sim_width = 48;
  o.sim_height = 40;
  o.progress = false;
  const fs::path out1 = TempDir("ds1"), out2 = TempDir("ds2");
  fs::remove_all(out2);
  o.out_dir = out1.string();
  Result<DatasetReport> r1 = BuildDataset(o);
  ASSERT_TRUE(r1.ok()) << r1.status().message();
  o.out_dir = out2.string();
  Result<DatasetReport> r2 = BuildDataset(o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r1->data_sha256, r2->data_sha256);  // same seed, same bytes
  EXPECT_FALSE(BuildDataset(o).ok());           // refuses to overwrite
  DatasetOptions bad = o;
  bad.out_dir = (out2 / "bad").string();
  bad.optics_share = 1.5;
  Result<DatasetReport> refused = BuildDataset(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(std::string(refused.status().message()).find("optics"), std::string::npos) << refused.status().message();
  ASSERT_EQ(r1->classes.size(), 5u);
  for (const ClassBalance& b : r1->classes) {
    EXPECT_EQ(b.real_samples + b.sim_samples, 10) << b.cls;
    EXPECT_EQ(b.real_samples, 5) << b.cls;
    EXPECT_EQ(b.real_train_images + b.real_val_images, 6) << b.cls;
    EXPECT_EQ(b.real_val_images % 2, 0) << "groups are whole";
  }
  Result<std::vector<ManifestRow>> train = ListLabelledFolder((out1 / "train").string());
  Result<std::vector<ManifestRow>> val = ListLabelledFolder((out1 / "val").string());
  ASSERT_TRUE(train.ok() && val.ok());
  EXPECT_EQ(train->size(), 50u);
  std::set<std::string> val_groups, train_groups;
  for (const ManifestRow& v : *val) val_groups.insert(v.group);
  for (const ManifestRow& t : *train) {
    if (t.origin != "sim") train_groups.insert(t.group);
    Result<imaging::Image> img = imaging::LoadImageFile((out1 / "train" / t.file).string());
    ASSERT_TRUE(img.ok());
    EXPECT_EQ(img->width, 32);
  }
  for (const std::string& g : val_groups) EXPECT_EQ(train_groups.count(g), 0u) << g;
  EXPECT_NE(r1->Table().find("total"), std::string::npos);
  fs::remove_all(real);
  fs::remove_all(out1);
  fs::remove_all(out2);
}

TEST(Dataset, RealManifestSplitsByPassWithEveryClassInValidation) {
  TRIAGE_REQUIRE_SHARED();
  Result<std::vector<ManifestRow>> rows =
      ReadManifest(triage::testing::SharedPath("datasets/real/manifest.csv"));
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->size(), 322u);
  const std::vector<bool> val = SplitByGroup(*rows, 0.25, 1);
  std::map<std::string, int> held;
  std::map<std::string, std::set<bool>> sides;
  for (size_t i = 0; i < rows->size(); ++i) {
    held[(*rows)[i].cls] += val[i];
    sides[(*rows)[i].group].insert(val[i]);
  }
  for (const auto& [g, s] : sides) EXPECT_EQ(s.size(), 1u) << g;
  for (const char* cls : {"black", "cloud", "distorted", "land", "white"}) EXPECT_GT(held[cls], 0) << cls;
}

}  // namespace
}  // namespace triage::ground
