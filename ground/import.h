// Import of a pretrained TensorFlow Lite MobileNet v1 into a training
// checkpoint (transfer learning, `triage-ground train --init MODEL.tflite`).
//
// The source may be float32, uint8 (TF1 quantization-aware) or int8
// (per-channel) .tflite; it is read through our own verified Model, so a
// hostile file is rejected like any other model. Every filter and bias is
// dequantized into the layer of the same place in MobileNetV1Layers().
//
// BatchNorm: the source arrives with BatchNorm already folded into each
// convolution. An imported layer therefore gets an identity BatchNorm that
// carries the folded bias: gamma 1, beta = bias, running mean 0, running
// variance 1 - eps, so that the normalisation is x + bias exactly as in the
// source. The checkpoint is marked "bn_frozen" = "1": the trainer keeps
// BatchNorm in inference mode (running statistics fixed, gamma and beta
// learnable), since batch statistics would replace the imported function at
// the first step.
//
// The classifier: the source's 1x1 "Logits" convolution becomes fc.weight
// and fc.bias when `keep_head` is set (num_classes = the source's classes,
// e.g. 1001 for ImageNet); otherwise the checkpoint holds the backbone only
// and the trainer adds a new head.
// Ground-side code: allocates freely.
#ifndef TRIAGE_GROUND_IMPORT_H_
#define TRIAGE_GROUND_IMPORT_H_

#include <string>
#include <vector>

#include "core/result.h"
#include "ground/mobilenet.h"
#include "ground/tensor_archive.h"

namespace triage::ground {

struct ImportedModel {
  MobileNetSpec spec;         // alpha from the channel counts; the source's resolution and classes
  TensorArchive checkpoint;   // our parameter names (export.h), identity BatchNorm
  int source_classes = 0;
};

// `what` names the source in errors. Errors say which operator or tensor does
// not fit MobileNet v1 and what was expected.
Result<ImportedModel> ImportMobileNetV1(const std::vector<uint8_t>& tflite, const std::string& what, bool keep_head);
Result<ImportedModel> ImportMobileNetV1File(const std::string& path, bool keep_head);

// An initialization for training, from either a pretrained MobileNet v1
// .tflite or one of our own checkpoints (.tckp, e.g. to retrain on newly
// downlinked frames). The width must be `alpha`; a different class count
// drops the head. Sets *has_head when fc.* fits `num_classes`.
Result<TensorArchive> LoadInitialization(const std::string& path, float alpha, int num_classes, bool* has_head);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_IMPORT_H_
