// Writes generated seeds for ground_archive_fuzzer's import and out-of-fold
// branches: a tiny int8 MobileNet v1 (width 8/1024: 8 channels throughout,
// 32x32 input) as written by our exporter, and a small oof.csv. The first
// byte of a seed selects the branch (archive_fuzzer.cc).
#include <cstdio>
#include <string>
#include <vector>

#include "ground/cv.h"
#include "ground/export.h"
#include "ground/quantize.h"

namespace {
bool Write(const std::string& path, uint8_t selector, const std::vector<uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fputc(selector, f) != EOF && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace triage::ground;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  MobileNetSpec spec;
  spec.alpha = 8.f / 1024.f;
  spec.resolution = 32;
  const TensorArchive ckpt = RandomCheckpoint(spec, 7);
  triage::Result<FoldedNet> net = FoldCheckpoint(ckpt);
  if (!net.ok()) return 1;
  const ModelInfo info = InfoFromArchive(ckpt);
  QuantPlan plan;
  for (const std::string& name : ActivationTensorNames(*net)) plan[name] = {0.05f, -10};
  triage::Result<std::vector<uint8_t>> q8 = BuildInt8Tflite(*net, info, plan);
  if (!q8.ok()) return 1;
  const std::vector<uint8_t> f32 = BuildFloatTflite(*net, info);
  std::vector<OofRow> rows(2);
  rows[0].row = {"land/a.png", "land", "g1", "h", "real", "repo", "landsat:x", "/data"};
  rows[0].truth = 3;
  rows[0].p_float = rows[0].p_int8 = {0.1f, 0.1f, 0.1f, 0.6f, 0.1f};
  rows[1].row = {"cloud/b,\"q\".jpeg", "cloud", "g2", "m", "real", "repo", "opssat:y", "/data"};
  rows[1].truth = 1;
  rows[1].fold = 1;
  rows[1].p_float = rows[1].p_int8 = {0.f, 1.f, 0.f, 0.f, 0.f};
  const std::string oof_path = dir + "/oof.tmp.csv";
  if (!WriteOof(oof_path, rows).ok()) return 1;
  std::FILE* f = std::fopen(oof_path.c_str(), "rb");
  std::vector<uint8_t> oof;
  for (int c; f != nullptr && (c = std::fgetc(f)) != EOF;) oof.push_back(static_cast<uint8_t>(c));
  if (f != nullptr) std::fclose(f);
  std::remove(oof_path.c_str());
  const std::string stages = "head:2:3e-3,top6:3:1e-3,all:5:3e-4";
  const bool ok = Write(dir + "/import_int8_mobilenet", 2, *q8) && Write(dir + "/import_float_mobilenet", 6, f32) &&
                  Write(dir + "/oof", 3, oof) &&
                  Write(dir + "/stages", 7, std::vector<uint8_t>(stages.begin(), stages.end()));
  return ok ? 0 : 1;
}
