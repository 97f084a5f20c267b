// The uplink package: round trip, golden bytes of the header layout, and the
// hostile-input table of docs/UPLINK.md (every flipped byte, every
// truncation, a wrong key, a stale sequence, a wrong mission or kind, a zip
// bomb declared or hidden), each refused with its specific reason.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "inference/op_resolver.h"
#include "uplink/golden.h"
#include "uplink/package.h"

namespace triage::uplink {
namespace {

struct Keys {
  PublicKey pub;
  SecretKey secret;
};

Keys KeysFromSeed(uint8_t s) {
  Keys k;
  uint8_t seed[32] = {};
  seed[0] = s;
  EXPECT_TRUE(KeyPairFromSeed(seed, &k.pub, &k.secret).ok());
  return k;
}

std::vector<uint8_t> Payload(size_t n) {
  std::vector<uint8_t> p(n);
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    p[i] = static_cast<uint8_t>((x >> 16) % 7);  // compressible, not trivial
  }
  return p;
}

std::vector<uint8_t> Build(const Keys& k, uint64_t seq, const std::vector<uint8_t>& payload,
                           PackageKind kind = PackageKind::kModel, const std::string& mission = "opssat-1",
                           std::vector<uint8_t> golden = {1, 2, 3, 4}) {
  BuildInput in;
  in.kind = kind;
  in.sequence = seq;
  in.mission = mission;
  in.payload = Span<const uint8_t>(payload.data(), payload.size());
  if (kind == PackageKind::kConfig) golden.clear();
  in.golden = Span<const uint8_t>(golden.data(), golden.size());
  Result<std::vector<uint8_t>> pkg = BuildPackage(in, k.secret);
  EXPECT_TRUE(pkg.ok()) << pkg.status().message();
  return pkg.ok() ? *pkg : std::vector<uint8_t>();
}

struct Verdict {
  Status status;
  VerifyResult result;
  std::vector<uint8_t> payload;
};

Verdict Verify(const std::vector<uint8_t>& pkg, const Keys& trusted, uint64_t last = 0,
               size_t bound = 1 << 20, PackageKind kind = PackageKind::kModel) {
  Verdict v;
  v.payload.assign(bound, 0);
  VerifyOptions o;
  o.trusted = Span<const PublicKey>(&trusted.pub, 1);
  o.mission = "opssat-1";
  o.kind = kind;
  o.last_sequence = last;
  o.max_payload_bytes = bound;
  v.status = VerifyPackage(Span<const uint8_t>(pkg.data(), pkg.size()), o,
                           Span<uint8_t>(v.payload.data(), v.payload.size()), &v.result);
  return v;
}

TEST(UplinkPackage, RoundTripsAndLaysTheHeaderOutAsDocumented) {
  const Keys k = KeysFromSeed(1);
  const std::vector<uint8_t> payload = Payload(5000);
  const std::vector<uint8_t> pkg = Build(k, 42, payload);
  ASSERT_GT(pkg.size(), kHeaderBytes + kSignatureBytes);
  EXPECT_EQ(std::memcmp(pkg.data(), "TRUP", 4), 0);
  EXPECT_EQ(pkg[4], 1);   // format version
  EXPECT_EQ(pkg[5], 1);   // kind: model
  EXPECT_EQ(pkg[8], 42);  // sequence, little-endian
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(pkg.data() + 16)), "opssat-1");
  EXPECT_EQ(pkg[32] | pkg[33] << 8, 5000);  // payload bytes
  const KeyId id = KeyIdOf(k.pub);
  EXPECT_EQ(std::memcmp(pkg.data() + 80, id.data(), 8), 0);

  Verdict v = Verify(pkg, k);
  ASSERT_TRUE(v.status.ok()) << v.status.message();
  EXPECT_EQ(v.result.rejection, Rejection::kNone);
  ASSERT_EQ(v.result.payload_bytes, payload.size());
  EXPECT_EQ(std::memcmp(v.payload.data(), payload.data(), payload.size()), 0);
  ASSERT_EQ(v.result.golden.size(), 4u);
  EXPECT_EQ(v.result.golden[3], 4);
  EXPECT_EQ(v.result.header.sequence, 42u);
  // Deterministic: the same input and key give the same bytes (Ed25519 is).
  EXPECT_EQ(Build(k, 42, payload), pkg);
}

TEST(UplinkPackage, EveryFlippedByteIsRefused) {
  const Keys k = KeysFromSeed(1);
  const std::vector<uint8_t> pkg = Build(k, 3, Payload(700));
  for (size_t i = 0; i < pkg.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      std::vector<uint8_t> bad = pkg;
      bad[i] ^= mask;
      Verdict v = Verify(bad, k);
      ASSERT_FALSE(v.status.ok()) << "flip at " << i;
      ASSERT_NE(v.result.rejection, Rejection::kNone);
      // Header fields that the parser checks give kMalformed; the key id an
      // unknown key; everything else a bad signature, before any inflation.
      if (i >= 80 && i < 88) {
        EXPECT_EQ(v.result.rejection, Rejection::kUnknownKey) << i;
      }
      if (i >= kHeaderBytes) {
        EXPECT_EQ(v.result.rejection, Rejection::kBadSignature) << i;
      }
    }
  }
}

TEST(UplinkPackage, EveryTruncationIsRefusedAsMalformed) {
  const Keys k = KeysFromSeed(1);
  const std::vector<uint8_t> pkg = Build(k, 3, Payload(300));
  for (size_t n = 0; n < pkg.size(); ++n) {
    std::vector<uint8_t> cut(pkg.begin(), pkg.begin() + static_cast<long>(n));
    Verdict v = Verify(cut, k);
    ASSERT_FALSE(v.status.ok()) << n;
    EXPECT_EQ(v.result.rejection, Rejection::kMalformed) << n << ": " << v.status.message();
  }
  std::vector<uint8_t> longer = pkg;
  longer.push_back(0);
  EXPECT_EQ(Verify(longer, k).result.rejection, Rejection::kMalformed);
}

TEST(UplinkPackage, WrongKeyStaleSequenceWrongMissionAndKindAreRefused) {
  const Keys k = KeysFromSeed(1), other = KeysFromSeed(2);
  const std::vector<uint8_t> payload = Payload(400);
  Verdict v = Verify(Build(other, 5, payload), k);
  EXPECT_EQ(v.result.rejection, Rejection::kUnknownKey) << v.status.message();
  EXPECT_NE(std::string(v.status.message()).find("not trusted"), std::string::npos);

  // Signed by the other key but claiming ours: signature check fails.
  std::vector<uint8_t> forged = Build(other, 5, payload);
  const KeyId id = KeyIdOf(k.pub);
  std::memcpy(forged.data() + 80, id.data(), 8);
  EXPECT_EQ(Verify(forged, k).result.rejection, Rejection::kBadSignature);

  EXPECT_EQ(Verify(Build(k, 5, payload), k, /*last=*/5).result.rejection, Rejection::kStale);
  EXPECT_EQ(Verify(Build(k, 4, payload), k, /*last=*/5).result.rejection, Rejection::kStale);
  EXPECT_TRUE(Verify(Build(k, 6, payload), k, /*last=*/5).status.ok());
  v = Verify(Build(k, 6, payload), k, 7);
  EXPECT_NE(std::string(v.status.message()).find("replay"), std::string::npos) << v.status.message();

  EXPECT_EQ(Verify(Build(k, 6, payload, PackageKind::kModel, "other-sat"), k).result.rejection,
            Rejection::kWrongMission);
  EXPECT_EQ(Verify(Build(k, 6, payload, PackageKind::kConfig), k).result.rejection, Rejection::kWrongKind);
  EXPECT_TRUE(Verify(Build(k, 6, payload, PackageKind::kConfig), k, 0, 1 << 20, PackageKind::kConfig).status.ok());
}

TEST(UplinkPackage, ZipBombIsRefusedBeforeItInflatesPastTheBound) {
  const Keys k = KeysFromSeed(1);
  // 8 MiB of zeros: a few KiB compressed, declared honestly: refused on the
  // declaration alone, nothing inflated.
  const std::vector<uint8_t> zeros(8u << 20, 0);
  const std::vector<uint8_t> bomb = Build(k, 9, zeros);
  EXPECT_LT(bomb.size(), 9000u);  // 8,319 B: a ratio over 1000
  Verdict v = Verify(bomb, k, 0, /*bound=*/1 << 20);
  EXPECT_EQ(v.result.rejection, Rejection::kTooLarge);
  EXPECT_NE(std::string(v.status.message()).find("nothing inflated"), std::string::npos) << v.status.message();

  // The same stream, signed, but declaring 1000 bytes: inflation stops at
  // 1000 bytes and the package is refused.
  std::vector<uint8_t> liar = bomb;
  liar[32] = 1000 & 0xFF;
  liar[33] = 1000 >> 8;
  liar[34] = liar[35] = 0;
  ASSERT_TRUE(SignPackage(Span<uint8_t>(liar.data(), liar.size()), k.secret).ok());
  v = Verify(liar, k, 0, 1 << 20);
  EXPECT_EQ(v.result.rejection, Rejection::kTooLarge) << v.status.message();
  for (size_t i = 1000; i < 4096; ++i) ASSERT_EQ(v.payload[i], 0) << "wrote past the declared size at " << i;
}

TEST(UplinkPackage, SignedButCorruptStreamOrHashIsRefused) {
  const Keys k = KeysFromSeed(1);
  const std::vector<uint8_t> payload = Payload(2000);
  std::vector<uint8_t> pkg = Build(k, 2, payload);
  // Corrupt the zlib stream and re-sign: the signature passes, inflation fails.
  std::vector<uint8_t> bad = pkg;
  bad[kHeaderBytes + 10] ^= 0xFF;
  ASSERT_TRUE(SignPackage(Span<uint8_t>(bad.data(), bad.size()), k.secret).ok());
  Verdict v = Verify(bad, k);
  EXPECT_TRUE(v.result.rejection == Rejection::kBadCompression || v.result.rejection == Rejection::kHashMismatch)
      << RejectionName(v.result.rejection);
  // Change the recorded hash and re-sign.
  bad = pkg;
  bad[48] ^= 1;
  ASSERT_TRUE(SignPackage(Span<uint8_t>(bad.data(), bad.size()), k.secret).ok());
  EXPECT_EQ(Verify(bad, k).result.rejection, Rejection::kHashMismatch);
  // Declared larger than the stream gives.
  bad = pkg;
  bad[32] = static_cast<uint8_t>(bad[32] + 1);
  ASSERT_TRUE(SignPackage(Span<uint8_t>(bad.data(), bad.size()), k.secret).ok());
  EXPECT_EQ(Verify(bad, k).result.rejection, Rejection::kBadCompression);
}

}  // namespace
}  // namespace triage::uplink

namespace triage::uplink {
namespace {

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::vector<uint8_t> out;
  if (f == nullptr) return out;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return out;
}

// Golden vectors of the shipped model, computed with the reference kernels;
// checked with the optimized ones (2 threads) they match byte for byte, and
// one changed output byte (what another rounding gives) is refused.
TEST(GoldenVectors, MatchAcrossKernelSetsAndRefuseOneChangedByte) {
  const std::vector<uint8_t> file = ReadAll(std::string(TRIAGE_SOURCE_DIR) + "/models/triage_int8.tflite");
  ASSERT_FALSE(file.empty());
  inference::AlignedBuffer model(file.size());
  std::memcpy(model.data(), file.data(), file.size());
  Result<inference::Model> m = inference::Model::Create(model.span());
  ASSERT_TRUE(m.ok());
  inference::OpResolver resolver;
  ASSERT_TRUE(inference::AddAllBuiltinOps(resolver).ok());
  inference::Interpreter ref(*m, resolver);
  ASSERT_TRUE(ref.PrepareAndAllocate().ok());
  std::vector<GoldenPair> pairs;
  for (int v = 0; v < 2; ++v) {
    const inference::TensorView in = ref.input(0);
    for (size_t i = 0; i < in.bytes; ++i) in.data[i] = static_cast<uint8_t>((i * 31 + v * 7) % 251);
    ASSERT_TRUE(ref.Invoke().ok());
    const inference::TensorView out = ref.output(0);
    pairs.push_back({std::vector<uint8_t>(in.data, in.data + in.bytes), std::vector<uint8_t>(out.data, out.data + out.bytes)});
  }
  const std::vector<uint8_t> golden = EncodeGolden(pairs);
  inference::InterpreterOptions opt;
  opt.kernel_set = kernels::KernelSet::kOptimized;
  opt.threads = 2;
  Result<size_t> ok = CheckGoldenVectors(model.span(), Span<const uint8_t>(golden.data(), golden.size()), opt);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok.value(), 2u);

  std::vector<uint8_t> off = golden;
  off[off.size() - 2] = static_cast<uint8_t>(off[off.size() - 2] + 1);  // vector 1, output byte 3 of 5
  Result<size_t> bad = CheckGoldenVectors(model.span(), Span<const uint8_t>(off.data(), off.size()), opt);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("golden vector 1: output byte 3"), std::string::npos)
      << bad.status().message();
  // Truncated, wrong input size, no section at all.
  std::vector<uint8_t> cut(golden.begin(), golden.end() - 1);
  EXPECT_FALSE(CheckGoldenVectors(model.span(), Span<const uint8_t>(cut.data(), cut.size()), opt).ok());
  EXPECT_FALSE(CheckGoldenVectors(model.span(), Span<const uint8_t>(), opt).ok());
  std::vector<GoldenPair> small = {{std::vector<uint8_t>(10), std::vector<uint8_t>(5)}};
  const std::vector<uint8_t> wrong = EncodeGolden(small);
  Result<size_t> w = CheckGoldenVectors(model.span(), Span<const uint8_t>(wrong.data(), wrong.size()), opt);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(std::string(w.status().message()).find("input"), std::string::npos);
}

}  // namespace
}  // namespace triage::uplink

namespace triage::uplink {
namespace {

TEST(UplinkHex, RoundTripsAndRefusesWrongLengthOrDigits) {
  const uint8_t bytes[4] = {0x00, 0xab, 0x10, 0xff};
  const std::string hex = FormatHex(Span<const uint8_t>(bytes, 4));
  EXPECT_EQ(hex, "00ab10ff");
  uint8_t back[4] = {};
  ASSERT_TRUE(ParseHex(hex.data(), hex.size(), Span<uint8_t>(back, 4)).ok());
  EXPECT_EQ(std::memcmp(back, bytes, 4), 0);
  const std::string spaced = "00 AB 10 ff";
  EXPECT_TRUE(ParseHex(spaced.data(), spaced.size(), Span<uint8_t>(back, 4)).ok());
  EXPECT_FALSE(ParseHex("00ab10", 6, Span<uint8_t>(back, 4)).ok());
  EXPECT_FALSE(ParseHex("00ab10ff00", 10, Span<uint8_t>(back, 4)).ok());
  EXPECT_FALSE(ParseHex("00ab10fg", 8, Span<uint8_t>(back, 4)).ok());
}

}  // namespace
}  // namespace triage::uplink
