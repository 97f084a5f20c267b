// Checksums used by downlink/: CRC-32 (zlib's, the ISO-HDLC / PNG polynomial)
// for records and packets, SHA-256 (OpenSSL libcrypto) for whole products.
//
// This is the only file that sees zlib and OpenSSL headers; swapping either
// library means changing checksum.cc alone.
//
// Crc32: pure, thread safe, no allocation.
// Sha256: create one per owner at init (Init allocates the OpenSSL context);
// Update/Final are flight-safe and reuse it. Not thread safe per object.
#ifndef TRIAGE_DOWNLINK_CHECKSUM_H_
#define TRIAGE_DOWNLINK_CHECKSUM_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/span.h"
#include "core/status.h"

namespace triage::downlink {

using Digest256 = std::array<uint8_t, 32>;

// CRC-32 of bytes, continuing from crc (start with 0).
uint32_t Crc32(Span<const uint8_t> bytes, uint32_t crc = 0) noexcept;

class Sha256 {
 public:
  Sha256() = default;
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Allocates the digest context. Init-only. Idempotent.
  Status Init() noexcept;
  // Begins a new digest; the context is reused, not reallocated.
  Status Reset() noexcept;
  Status Update(Span<const uint8_t> bytes) noexcept;
  Status Final(Digest256* out) noexcept;

  // One-shot helper (allocates a context per call: ground/test use).
  static Status Of(Span<const uint8_t> bytes, Digest256* out) noexcept;

 private:
  void* ctx_ = nullptr;  // EVP_MD_CTX*, kept opaque so OpenSSL stays private.
  void* md_ = nullptr;   // EVP_MD*, fetched once at Init
};

}  // namespace triage::downlink

#endif  // TRIAGE_DOWNLINK_CHECKSUM_H_
