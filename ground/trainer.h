// Training of the triage MobileNet v1 with libtorch (C++), from a dataset
// built by `triage-ground dataset`. Only this file pair sees libtorch; the
// checkpoint it writes (ground/tensor_archive.h) is read by export and
// quantize without it. When the build has no libtorch, TorchAvailable() is
// false and Train() returns kUnsupported.
//
// Determinism: fixed seeds for initialization, shuffling and augmentation;
// the same command on the same machine and thread count gives the same
// checkpoint.
#ifndef TRIAGE_GROUND_TRAINER_H_
#define TRIAGE_GROUND_TRAINER_H_

#include <string>
#include <vector>

#include "core/result.h"
#include "ground/mobilenet.h"
#include "ground/tensor_archive.h"

namespace triage::ground {

bool TorchAvailable();

// One fine-tuning stage: which layers learn, for how many epochs, at what
// peak learning rate (one short warm-up, then cosine decay to zero within
// the stage). `layers` is "head" (the classifier only), "topN" (the last N
// of the 13 separable blocks and the head), "all", or "qat": all layers,
// quantization-aware (each convolution trains through its folded weights
// fake-quantized as the exporter quantizes them, per-channel symmetric
// int8, and its ReLU6 output fake-quantized to int8 over [0, 6]; the
// classifier's weights likewise; BatchNorm statistics fixed).
struct TrainStage {
  std::string layers = "all";
  int epochs = 1;
  float learning_rate = 2e-3f;
};

// Parses "head:2:3e-3,top6:3:1e-3,all:6:3e-4"; errors name the bad item.
Result<std::vector<TrainStage>> ParseStages(const std::string& text);
std::string StagesText(const std::vector<TrainStage>& stages);

struct TrainOptions {
  MobileNetSpec spec;
  // Initialization: a pretrained MobileNet v1 .tflite of the same width, or
  // one of our checkpoints (ground/import.h); "" = random.
  std::string init;
  // Staged fine-tuning; empty = one "all" stage of `epochs` at `learning_rate`.
  std::vector<TrainStage> stages;
  std::string data_dir;      // dataset root (train/, val/)
  std::string out_dir;       // checkpoints: last.tckp, best.tckp, history.csv
  int epochs = 40;
  int batch_size = 32;
  float learning_rate = 2e-3f;   // AdamW, cosine decay after one warm-up epoch
  float weight_decay = 1e-4f;
  float label_smoothing = 0.05f;
  int patience = 10;         // early stopping: epochs without validation improvement,
                             // counted once half of the epochs have run; 0 = never
                             // (cross-validation: the held-out fold must not pick the epoch)
  int max_steps = 0;         // > 0: stop after this many optimizer steps (smoke runs)
  int threads = 2;
  uint64_t seed = 1;
  bool progress = true;
  std::string command;       // recorded in the checkpoint
};

struct TrainResult {
  std::string last_checkpoint;
  int epochs_run = 0;
  int best_epoch = 0;
  double best_val_accuracy = 0;  // on real validation rows of confidence h/m
  double seconds = 0;
  std::string best_checkpoint;
};

Result<TrainResult> Train(const TrainOptions& options);

// Runs a checkpoint in libtorch (eval mode) on normalized NHWC inputs and
// returns its softmax outputs: the reference the exported model is checked
// against.
Result<std::vector<std::vector<float>>> TorchPredict(const TensorArchive& checkpoint,
                                                     const std::vector<std::vector<float>>& inputs);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_TRAINER_H_
