// Fuzzes the ground toolchain's parsers of untrusted files: checkpoints
// (TensorArchive), CSV manifests, pretrained .tflite imports (on top of the
// model verifier), out-of-fold prediction files and fine-tuning schedules.
// The first byte selects the parser (low two bits) and, for imports, whether
// the classifier is kept (bit 2); the rest is the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ground/cv.h"
#include "ground/dataset.h"
#include "ground/import.h"
#include "ground/tensor_archive.h"
#include "ground/trainer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::vector<uint8_t> bytes(data + 1, data + size);
  const std::string text(bytes.begin(), bytes.end());
  switch (data[0] & 3) {
    case 0: (void)triage::ground::ParseManifest(text, "fuzz"); break;
    case 1: (void)triage::ground::TensorArchive::Parse(bytes, "fuzz"); break;
    case 2: (void)triage::ground::ImportMobileNetV1(bytes, "fuzz", (data[0] & 4) != 0); break;
    default:
      if (data[0] & 4) {
        (void)triage::ground::ParseStages(text);
      } else {
        (void)triage::ground::ParseOof(text, "fuzz");
      }
  }
  return 0;
}
