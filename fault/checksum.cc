#include "fault/checksum.h"

#include <openssl/sha.h>
#include <zlib.h>

#include <climits>

namespace triage::fault {

uint32_t Crc32(Span<const uint8_t> bytes, uint32_t crc) noexcept {
  const uint8_t* p = bytes.data();
  size_t left = bytes.size();
  uLong c = crc;
  // zlib takes a uInt length; feed very large spans in pieces.
  while (left > 0) {
    const size_t n = left < (size_t{1} << 30) ? left : (size_t{1} << 30);
    c = ::crc32(c, p, static_cast<uInt>(n));
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(c);
}

Sha256Digest Sha256(Span<const uint8_t> bytes) noexcept {
  Sha256Digest d;
  ::SHA256(bytes.data(), bytes.size(), d.bytes.data());
  return d;
}

void FormatSha256Hex(const Sha256Digest& digest, char out[65]) noexcept {
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < digest.bytes.size(); ++i) {
    out[2 * i] = kHex[digest.bytes[i] >> 4];
    out[2 * i + 1] = kHex[digest.bytes[i] & 0xf];
  }
  out[64] = '\0';
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool ParseSha256Hex(const char* text, size_t length, Sha256Digest* digest) noexcept {
  if (text == nullptr || length < 64) return false;
  if (length > 64 && !(text[64] == ' ' || text[64] == '\t' || text[64] == '\n' || text[64] == '\r')) return false;
  Sha256Digest d;
  for (size_t i = 0; i < 32; ++i) {
    const int hi = HexValue(text[2 * i]);
    const int lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    d.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  *digest = d;
  return true;
}

}  // namespace triage::fault
