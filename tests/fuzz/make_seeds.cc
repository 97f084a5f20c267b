// Writes the synthetic models of tests/support/tiny_models as fuzz seeds.
// Usage: make_fuzz_seeds <dir>. The seeds are checked in under
// tests/fuzz/corpus/model; rerun this only when the tiny models change.
#include <cstdio>
#include <string>

#include "tests/support/tiny_models.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output dir>\n", argv[0]);
    return 2;
  }
  for (const auto& m : triage::testing::AllTinyModels()) {
    const std::string path = std::string(argv[1]) + "/" + m.name + ".tflite";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(m.bytes.data(), 1, m.bytes.size(), f) != m.bytes.size()) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
    std::fclose(f);
  }
  return 0;
}
