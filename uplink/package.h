// The uplink package: one signed, compressed container for a model or a
// mission config sent to the spacecraft (docs/UPLINK.md, byte by byte).
//
//   header (88 B) | zlib stream of (payload, golden section) | Ed25519 signature (64 B)
//
// The signature covers every byte before it. Verification runs, in this
// order, and stops at the first failure with a specific Rejection and a
// message naming the field: structure (sizes add up, magic, version, kind),
// key (the key id is one of the trusted public keys), signature, mission,
// sequence (strictly above the last one accepted for that kind), declared
// size (at most the configured bound: a zip bomb is refused before any byte
// is inflated), inflation into the caller's buffer (never past the declared
// size), SHA-256 of the inflated payload. Model and config semantics (the
// interpreter's verifier and golden vectors, config validation) are the
// caller's next steps.
//
// Phase: VerifyPackage allocates nothing (the payload goes into a span the
// caller reserved at init; zlib's inflate state uses zlib's allocator,
// a 32 KiB window plus about 7 KiB, freed before return). No exceptions. BuildPackage and key
// generation are ground-side and allocate. libsodium and zlib stay private.
#ifndef TRIAGE_UPLINK_PACKAGE_H_
#define TRIAGE_UPLINK_PACKAGE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"

namespace triage::uplink {

constexpr uint8_t kMagic[4] = {'T', 'R', 'U', 'P'};
constexpr uint8_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 88;
constexpr size_t kSignatureBytes = 64;
constexpr size_t kMissionBytes = 16;
constexpr size_t kKeyIdBytes = 8;

enum class PackageKind : uint8_t { kModel = 1, kConfig = 2 };
const char* PackageKindName(PackageKind kind);

struct PublicKey {
  std::array<uint8_t, 32> bytes{};
};
struct SecretKey {
  std::array<uint8_t, 64> bytes{};  // libsodium's seed || public key
};
using KeyId = std::array<uint8_t, kKeyIdBytes>;

// First 8 bytes of SHA-256 of the public key.
KeyId KeyIdOf(const PublicKey& key) noexcept;
// Must be called once before anything below (idempotent; sodium_init).
Status InitCrypto() noexcept;
Status GenerateKeyPair(PublicKey* pub, SecretKey* secret) noexcept;
// Lower-case hex of bytes, and its inverse (key files, config keys): the
// text must be exactly 2 x out.size() hex digits, whitespace allowed.
std::string FormatHex(Span<const uint8_t> bytes);
Status ParseHex(const char* text, size_t length, Span<uint8_t> out) noexcept;
// A deterministic key pair from a 32-byte seed (tests, fuzzing).
Status KeyPairFromSeed(const uint8_t seed[32], PublicKey* pub, SecretKey* secret) noexcept;

struct PackageHeader {
  PackageKind kind = PackageKind::kModel;
  uint8_t format_version = kFormatVersion;
  uint64_t sequence = 0;
  char mission[kMissionBytes + 1] = {};  // NUL-terminated
  uint32_t payload_bytes = 0;            // uncompressed
  uint32_t compressed_bytes = 0;
  uint32_t golden_bytes = 0;            // uncompressed, after the payload in the stream
  std::array<uint8_t, 32> payload_sha256{};
  KeyId key_id{};
};

// A package's parts, pointing into the caller's bytes.
struct PackageView {
  PackageHeader header;
  Span<const uint8_t> compressed;
  Span<const uint8_t> signed_bytes;  // everything the signature covers
  Span<const uint8_t> signature;
};

enum class Rejection : uint8_t {
  kNone = 0,
  kMalformed,        // structure: magic, version, kind, sizes, reserved bytes
  kUnknownKey,       // the key id is not a trusted key
  kBadSignature,
  kWrongMission,
  kWrongKind,
  kStale,            // sequence not above the last accepted
  kTooLarge,         // declared or actual inflated size past the bound
  kBadCompression,   // the zlib stream is corrupt or does not end where declared
  kHashMismatch,
};
const char* RejectionName(Rejection r);

// Structure only (no cryptography): kMalformed on any inconsistency.
Result<PackageView> ParsePackage(Span<const uint8_t> bytes) noexcept;

struct VerifyOptions {
  Span<const PublicKey> trusted;
  const char* mission = "";
  PackageKind kind = PackageKind::kModel;
  uint64_t last_sequence = 0;          // accepted if sequence > this
  size_t max_payload_bytes = 4u << 20; // zip-bomb bound
};

struct VerifyResult {
  Rejection rejection = Rejection::kNone;
  PackageHeader header;
  size_t payload_bytes = 0;  // inflated into the caller's span
  Span<const uint8_t> golden;  // inflated right after the payload, in the same span
};

// Verifies and inflates payload and golden section into `payload`
// (capacity >= max_payload_bytes is enough; the bound covers both). The Status names what failed and where; *result says which check.
Status VerifyPackage(Span<const uint8_t> bytes, const VerifyOptions& options, Span<uint8_t> payload,
                     VerifyResult* result) noexcept;

struct BuildInput {
  PackageKind kind = PackageKind::kModel;
  uint64_t sequence = 1;
  std::string mission;
  Span<const uint8_t> payload;
  Span<const uint8_t> golden;  // models: golden.h section; configs: empty
  int zlib_level = 9;
};
// Ground side. Signs with `secret`.
Result<std::vector<uint8_t>> BuildPackage(const BuildInput& input, const SecretKey& secret);
// Rewrites the key id and signature of a package in place (the header
// edited by hand: tests of hostile input with a valid signature).
Status SignPackage(Span<uint8_t> package, const SecretKey& secret) noexcept;

}  // namespace triage::uplink

#endif  // TRIAGE_UPLINK_PACKAGE_H_
