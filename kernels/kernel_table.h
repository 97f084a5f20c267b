// KernelTable: the dispatch table between operator glue and kernel math.
//
// Operator Eval functions call the heavy kernels only through a KernelTable,
// chosen once when the interpreter is built (XNNPACK-style). The reference
// table is always linked, so optimized tables can be cross-checked against it
// at run time (the fault layer's cross-check mode) and in tests. An optimized
// table may fill only some entries; GetKernelTable() fills the rest from the
// reference table.
#ifndef TRIAGE_KERNELS_KERNEL_TABLE_H_
#define TRIAGE_KERNELS_KERNEL_TABLE_H_

#include "kernels/reference/conv.h"
#include "kernels/reference/depthwise_conv.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/fully_connected.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/softmax.h"

namespace triage::kernels::optimized {
struct Ukernels;
}

namespace triage::kernels {

template <typename T>
using PoolFn = void (*)(const PoolParams&, const Shape&, const T*, const Shape&, T*);
template <typename T>
using AddFn = void (*)(const AddParams&, const Shape&, const T*, const Shape&, const T*, const Shape&, T*);
template <typename T>
using MulFn = void (*)(const MulParams&, const Shape&, const T*, const Shape&, const T*, const Shape&, T*);
template <typename T>
using SoftmaxFn = void (*)(const SoftmaxParams&, const T*, T*);

struct KernelTable {
  const char* name = "reference";
  decltype(&reference::ConvFloat) conv_float = nullptr;
  decltype(&reference::ConvUint8) conv_uint8 = nullptr;
  decltype(&reference::ConvInt8PerChannel) conv_int8 = nullptr;
  decltype(&reference::DepthwiseConvFloat) depthwise_float = nullptr;
  decltype(&reference::DepthwiseConvUint8) depthwise_uint8 = nullptr;
  decltype(&reference::DepthwiseConvInt8PerChannel) depthwise_int8 = nullptr;
  decltype(&reference::FullyConnectedFloat) fully_connected_float = nullptr;
  decltype(&reference::FullyConnectedUint8) fully_connected_uint8 = nullptr;
  decltype(&reference::FullyConnectedInt8) fully_connected_int8 = nullptr;
  PoolFn<float> average_pool_float = nullptr;
  PoolFn<uint8_t> average_pool_uint8 = nullptr;
  PoolFn<int8_t> average_pool_int8 = nullptr;
  PoolFn<float> max_pool_float = nullptr;
  PoolFn<uint8_t> max_pool_uint8 = nullptr;
  PoolFn<int8_t> max_pool_int8 = nullptr;
  AddFn<float> add_float = nullptr;
  AddFn<uint8_t> add_uint8 = nullptr;
  AddFn<int8_t> add_int8 = nullptr;
  MulFn<float> mul_float = nullptr;
  MulFn<uint8_t> mul_uint8 = nullptr;
  MulFn<int8_t> mul_int8 = nullptr;
  SoftmaxFn<float> softmax_float = nullptr;
  SoftmaxFn<uint8_t> softmax_uint8 = nullptr;
  SoftmaxFn<int8_t> softmax_int8 = nullptr;
  // Optimized tables only: the micro-kernels behind them, for the row-range
  // drivers in kernels/optimized/conv.h (used to split work between
  // threads). When set, Prepare packs quantized CONV_2D and FULLY_CONNECTED
  // weights (optimized::PackGemm) into ConvParams/FullyConnectedParams.packed.
  const optimized::Ukernels* ukernels = nullptr;
};

enum class KernelSet : uint8_t {
  kReference = 0,  // readable reference kernels (always available)
  kOptimized = 1,  // best available for this build; falls back to reference entries
};

const char* KernelSetName(KernelSet set);
// Complete table (every entry non-null) for the requested set. Static storage;
// safe to share between threads.
const KernelTable& GetKernelTable(KernelSet set);

// Every optimized variant this build has and this CPU can run, slowest
// first: portable C++, then SSE4.1 and AVX2 (x86-64, chosen by the CPU's
// features) or NEON (ARMv7, compile-time). GetKernelTable(kOptimized) is the
// last one. All give the reference's bytes; tests run each of them.
int OptimizedVariantCount();
const KernelTable& OptimizedVariant(int i);

}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_KERNEL_TABLE_H_
