// kernels/kernel_table.h: every entry of every set is filled, and every set
// produces byte-identical results to the reference set on random inputs.
//
// This is the harness future optimized kernels must pass: it is written over
// all KernelSet values and over sizes below, at and above common tile sizes
// (1, 3, 4, 5, 7, 8, 9, 15, 16, 17), with raw inputs spanning the whole type
// range (extreme values, saturation) and all fused activations.
#include "kernels/kernel_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/optimized/ukernels.h"
#include "kernels/parallel.h"
#include "tests/kernels/kernel_test_util.h"
#include "tests/kernels/op_runner.h"

namespace triage::kernels {
namespace {

using testing::QuantSpec;
using testing::Rng;

const int kTileSizes[] = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17};
const KernelSet kAllSets[] = {KernelSet::kReference, KernelSet::kOptimized};

const KernelTable& Ref() { return GetKernelTable(KernelSet::kReference); }

Activation PickAct(Rng& rng) {
  return rng.Pick({Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1});
}

// Entries by name, so a missing one is reported by name.
std::vector<std::pair<const char*, const void*>> Entries(const KernelTable& t) {
  return {
      {"conv_float", reinterpret_cast<const void*>(t.conv_float)},
      {"conv_uint8", reinterpret_cast<const void*>(t.conv_uint8)},
      {"conv_int8", reinterpret_cast<const void*>(t.conv_int8)},
      {"depthwise_float", reinterpret_cast<const void*>(t.depthwise_float)},
      {"depthwise_uint8", reinterpret_cast<const void*>(t.depthwise_uint8)},
      {"depthwise_int8", reinterpret_cast<const void*>(t.depthwise_int8)},
      {"fully_connected_float", reinterpret_cast<const void*>(t.fully_connected_float)},
      {"fully_connected_uint8", reinterpret_cast<const void*>(t.fully_connected_uint8)},
      {"fully_connected_int8", reinterpret_cast<const void*>(t.fully_connected_int8)},
      {"average_pool_float", reinterpret_cast<const void*>(t.average_pool_float)},
      {"average_pool_uint8", reinterpret_cast<const void*>(t.average_pool_uint8)},
      {"average_pool_int8", reinterpret_cast<const void*>(t.average_pool_int8)},
      {"max_pool_float", reinterpret_cast<const void*>(t.max_pool_float)},
      {"max_pool_uint8", reinterpret_cast<const void*>(t.max_pool_uint8)},
      {"max_pool_int8", reinterpret_cast<const void*>(t.max_pool_int8)},
      {"add_float", reinterpret_cast<const void*>(t.add_float)},
      {"add_uint8", reinterpret_cast<const void*>(t.add_uint8)},
      {"add_int8", reinterpret_cast<const void*>(t.add_int8)},
      {"mul_float", reinterpret_cast<const void*>(t.mul_float)},
      {"mul_uint8", reinterpret_cast<const void*>(t.mul_uint8)},
      {"mul_int8", reinterpret_cast<const void*>(t.mul_int8)},
      {"softmax_float", reinterpret_cast<const void*>(t.softmax_float)},
      {"softmax_uint8", reinterpret_cast<const void*>(t.softmax_uint8)},
      {"softmax_int8", reinterpret_cast<const void*>(t.softmax_int8)},
  };
}

TEST(KernelTable, EveryEntryOfEverySetIsNonNull) {
  for (KernelSet set : kAllSets) {
    const auto entries = Entries(GetKernelTable(set));
    // Every pointer but the name and the micro-kernel table is a kernel.
    EXPECT_EQ(entries.size(), sizeof(KernelTable) / sizeof(void*) - 2) << "update Entries() for new table fields";
    for (const auto& e : entries) EXPECT_NE(e.second, nullptr) << KernelSetName(set) << "." << e.first;
  }
}

TEST(KernelTable, NamesIdentifyTheSetAndTablesAreStable) {
  EXPECT_STREQ(KernelSetName(KernelSet::kReference), "reference");
  EXPECT_STREQ(KernelSetName(KernelSet::kOptimized), "optimized");
  EXPECT_STREQ(GetKernelTable(KernelSet::kReference).name, "reference");
  EXPECT_STREQ(GetKernelTable(KernelSet::kOptimized).name, "optimized");
  EXPECT_EQ(&GetKernelTable(KernelSet::kReference), &GetKernelTable(KernelSet::kReference));
}

TEST(KernelTable, ReferenceSetPointsAtTheReferenceKernels) {
  const KernelTable& t = Ref();
  EXPECT_EQ(t.conv_float, &reference::ConvFloat);
  EXPECT_EQ(t.conv_uint8, &reference::ConvUint8);
  EXPECT_EQ(t.conv_int8, &reference::ConvInt8PerChannel);
  EXPECT_EQ(t.depthwise_float, &reference::DepthwiseConvFloat);
  EXPECT_EQ(t.depthwise_uint8, &reference::DepthwiseConvUint8);
  EXPECT_EQ(t.depthwise_int8, &reference::DepthwiseConvInt8PerChannel);
  EXPECT_EQ(t.fully_connected_float, &reference::FullyConnectedFloat);
  EXPECT_EQ(t.fully_connected_uint8, &reference::FullyConnectedUint8);
  EXPECT_EQ(t.fully_connected_int8, &reference::FullyConnectedInt8);
  EXPECT_EQ(t.average_pool_float, &reference::AveragePoolFloat);
  EXPECT_EQ(t.average_pool_uint8, &reference::AveragePoolQuantized<uint8_t>);
  EXPECT_EQ(t.average_pool_int8, &reference::AveragePoolQuantized<int8_t>);
  EXPECT_EQ(t.max_pool_float, &reference::MaxPoolFloat);
  EXPECT_EQ(t.max_pool_uint8, &reference::MaxPoolQuantized<uint8_t>);
  EXPECT_EQ(t.max_pool_int8, &reference::MaxPoolQuantized<int8_t>);
  EXPECT_EQ(t.add_float, &reference::AddFloat);
  EXPECT_EQ(t.add_uint8, &reference::AddQuantized<uint8_t>);
  EXPECT_EQ(t.add_int8, &reference::AddQuantized<int8_t>);
  EXPECT_EQ(t.mul_float, &reference::MulFloat);
  EXPECT_EQ(t.mul_uint8, &reference::MulQuantized<uint8_t>);
  EXPECT_EQ(t.mul_int8, &reference::MulQuantized<int8_t>);
  EXPECT_EQ(t.softmax_float, &reference::SoftmaxFloat);
  EXPECT_EQ(t.softmax_uint8, &reference::SoftmaxQuantized<uint8_t>);
  EXPECT_EQ(t.softmax_int8, &reference::SoftmaxQuantized<int8_t>);
}

// --- Optimized (every non-reference set) vs reference, byte for byte ----------------
//
// Each Compare* returns "" when `set` matches the reference byte for byte, or
// a description of the first difference, so the harness itself can be tested
// against a deliberately broken table (HarnessDetects* below).

template <typename T>
std::string Diff(const char* set_name, const std::vector<T>& ref, const std::vector<T>& got, const std::string& what) {
  if (ref.size() != got.size()) return std::string(set_name) + ": size differs: " + what;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::memcmp(&ref[i], &got[i], sizeof(T)) != 0) {
      return std::string(set_name) + " differs from reference at element " + std::to_string(i) + " of " +
             std::to_string(ref.size()) + " (" + std::to_string(static_cast<double>(ref[i])) + " vs " +
             std::to_string(static_cast<double>(got[i])) + "): " + what;
    }
  }
  return "";
}

#define TRIAGE_RETURN_IF_DIFF(expr)   \
  do {                                \
    std::string d_ = (expr);          \
    if (!d_.empty()) return d_;       \
  } while (0)

testing::ConvSpec ConvAround(Rng& rng, bool depthwise, int channels) {
  testing::ConvSpec s;
  s.depthwise = depthwise;
  s.batches = rng.Int(1, 2);
  s.in_h = rng.Pick({1, 3, 4, 5, 8, 9});
  s.in_w = kTileSizes[rng.Int(0, 9)];
  if (depthwise) {
    s.in_d = channels;
    s.depth_multiplier = rng.Pick({1, 1, 2});
  } else {
    s.in_d = kTileSizes[rng.Int(0, 9)];
    s.out_d = channels;
    if (rng.Int(0, 4) == 0 && channels % 2 == 0 && s.in_d % 2 == 0) s.groups = 2;
  }
  s.f_h = rng.Int(1, 3);
  s.f_w = rng.Int(1, 3);
  s.stride_h = s.stride_w = rng.Int(1, 2);
  s.dilation_h = s.dilation_w = rng.Int(1, 2);
  s.padding = rng.Bool() ? Padding::kSame : Padding::kValid;
  if (testing::OutSize(s.padding, s.in_h, s.f_h, s.stride_h, s.dilation_h) < 1 ||
      testing::OutSize(s.padding, s.in_w, s.f_w, s.stride_w, s.dilation_w) < 1)
    s.padding = Padding::kSame;
  s.act = PickAct(rng);
  s.has_bias = rng.Int(0, 3) != 0;
  return s;
}

std::string CompareConv(const KernelTable& set, bool depthwise, uint32_t seed) {
  Rng rng(seed);
  for (int channels : kTileSizes) {
    for (int rep = 0; rep < 3; ++rep) {
      const testing::ConvSpec s = ConvAround(rng, depthwise, channels);
      const testing::ConvData d = testing::RandomConvData(rng, s);
      TRIAGE_RETURN_IF_DIFF(
          Diff(set.name, testing::RunConvFloat(Ref(), s, d), testing::RunConvFloat(set, s, d), "float " + s.ToString()));
      auto q8 = testing::QuantizeConv<uint8_t>(s, d);
      q8.input = rng.Ints<uint8_t>(q8.input.size());  // whole range, saturating outputs
      TRIAGE_RETURN_IF_DIFF(Diff(set.name, q8.Run(Ref()), q8.Run(set), "uint8 " + s.ToString()));
      auto qi8 = testing::QuantizeConv<int8_t>(s, d);
      qi8.input = rng.Ints<int8_t>(qi8.input.size());
      TRIAGE_RETURN_IF_DIFF(Diff(set.name, qi8.Run(Ref()), qi8.Run(set), "int8 " + s.ToString()));
    }
  }
  return "";
}

std::string CompareFullyConnected(const KernelTable& set, uint32_t seed) {
  Rng rng(seed);
  for (int out_d : kTileSizes) {
    for (int depth : kTileSizes) {
      testing::FcSpec s;
      s.batches = rng.Pick({1, 2, 3, 4});
      s.accum_depth = depth * rng.Pick({1, 1, 4});
      s.output_depth = out_d;
      s.act = PickAct(rng);
      s.has_bias = rng.Bool();
      const auto d = testing::RandomFcData(rng, s);
      TRIAGE_RETURN_IF_DIFF(
          Diff(set.name, testing::RunFcFloat(Ref(), s, d), testing::RunFcFloat(set, s, d), "float " + s.ToString()));
      auto q8 = testing::QuantizeFc<uint8_t>(s, d);
      q8.input = rng.Ints<uint8_t>(q8.input.size());
      TRIAGE_RETURN_IF_DIFF(Diff(set.name, q8.Run(Ref()), q8.Run(set), "uint8 " + s.ToString()));
      auto qi8 = testing::QuantizeFc<int8_t>(s, d, rng.Bool());
      qi8.input = rng.Ints<int8_t>(qi8.input.size());
      TRIAGE_RETURN_IF_DIFF(Diff(set.name, qi8.Run(Ref()), qi8.Run(set), "int8 " + s.ToString()));
    }
  }
  return "";
}

std::string ComparePooling(const KernelTable& set, uint32_t seed) {
  Rng rng(seed);
  for (bool max : {false, true}) {
    for (int depth : kTileSizes) {
      for (int rep = 0; rep < 3; ++rep) {
        testing::PoolSpec s;
        s.max = max;
        s.batches = rng.Int(1, 2);
        s.in_h = rng.Pick({1, 3, 4, 5, 8, 9});
        s.in_w = kTileSizes[rng.Int(0, 9)];
        s.depth = depth;
        s.f_h = rng.Int(1, 3);
        s.f_w = rng.Int(1, 3);
        s.stride_h = rng.Int(1, 2);
        s.stride_w = rng.Int(1, 2);
        s.padding = rng.Bool() ? Padding::kSame : Padding::kValid;
        if (testing::OutSize(s.padding, s.in_h, s.f_h, s.stride_h, 1) < 1 ||
            testing::OutSize(s.padding, s.in_w, s.f_w, s.stride_w, 1) < 1)
          s.padding = Padding::kSame;
        s.act = PickAct(rng);
        const size_t n = static_cast<size_t>(testing::GeometryOf(s).input.FlatSize());
        const auto f = rng.Floats(n, -8.0f, 8.0f);
        TRIAGE_RETURN_IF_DIFF(Diff(set.name, testing::RunPoolFloat(Ref(), s, f), testing::RunPoolFloat(set, s, f),
                                   "float " + s.ToString()));
        const QuantSpec qu{rng.Pick({0.01f, 0.1f, 1.0f}), rng.Pick({0, 255, rng.Int(0, 255)})};
        const auto u = rng.Ints<uint8_t>(n);
        TRIAGE_RETURN_IF_DIFF(Diff(set.name, testing::RunPoolQuantized<uint8_t>(Ref(), s, qu, u),
                                   testing::RunPoolQuantized<uint8_t>(set, s, qu, u), "uint8 " + s.ToString()));
        const QuantSpec qs{rng.Pick({0.01f, 0.1f, 1.0f}), rng.Pick({-128, 127, rng.Int(-128, 127)})};
        const auto i = rng.Ints<int8_t>(n);
        TRIAGE_RETURN_IF_DIFF(Diff(set.name, testing::RunPoolQuantized<int8_t>(Ref(), s, qs, i),
                                   testing::RunPoolQuantized<int8_t>(set, s, qs, i), "int8 " + s.ToString()));
      }
    }
  }
  return "";
}

std::string CompareAddMul(const KernelTable& set, uint32_t seed) {
  Rng rng(seed);
  for (bool mul : {false, true}) {
    for (int inner : kTileSizes) {
      for (int rep = 0; rep < 3; ++rep) {
        // Broadcast patterns around the innermost (vectorized) dimension.
        const int outer = rng.Pick({1, 2, 3});
        const int mid = rng.Pick({1, 4, 5});
        Shape s1 = MakeShape({outer, mid, inner});
        Shape s2;
        switch (rep) {
          case 0: s2 = MakeShape({outer, mid, inner}); break;  // same shape
          case 1: s2 = MakeShape({inner}); break;              // trailing vector
          default: s2 = MakeShape({mid, 1}); break;            // inner broadcast
        }
        if (rng.Bool()) std::swap(s1, s2);
        testing::BinarySpec spec{mul, s1, s2, testing::BroadcastShape(s1, s2), PickAct(rng)};
        const auto fa = rng.Floats(static_cast<size_t>(s1.FlatSize()), -4.0f, 4.0f);
        const auto fb = rng.Floats(static_cast<size_t>(s2.FlatSize()), -4.0f, 4.0f);
        TRIAGE_RETURN_IF_DIFF(Diff(set.name, testing::RunBinaryFloat(Ref(), spec, fa, fb),
                                   testing::RunBinaryFloat(set, spec, fa, fb), "float " + spec.ToString()));
        const QuantSpec u1{rng.Pick({0.02f, 0.1f}), rng.Pick({0, 255, 128})};
        const QuantSpec u2{rng.Pick({0.02f, 0.1f}), rng.Pick({0, 255, 100})};
        const QuantSpec uo{rng.Pick({0.05f, 0.2f}), rng.Pick({0, 255, 128})};
        const auto ua = rng.Ints<uint8_t>(static_cast<size_t>(s1.FlatSize()));
        const auto ub = rng.Ints<uint8_t>(static_cast<size_t>(s2.FlatSize()));
        TRIAGE_RETURN_IF_DIFF(Diff(set.name, testing::RunBinaryQuantized<uint8_t>(Ref(), spec, u1, ua, u2, ub, uo),
                                   testing::RunBinaryQuantized<uint8_t>(set, spec, u1, ua, u2, ub, uo),
                                   "uint8 " + spec.ToString()));
        const QuantSpec s1q{rng.Pick({0.02f, 0.1f}), rng.Pick({-128, 127, 0})};
        const QuantSpec s2q{rng.Pick({0.02f, 0.1f}), rng.Pick({-128, 127, 3})};
        const QuantSpec soq{rng.Pick({0.05f, 0.2f}), rng.Pick({-128, 127, 0})};
        const auto ia = rng.Ints<int8_t>(static_cast<size_t>(s1.FlatSize()));
        const auto ib = rng.Ints<int8_t>(static_cast<size_t>(s2.FlatSize()));
        TRIAGE_RETURN_IF_DIFF(Diff(set.name, testing::RunBinaryQuantized<int8_t>(Ref(), spec, s1q, ia, s2q, ib, soq),
                                   testing::RunBinaryQuantized<int8_t>(set, spec, s1q, ia, s2q, ib, soq),
                                   "int8 " + spec.ToString()));
      }
    }
  }
  return "";
}

std::string CompareSoftmax(const KernelTable& set, uint32_t seed) {
  Rng rng(seed);
  for (int depth : kTileSizes) {
    for (int rep = 0; rep < 4; ++rep) {
      const int outer = rng.Pick({1, 2, 3, 5});
      const int d = depth * (rep == 3 ? 16 : 1);
      const float scale = rng.Pick({0.01f, 0.1f, 0.5f});
      const SoftmaxParams p = testing::MakeSoftmaxParams(rng.Pick({0.5f, 1.0f, 2.0f}), scale, outer, d);
      const size_t n = static_cast<size_t>(outer * d);
      const std::string what = "depth " + std::to_string(d) + " outer " + std::to_string(outer);
      const auto f = rng.Floats(n, -10.0f, 10.0f);
      std::vector<float> fr(n), fo(n);
      Ref().softmax_float(p, f.data(), fr.data());
      set.softmax_float(p, f.data(), fo.data());
      TRIAGE_RETURN_IF_DIFF(Diff(set.name, fr, fo, "float " + what));
      const auto u = rng.Ints<uint8_t>(n);
      std::vector<uint8_t> ur(n), uo(n);
      Ref().softmax_uint8(p, u.data(), ur.data());
      set.softmax_uint8(p, u.data(), uo.data());
      TRIAGE_RETURN_IF_DIFF(Diff(set.name, ur, uo, "uint8 " + what));
      const auto i = rng.Ints<int8_t>(n);
      std::vector<int8_t> ir(n), io(n);
      Ref().softmax_int8(p, i.data(), ir.data());
      set.softmax_int8(p, i.data(), io.data());
      TRIAGE_RETURN_IF_DIFF(Diff(set.name, ir, io, "int8 " + what));
    }
  }
  return "";
}

// Byte equality, except that any NaN equals any NaN: IEEE 754 leaves the sign
// and payload of a NaN result to the hardware, and x86 takes them from
// whichever operand the compiler put first in a commutative add (the first
// version of this test saw the reference's own NaN come out with the other
// sign). Every other value, signed zeros and subnormals included, must match
// bit for bit.
std::string DiffNanAsOne(const char* set_name, std::vector<float> ref, std::vector<float> got,
                         const std::string& what) {
  for (auto* v : {&ref, &got}) {
    for (float& x : *v) {
      if (std::isnan(x)) x = std::numeric_limits<float>::quiet_NaN();
    }
  }
  return Diff(set_name, ref, got, what);
}

// Float kernels at the edges of IEEE arithmetic: signed zeros, subnormals
// (ARMv7 NEON would flush them), products that overflow to infinity, NaN, and
// channel counts past the depthwise kernel's 64-channel block and the 8-wide
// output-channel block. Each spec runs with plain values (byte for byte),
// then with a quarter of the inputs and weights replaced by special values.
std::string CompareFloatSpecials(const KernelTable& set, uint32_t seed) {
  Rng rng(seed);
  const float specials[] = {-0.0f, 0.0f, 1e-39f, -3e-42f, 1.17549435e-38f, 1e30f, -1e30f,
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  auto sprinkle = [&](std::vector<float>& v) {
    for (float& x : v) {
      if (rng.Int(0, 3) == 0) x = specials[rng.Int(0, 9)];
    }
  };
  for (bool depthwise : {false, true}) {
    for (int channels : {8, 17, 64, 65, 130}) {
      testing::ConvSpec s = ConvAround(rng, depthwise, channels);
      testing::ConvData d = testing::RandomConvData(rng, s);
      for (int pass = 0; pass < 2; ++pass) {
        TRIAGE_RETURN_IF_DIFF(DiffNanAsOne(set.name, testing::RunConvFloat(Ref(), s, d),
                                           testing::RunConvFloat(set, s, d),
                                           std::string(pass ? "specials " : "float ") + s.ToString()));
        sprinkle(d.input);
        sprinkle(d.filter);
        sprinkle(d.bias);
      }
    }
  }
  for (int out_d : {1, 8, 9, 17}) {
    testing::FcSpec s;
    s.batches = rng.Pick({1, 2});
    s.accum_depth = rng.Pick({1, 7, 64, 100});
    s.output_depth = out_d;
    s.act = PickAct(rng);
    s.has_bias = rng.Bool();
    testing::FcData d = testing::RandomFcData(rng, s);
    for (int pass = 0; pass < 2; ++pass) {
      TRIAGE_RETURN_IF_DIFF(DiffNanAsOne(set.name, testing::RunFcFloat(Ref(), s, d), testing::RunFcFloat(set, s, d),
                                         std::string(pass ? "specials " : "float ") + s.ToString()));
      sprinkle(d.input);
      sprinkle(d.filter);
      sprinkle(d.bias);
    }
  }
  return "";
}

// Every table under test: the reference itself (the harness's own sanity),
// then every optimized variant this build has and this CPU runs (portable,
// sse41, avx2 on x86-64; portable, neon on armhf).
// The fastest variant and the portable one also run split over 2 and 3
// threads (a worker pool that splits even the smallest operator), which
// must not change a byte either.
struct TableCase {
  const KernelTable* table;
  int threads;
};

void PrintTo(const TableCase& c, std::ostream* os) { *os << c.table->name << " x" << c.threads; }

std::vector<TableCase> TablesUnderTest() {
  std::vector<TableCase> out{{&Ref(), 1}};
  for (int i = 0; i < OptimizedVariantCount(); ++i) out.push_back({&OptimizedVariant(i), 1});
  for (int threads : {2, 3}) {
    out.push_back({&OptimizedVariant(OptimizedVariantCount() - 1), threads});
    if (OptimizedVariantCount() > 1) out.push_back({&OptimizedVariant(0), threads});
  }
  return out;
}

std::string TableName(const KernelTable& t) { return t.ukernels ? std::string("optimized_") + t.ukernels->isa : t.name; }

// One pool per thread count, for the whole test program.
Parallel* PoolFor(int threads) {
  static std::unique_ptr<WorkerPool> pools[WorkerPool::kMaxThreads + 1];
  if (threads <= 1) return nullptr;
  if (!pools[threads]) {
    Result<std::unique_ptr<WorkerPool>> pool = WorkerPool::Create(threads, /*min_parallel_work=*/0);
    if (!pool.ok()) return nullptr;
    pools[threads] = std::move(pool.value());
  }
  return pools[threads].get();
}

class SetVsReference : public ::testing::TestWithParam<TableCase> {
 protected:
  void SetUp() override {
    Parallel* pool = PoolFor(GetParam().threads);
    if (GetParam().threads > 1) {
      ASSERT_NE(pool, nullptr) << "cannot start " << GetParam().threads << " threads";
    }
    testing::SetRunnerParallel(pool);
  }
  void TearDown() override { testing::SetRunnerParallel(nullptr); }
  const KernelTable& Set() const { return *GetParam().table; }
};

TEST_P(SetVsReference, ConvIsByteIdentical) { EXPECT_EQ(CompareConv(Set(), false, 81), ""); }
TEST_P(SetVsReference, DepthwiseConvIsByteIdentical) { EXPECT_EQ(CompareConv(Set(), true, 82), ""); }
TEST_P(SetVsReference, FullyConnectedIsByteIdentical) { EXPECT_EQ(CompareFullyConnected(Set(), 83), ""); }
TEST_P(SetVsReference, PoolingIsByteIdentical) { EXPECT_EQ(ComparePooling(Set(), 84), ""); }
TEST_P(SetVsReference, AddAndMulAreByteIdentical) { EXPECT_EQ(CompareAddMul(Set(), 85), ""); }
TEST_P(SetVsReference, SoftmaxIsByteIdentical) { EXPECT_EQ(CompareSoftmax(Set(), 86), ""); }
// Rows long enough for the optimized set's table of exponentials (256 or
// more elements), 1001 classes as in the ImageNet MobileNets, over betas and
// input scales from a cutoff (diff_min) inside the 8-bit range to none.
TEST_P(SetVsReference, LongSoftmaxRowsAreByteIdentical) {
  Rng rng(98);
  for (int depth : {256, 1001}) {
    for (float beta : {0.5f, 1.0f, 2.0f}) {
      for (float scale : {0.01f, 0.1f, 0.25f, 1.0f, 4.0f}) {
        const int outer = rng.Pick({1, 3});
        const SoftmaxParams p = testing::MakeSoftmaxParams(beta, scale, outer, depth);
        const size_t n = static_cast<size_t>(outer) * depth;
        const auto u = rng.Ints<uint8_t>(n);
        std::vector<uint8_t> ur(n), uo(n);
        Ref().softmax_uint8(p, u.data(), ur.data());
        Set().softmax_uint8(p, u.data(), uo.data());
        const std::string what = "depth " + std::to_string(depth) + " beta " + std::to_string(beta) + " scale " +
                                 std::to_string(scale);
        ASSERT_EQ(Diff(Set().name, ur, uo, "uint8 " + what), "");
        const auto i = rng.Ints<int8_t>(n);
        std::vector<int8_t> ir(n), io(n);
        Ref().softmax_int8(p, i.data(), ir.data());
        Set().softmax_int8(p, i.data(), io.data());
        ASSERT_EQ(Diff(Set().name, ir, io, "int8 " + what), "");
      }
    }
  }
}
TEST_P(SetVsReference, FloatAtIeeeEdgesIsByteIdentical) {
  for (uint32_t seed = 87; seed < 97; ++seed) ASSERT_EQ(CompareFloatSpecials(Set(), seed), "") << "seed " << seed;
}

// The randomized differential sweep: 40 seeds of every comparison above,
// i.e. 3,600 convolutions, 3,600 depthwise convolutions (float, uint8 and
// int8 each), 12,000 fully connected, 7,200 pooling and 2,400 ADD and MUL
// cases (float, uint8 and int8 each) per table, over
// shapes, strides, padding, dilation, zero points, scales (so multipliers and
// shifts), activation ranges and full-range raw inputs that saturate.
TEST_P(SetVsReference, RandomizedSweepIsByteIdentical) {
  for (uint32_t seed = 1000; seed < 1040; ++seed) {
    ASSERT_EQ(CompareConv(Set(), false, seed), "") << "seed " << seed;
    ASSERT_EQ(CompareConv(Set(), true, seed + 100), "") << "seed " << seed + 100;
    ASSERT_EQ(CompareFullyConnected(Set(), seed + 200), "") << "seed " << seed + 200;
    ASSERT_EQ(ComparePooling(Set(), seed + 300), "") << "seed " << seed + 300;
    ASSERT_EQ(CompareAddMul(Set(), seed + 400), "") << "seed " << seed + 400;
  }
}

INSTANTIATE_TEST_SUITE_P(AllSets, SetVsReference, ::testing::ValuesIn(TablesUnderTest()),
                         [](const ::testing::TestParamInfo<TableCase>& info) {
                           std::string name = TableName(*info.param.table);
                           if (info.param.threads > 1) name += "_" + std::to_string(info.param.threads) + "threads";
                           return name;
                         });

TEST(KernelTable, OptimizedSetIsTheFastestVariantThisCpuRuns) {
  ASSERT_GE(OptimizedVariantCount(), 1);
  EXPECT_EQ(&GetKernelTable(KernelSet::kOptimized), &OptimizedVariant(OptimizedVariantCount() - 1));
  EXPECT_STREQ(OptimizedVariant(0).ukernels->isa, "portable");
  for (int i = 0; i < OptimizedVariantCount(); ++i) ASSERT_NE(OptimizedVariant(i).ukernels, nullptr);
#if defined(__ARM_NEON)
  EXPECT_STREQ(GetKernelTable(KernelSet::kOptimized).ukernels->isa, "neon");
#endif
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) {
    EXPECT_STREQ(GetKernelTable(KernelSet::kOptimized).ukernels->isa, "avx2");
  }
#endif
}

// --- The harness must catch a kernel that is off by one LSB in one element ------------

void ConvInt8OffByOne(const ConvParams& p, const Shape& is, const int8_t* in, const Shape& fs, const int8_t* f,
                      const int32_t* b, const Shape& os, int8_t* out) {
  reference::ConvInt8PerChannel(p, is, in, fs, f, b, os, out);
  out[os.FlatSize() - 1] ^= 1;
}
void DepthwiseUint8OffByOne(const DepthwiseParams& p, const Shape& is, const uint8_t* in, const Shape& fs,
                            const uint8_t* f, const int32_t* b, const Shape& os, uint8_t* out) {
  reference::DepthwiseConvUint8(p, is, in, fs, f, b, os, out);
  out[0] ^= 1;
}
void FcFloatOffByOneUlp(const FullyConnectedParams& p, const float* in, const float* f, const float* b, float* out) {
  reference::FullyConnectedFloat(p, in, f, b, out);
  out[0] = std::nextafter(out[0], 1e30f);
}
void AvgPoolInt8OffByOne(const PoolParams& p, const Shape& is, const int8_t* in, const Shape& os, int8_t* out) {
  reference::AveragePoolQuantized<int8_t>(p, is, in, os, out);
  out[os.FlatSize() / 2] ^= 1;
}
void MulUint8OffByOne(const MulParams& p, const Shape& s1, const uint8_t* a, const Shape& s2, const uint8_t* b,
                      const Shape& so, uint8_t* out) {
  reference::MulQuantized<uint8_t>(p, s1, a, s2, b, so, out);
  out[so.FlatSize() - 1] ^= 1;
}
void SoftmaxInt8OffByOne(const SoftmaxParams& p, const int8_t* in, int8_t* out) {
  reference::SoftmaxQuantized<int8_t>(p, in, out);
  out[p.outer_size * p.depth - 1] ^= 1;
}

TEST(KernelTableHarness, DetectsAKernelThatDiffersInOneElement) {
  KernelTable broken = Ref();
  broken.name = "broken";
  broken.conv_int8 = &ConvInt8OffByOne;
  EXPECT_NE(CompareConv(broken, false, 81), "");
  broken = Ref();
  broken.depthwise_uint8 = &DepthwiseUint8OffByOne;
  EXPECT_NE(CompareConv(broken, true, 82), "");
  broken = Ref();
  broken.fully_connected_float = &FcFloatOffByOneUlp;
  EXPECT_NE(CompareFullyConnected(broken, 83), "");
  broken = Ref();
  broken.average_pool_int8 = &AvgPoolInt8OffByOne;
  EXPECT_NE(ComparePooling(broken, 84), "");
  broken = Ref();
  broken.mul_uint8 = &MulUint8OffByOne;
  EXPECT_NE(CompareAddMul(broken, 85), "");
  broken = Ref();
  broken.softmax_int8 = &SoftmaxInt8OffByOne;
  EXPECT_NE(CompareSoftmax(broken, 86), "");
}

}  // namespace
}  // namespace triage::kernels
