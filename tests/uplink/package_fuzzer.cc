// Fuzzes the flight-side package parser and verifier on untrusted bytes.
// The trusted key is fixed (a seeded key pair), so inputs derived from the
// corpus's validly signed packages reach the checks after the signature.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "uplink/package.h"

using namespace triage::uplink;  // NOLINT: fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static PublicKey pub;
  static bool ready = [] {
    if (!InitCrypto().ok()) return false;
    SecretKey secret;
    const uint8_t seed[32] = {7};
    return KeyPairFromSeed(seed, &pub, &secret).ok();
  }();
  if (!ready) __builtin_trap();
  triage::Span<const uint8_t> input(data, size);
  triage::Result<PackageView> view = ParsePackage(input);
  if (view.ok()) {
    const PackageView& v = view.value();
    if (v.compressed.size() + kHeaderBytes + kSignatureBytes != size) __builtin_trap();
  }
  static std::vector<uint8_t> payload(1 << 16);
  for (PackageKind kind : {PackageKind::kModel, PackageKind::kConfig}) {
    VerifyOptions o;
    o.trusted = triage::Span<const PublicKey>(&pub, 1);
    o.mission = "fuzz";
    o.kind = kind;
    o.max_payload_bytes = payload.size();
    VerifyResult r;
    triage::Status s = VerifyPackage(input, o, triage::Span<uint8_t>(payload.data(), payload.size()), &r);
    if (s.ok() != (r.rejection == Rejection::kNone)) __builtin_trap();
    if (s.ok() && r.payload_bytes + r.golden.size() > o.max_payload_bytes) __builtin_trap();
  }
  return 0;
}
