#include "ground/cv.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <nlohmann/json.hpp>

#include "ground/cluster.h"
#include "ground/evaluate.h"
#include "ground/export.h"
#include "ground/mobilenet.h"
#include "ground/model_runner.h"
#include "ground/progress.h"
#include "ground/quantize.h"

namespace triage::ground {
namespace fs = std::filesystem;
namespace {

int Argmax(const std::vector<float>& p) {
  return p.empty() ? -1 : static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
}

double Ratio(long a, long b) { return b > 0 ? static_cast<double>(a) / b : 0.0; }

int LandIndex() {
  const auto& l = TriageLabels();
  return static_cast<int>(std::find(l.begin(), l.end(), "land") - l.begin());
}

// Classifies every held-out image of one fold with the fold's float and int8 models.
Result<std::vector<OofRow>> PredictFold(const std::string& val_dir, const std::vector<uint8_t>& float_model,
                                        const std::vector<uint8_t>& int8_model, int fold,
                                        const std::map<std::string, std::string>& roots, bool progress) {
  Result<std::unique_ptr<ModelRunner>> f = ModelRunner::FromBytes(float_model, "fold float model");
  if (!f.ok()) return f.status();
  Result<std::unique_ptr<ModelRunner>> q = ModelRunner::FromBytes(int8_model, "fold int8 model");
  if (!q.ok()) return q.status();
  Result<std::vector<ManifestRow>> rows = ListLabelledFolder(val_dir);
  if (!rows.ok()) return rows.status();
  const auto& labels = TriageLabels();
  std::vector<OofRow> out;
  Progress bar("fold " + std::to_string(fold) + " predict", rows->size(), progress);
  for (const ManifestRow& r : *rows) {
    OofRow o;
    o.row = r;
    const auto root = roots.find(r.file);
    o.row.root = root != roots.end() ? root->second : "";
    o.fold = fold;
    o.truth = static_cast<int>(std::find(labels.begin(), labels.end(), r.cls) - labels.begin());
    Result<imaging::Image> img = imaging::LoadImageFile((fs::path(val_dir) / r.file).string());
    if (!img.ok()) return img.status();
    TRIAGE_RETURN_IF_ERROR((*f)->ClassifyImage(*img, &o.p_float));
    TRIAGE_RETURN_IF_ERROR((*q)->ClassifyImage(*img, &o.p_int8));
    out.push_back(std::move(o));
    bar.Advance();
  }
  bar.Finish();
  return out;
}

struct Tally {
  long n = 0, correct = 0, correct_float = 0, land = 0, land_hit = 0, nonland = 0, nonland_hit = 0, agree = 0;
  void Add(const OofRow& r) {
    const int land_index = LandIndex();
    const int p = Argmax(r.p_int8), pf = Argmax(r.p_float);
    ++n;
    correct += p == r.truth;
    correct_float += pf == r.truth;
    agree += p == pf;
    if (r.truth == land_index) {
      ++land;
      land_hit += p == land_index;
    } else {
      ++nonland;
      nonland_hit += p != land_index;
    }
  }
};

}  // namespace

Result<std::vector<OofRow>> CrossValidate(const CvOptions& o) {
  if (o.folds < 2 || o.folds > 20) return Status::Error(StatusCode::kInvalidArgument, "folds must be 2..20");
  if (o.data.real_dirs.empty()) return Status::Error(StatusCode::kInvalidArgument, "cv needs --real folders");
  std::map<std::string, std::string> roots;
  for (const std::string& dir : o.data.real_dirs) {
    Result<std::vector<ManifestRow>> rows = ListLabelledFolder(dir);
    if (!rows.ok()) return rows.status();
    for (const ManifestRow& r : *rows) roots.emplace(r.file, dir);
  }
  std::vector<OofRow> all;
  bool complete = true;
  for (int k = 0; k < o.folds; ++k) {
    if (!o.only_folds.empty() && std::find(o.only_folds.begin(), o.only_folds.end(), k) == o.only_folds.end()) {
      const fs::path other = fs::path(o.work_dir) / ("fold_" + std::to_string(k)) / "oof.csv";
      std::error_code ec;
      if (!fs::exists(other, ec)) {
        complete = false;
        continue;
      }
    }
    const fs::path dir = fs::path(o.work_dir) / ("fold_" + std::to_string(k));
    const fs::path oof = dir / "oof.csv";
    std::error_code ec;
    if (fs::exists(oof, ec)) {
      Result<std::vector<OofRow>> done = ReadOof(oof.string());
      if (!done.ok()) return done.status();
      if (o.progress) std::fprintf(stderr, "fold %d: reusing %s (%zu rows)\n", k, oof.c_str(), done->size());
      all.insert(all.end(), done->begin(), done->end());
      continue;
    }
    DatasetOptions d = o.data;
    d.out_dir = (dir / "data").string();
    d.folds = o.folds;
    d.fold = k;
    d.sim_val_per_class = 0;
    d.progress = o.progress;
    TrainOptions t = o.train;
    t.data_dir = d.out_dir;
    t.out_dir = (dir / "ckpt").string();
    t.patience = 0;
    t.progress = o.progress;
    int total_epochs = 0;
    for (const TrainStage& st : t.stages) total_epochs += st.epochs;
    // A fold whose training finished (its last checkpoint is of the final
    // epoch) but whose predictions were not written (or were removed, to
    // quantize again) is picked up there; its dataset is rebuilt if it was
    // removed, and must hash as the one it trained on.
    const fs::path last = dir / "ckpt" / "last.tckp";
    Result<TensorArchive> done = fs::exists(last, ec)
                                     ? TensorArchive::Load(last.string())
                                     : Result<TensorArchive>(Status::Error(StatusCode::kNotFound, "none"));
    const bool trained_before = done.ok() && done->GetString("train.epoch") == std::to_string(total_epochs) &&
                                done->GetString("train.stages") == StagesText(t.stages);
    double train_seconds = 0;
    if (trained_before && !fs::exists(dir / "data" / "val", ec)) {
      fs::remove_all(dir / "data", ec);
      if (o.progress) std::fprintf(stderr, "fold %d/%d: rebuilding the dataset of the finished training\n", k + 1, o.folds);
      Result<DatasetReport> report = BuildDataset(d);
      if (!report.ok()) return report.status().WithContext("fold %d", k);
      if (report->data_sha256 != done->GetString("train.data_sha256")) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "fold %d: the rebuilt dataset (sha256 %s) is not the one %s trained on (%s): "
                             "other dataset options?",
                             k, report->data_sha256.c_str(), last.c_str(), done->GetString("train.data_sha256").c_str());
      }
    }
    if (!trained_before) {
      fs::remove_all(dir, ec);
      if (o.progress) std::fprintf(stderr, "fold %d/%d: dataset\n", k + 1, o.folds);
      Result<DatasetReport> report = BuildDataset(d);
      if (!report.ok()) return report.status().WithContext("fold %d", k);
      if (o.progress) std::fprintf(stderr, "fold %d/%d: train\n", k + 1, o.folds);
      Result<TrainResult> trained = Train(t);
      if (!trained.ok()) return trained.status().WithContext("fold %d", k);
      train_seconds = trained->seconds;
    } else if (o.progress) {
      std::fprintf(stderr, "fold %d/%d: reusing the finished training in %s\n", k + 1, o.folds, last.c_str());
    }
    Result<TensorArchive> ckpt = TensorArchive::Load(last.string());
    if (!ckpt.ok()) return ckpt.status();
    Result<FoldedNet> net = FoldCheckpoint(*ckpt);
    if (!net.ok()) return net.status();
    const ModelInfo info = InfoFromArchive(*ckpt);
    const std::vector<uint8_t> f32 = BuildFloatTflite(*net, info);
    Result<std::vector<uint8_t>> q8 =
        QuantizeNet(*net, info, (fs::path(d.out_dir) / "train").string(), o.calibration_samples, o.calibration,
                    nullptr);
    if (!q8.ok()) return q8.status().WithContext("fold %d", k);
    if (o.cluster > 0) {
      q8 = ClusterWeights(*q8, o.cluster);
      if (!q8.ok()) return q8.status().WithContext("fold %d", k);
    }
    TRIAGE_RETURN_IF_ERROR(WriteFile((dir / "float.tflite").string(), f32));
    TRIAGE_RETURN_IF_ERROR(WriteFile((dir / "int8.tflite").string(), *q8));
    Result<std::vector<OofRow>> rows =
        PredictFold((fs::path(d.out_dir) / "val").string(), f32, *q8, k, roots, o.progress);
    if (!rows.ok()) return rows.status().WithContext("fold %d", k);
    TRIAGE_RETURN_IF_ERROR(WriteOof(oof.string(), *rows));
    if (o.progress) {
      std::fprintf(stderr, "fold %d/%d done in %.0f s training:\n%s\n", k + 1, o.folds, train_seconds,
                   CvTable(FilterConfidence(*rows, "hm"), 0).c_str());
    }
    if (!o.keep_datasets) fs::remove_all(dir / "data", ec);
    all.insert(all.end(), rows->begin(), rows->end());
  }
  if (complete) TRIAGE_RETURN_IF_ERROR(WriteOof((fs::path(o.work_dir) / "oof.csv").string(), all));
  return all;
}

Status WriteOof(const std::string& path, const std::vector<OofRow>& rows) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "file,root,class,group,confidence,origin,scene_id,fold,truth";
    const size_t k = TriageLabels().size();
    for (size_t c = 0; c < k; ++c) out << ",float_" << TriageLabels()[c];
    for (size_t c = 0; c < k; ++c) out << ",int8_" << TriageLabels()[c];
    out << '\n';
    char num[32];
    for (const OofRow& r : rows) {
      if (r.p_float.size() != k || r.p_int8.size() != k) {
        return Status::Error(StatusCode::kInvalidArgument, "%s: %s has %zu/%zu scores, expected %zu", path.c_str(),
                             r.row.file.c_str(), r.p_float.size(), r.p_int8.size(), k);
      }
      const auto q = CsvField;
      out << q(r.row.file) << ',' << q(r.row.root) << ',' << q(r.row.cls) << ',' << q(r.row.group) << ','
          << q(r.row.confidence) << ',' << q(r.row.origin) << ',' << q(r.row.scene) << ',' << r.fold << ',' << r.truth;
      for (float v : r.p_float) {
        std::snprintf(num, sizeof(num), ",%.9g", static_cast<double>(v));
        out << num;
      }
      for (float v : r.p_int8) {
        std::snprintf(num, sizeof(num), ",%.9g", static_cast<double>(v));
        out << num;
      }
      out << '\n';
    }
    if (!out) return Status::Error(StatusCode::kIoError, "%s: cannot write", tmp.c_str());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::Error(StatusCode::kIoError, "%s: cannot rename: %s", path.c_str(), ec.message().c_str());
  return Status::Ok();
}

Result<std::vector<OofRow>> ReadOof(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(StatusCode::kNotFound, "%s: cannot open", path.c_str());
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  return ParseOof(text, path);
}

Result<std::vector<OofRow>> ParseOof(const std::string& text, const std::string& path) {
  Result<std::vector<std::vector<std::string>>> records = ParseCsvRecords(text, path);
  if (!records.ok()) return records.status();
  const size_t k = TriageLabels().size();
  const size_t columns = 9 + 2 * k;
  if (records->empty() || (*records)[0].size() != columns || (*records)[0][0] != "file") {
    return Status::Error(StatusCode::kInvalidArgument, "%s:1: not an out-of-fold prediction file (%zu columns expected)",
                         path.c_str(), columns);
  }
  std::vector<OofRow> rows;
  for (size_t i = 1; i < records->size(); ++i) {
    const std::vector<std::string>& f = (*records)[i];
    if (f.size() != columns) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: record %zu has %zu fields, expected %zu", path.c_str(),
                           i + 1, f.size(), columns);
    }
    OofRow r;
    r.row.file = f[0];
    r.row.root = f[1];
    r.row.cls = f[2];
    r.row.group = f[3];
    r.row.confidence = f[4];
    r.row.origin = f[5];
    r.row.scene = f[6];
    char* end = nullptr;
    r.fold = static_cast<int>(std::strtol(f[7].c_str(), &end, 10));
    bool ok = *end == '\0' && !f[7].empty();
    r.truth = static_cast<int>(std::strtol(f[8].c_str(), &end, 10));
    ok = ok && *end == '\0' && r.truth >= 0 && static_cast<size_t>(r.truth) < k;
    for (size_t c = 0; c < 2 * k && ok; ++c) {
      const float v = std::strtof(f[9 + c].c_str(), &end);
      ok = *end == '\0' && v >= 0.f && v <= 1.f;
      (c < k ? r.p_float : r.p_int8).push_back(v);
    }
    if (!ok) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: record %zu: bad fold, class index or score", path.c_str(),
                           i + 1);
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<OofRow> FilterConfidence(const std::vector<OofRow>& rows, const std::string& levels) {
  std::vector<OofRow> out;
  for (const OofRow& r : rows) {
    if (levels.empty() || levels.find(r.row.confidence) != std::string::npos) out.push_back(r);
  }
  return out;
}

std::string CvTable(const std::vector<OofRow>& rows, int folds) {
  std::string s;
  char line[256];
  std::map<int, Tally> by_fold;
  Tally total;
  for (const OofRow& r : rows) {
    by_fold[r.fold].Add(r);
    total.Add(r);
  }
  s += "fold  frames  top-1 int8  top-1 float  land recall  non-land discarded  int8/float agree\n";
  double mean = 0;
  for (const auto& [fold, t] : by_fold) {
    std::snprintf(line, sizeof(line), "%4d  %6ld  %9.1f%%  %10.1f%%  %4ld/%-3ld%5.1f%%  %4ld/%-3ld %8.1f%%  %15.1f%%\n", fold,
                  t.n, 100 * Ratio(t.correct, t.n), 100 * Ratio(t.correct_float, t.n), t.land_hit, t.land,
                  100 * Ratio(t.land_hit, t.land), t.nonland_hit, t.nonland, 100 * Ratio(t.nonland_hit, t.nonland),
                  100 * Ratio(t.agree, t.n));
    s += line;
    mean += Ratio(t.correct, t.n);
  }
  if (!by_fold.empty()) mean /= static_cast<double>(by_fold.size());
  std::snprintf(line, sizeof(line), "%4s  %6ld  %9.1f%%  %10.1f%%  %4ld/%-3ld%5.1f%%  %4ld/%-3ld %8.1f%%  %15.1f%%\n", "all",
                total.n, 100 * Ratio(total.correct, total.n), 100 * Ratio(total.correct_float, total.n),
                total.land_hit, total.land, 100 * Ratio(total.land_hit, total.land), total.nonland_hit,
                total.nonland, 100 * Ratio(total.nonland_hit, total.nonland), 100 * Ratio(total.agree, total.n));
  s += line;
  if (folds > 0) {
    std::snprintf(line, sizeof(line), "mean of %zu folds' top-1 (int8): %.1f%%\n", by_fold.size(), 100 * mean);
    s += line;
  }
  // Per source kind.
  std::map<std::string, Tally> by_source;
  for (const OofRow& r : rows) by_source[SourceKind(r.row)].Add(r);
  s += "\nsource        frames  top-1 int8  land recall\n";
  for (const auto& [src, t] : by_source) {
    std::snprintf(line, sizeof(line), "%-12s  %6ld  %9.1f%%  %4ld/%-4ld\n", src.c_str(), t.n,
                  100 * Ratio(t.correct, t.n), t.land_hit, t.land);
    s += line;
  }
  // Pooled confusion, int8.
  const auto& labels = TriageLabels();
  std::vector<std::vector<int>> confusion(labels.size(), std::vector<int>(labels.size(), 0));
  for (const OofRow& r : rows) {
    const int p = Argmax(r.p_int8);
    if (p >= 0) ++confusion[static_cast<size_t>(r.truth)][static_cast<size_t>(p)];
  }
  s += "\nconfusion, int8 (rows: truth, columns: predicted)\n";
  return s + ConfusionText(labels, confusion, true);
}

std::string CvJson(const std::vector<OofRow>& rows, int folds) {
  nlohmann::json j;
  std::map<int, Tally> by_fold;
  Tally total;
  for (const OofRow& r : rows) {
    by_fold[r.fold].Add(r);
    total.Add(r);
  }
  auto tally = [](const Tally& t) {
    return nlohmann::json{{"frames", t.n},
                          {"top1_int8", Ratio(t.correct, t.n)},
                          {"top1_float", Ratio(t.correct_float, t.n)},
                          {"land_recall", Ratio(t.land_hit, t.land)},
                          {"land_frames", t.land},
                          {"nonland_discarded", Ratio(t.nonland_hit, t.nonland)},
                          {"int8_float_agreement", Ratio(t.agree, t.n)}};
  };
  double mean = 0;
  for (const auto& [fold, t] : by_fold) {
    j["folds"].push_back(tally(t));
    mean += Ratio(t.correct, t.n);
  }
  j["folds_requested"] = folds;
  j["mean_top1_int8"] = by_fold.empty() ? 0.0 : mean / static_cast<double>(by_fold.size());
  j["pooled"] = tally(total);
  std::map<std::string, Tally> by_source;
  for (const OofRow& r : rows) by_source[SourceKind(r.row)].Add(r);
  for (const auto& [src, t] : by_source) j["by_source"][src] = tally(t);
  return j.dump(2);
}

}  // namespace triage::ground
