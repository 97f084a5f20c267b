#include "uplink/package.h"

#include <sodium.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>

#include "uplink/le_bytes.h"

namespace triage::uplink {
namespace {

// Header layout (little-endian), docs/UPLINK.md.
constexpr size_t kOffVersion = 4, kOffKind = 5, kOffReserved0 = 6, kOffSequence = 8, kOffMission = 16,
                 kOffPayload = 32, kOffCompressed = 36, kOffGolden = 40, kOffReserved1 = 44, kOffSha = 48,
                 kOffKeyId = 80;
static_assert(kOffKeyId + kKeyIdBytes == kHeaderBytes, "header layout");

Status Reject(VerifyResult* r, Rejection why, StatusCode code, const char* text) {
  r->rejection = why;
  return Status::Error(code, "uplink package: %s: %s", RejectionName(why), text);
}

}  // namespace

const char* PackageKindName(PackageKind kind) {
  switch (kind) {
    case PackageKind::kModel: return "model";
    case PackageKind::kConfig: return "config";
  }
  return "unknown";
}

const char* RejectionName(Rejection r) {
  switch (r) {
    case Rejection::kNone: return "accepted";
    case Rejection::kMalformed: return "malformed";
    case Rejection::kUnknownKey: return "unknown key";
    case Rejection::kBadSignature: return "bad signature";
    case Rejection::kWrongMission: return "wrong mission";
    case Rejection::kWrongKind: return "wrong kind";
    case Rejection::kStale: return "stale sequence";
    case Rejection::kTooLarge: return "too large";
    case Rejection::kBadCompression: return "bad compression";
    case Rejection::kHashMismatch: return "hash mismatch";
  }
  return "unknown";
}

Status InitCrypto() noexcept {
  if (sodium_init() < 0) return Status::Error(StatusCode::kInternal, "libsodium failed to initialise");
  return Status::Ok();
}

KeyId KeyIdOf(const PublicKey& key) noexcept {
  uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, key.bytes.data(), key.bytes.size());
  KeyId id{};
  std::memcpy(id.data(), digest, id.size());
  return id;
}

Status GenerateKeyPair(PublicKey* pub, SecretKey* secret) noexcept {
  TRIAGE_RETURN_IF_ERROR(InitCrypto());
  if (crypto_sign_keypair(pub->bytes.data(), secret->bytes.data()) != 0) {
    return Status::Error(StatusCode::kInternal, "key generation failed");
  }
  return Status::Ok();
}

std::string FormatHex(Span<const uint8_t> bytes) {
  std::string out(2 * bytes.size() + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

Status ParseHex(const char* text, size_t length, Span<uint8_t> out) noexcept {
  size_t written = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), text, length, " \t\r\n", &written, &end) != 0 ||
      written != out.size() || end != text + length) {
    return Status::Error(StatusCode::kInvalidArgument, "expected %zu hex digits", 2 * out.size());
  }
  return Status::Ok();
}

Status KeyPairFromSeed(const uint8_t seed[32], PublicKey* pub, SecretKey* secret) noexcept {
  TRIAGE_RETURN_IF_ERROR(InitCrypto());
  if (crypto_sign_seed_keypair(pub->bytes.data(), secret->bytes.data(), seed) != 0) {
    return Status::Error(StatusCode::kInternal, "key derivation failed");
  }
  return Status::Ok();
}

Status SignPackage(Span<uint8_t> package, const SecretKey& secret) noexcept {
  TRIAGE_RETURN_IF_ERROR(InitCrypto());
  if (package.size() < kHeaderBytes + kSignatureBytes) {
    return Status::Error(StatusCode::kInvalidArgument, "package too short to sign");
  }
  PublicKey pub;
  std::memcpy(pub.bytes.data(), secret.bytes.data() + 32, 32);  // libsodium: seed || public key
  const KeyId id = KeyIdOf(pub);
  std::memcpy(package.data() + kOffKeyId, id.data(), id.size());
  const size_t signed_len = package.size() - kSignatureBytes;
  if (crypto_sign_detached(package.data() + signed_len, nullptr, package.data(), signed_len, secret.bytes.data()) != 0) {
    return Status::Error(StatusCode::kInternal, "signing failed");
  }
  return Status::Ok();
}

Result<PackageView> ParsePackage(Span<const uint8_t> bytes) noexcept {
  const size_t n = bytes.size();
  if (n < kHeaderBytes + kSignatureBytes) {
    return Status::Error(StatusCode::kDataLoss, "uplink package: %zu bytes, shorter than header + signature (%zu)", n,
                         kHeaderBytes + kSignatureBytes);
  }
  const uint8_t* p = bytes.data();
  if (std::memcmp(p, kMagic, sizeof(kMagic)) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "uplink package: bad magic at offset 0 (not TRUP)");
  }
  PackageView v;
  PackageHeader& h = v.header;
  h.format_version = p[kOffVersion];
  if (h.format_version != kFormatVersion) {
    return Status::Error(StatusCode::kUnsupported, "uplink package: format version %u at offset 4 (we read %u)",
                         h.format_version, kFormatVersion);
  }
  const uint8_t kind = p[kOffKind];
  if (kind != static_cast<uint8_t>(PackageKind::kModel) && kind != static_cast<uint8_t>(PackageKind::kConfig)) {
    return Status::Error(StatusCode::kInvalidArgument, "uplink package: kind %u at offset 5 is neither model (1) nor config (2)",
                         kind);
  }
  h.kind = static_cast<PackageKind>(kind);
  if (p[kOffReserved0] != 0 || p[kOffReserved0 + 1] != 0 || GetLe32(p + kOffReserved1) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "uplink package: reserved header bytes (offsets 6-7, 44-47) not zero");
  }
  h.sequence = GetLe64(p + kOffSequence);
  std::memcpy(h.mission, p + kOffMission, kMissionBytes);
  h.mission[kMissionBytes] = '\0';
  const size_t mission_len = std::strlen(h.mission);
  if (mission_len == 0) return Status::Error(StatusCode::kInvalidArgument, "uplink package: empty mission at offset 16");
  for (size_t i = mission_len; i < kMissionBytes; ++i) {
    if (p[kOffMission + i] != 0) {
      return Status::Error(StatusCode::kInvalidArgument, "uplink package: mission at offset 16 not NUL-padded");
    }
  }
  h.payload_bytes = GetLe32(p + kOffPayload);
  h.compressed_bytes = GetLe32(p + kOffCompressed);
  h.golden_bytes = GetLe32(p + kOffGolden);
  std::memcpy(h.payload_sha256.data(), p + kOffSha, 32);
  std::memcpy(h.key_id.data(), p + kOffKeyId, kKeyIdBytes);
  const uint64_t expected = static_cast<uint64_t>(kHeaderBytes) + h.compressed_bytes + kSignatureBytes;
  if (expected != n) {
    return Status::Error(StatusCode::kDataLoss,
                         "uplink package: %zu bytes but the header (compressed %u at offset 36) says %llu", n,
                         h.compressed_bytes, static_cast<unsigned long long>(expected));
  }
  if (h.kind == PackageKind::kConfig && h.golden_bytes != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "uplink package: a config package has %u golden bytes",
                         h.golden_bytes);
  }
  v.compressed = bytes.subspan(kHeaderBytes, h.compressed_bytes);
  v.signed_bytes = bytes.subspan(0, n - kSignatureBytes);
  v.signature = bytes.subspan(n - kSignatureBytes, kSignatureBytes);
  return v;
}

Status VerifyPackage(Span<const uint8_t> bytes, const VerifyOptions& o, Span<uint8_t> payload,
                     VerifyResult* r) noexcept {
  *r = VerifyResult{};
  Result<PackageView> parsed = ParsePackage(bytes);
  if (!parsed.ok()) {
    r->rejection = Rejection::kMalformed;
    return parsed.status();
  }
  const PackageView& v = parsed.value();
  r->header = v.header;
  TRIAGE_RETURN_IF_ERROR(InitCrypto());
  // 1. Signature, by the key the header names.
  const PublicKey* key = nullptr;
  for (const PublicKey& k : o.trusted) {
    if (KeyIdOf(k) == v.header.key_id) key = &k;
  }
  if (key == nullptr) {
    char hex[2 * kKeyIdBytes + 1];
    for (size_t i = 0; i < kKeyIdBytes; ++i) std::snprintf(hex + 2 * i, 3, "%02x", v.header.key_id[i]);
    r->rejection = Rejection::kUnknownKey;
    return Status::Error(StatusCode::kInvalidArgument, "uplink package: unknown key: key id %s (offset 80) is not trusted",
                         hex);
  }
  if (crypto_sign_verify_detached(v.signature.data(), v.signed_bytes.data(), v.signed_bytes.size(),
                                  key->bytes.data()) != 0) {
    return Reject(r, Rejection::kBadSignature, StatusCode::kInvalidArgument,
                  "the Ed25519 signature (last 64 bytes) does not match the package");
  }
  // 2. Mission, kind and sequence (signed, so now trustworthy).
  if (std::strcmp(v.header.mission, o.mission) != 0) {
    r->rejection = Rejection::kWrongMission;
    return Status::Error(StatusCode::kInvalidArgument, "uplink package: wrong mission: for \"%s\", this is \"%s\"",
                         v.header.mission, o.mission);
  }
  if (v.header.kind != o.kind) {
    r->rejection = Rejection::kWrongKind;
    return Status::Error(StatusCode::kInvalidArgument, "uplink package: wrong kind: a %s package where a %s was expected",
                         PackageKindName(v.header.kind), PackageKindName(o.kind));
  }
  if (v.header.sequence <= o.last_sequence) {
    r->rejection = Rejection::kStale;
    return Status::Error(StatusCode::kInvalidArgument,
                         "uplink package: stale sequence: %llu is not above the last accepted %llu (a replay?)",
                         static_cast<unsigned long long>(v.header.sequence),
                         static_cast<unsigned long long>(o.last_sequence));
  }
  // 3. Size bound before inflating, then inflate no further than declared
  // (payload and golden section are one stream).
  const uint64_t declared = static_cast<uint64_t>(v.header.payload_bytes) + v.header.golden_bytes;
  const size_t bound = o.max_payload_bytes < payload.size() ? o.max_payload_bytes : payload.size();
  if (declared > bound) {
    r->rejection = Rejection::kTooLarge;
    return Status::Error(StatusCode::kResourceExhausted,
                         "uplink package: too large: declares %llu inflated bytes (payload %u + golden %u), the bound "
                         "is %zu (nothing inflated)",
                         static_cast<unsigned long long>(declared), v.header.payload_bytes, v.header.golden_bytes, bound);
  }
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return Status::Error(StatusCode::kResourceExhausted, "uplink package: zlib init failed");
  z.next_in = const_cast<Bytef*>(v.compressed.data());
  z.avail_in = static_cast<uInt>(v.compressed.size());
  z.next_out = payload.data();
  z.avail_out = static_cast<uInt>(declared);
  int rc = inflate(&z, Z_FINISH);
  uint8_t probe = 0;
  if ((rc == Z_BUF_ERROR || rc == Z_OK) && z.avail_out == 0) {
    // Output full but the stream goes on: one more byte proves it is larger than declared.
    z.next_out = &probe;
    z.avail_out = 1;
    rc = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    if (rc == Z_STREAM_END || z.avail_out == 0) {
      return Reject(r, Rejection::kTooLarge, StatusCode::kResourceExhausted,
                    "the payload inflates past its declared size (stopped there)");
    }
    return Reject(r, Rejection::kBadCompression, StatusCode::kDataLoss, "the zlib stream is corrupt");
  }
  const size_t produced = static_cast<size_t>(declared) - z.avail_out;
  const uInt left_in = z.avail_in;
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return Reject(r, Rejection::kBadCompression, StatusCode::kDataLoss, "the zlib stream is corrupt or truncated");
  }
  if (produced != declared || left_in != 0) {
    return Reject(r, Rejection::kBadCompression, StatusCode::kDataLoss,
                  "the zlib stream's size does not match the header");
  }
  // 4. Hash of what was inflated.
  uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, payload.data(), v.header.payload_bytes);
  if (std::memcmp(digest, v.header.payload_sha256.data(), sizeof(digest)) != 0) {
    return Reject(r, Rejection::kHashMismatch, StatusCode::kDataLoss,
                  "SHA-256 of the inflated payload differs from the header's (offset 48)");
  }
  r->payload_bytes = v.header.payload_bytes;
  r->golden = Span<const uint8_t>(payload.data() + v.header.payload_bytes, v.header.golden_bytes);
  return Status::Ok();
}

Result<std::vector<uint8_t>> BuildPackage(const BuildInput& in, const SecretKey& secret) {
  TRIAGE_RETURN_IF_ERROR(InitCrypto());
  if (in.mission.empty() || in.mission.size() > kMissionBytes) {
    return Status::Error(StatusCode::kInvalidArgument, "mission name must be 1..%zu characters", kMissionBytes);
  }
  if (in.payload.size() > UINT32_MAX || in.golden.size() > UINT32_MAX) {
    return Status::Error(StatusCode::kOutOfRange, "payload too large for a package");
  }
  if (in.kind == PackageKind::kConfig && !in.golden.empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "a config package carries no golden vectors");
  }
  std::vector<uint8_t> plain(in.payload.begin(), in.payload.end());
  plain.insert(plain.end(), in.golden.begin(), in.golden.end());
  uLongf zbytes = compressBound(plain.size());
  std::vector<uint8_t> z(zbytes);
  if (compress2(z.data(), &zbytes, plain.data(), plain.size(), in.zlib_level) != Z_OK) {
    return Status::Error(StatusCode::kInternal, "zlib compression failed");
  }
  z.resize(zbytes);
  std::vector<uint8_t> out(kHeaderBytes + z.size() + kSignatureBytes, 0);
  uint8_t* p = out.data();
  std::memcpy(p, kMagic, sizeof(kMagic));
  p[kOffVersion] = kFormatVersion;
  p[kOffKind] = static_cast<uint8_t>(in.kind);
  PutLe64(p + kOffSequence, in.sequence);
  std::memcpy(p + kOffMission, in.mission.data(), in.mission.size());
  PutLe32(p + kOffPayload, static_cast<uint32_t>(in.payload.size()));
  PutLe32(p + kOffCompressed, static_cast<uint32_t>(z.size()));
  PutLe32(p + kOffGolden, static_cast<uint32_t>(in.golden.size()));
  crypto_hash_sha256(p + kOffSha, in.payload.data(), in.payload.size());
  std::memcpy(p + kHeaderBytes, z.data(), z.size());
  TRIAGE_RETURN_IF_ERROR(SignPackage(Span<uint8_t>(out.data(), out.size()), secret));
  return out;
}

}  // namespace triage::uplink
