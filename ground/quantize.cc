#include "ground/quantize.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "ground/dataset.h"
#include "ground/model_runner.h"

namespace triage::ground {
namespace {

constexpr int kBins = 4096;

struct Observation {
  std::string name;
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  std::vector<uint64_t> histogram;  // pass 2: over [min, max]
};

struct Collector {
  std::map<int, Observation> by_tensor;  // interpreter tensor index -> observation
  bool histogram_pass = false;
};

void Observe(Observation& o, const float* v, size_t n, bool histogram_pass) {
  if (!histogram_pass) {
    for (size_t i = 0; i < n; ++i) {
      o.min = std::min(o.min, v[i]);
      o.max = std::max(o.max, v[i]);
    }
    return;
  }
  const double span = static_cast<double>(o.max) - o.min;
  if (o.histogram.empty()) o.histogram.assign(kBins, 0);
  for (size_t i = 0; i < n; ++i) {
    int b = span > 0 ? static_cast<int>((v[i] - o.min) / span * kBins) : 0;
    b = std::clamp(b, 0, kBins - 1);
    ++o.histogram[b];
  }
}

Status ObserveOp(void* user, const inference::Interpreter& interp, int op_index) {
  auto* c = static_cast<Collector*>(user);
  const inference::OperatorSpec& op = interp.model().operators()[op_index];
  for (int32_t t : op.outputs) {
    auto it = c->by_tensor.find(t);
    if (it == c->by_tensor.end()) continue;
    const inference::TensorView view = interp.tensor(t);
    Observe(it->second, view.As<float>(), view.bytes / sizeof(float), c->histogram_pass);
  }
  return Status::Ok();
}

// The percentile range of one side: the value below which `percentile` % of
// the samples lie (upper) or above which they lie (lower).
void PercentileRange(const Observation& o, double percentile, float* lo, float* hi) {
  uint64_t total = 0;
  for (uint64_t c : o.histogram) total += c;
  const double span = static_cast<double>(o.max) - o.min;
  if (total == 0 || span <= 0) {
    *lo = o.min;
    *hi = o.max;
    return;
  }
  const double tail = total * (100.0 - percentile) / 100.0;
  double acc = 0;
  int lo_bin = 0;
  for (; lo_bin < kBins; ++lo_bin) {
    acc += o.histogram[lo_bin];
    if (acc > tail) break;
  }
  acc = 0;
  int hi_bin = kBins - 1;
  for (; hi_bin > 0; --hi_bin) {
    acc += o.histogram[hi_bin];
    if (acc > tail) break;
  }
  *lo = static_cast<float>(o.min + span * lo_bin / kBins);
  *hi = static_cast<float>(o.min + span * (hi_bin + 1) / kBins);
  *lo = std::max(*lo, o.min);
  *hi = std::min(*hi, o.max);
}

}  // namespace

ActivationQuant ChooseActivationQuant(float min, float max) {
  min = std::min(min, 0.f);
  max = std::max(max, 0.f);
  ActivationQuant q;
  if (max - min <= 0.f) {
    q.scale = 1.f / 255.f;  // an all-zero tensor: any scale represents it exactly
    q.zero_point = -128;
    return q;
  }
  q.scale = (max - min) / 255.f;
  const double zp = -128.0 - static_cast<double>(min) / q.scale;
  q.zero_point = static_cast<int32_t>(std::clamp(std::round(zp), -128.0, 127.0));
  return q;
}

Result<QuantPlan> Calibrate(const FoldedNet& net, const ModelInfo& info,
                            const std::vector<std::vector<float>>& samples, const CalibrationOptions& options,
                            std::vector<TensorRange>* ranges) {
  if (samples.empty()) return Status::Error(StatusCode::kInvalidArgument, "calibration set is empty");
  if (!(options.percentile > 50.0 && options.percentile <= 100.0)) {
    return Status::Error(StatusCode::kInvalidArgument, "percentile %g: must be in (50, 100]", options.percentile);
  }
  const size_t input_size = static_cast<size_t>(net.spec.resolution) * net.spec.resolution * 3;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].size() != input_size) {
      return Status::Error(StatusCode::kInvalidArgument, "calibration sample %zu: %zu values, expected %zu", i,
                           samples[i].size(), input_size);
    }
  }
  Collector collector;
  inference::InterpreterOptions opts;
  opts.observer = &ObserveOp;
  opts.observer_user = &collector;
  Result<std::unique_ptr<ModelRunner>> runner = ModelRunner::FromBytes(BuildFloatTflite(net, info), "float model", opts);
  if (!runner.ok()) return runner.status();
  inference::Interpreter& interp = (*runner)->interpreter();
  const std::vector<std::string> names = ActivationTensorNames(net);
  for (size_t t = 0; t < interp.num_tensors(); ++t) {
    const std::string tname = interp.tensor(static_cast<int>(t)).name;
    if (tname != "input" && std::find(names.begin(), names.end(), tname) != names.end()) {
      collector.by_tensor[static_cast<int>(t)].name = tname;
    }
  }
  const int passes = options.percentile < 100.0 ? 2 : 1;
  std::vector<float> probs;
  for (int pass = 0; pass < passes; ++pass) {
    collector.histogram_pass = pass == 1;
    for (const std::vector<float>& s : samples) TRIAGE_RETURN_IF_ERROR((*runner)->ClassifyNormalized(s.data(), &probs));
  }
  QuantPlan plan;
  // The input is fixed by the preprocessing, not calibrated: (p - mean)/std
  // spans [-mean/std, (255-mean)/std]; mean 128, std 128 gives scale 1/128,
  // zero point 0, so q = p - 128 exactly.
  const float in_lo = -info.mean / info.std, in_hi = (255.f - info.mean) / info.std;
  ActivationQuant in_q;
  in_q.scale = 1.f / info.std;
  in_q.zero_point = static_cast<int32_t>(std::lround(-128.0 - in_lo / in_q.scale));
  if (in_q.zero_point < -128 || in_q.zero_point > 127 || in_hi / in_q.scale + in_q.zero_point > 127.5f) {
    in_q = ChooseActivationQuant(in_lo, in_hi);
  }
  plan["input"] = in_q;
  if (ranges) ranges->push_back({"input", in_lo, in_hi});
  for (const auto& [index, o] : collector.by_tensor) {
    float lo = o.min, hi = o.max;
    if (passes == 2) PercentileRange(o, options.percentile, &lo, &hi);
    plan[o.name] = ChooseActivationQuant(lo, hi);
    if (ranges) ranges->push_back({o.name, lo, hi});
  }
  for (const std::string& n : names) {
    if (plan.count(n) == 0) {
      return Status::Error(StatusCode::kInternal, "calibration saw no values for tensor '%s'", n.c_str());
    }
  }
  return plan;
}

Result<std::vector<std::vector<float>>> LoadModelInputs(const std::string& dir, int resolution, float mean,
                                                        float stddev, size_t count, std::vector<std::string>* files) {
  namespace fs = std::filesystem;
  Result<std::vector<ManifestRow>> rows = ListLabelledFolder(dir);
  if (!rows.ok()) return rows.status();
  const size_t n = std::min(count, rows->size());
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < n; ++i) {
    const ManifestRow& r = (*rows)[i * rows->size() / n];
    Result<imaging::Image> img = imaging::LoadImageFile((fs::path(dir) / r.file).string());
    if (!img.ok()) return img.status();
    Result<imaging::Image> sq = ResizeSquare(ToRgb(*img), resolution);
    if (!sq.ok()) return sq.status().WithContext("%s", r.file.c_str());
    std::vector<float> v(sq->pixels.size());
    for (size_t k = 0; k < v.size(); ++k) v[k] = (sq->pixels[k] - mean) / stddev;
    out.push_back(std::move(v));
    if (files) files->push_back(r.file);
  }
  return out;
}

Result<std::vector<uint8_t>> QuantizeNet(const FoldedNet& net, const ModelInfo& info,
                                         const std::string& calibration_dir, size_t samples,
                                         const CalibrationOptions& options, std::vector<TensorRange>* ranges,
                                         size_t* calibration_images) {
  Result<std::vector<std::vector<float>>> inputs =
      LoadModelInputs(calibration_dir, net.spec.resolution, info.mean, info.std, samples, nullptr);
  if (!inputs.ok()) return inputs.status();
  if (calibration_images != nullptr) *calibration_images = inputs->size();
  Result<QuantPlan> plan = Calibrate(net, info, *inputs, options, ranges);
  if (!plan.ok()) return plan.status();
  return BuildInt8Tflite(net, info, *plan);
}

}  // namespace triage::ground
