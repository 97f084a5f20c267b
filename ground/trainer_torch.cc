#include "ground/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "ground/dataset.h"
#include "ground/import.h"
#include "ground/model_runner.h"
#include "ground/progress.h"
#include "imaging/image.h"

namespace triage::ground {
namespace fs = std::filesystem;
namespace F = torch::nn::functional;
namespace {

constexpr double kBnEps = 1e-3;  // Keras' MobileNet value
constexpr float kMean = 128.f, kStd = 128.f;

// Quantization-aware training: weights fake-quantized per output channel,
// symmetric int8 (-127..127, scale max|w| / 127), as ground/export.cc
// quantizes them; gradients pass straight through inside the range.
torch::Tensor FakeQuantWeights(const torch::Tensor& w) {
  const int64_t channels = w.size(0);
  torch::Tensor scale = (w.detach().abs().reshape({channels, -1}).amax(1) / 127.0).clamp_min(1e-8);
  torch::Tensor zero = torch::zeros({channels}, torch::kInt32);
  return torch::fake_quantize_per_channel_affine(w, scale.to(torch::kFloat32), zero, 0, -127, 127);
}

// Conv + BatchNorm + optional ReLU6, with TensorFlow SAME padding.
struct ConvBnImpl : torch::nn::Module {
  ConvBnImpl(const LayerSpec& s) : spec(s) {
    const bool dw = s.kind == LayerKind::kDepthwise;
    auto o = torch::nn::Conv2dOptions(s.in_channels, s.out_channels, s.kernel)
                 .stride(s.stride)
                 .bias(false)
                 .groups(dw ? s.in_channels : 1)
                 .padding(s.stride == 1 ? s.kernel / 2 : 0);
    conv = register_module("conv", torch::nn::Conv2d(o));
    bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(s.out_channels).eps(kBnEps)));
  }
  torch::Tensor forward(torch::Tensor x) {
    if (spec.stride != 1) {
      // SAME for stride 2 on even sizes: total padding kernel - 2, the extra
      // pixel at the bottom/right.
      const int64_t total = spec.kernel - spec.stride;
      x = F::pad(x, F::PadFuncOptions({total / 2, total - total / 2, total / 2, total - total / 2}));
    }
    if (!qat) return torch::clamp(bn(conv(x)), 0.0, 6.0);
    // QAT: fold the (fixed-statistics) BatchNorm into the convolution as the
    // exporter does, fake-quantize the folded weights and the int8 output.
    torch::Tensor inv = bn->weight / torch::sqrt(bn->running_var + kBnEps);
    torch::Tensor w = FakeQuantWeights(conv->weight * inv.reshape({-1, 1, 1, 1}));
    torch::Tensor b = bn->bias - bn->running_mean * inv;
    const bool dw = spec.kind == LayerKind::kDepthwise;
    torch::Tensor y = F::conv2d(x, w, F::Conv2dFuncOptions()
                                          .bias(b)
                                          .stride(spec.stride)
                                          .padding(spec.stride == 1 ? spec.kernel / 2 : 0)
                                          .groups(dw ? spec.in_channels : 1));
    return torch::fake_quantize_per_tensor_affine(torch::clamp(y, 0.0, 6.0), 6.0 / 255.0, -128, -128, 127);
  }
  bool qat = false;
  LayerSpec spec;
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvBn);

struct MobileNetImpl : torch::nn::Module {
  explicit MobileNetImpl(const MobileNetSpec& s) : spec(s) {
    for (const LayerSpec& l : MobileNetV1Layers(s)) layers.push_back(register_module(l.name, ConvBn(l)));
    dropout = register_module("dropout", torch::nn::Dropout(0.2));
    fc = register_module("fc", torch::nn::Linear(FeatureChannels(s), s.num_classes));
  }
  torch::Tensor forward(torch::Tensor x) {  // NCHW normalized -> logits
    for (auto& l : layers) x = l->forward(x);
    x = x.mean({2, 3});
    if (!qat) return fc(dropout(x));
    return F::linear(dropout(x), FakeQuantWeights(fc->weight), fc->bias);
  }
  void SetQat(bool on) {
    qat = on;
    for (auto& l : layers) l->qat = on;
  }
  bool qat = false;
  // Keeps every BatchNorm in inference mode while training (imported
  // weights: running statistics fixed, gamma/beta learnable).
  void SetTraining(bool on, bool frozen_bn) {
    train(on);
    if (on && frozen_bn) {
      for (auto& l : layers) l->bn->eval();
    }
  }
  MobileNetSpec spec;
  bool frozen_bn = false;
  std::vector<ConvBn> layers;
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(MobileNet);

// Archive name of a torch parameter: "conv0.conv.weight" -> "conv0.weight".
std::string ArchiveName(const std::string& torch_name) {
  const std::string marker = ".conv.";
  const size_t at = torch_name.find(marker);
  if (at == std::string::npos) return torch_name;
  return torch_name.substr(0, at) + "." + torch_name.substr(at + marker.size());
}

TensorArchive ToArchive(MobileNet& net) {
  TensorArchive a;
  auto put = [&](const std::string& name, const torch::Tensor& t) {
    torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
    ArchiveTensor at;
    for (int64_t d : c.sizes()) at.shape.push_back(d);
    at.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    a.Put(ArchiveName(name), std::move(at));
  };
  for (const auto& p : net->named_parameters()) put(p.key(), p.value());
  for (const auto& b : net->named_buffers()) {
    if (b.key().find("num_batches_tracked") == std::string::npos) put(b.key(), b.value());
  }
  a.PutString("alpha", std::to_string(net->spec.alpha));
  a.PutString("resolution", std::to_string(net->spec.resolution));
  a.PutString("num_classes", std::to_string(net->spec.num_classes));
  a.PutString("bn_eps", std::to_string(kBnEps));
  if (net->frozen_bn) a.PutString("bn_frozen", "1");
  std::string labels;
  for (const std::string& l : TriageLabels()) labels += l + "\n";
  if (net->spec.num_classes != static_cast<int>(TriageLabels().size())) {
    labels.clear();
    for (int i = 0; i < net->spec.num_classes; ++i) labels += "class" + std::to_string(i) + "\n";
  }
  a.PutString("labels", labels);
  return a;
}

Status FromArchive(const TensorArchive& a, MobileNet& net, bool with_head = true) {
  torch::NoGradGuard guard;
  auto load = [&](const std::string& name, torch::Tensor& t) -> Status {
    if (!with_head && name.rfind("fc.", 0) == 0) return Status::Ok();
    std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
    Result<const ArchiveTensor*> at = a.Get(ArchiveName(name), shape);
    if (!at.ok()) return at.status();
    t.copy_(torch::from_blob(const_cast<float*>((*at)->values.data()), t.sizes(), torch::kFloat32));
    return Status::Ok();
  };
  for (auto& p : net->named_parameters()) TRIAGE_RETURN_IF_ERROR(load(p.key(), p.value()));
  for (auto& b : net->named_buffers()) {
    if (b.key().find("num_batches_tracked") == std::string::npos) TRIAGE_RETURN_IF_ERROR(load(b.key(), b.value()));
  }
  return Status::Ok();
}

struct Split {
  torch::Tensor images;  // uint8 [N, R, R, 3]
  torch::Tensor labels;  // int64 [N]
  std::vector<bool> scored;  // counts toward the validation accuracy (real, confidence h/m)
};

Result<Split> LoadSplit(const std::string& dir, int resolution, bool progress) {
  Result<std::vector<ManifestRow>> rows = ListLabelledFolder(dir);
  if (!rows.ok()) return rows.status();
  const auto& labels = TriageLabels();
  Split s;
  s.images = torch::empty({static_cast<int64_t>(rows->size()), resolution, resolution, 3}, torch::kUInt8);
  s.labels = torch::empty({static_cast<int64_t>(rows->size())}, torch::kInt64);
  Progress bar("load " + fs::path(dir).filename().string(), rows->size(), progress);
  for (size_t i = 0; i < rows->size(); ++i) {
    const ManifestRow& r = (*rows)[i];
    const auto it = std::find(labels.begin(), labels.end(), r.cls);
    if (it == labels.end()) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: %s: unknown class '%s'", dir.c_str(), r.file.c_str(),
                           r.cls.c_str());
    }
    Result<imaging::Image> img = imaging::LoadImageFile((fs::path(dir) / r.file).string());
    if (!img.ok()) return img.status();
    imaging::Image rgb = ToRgb(*img);
    if (rgb.width != resolution || rgb.height != resolution) {
      Result<imaging::Image> sq = ResizeSquare(rgb, resolution);
      if (!sq.ok()) return sq.status();
      rgb = std::move(sq).value();
    }
    std::memcpy(s.images[static_cast<int64_t>(i)].data_ptr<uint8_t>(), rgb.pixels.data(), rgb.pixels.size());
    s.labels[static_cast<int64_t>(i)] = static_cast<int64_t>(it - labels.begin());
    s.scored.push_back(r.origin != "sim" && (r.confidence == "h" || r.confidence == "m"));
    bar.Advance();
  }
  bar.Finish();
  return s;
}

torch::Tensor Normalize(const torch::Tensor& nhwc_u8) {
  // Contiguous NCHW: a channels-last tensor would send the depthwise
  // convolutions down a much slower CPU path.
  return ((nhwc_u8.permute({0, 3, 1, 2}).to(torch::kFloat32) - kMean) / kStd).contiguous();
}

// Random flips and quarter turns per sample (the images are square).
torch::Tensor FlipRotate(torch::Tensor x, torch::Generator& gen) {
  const int64_t n = x.size(0);
  torch::Tensor choice = torch::randint(0, 8, {n}, gen, torch::kInt64);
  std::vector<torch::Tensor> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = choice[i].item<int64_t>();
    torch::Tensor t = x[i];
    if (c & 4) t = t.flip({2});
    if (c & 3) t = t.rot90(c & 3, {1, 2});
    out.push_back(t.contiguous());
  }
  return torch::stack(out);
}

struct Evaluation {
  double loss = 0, accuracy = 0, scored_accuracy = 0;
};

Evaluation Evaluate(MobileNet& net, const Split& split) {
  torch::NoGradGuard guard;
  net->eval();
  if (split.images.size(0) == 0) return Evaluation{};
  Evaluation e;
  const int64_t n = split.images.size(0);
  int64_t correct = 0, scored = 0, scored_correct = 0;
  double loss = 0;
  for (int64_t start = 0; start < n; start += 64) {
    const int64_t end = std::min(n, start + 64);
    torch::Tensor x = Normalize(split.images.slice(0, start, end));
    torch::Tensor y = split.labels.slice(0, start, end);
    torch::Tensor logits = net->forward(x);
    loss += F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
    torch::Tensor pred = logits.argmax(1);
    for (int64_t i = 0; i < end - start; ++i) {
      const bool ok = pred[i].item<int64_t>() == y[i].item<int64_t>();
      correct += ok;
      if (split.scored[start + i]) {
        ++scored;
        scored_correct += ok;
      }
    }
  }
  e.loss = n ? loss / n : 0;
  e.accuracy = n ? static_cast<double>(correct) / n : 0;
  e.scored_accuracy = scored ? static_cast<double>(scored_correct) / scored : e.accuracy;
  return e;
}

}  // namespace

bool TorchAvailable() { return true; }

Result<TrainResult> Train(const TrainOptions& o) {
  TRIAGE_RETURN_IF_ERROR(ValidateSpec(o.spec));
  if (o.spec.num_classes != static_cast<int>(TriageLabels().size())) {
    return Status::Error(StatusCode::kInvalidArgument, "the triage dataset has %zu classes, not %d",
                         TriageLabels().size(), o.spec.num_classes);
  }
  if (o.epochs < 1 || o.batch_size < 2 || o.threads < 1) {
    return Status::Error(StatusCode::kInvalidArgument, "epochs >= 1, batch size >= 2 and threads >= 1 required");
  }
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return Status::Error(StatusCode::kIoError, "%s: cannot create: %s", o.out_dir.c_str(), ec.message().c_str());
  torch::manual_seed(o.seed);
  torch::set_num_threads(o.threads);
  // Denormal gradients late in training slow x86 float maths many times over.
  at::globalContext().setFlushDenormal(true);
  const auto t0 = std::chrono::steady_clock::now();

  Result<Split> train = LoadSplit((fs::path(o.data_dir) / "train").string(), o.spec.resolution, o.progress);
  if (!train.ok()) return train.status();
  Result<Split> val = LoadSplit((fs::path(o.data_dir) / "val").string(), o.spec.resolution, o.progress);
  if (!val.ok()) return val.status();
  std::string data_hash;
  {
    std::ifstream in(fs::path(o.data_dir) / "dataset.json");
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object() && j.contains("sha256") && j["sha256"].is_string()) data_hash = j["sha256"];
  }

  // The initialization is read before the data, so that a bad --init fails at once.
  TensorArchive init;
  bool init_head = false;
  if (!o.init.empty()) {
    Result<TensorArchive> a = LoadInitialization(o.init, o.spec.alpha, o.spec.num_classes, &init_head);
    if (!a.ok()) return a.status();
    init = std::move(a).value();
  }
  std::vector<TrainStage> stages = o.stages;
  if (stages.empty()) stages.push_back({"all", o.epochs, o.learning_rate});
  int total_epochs = 0;
  for (const TrainStage& st : stages) total_epochs += st.epochs;

  MobileNet net(o.spec);
  if (!o.init.empty()) {
    TRIAGE_RETURN_IF_ERROR(FromArchive(init, net, init_head));
    net->frozen_bn = init.GetString("bn_frozen") == "1";
  }

  const int64_t n = train->images.size(0);
  if (n < o.batch_size) {
    return Status::Error(StatusCode::kInvalidArgument, "%s/train: %lld samples, fewer than one batch of %d",
                         o.data_dir.c_str(), static_cast<long long>(n), o.batch_size);
  }
  const int64_t steps_per_epoch = std::max<int64_t>(1, n / o.batch_size);
  const bool have_val = val->images.size(0) > 0;
  torch::Generator gen = at::detail::createCPUGenerator(o.seed);
  std::ofstream history(fs::path(o.out_dir) / "history.csv", std::ios::trunc);
  history << "epoch,stage,train_loss,val_loss,val_accuracy,val_accuracy_hm,seconds\n";

  TrainResult result;
  double best = -1, best_loss = 1e30;
  int since_best = 0;
  int64_t step = 0;
  auto save = [&](const std::string& name, int epoch, const Evaluation& ev) -> Status {
    TensorArchive a = ToArchive(net);
    a.PutString("train.seed", std::to_string(o.seed));
    a.PutString("train.epoch", std::to_string(epoch));
    a.PutString("train.stages", StagesText(stages));
    if (!o.init.empty()) a.PutString("train.init", o.init);
    if (have_val) a.PutString("train.val_accuracy_hm", std::to_string(ev.scored_accuracy));
    a.PutString("train.data_sha256", data_hash);
    a.PutString("train.command", o.command);
#ifdef TRIAGE_GIT_REVISION
    a.PutString("train.code_version", TRIAGE_GIT_REVISION);
#endif
    return a.Save((fs::path(o.out_dir) / name).string());
  };
  // Which layers learn in a stage: the head, the last N separable blocks
  // (2N layers), or all. Frozen layers also keep their BatchNorm statistics.
  auto first_trainable = [&](const TrainStage& st) -> size_t {
    const size_t layers = net->layers.size();
    if (st.layers == "all" || st.layers == "qat") return 0;
    if (st.layers == "head") return layers;
    const size_t blocks = static_cast<size_t>(std::stoi(st.layers.substr(3)));
    return layers - std::min(layers - 1, 2 * blocks);
  };
  bool stopped = false;
  int epoch = 0;
  for (size_t si = 0; si < stages.size() && !stopped; ++si) {
    const TrainStage& st = stages[si];
    const size_t from = first_trainable(st);
    // From a QAT stage on, the network trains and validates quantized, with
    // its BatchNorm statistics fixed (they are folded into the weights).
    if (st.layers == "qat") {
      net->SetQat(true);
      net->frozen_bn = true;
    }
    std::vector<torch::Tensor> decay, no_decay;
    for (size_t l = 0; l < net->layers.size(); ++l) {
      for (auto& p : net->layers[l]->parameters()) {
        p.set_requires_grad(l >= from);
        if (l >= from) (p.dim() > 1 ? decay : no_decay).push_back(p);
      }
    }
    for (auto& p : net->fc->parameters()) (p.dim() > 1 ? decay : no_decay).push_back(p);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(st.learning_rate).weight_decay(o.weight_decay)));
    if (!no_decay.empty()) {
      groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                        torch::optim::AdamWOptions(st.learning_rate).weight_decay(0.0)));
    }
    torch::optim::AdamW opt(std::move(groups));
    const int64_t stage_steps = steps_per_epoch * st.epochs;
    // Warm-up: one epoch for a single-stage run from scratch, else a tenth of the stage.
    const double warm = stages.size() == 1 && o.init.empty() ? static_cast<double>(steps_per_epoch)
                                                             : std::max(1.0, 0.1 * static_cast<double>(stage_steps));
    int64_t stage_step = 0;
    for (int e = 0; e < st.epochs && !stopped; ++e) {
      ++epoch;
      net->SetTraining(true, net->frozen_bn);
      for (size_t l = 0; l < from && l < net->layers.size(); ++l) net->layers[l]->eval();
      torch::Tensor perm = torch::randperm(n, gen, torch::kInt64);
      double loss_sum = 0;
      int64_t batches = 0;
      Progress bar("stage " + std::to_string(si + 1) + " (" + st.layers + ") epoch " + std::to_string(epoch) + "/" +
                       std::to_string(total_epochs),
                   steps_per_epoch, o.progress);
      for (int64_t b = 0; b < steps_per_epoch; ++b) {
        torch::Tensor idx = perm.slice(0, b * o.batch_size, (b + 1) * o.batch_size);
        torch::Tensor x = FlipRotate(Normalize(train->images.index_select(0, idx)), gen);
        torch::Tensor y = train->labels.index_select(0, idx);
        const double lr = stage_step < warm ? st.learning_rate * (stage_step + 1) / warm
                                            : st.learning_rate * 0.5 *
                                                  (1 + std::cos(3.141592653589793 * (stage_step - warm) /
                                                                std::max(1.0, stage_steps - warm)));
        for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
        opt.zero_grad();
        torch::Tensor loss = F::cross_entropy(net->forward(x), y,
                                              F::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing));
        loss.backward();
        opt.step();
        loss_sum += loss.item<double>();
        ++batches;
        ++step;
        ++stage_step;
        char note[48];
        std::snprintf(note, sizeof(note), "loss %.3f", loss_sum / batches);
        bar.Advance(1, note);
        if (o.max_steps > 0 && step >= o.max_steps) break;
      }
      bar.Finish();
      const Evaluation ev = Evaluate(net, *val);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      history << epoch << ',' << st.layers << ',' << loss_sum / std::max<int64_t>(1, batches) << ',' << ev.loss << ','
              << ev.accuracy << ',' << ev.scored_accuracy << ',' << secs << '\n';
      history.flush();
      if (o.progress) {
        if (have_val) {
          std::fprintf(stderr, "epoch %d: train loss %.4f, val loss %.4f, val acc %.4f (h/m %.4f), %.0f s\n", epoch,
                       loss_sum / std::max<int64_t>(1, batches), ev.loss, ev.accuracy, ev.scored_accuracy, secs);
        } else {
          std::fprintf(stderr, "epoch %d: train loss %.4f, %.0f s\n", epoch,
                       loss_sum / std::max<int64_t>(1, batches), secs);
        }
      }
      TRIAGE_RETURN_IF_ERROR(save("last.tckp", epoch, ev));
      result.epochs_run = epoch;
      // Early stopping on the validation split: accuracy on h/m real rows,
      // ties broken by the validation loss. Without validation, or with
      // patience 0 (a fixed schedule), the best checkpoint is the last.
      if (!have_val || o.patience <= 0) {
        TRIAGE_RETURN_IF_ERROR(save("best.tckp", epoch, ev));
        result.best_epoch = epoch;
        result.best_val_accuracy = ev.scored_accuracy;
      } else if (ev.scored_accuracy > best || (ev.scored_accuracy == best && ev.loss < best_loss)) {
        best = ev.scored_accuracy;
        best_loss = ev.loss;
        result.best_epoch = epoch;
        result.best_val_accuracy = best;
        since_best = 0;
        TRIAGE_RETURN_IF_ERROR(save("best.tckp", epoch, ev));
      } else if (++since_best >= o.patience && epoch >= total_epochs / 2) {
        // Not before half the schedule: with a high learning rate the
        // validation accuracy of a small set is noisy, and the cosine tail is
        // where most of the accuracy comes.
        if (o.progress) std::fprintf(stderr, "early stop: no improvement for %d epochs\n", o.patience);
        stopped = true;
      }
      if (o.max_steps > 0 && step >= o.max_steps) stopped = true;
    }
  }
  result.last_checkpoint = (fs::path(o.out_dir) / "last.tckp").string();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.best_checkpoint = (fs::path(o.out_dir) / "best.tckp").string();
  return result;
}

Result<std::vector<std::vector<float>>> TorchPredict(const TensorArchive& checkpoint,
                                                     const std::vector<std::vector<float>>& inputs) {
  MobileNetSpec spec;
  spec.alpha = std::stof(checkpoint.GetString("alpha", "0.25"));
  spec.resolution = std::stoi(checkpoint.GetString("resolution", "128"));
  spec.num_classes = std::stoi(checkpoint.GetString("num_classes", "5"));
  TRIAGE_RETURN_IF_ERROR(ValidateSpec(spec));
  MobileNet net(spec);
  TRIAGE_RETURN_IF_ERROR(FromArchive(checkpoint, net));
  net->eval();
  torch::NoGradGuard guard;
  std::vector<std::vector<float>> out;
  const int64_t r = spec.resolution;
  for (const std::vector<float>& in : inputs) {
    if (static_cast<int64_t>(in.size()) != r * r * 3) {
      return Status::Error(StatusCode::kInvalidArgument, "input has %zu values, expected %lld", in.size(),
                           static_cast<long long>(r * r * 3));
    }
    torch::Tensor x = torch::from_blob(const_cast<float*>(in.data()), {1, r, r, 3}, torch::kFloat32)
                          .permute({0, 3, 1, 2})
                          .contiguous();
    torch::Tensor p = torch::softmax(net->forward(x), 1).contiguous();
    out.emplace_back(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  }
  return out;
}

}  // namespace triage::ground
