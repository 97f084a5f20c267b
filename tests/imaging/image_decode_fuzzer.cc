// Fuzz target for image files as DirectoryCamera and the tools read them:
// format sniffing, then the PNG (libpng), BMP (ours) or JPEG decoder on
// arbitrary bytes. Any crash, sanitizer report, leak or hang is a bug; an
// error Status is the expected outcome for almost every input.
#include <cstddef>
#include <cstdint>

#include "imaging/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  triage::Result<triage::imaging::Image> image =
      triage::imaging::DecodeImage(triage::Span<const uint8_t>(data, size), "fuzz input");
  if (image.ok()) {
    // A decoded image must be exactly as large as it says.
    if (image->pixels.size() != image->size_bytes() || image->width <= 0 || image->height <= 0 ||
        (image->channels != 1 && image->channels != 3)) {
      __builtin_trap();
    }
  }
  return 0;
}
