// libFuzzer target: checkpoint archives and CSV manifests are parsed from
// untrusted files; neither parser may crash or over-allocate.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ground/dataset.h"
#include "ground/tensor_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::vector<uint8_t> bytes(data + 1, data + size);
  if (data[0] & 1) {
    (void)triage::ground::TensorArchive::Parse(bytes, "fuzz");
  } else {
    (void)triage::ground::ParseManifest(std::string(bytes.begin(), bytes.end()), "fuzz");
  }
  return 0;
}
