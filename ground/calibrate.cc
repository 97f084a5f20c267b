#include "ground/calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "decision/decision.h"
#include "ground/mobilenet.h"

namespace triage::ground {
namespace {

constexpr double kFloor = 1.0 / 4096;  // an int8 score of 0 is "below one step", not -infinity

int LandIndex() {
  const auto& l = TriageLabels();
  return static_cast<int>(std::find(l.begin(), l.end(), "land") - l.begin());
}

// What the flight would read: scores quantized to the int8 output step.
std::vector<float> FlightScores(const OofRow& r, double temperature) {
  std::vector<float> p = ApplyTemperature(r.p_int8, temperature);
  for (float& v : p) v = std::round(v * 256.f) / 256.f;
  return p;
}

decision::Decision DecideRow(const OofRow& r, const config::TriageConfig& policy, double temperature) {
  const std::vector<float> p = FlightScores(r, temperature);
  return decision::Decide(policy, decision::RankScores(p.data(), static_cast<int>(p.size())), 0.0);
}

// The land scores (flight's output grid), ascending, of the land frames
// `policy` discards: what a keep threshold has to rescue.
std::vector<float> DiscardedLandScores(const std::vector<OofRow>& rows, const config::TriageConfig& policy,
                                       double temperature) {
  const int land = LandIndex();
  std::vector<float> scores;
  for (const OofRow& r : rows) {
    if (r.truth != land || DecideRow(r, policy, temperature).action != config::FrameAction::kDiscard) continue;
    scores.push_back(FlightScores(r, temperature)[static_cast<size_t>(land)]);
  }
  std::sort(scores.begin(), scores.end());
  return scores;
}

}  // namespace

std::vector<float> ApplyTemperature(const std::vector<float>& p, double temperature) {
  std::vector<double> z(p.size());
  double top = -1e300;
  for (size_t i = 0; i < p.size(); ++i) {
    z[i] = std::log(std::max<double>(p[i], kFloor)) / temperature;
    top = std::max(top, z[i]);
  }
  double sum = 0;
  for (double& v : z) sum += (v = std::exp(v - top));
  std::vector<float> out(p.size());
  for (size_t i = 0; i < p.size(); ++i) out[i] = static_cast<float>(z[i] / sum);
  return out;
}

double NegativeLogLikelihood(const std::vector<OofRow>& rows, double temperature, bool int8) {
  double nll = 0;
  for (const OofRow& r : rows) {
    const std::vector<float> p = ApplyTemperature(int8 ? r.p_int8 : r.p_float, temperature);
    nll -= std::log(std::max<double>(p[static_cast<size_t>(r.truth)], 1e-12));
  }
  return rows.empty() ? 0 : nll / static_cast<double>(rows.size());
}

double FitTemperature(const std::vector<OofRow>& rows) {
  // Golden-section search on log T: the NLL is unimodal in T for a fixed
  // set of logits.
  double a = std::log(0.125), b = std::log(8.0);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double c = b - g * (b - a), d = a + g * (b - a);
  double fc = NegativeLogLikelihood(rows, std::exp(c), false), fd = NegativeLogLikelihood(rows, std::exp(d), false);
  for (int i = 0; i < 60; ++i) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = NegativeLogLikelihood(rows, std::exp(c), false);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = NegativeLogLikelihood(rows, std::exp(d), false);
    }
  }
  return std::exp((a + b) / 2);
}

double CalibrationError(const std::vector<OofRow>& rows, double temperature, bool int8) {
  double conf[10] = {}, hit[10] = {};
  int count[10] = {};
  for (const OofRow& r : rows) {
    const std::vector<float> p = ApplyTemperature(int8 ? r.p_int8 : r.p_float, temperature);
    const size_t top = std::max_element(p.begin(), p.end()) - p.begin();
    const int bin = std::min(9, static_cast<int>(p[top] * 10));
    conf[bin] += p[top];
    hit[bin] += static_cast<int>(top) == r.truth;
    ++count[bin];
  }
  double ece = 0;
  for (int b = 0; b < 10; ++b) {
    if (count[b] > 0) ece += std::fabs(conf[b] - hit[b]) / static_cast<double>(rows.size());
  }
  return ece;
}

DecidedFrame EstimateBytes(int truth, const decision::Decision& d, const ProductBytes& bytes) {
  DecidedFrame f;
  f.truth = truth;
  f.decision = d;
  f.queued_bytes = (d.queue_full ? bytes.full : 0.0) + (d.queue_thumbnail ? bytes.thumbnail : 0.0);
  f.whole_bytes = bytes.frame;
  return f;
}

DecisionTable TallyDecisions(const std::vector<std::string>& labels, const std::vector<DecidedFrame>& frames,
                             const std::string& bytes_basis) {
  DecisionTable t;
  t.bytes_basis = bytes_basis;
  for (const std::string& l : labels) t.classes.push_back({l, 0, 0, 0, 0});
  const int land = static_cast<int>(std::find(labels.begin(), labels.end(), "land") - labels.begin());
  for (const DecidedFrame& f : frames) {
    const decision::Decision& d = f.decision;
    if (f.truth < 0 || static_cast<size_t>(f.truth) >= t.classes.size()) continue;
    DecisionCounts& c = t.classes[static_cast<size_t>(f.truth)];
    ++c.frames;
    const double queued = f.queued_bytes;
    t.queued_bytes += queued;
    t.all_bytes += f.whole_bytes;
    if (d.action == config::FrameAction::kFull) {
      ++c.full;
    } else if (d.action == config::FrameAction::kThumbnail) {
      ++c.thumbnail;
    } else {
      ++c.discarded;
    }
    if (f.truth == land) {
      t.land_lost += d.action == config::FrameAction::kDiscard;
    } else {
      ++t.nonland;
      t.nonland_full += d.action == config::FrameAction::kFull;
      t.nonland_thumbnail += d.action == config::FrameAction::kThumbnail;
      t.nonland_discarded += d.action == config::FrameAction::kDiscard;
      t.nonland_bytes += queued;
    }
  }
  return t;
}

DecisionTable ReplayDecisions(const std::vector<OofRow>& rows, const config::TriageConfig& policy, double temperature,
                              const ProductBytes& bytes) {
  std::vector<DecidedFrame> frames;
  for (const OofRow& r : rows) frames.push_back(EstimateBytes(r.truth, DecideRow(r, policy, temperature), bytes));
  char basis[160];
  std::snprintf(basis, sizeof(basis), "estimated: %.0f kB full, %.0f kB thumbnail, %.0f kB a frame sent whole",
                bytes.full / 1e3, bytes.thumbnail / 1e3, bytes.frame / 1e3);
  return TallyDecisions(TriageLabels(), frames, basis);
}

std::string DecisionTable::Table() const {
  std::string s = "class        frames      full  thumb-only  discarded\n";
  char line[1024];
  int tot[4] = {};
  for (const DecisionCounts& c : classes) {
    std::snprintf(line, sizeof(line), "%-10s  %7d  %8d  %10d  %9d\n", c.cls.c_str(), c.frames, c.full, c.thumbnail,
                  c.discarded);
    s += line;
    tot[0] += c.frames;
    tot[1] += c.full;
    tot[2] += c.thumbnail;
    tot[3] += c.discarded;
  }
  std::snprintf(line, sizeof(line), "%-10s  %7d  %8d  %10d  %9d\n", "total", tot[0], tot[1], tot[2], tot[3]);
  s += line;
  std::snprintf(line, sizeof(line),
                "land frames lost (discarded): %d\n"
                "non-land: %d frames, %d full, %d thumbnail only, %d discarded (%.1f%% discarded outright)\n"
                "bytes queued by non-land frames: %.2f MB of %.2f MB queued\n"
                "downlink saved: %.1f%% versus sending every frame whole\n",
                land_lost, nonland, nonland_full, nonland_thumbnail, nonland_discarded,
                nonland > 0 ? 100.0 * nonland_discarded / nonland : 0.0, nonland_bytes / 1e6, queued_bytes / 1e6,
                all_bytes > 0 ? 100.0 * (1.0 - queued_bytes / all_bytes) : 0.0);
  s += line;
  if (queued_bytes > all_bytes && all_bytes > 0) {
    s += "  (negative: these frames are smaller than the thumbnails kept of them, as with the dataset's small images)\n";
  }
  if (!bytes_basis.empty()) s += "bytes " + bytes_basis + "\n";
  return s;
}

Result<config::TriageConfig> ApplyChoice(const config::TriageConfig& policy, const ThresholdChoice& choice) {
  const int land = LandIndex();
  if (policy.classes.size() != TriageLabels().size()) {
    return Status::Error(StatusCode::kInvalidArgument, "the mission policy has %zu classes, the model %zu",
                         policy.classes.size(), TriageLabels().size());
  }
  config::TriageConfig t = policy;
  config::ClassPolicy& l = t.classes[static_cast<size_t>(land)];
  if (!l.interesting) {
    return Status::Error(StatusCode::kInvalidArgument, "triage.interesting does not list land");
  }
  l.keep_at = choice.land_keep;
  l.full_at = choice.land_full;
  l.thumbnail_at = choice.land_thumbnail;
  return t;
}

Result<ThresholdChoice> ChooseThresholds(const std::vector<OofRow>& rows, const config::TriageConfig& policy,
                                         double temperature, double max_nonland_full) {
  if (rows.empty()) return Status::Error(StatusCode::kInvalidArgument, "no out-of-fold rows");
  const int land = LandIndex();
  ThresholdChoice c;
  c.temperature = temperature;
  // land.full: scan the int8 output grid from the top down; the lowest step
  // that keeps non-land full frames within the budget.
  int nonland = 0;
  for (const OofRow& r : rows) nonland += r.truth != land;
  const int budget = static_cast<int>(std::floor(max_nonland_full * nonland));
  c.land_full = config::kNever;
  for (int q = 256; q >= 1; --q) {
    const float t = q / 256.f;
    int nonland_full = 0;
    for (const OofRow& r : rows) {
      if (r.truth == land) continue;
      const std::vector<float> p = FlightScores(r, temperature);
      const decision::Classification cl = decision::RankScores(p.data(), static_cast<int>(p.size()));
      nonland_full += cl.class_id == land && cl.confidence >= t;
    }
    if (nonland_full > budget) break;
    c.land_full = t;
  }
  // land.keep: with full/thumbnail set, the lowest land score among land
  // frames the rules would still discard, less one output step.
  c.land_keep = config::kNever;
  Result<config::TriageConfig> without_keep = ApplyChoice(policy, c);
  if (!without_keep.ok()) return without_keep.status();
  const std::vector<float> discarded = DiscardedLandScores(rows, *without_keep, temperature);
  if (!discarded.empty()) c.land_keep = std::max(0.f, discarded.front() - 1.f / 256.f);
  return c;
}

Result<std::vector<KeepCost>> ZeroLossCost(const std::vector<OofRow>& rows, const config::TriageConfig& policy,
                                           const ThresholdChoice& choice, const std::vector<size_t>& lost_levels,
                                           size_t* land_at_risk) {
  const double t = choice.temperature;
  ThresholdChoice no_keep = choice;
  no_keep.land_keep = config::kNever;
  Result<config::TriageConfig> base = ApplyChoice(policy, no_keep);
  if (!base.ok()) return base.status();
  const std::vector<float> at_risk = DiscardedLandScores(rows, *base, t);
  if (land_at_risk != nullptr) *land_at_risk = at_risk.size();
  std::vector<KeepCost> out;
  for (size_t lost : lost_levels) {
    if (lost > at_risk.size()) break;
    ThresholdChoice c = choice;
    c.land_keep = lost < at_risk.size() ? std::max(0.f, at_risk[lost] - 1.f / 256.f) : config::kNever;
    // Tied scores: losing `lost` frames may mean losing more; a keep
    // threshold already listed is not listed again.
    if (!out.empty() && out.back().land_keep == c.land_keep) continue;
    Result<config::TriageConfig> pol = ApplyChoice(policy, c);
    if (!pol.ok()) return pol.status();
    const DecisionTable d = ReplayDecisions(rows, *pol, t, ProductBytes{});
    out.push_back({d.land_lost, c.land_keep, d.nonland_discarded, d.nonland});
  }
  return out;
}

Status FoldTemperature(TensorArchive* checkpoint, double temperature) {
  if (!(temperature > 0.05 && temperature < 20)) {
    return Status::Error(StatusCode::kInvalidArgument, "temperature %g: must be in (0.05, 20)", temperature);
  }
  for (const char* name : {"fc.weight", "fc.bias"}) {
    if (!checkpoint->Has(name)) {
      return Status::Error(StatusCode::kInvalidArgument, "checkpoint has no %s to scale", name);
    }
    ArchiveTensor t = checkpoint->tensors().at(name);
    for (float& v : t.values) v = static_cast<float>(v / temperature);
    checkpoint->Put(name, std::move(t));
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", temperature);
  checkpoint->PutString("train.temperature", text);
  return Status::Ok();
}

}  // namespace triage::ground
