#include "ground/evaluate.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "ground/dataset.h"
#include "ground/model_runner.h"
#include "ground/progress.h"

namespace triage::ground {
namespace fs = std::filesystem;
namespace {

double Ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

}  // namespace

EvalResult Summarize(const std::vector<std::string>& labels, const std::vector<int>& truth,
                     const std::vector<std::vector<float>>& probs, const std::vector<std::string>& files,
                     const std::string& land_class, const std::vector<float>& thresholds) {
  const int k = static_cast<int>(labels.size());
  EvalResult r;
  r.labels = labels;
  r.confusion.assign(k, std::vector<int>(k, 0));
  const int land = static_cast<int>(std::find(labels.begin(), labels.end(), land_class) - labels.begin());
  std::vector<int> pred(truth.size());
  std::vector<float> conf(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    pred[i] = static_cast<int>(std::max_element(probs[i].begin(), probs[i].end()) - probs[i].begin());
    conf[i] = probs[i][pred[i]];
    if (truth[i] >= 0 && truth[i] < k && pred[i] < k) ++r.confusion[truth[i]][pred[i]];
    if (pred[i] != truth[i]) {
      r.errors.push_back({i < files.size() ? files[i] : std::to_string(i), labels[truth[i]],
                          pred[i] < k ? labels[pred[i]] : std::to_string(pred[i]), conf[i]});
    }
  }
  r.total = static_cast<int>(truth.size());
  int correct = 0;
  for (int c = 0; c < k; ++c) correct += r.confusion[c][c];
  r.accuracy = Ratio(correct, r.total);
  r.discarded_by_class.assign(k, 0.0);
  int nonland = 0, nonland_discarded = 0;
  for (int c = 0; c < k; ++c) {
    int row = 0, col = 0;
    for (int j = 0; j < k; ++j) {
      row += r.confusion[c][j];
      col += r.confusion[j][c];
    }
    r.recall.push_back(Ratio(r.confusion[c][c], row));
    r.precision.push_back(Ratio(r.confusion[c][c], col));
    if (land < k) {
      const int kept = r.confusion[c][land];
      r.discarded_by_class[c] = Ratio(row - kept, row);
      if (c != land) {
        nonland += row;
        nonland_discarded += row - kept;
      }
    }
  }
  r.land_recall = land < k ? r.recall[land] : 0.0;
  r.nonland_discarded = Ratio(nonland_discarded, nonland);
  // By threshold: a frame whose top confidence is below the threshold is
  // uncertain and kept (thumbnail); only confident non-land is discarded.
  for (float t : thresholds) {
    ThresholdRow row;
    row.threshold = t;
    int covered = 0, covered_ok = 0, land_n = 0, land_kept = 0, nl = 0, nl_discarded = 0;
    for (size_t i = 0; i < truth.size(); ++i) {
      const bool confident = conf[i] >= t;
      covered += confident;
      covered_ok += confident && pred[i] == truth[i];
      const bool discarded = confident && pred[i] != land;
      if (truth[i] == land) {
        ++land_n;
        land_kept += !discarded;
      } else {
        ++nl;
        nl_discarded += discarded;
      }
    }
    row.coverage = Ratio(covered, truth.size());
    row.accuracy = Ratio(covered_ok, covered);
    row.land_recall = Ratio(land_kept, land_n);
    row.nonland_discarded = Ratio(nl_discarded, nl);
    r.thresholds.push_back(row);
  }
  return r;
}

std::string ConfusionText(const std::vector<std::string>& labels, const std::vector<std::vector<int>>& confusion,
                          bool with_rates) {
  std::string s = "            ";
  char line[64];
  for (const std::string& l : labels) {
    std::snprintf(line, sizeof(line), "%10s", l.c_str());
    s += line;
  }
  s += with_rates ? "    recall  precision\n" : "\n";
  for (size_t c = 0; c < labels.size() && c < confusion.size(); ++c) {
    std::snprintf(line, sizeof(line), "%-12s", labels[c].c_str());
    s += line;
    int row = 0, col = 0;
    for (size_t j = 0; j < confusion[c].size(); ++j) {
      std::snprintf(line, sizeof(line), "%10d", confusion[c][j]);
      s += line;
      row += confusion[c][j];
      col += j < confusion.size() && c < confusion[j].size() ? confusion[j][c] : 0;
    }
    if (with_rates) {
      std::snprintf(line, sizeof(line), "   %6.1f%%    %6.1f%%", 100 * Ratio(confusion[c][c], row),
                    100 * Ratio(confusion[c][c], col));
      s += line;
    }
    s += "\n";
  }
  return s;
}

std::string EvalResult::Table() const {
  std::string s;
  char line[256];
  std::snprintf(line, sizeof(line), "frames: %d   top-1 accuracy: %.2f%%\n\nconfusion (rows: truth, columns: predicted)\n",
                total, 100 * accuracy);
  s += line;
  s += ConfusionText(labels, confusion, true);
  std::snprintf(line, sizeof(line), "\nkeep/discard (keep = predicted land): land recall %.2f%%, non-land discarded %.2f%%\n",
                100 * land_recall, 100 * nonland_discarded);
  s += line;
  s += "  discarded by class:";
  for (size_t c = 0; c < labels.size(); ++c) {
    std::snprintf(line, sizeof(line), " %s %.1f%%", labels[c].c_str(), 100 * discarded_by_class[c]);
    s += line;
  }
  s += "\n\nby confidence threshold (below it a frame is uncertain and kept)\n";
  s += "threshold  coverage  accuracy  land recall  non-land discarded\n";
  for (const ThresholdRow& t : thresholds) {
    std::snprintf(line, sizeof(line), "%9.2f  %7.1f%%  %7.1f%%  %10.1f%%  %18.1f%%\n", t.threshold, 100 * t.coverage,
                  100 * t.accuracy, 100 * t.land_recall, 100 * t.nonland_discarded);
    s += line;
  }
  if (!errors.empty()) {
    s += "\nmisclassified:\n";
    for (const Misclassified& e : errors) {
      std::snprintf(line, sizeof(line), "  %s: %s -> %s (%.2f)\n", e.file.c_str(), e.truth.c_str(),
                    e.predicted.c_str(), e.confidence);
      s += line;
    }
  }
  return s;
}

std::string EvalResult::Json() const {
  nlohmann::json j;
  j["labels"] = labels;
  j["frames"] = total;
  j["accuracy"] = accuracy;
  j["confusion"] = confusion;
  j["precision"] = precision;
  j["recall"] = recall;
  j["land_recall"] = land_recall;
  j["nonland_discarded"] = nonland_discarded;
  j["discarded_by_class"] = discarded_by_class;
  j["model_bytes"] = model_bytes;
  for (const ThresholdRow& t : thresholds) {
    j["thresholds"].push_back({{"threshold", t.threshold},
                               {"coverage", t.coverage},
                               {"accuracy", t.accuracy},
                               {"land_recall", t.land_recall},
                               {"nonland_discarded", t.nonland_discarded}});
  }
  j["errors"] = nlohmann::json::array();
  for (const Misclassified& e : errors) {
    j["errors"].push_back({{"file", e.file}, {"truth", e.truth}, {"predicted", e.predicted}, {"confidence", e.confidence}});
  }
  return j.dump(2);
}

Result<EvalResult> Evaluate(const EvalOptions& o, std::vector<std::vector<float>>* predictions) {
  Result<std::unique_ptr<ModelRunner>> runner = ModelRunner::Load(o.model);
  if (!runner.ok()) return runner.status();
  const std::vector<std::string>& labels = (*runner)->labels();
  if (labels.empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: model has no 'labels' metadata", o.model.c_str());
  }
  Result<std::vector<ManifestRow>> rows = ListLabelledFolder(o.data);
  if (!rows.ok()) return rows.status();
  std::vector<int> truth;
  std::vector<std::vector<float>> probs;
  std::vector<std::string> files;
  std::vector<const ManifestRow*> selected;
  for (const ManifestRow& r : *rows) {
    if (!o.confidence.empty() && o.confidence.find(r.confidence) == std::string::npos) continue;
    if (!o.include_simulated && r.origin == "sim") continue;
    selected.push_back(&r);
  }
  if (selected.empty()) return Status::Error(StatusCode::kNotFound, "%s: no rows match the filters", o.data.c_str());
  Progress bar("evaluate", selected.size(), o.progress);
  for (const ManifestRow* r : selected) {
    const auto it = std::find(labels.begin(), labels.end(), r->cls);
    if (it == labels.end()) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: class '%s' is not one of the model's labels",
                           r->file.c_str(), r->cls.c_str());
    }
    Result<imaging::Image> img = imaging::LoadImageFile((fs::path(o.data) / r->file).string());
    if (!img.ok()) return img.status();
    std::vector<float> p;
    Status s = (*runner)->ClassifyImage(*img, &p);
    if (!s.ok()) return s.WithContext("%s", r->file.c_str());
    if (p.size() != labels.size()) {
      return Status::Error(StatusCode::kInvalidArgument, "model has %zu outputs but %zu labels", p.size(),
                           labels.size());
    }
    truth.push_back(static_cast<int>(it - labels.begin()));
    probs.push_back(std::move(p));
    files.push_back(r->file);
    bar.Advance();
  }
  bar.Finish();
  EvalResult result = Summarize(labels, truth, probs, files, o.land_class, o.thresholds);
  result.model_bytes = (*runner)->file_bytes();
  if (predictions) *predictions = std::move(probs);
  return result;
}

}  // namespace triage::ground
