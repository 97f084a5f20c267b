// Fuzz target for the flight JPEG path: header scan, libjpeg-turbo header
// and scaled decode, and the thumbnailer, on arbitrary bytes. Any crash,
// sanitizer report or hang is a bug; an error Status is the expected outcome
// for almost every input.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "imaging/jpeg_codec.h"
#include "imaging/thumbnail.h"

namespace {

using triage::Span;
using namespace triage::imaging;

// Small limits keep each execution fast; the code paths are the flight ones.
constexpr int kMaxSide = 1024;

struct Harness {
  Harness()
      : decoder(std::move(JpegDecoder::Create(kMaxSide, kMaxSide).value())),
        thumbnailer(std::move(Thumbnailer::Create(Config()).value())),
        rgb(static_cast<size_t>(kMaxSide) * kMaxSide * 3),
        thumb(thumbnailer.output_bytes()) {}
  static ThumbnailConfig Config() {
    ThumbnailConfig c;
    c.width = 61;
    c.height = 51;
    c.max_source_width = kMaxSide;
    c.max_source_height = kMaxSide;
    return c;
  }
  JpegDecoder decoder;
  Thumbnailer thumbnailer;
  std::vector<uint8_t> rgb;
  std::vector<uint8_t> thumb;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness h;
  const Span<const uint8_t> bytes(data, size);
  (void)ParseJpegFrameHeader(bytes);
  triage::Result<JpegHeader> header = h.decoder.ReadHeader(bytes);
  if (header.ok()) {
    // The first byte past the header picks the scale, so all four are reached.
    const int denom = 1 << (size > 0 ? data[size - 1] % 4 : 0);
    int w = 0, hgt = 0;
    (void)h.decoder.Decode(bytes, JpegScale{1, denom}, Span<uint8_t>(h.rgb),
                           JpegScale{1, denom}.Apply(header->width) * 3, &w, &hgt);
  }
  (void)h.thumbnailer.RunJpeg(bytes, Span<uint8_t>(h.thumb));
  return 0;
}
