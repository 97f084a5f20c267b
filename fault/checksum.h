// Checksums for the fault layer: CRC32 (zlib's polynomial, as in PNG and
// gzip) for scrubbing, SHA-256 for verifying a model image before it is
// trusted again. Adapters over zlib and OpenSSL, which stay private to fault/.
//
// Flight-safe: no allocation through operator new, no exceptions. (OpenSSL's
// one-shot SHA256() uses only stack state.) Thread safe.
#ifndef TRIAGE_FAULT_CHECKSUM_H_
#define TRIAGE_FAULT_CHECKSUM_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/span.h"

namespace triage::fault {

// CRC32 of bytes, continuing from crc (0 to start). Crc32(a+b) ==
// Crc32(b, Crc32(a)).
uint32_t Crc32(Span<const uint8_t> bytes, uint32_t crc = 0) noexcept;

struct Sha256Digest {
  std::array<uint8_t, 32> bytes{};
  bool operator==(const Sha256Digest& o) const { return bytes == o.bytes; }
  bool operator!=(const Sha256Digest& o) const { return bytes != o.bytes; }
};

Sha256Digest Sha256(Span<const uint8_t> bytes) noexcept;
// Lower-case hex into out[65] (NUL-terminated).
void FormatSha256Hex(const Sha256Digest& digest, char out[65]) noexcept;
// Parses 64 hex digits (either case), optionally followed by whitespace and
// anything else (the `sha256sum` line format). False on anything shorter or
// on a non-hex digit.
bool ParseSha256Hex(const char* text, size_t length, Sha256Digest* digest) noexcept;

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_CHECKSUM_H_
