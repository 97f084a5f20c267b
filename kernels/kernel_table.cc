#include "kernels/kernel_table.h"

#include <cstdint>

#include "kernels/optimized/conv.h"
#include "kernels/optimized/float_kernels.h"
#include "kernels/optimized/gemm.h"
#include "kernels/optimized/ukernels.h"
#include "kernels/parallel.h"
#include "kernels/reference/softmax_rows.h"

namespace triage::kernels {
namespace {

// Runs fn(worker, begin, end) over rows [0, rows), split by the worker pool
// when there is one and the operator is big enough (min_parallel_work). The split never changes
// a byte: every row is computed by the same code in any range.
template <typename Fn>
void ForRows(Parallel* parallel, int rows, int grain, int64_t work_per_row, const Fn& fn) {
  if (parallel == nullptr || parallel->threads() == 1 || rows <= grain ||
      static_cast<int64_t>(rows) * work_per_row < parallel->min_parallel_work()) {
    if (rows > 0) fn(0, 0, rows);
    return;
  }
  parallel->For([](const void* ctx, int worker, int begin, int end) {
    (*static_cast<const Fn*>(ctx))(worker, begin, end);
  }, &fn, rows, grain);
}

// Worker w's GEMM scratch: Prepare allocated one block per thread.
inline void* WorkerScratch(void* scratch, int k, int worker) {
  return static_cast<uint8_t*>(scratch) + static_cast<size_t>(worker) * optimized::GemmScratchBytes(k);
}

KernelTable MakeReferenceTable() {
  KernelTable t;
  t.name = "reference";
  t.conv_float = &reference::ConvFloat;
  t.conv_uint8 = &reference::ConvUint8;
  t.conv_int8 = &reference::ConvInt8PerChannel;
  t.depthwise_float = &reference::DepthwiseConvFloat;
  t.depthwise_uint8 = &reference::DepthwiseConvUint8;
  t.depthwise_int8 = &reference::DepthwiseConvInt8PerChannel;
  t.fully_connected_float = &reference::FullyConnectedFloat;
  t.fully_connected_uint8 = &reference::FullyConnectedUint8;
  t.fully_connected_int8 = &reference::FullyConnectedInt8;
  t.average_pool_float = &reference::AveragePoolFloat;
  t.average_pool_uint8 = &reference::AveragePoolQuantized<uint8_t>;
  t.average_pool_int8 = &reference::AveragePoolQuantized<int8_t>;
  t.max_pool_float = &reference::MaxPoolFloat;
  t.max_pool_uint8 = &reference::MaxPoolQuantized<uint8_t>;
  t.max_pool_int8 = &reference::MaxPoolQuantized<int8_t>;
  t.add_float = &reference::AddFloat;
  t.add_uint8 = &reference::AddQuantized<uint8_t>;
  t.add_int8 = &reference::AddQuantized<int8_t>;
  t.mul_float = &reference::MulFloat;
  t.mul_uint8 = &reference::MulQuantized<uint8_t>;
  t.mul_int8 = &reference::MulQuantized<int8_t>;
  t.softmax_float = &reference::SoftmaxFloat;
  t.softmax_uint8 = &reference::SoftmaxQuantized<uint8_t>;
  t.softmax_int8 = &reference::SoftmaxQuantized<int8_t>;
  return t;
}

// Whole-tensor entry points of one optimized variant. U names the variant's
// micro-kernel table. Each falls back to the reference kernel where its fast
// path does not apply (no packed weights, depth multiplier > 1).
using UkernelsFn = const optimized::Ukernels& (*)();

template <UkernelsFn U, typename T, void (*Ref)(const ConvParams&, const Shape&, const T*, const Shape&, const T*,
                                                const int32_t*, const Shape&, T*)>
void Conv(const ConvParams& p, const Shape& input_shape, const T* input, const Shape& filter_shape, const T* filter,
          const int32_t* bias, const Shape& output_shape, T* output) {
  if (p.packed == nullptr || p.scratch == nullptr) {
    Ref(p, input_shape, input, filter_shape, filter, bias, output_shape, output);
    return;
  }
  const int rows = output_shape.Dim(0) * output_shape.Dim(1) * output_shape.Dim(2);
  const int n = output_shape.Dim(3), k = filter_shape.Dim(1) * filter_shape.Dim(2) * filter_shape.Dim(3);
  ForRows(p.parallel, rows, optimized::kMr, static_cast<int64_t>(n) * k, [&](int worker, int begin, int end) {
    optimized::ConvGemmRows<T>(U(), p, input_shape, input, filter_shape, output_shape, output, begin, end,
                               WorkerScratch(p.scratch, k, worker));
  });
}

template <UkernelsFn U, typename T,
          void (*Ref)(const DepthwiseParams&, const Shape&, const T*, const Shape&, const T*, const int32_t*,
                      const Shape&, T*)>
void Depthwise(const DepthwiseParams& p, const Shape& input_shape, const T* input, const Shape& filter_shape,
               const T* filter, const int32_t* bias, const Shape& output_shape, T* output) {
  if (p.depth_multiplier < 1 || filter_shape.Dim(1) * filter_shape.Dim(2) > optimized::kDwMaxTaps) {
    Ref(p, input_shape, input, filter_shape, filter, bias, output_shape, output);
    return;
  }
  const int64_t per_row = static_cast<int64_t>(output_shape.Dim(2)) * output_shape.Dim(3) * filter_shape.Dim(1) *
                          filter_shape.Dim(2);
  ForRows(p.parallel, output_shape.Dim(0) * output_shape.Dim(1), 1, per_row, [&](int, int begin, int end) {
    optimized::DepthwiseRows<T>(U(), p, input_shape, input, filter_shape, filter, bias, output_shape, output, begin,
                                end);
  });
}

template <UkernelsFn U, typename T,
          void (*Ref)(const FullyConnectedParams&, const T*, const T*, const int32_t*, T*)>
void FullyConnected(const FullyConnectedParams& p, const T* input, const T* filter, const int32_t* bias,
                    T* output) {
  if (p.packed == nullptr || p.scratch == nullptr) {
    Ref(p, input, filter, bias, output);
    return;
  }
  ForRows(p.parallel, p.batches, optimized::kMr, static_cast<int64_t>(p.output_depth) * p.accum_depth,
          [&](int worker, int begin, int end) {
            optimized::FullyConnectedRows<T>(U(), p, input, output, begin, end,
                                             WorkerScratch(p.scratch, p.accum_depth, worker));
          });
}

template <UkernelsFn U, typename T>
void AveragePool(const PoolParams& p, const Shape& input_shape, const T* input, const Shape& output_shape,
                 T* output) {
  const int64_t per_row = static_cast<int64_t>(output_shape.Dim(2)) * output_shape.Dim(3) * p.filter_h * p.filter_w;
  ForRows(p.parallel, output_shape.Dim(0) * output_shape.Dim(1), 1, per_row, [&](int, int begin, int end) {
    optimized::AveragePoolRows<T>(U(), p, input_shape, input, output_shape, output, begin, end);
  });
}

// Quantized ADD without broadcasting (the residual adds of MobileNet v2):
// the micro-kernel over flat ranges, split over the worker threads. With
// broadcasting it is the reference kernel.
template <UkernelsFn U, typename T>
void Add(const AddParams& p, const Shape& s1, const T* in1, const Shape& s2, const T* in2, const Shape& out_shape,
         T* out) {
  const int64_t n = out_shape.FlatSize();
  if (s1.FlatSize() != n || s2.FlatSize() != n || n > INT32_MAX) {
    // (Validated broadcast shapes of equal size are the same shape.)
    reference::AddQuantized<T>(p, s1, in1, s2, in2, out_shape, out);
    return;
  }
  // About 8 multiply-accumulates' worth of work per element.
  ForRows(p.parallel, static_cast<int>(n), 64, 8, [&](int, int begin, int end) {
    optimized::BySign<T>(U().add_s8, U().add_u8)(end - begin, in1 + begin, in2 + begin, p, out + begin);
  });
}

// Float kernels: the reference's arithmetic per output, several outputs at a
// time (kernels/optimized/float_kernels.h), split by output rows.
void ConvFloat(const ConvParams& p, const Shape& input_shape, const float* input, const Shape& filter_shape,
               const float* filter, const float* bias, const Shape& output_shape, float* output) {
  const int rows = output_shape.Dim(0) * output_shape.Dim(1) * output_shape.Dim(2);
  const int64_t per_row = static_cast<int64_t>(output_shape.Dim(3)) * filter_shape.Dim(1) * filter_shape.Dim(2) *
                          filter_shape.Dim(3);
  ForRows(p.parallel, rows, 1, per_row, [&](int, int begin, int end) {
    optimized::ConvFloatRows(p, input_shape, input, filter_shape, filter, bias, output_shape, output, begin, end);
  });
}

void DepthwiseFloat(const DepthwiseParams& p, const Shape& input_shape, const float* input, const Shape& filter_shape,
                    const float* filter, const float* bias, const Shape& output_shape, float* output) {
  if (p.depth_multiplier < 1) {
    reference::DepthwiseConvFloat(p, input_shape, input, filter_shape, filter, bias, output_shape, output);
    return;
  }
  const int64_t per_row = static_cast<int64_t>(output_shape.Dim(2)) * output_shape.Dim(3) * filter_shape.Dim(1) *
                          filter_shape.Dim(2);
  ForRows(p.parallel, output_shape.Dim(0) * output_shape.Dim(1), 1, per_row, [&](int, int begin, int end) {
    optimized::DepthwiseFloatRows(p, input_shape, input, filter_shape, filter, bias, output_shape, output, begin,
                                  end);
  });
}

void FullyConnectedFloat(const FullyConnectedParams& p, const float* input, const float* filter, const float* bias,
                         float* output) {
  ForRows(p.parallel, p.batches, 1, static_cast<int64_t>(p.output_depth) * p.accum_depth,
          [&](int, int begin, int end) {
            optimized::FullyConnectedFloatRows(p, input, filter, bias, output, begin, end);
          });
}

// Quantized SOFTMAX: an 8-bit row's differences from its maximum take one of
// 256 values, so their exponentials are computed once per call into a table
// on the stack instead of twice per element (1001-class rows: 256 instead of
// 2,002); the row loop is the reference's own.
template <typename T>
void Softmax(const SoftmaxParams& p, const T* input, T* output) {
  constexpr int kDiffs = 256;
  if (static_cast<int64_t>(p.outer_size) * p.depth < kDiffs) {
    reference::SoftmaxQuantized<T>(p, input, output);
    return;
  }
  fixed_point::FixedPoint<0> exp_of_diff[kDiffs];
  bool in_range_of_diff[kDiffs];
  for (int d = 0; d < kDiffs; ++d) exp_of_diff[d] = reference::SoftmaxScaledExp(p, -d, &in_range_of_diff[d]);
  reference::SoftmaxQuantizedRows(p, input, output, [&](int32_t diff, bool* in_range) {
    *in_range = in_range_of_diff[-diff];  // diff in [-255, 0]: both operands are 8-bit
    return exp_of_diff[-diff];
  });
}

template <UkernelsFn U>
KernelTable MakeOptimizedTable() {
  KernelTable t = MakeReferenceTable();
  t.name = "optimized";  // U().isa names the instruction set
  t.ukernels = &U();
  t.conv_float = &ConvFloat;
  t.depthwise_float = &DepthwiseFloat;
  t.fully_connected_float = &FullyConnectedFloat;
  t.conv_uint8 = &Conv<U, uint8_t, &reference::ConvUint8>;
  t.conv_int8 = &Conv<U, int8_t, &reference::ConvInt8PerChannel>;
  t.depthwise_uint8 = &Depthwise<U, uint8_t, &reference::DepthwiseConvUint8>;
  t.depthwise_int8 = &Depthwise<U, int8_t, &reference::DepthwiseConvInt8PerChannel>;
  t.fully_connected_uint8 = &FullyConnected<U, uint8_t, &reference::FullyConnectedUint8>;
  t.fully_connected_int8 = &FullyConnected<U, int8_t, &reference::FullyConnectedInt8>;
  t.average_pool_uint8 = &AveragePool<U, uint8_t>;
  t.average_pool_int8 = &AveragePool<U, int8_t>;
  t.add_uint8 = &Add<U, uint8_t>;
  t.add_int8 = &Add<U, int8_t>;
  t.softmax_uint8 = &Softmax<uint8_t>;
  t.softmax_int8 = &Softmax<int8_t>;
  return t;
}

const optimized::Ukernels& Portable() { return optimized::PortableUkernels(); }
const optimized::Ukernels& Sse41() { return *optimized::Sse41Ukernels(); }
const optimized::Ukernels& Avx2() { return *optimized::Avx2Ukernels(); }
const optimized::Ukernels& Neon() { return *optimized::NeonUkernels(); }

bool CpuHas(const char* feature) {
#if defined(__x86_64__) || defined(__i386__)
  // GCC/Clang's check includes the OS's support for the AVX register state.
  __builtin_cpu_init();
  if (feature[0] == 'a') return __builtin_cpu_supports("avx2");
  return __builtin_cpu_supports("sse4.1");
#else
  (void)feature;
  return false;
#endif
}

struct Variants {
  KernelTable tables[3];
  int count = 0;
};

const Variants& AllVariants() {
  static const Variants v = [] {
    Variants out;
    out.tables[out.count++] = MakeOptimizedTable<&Portable>();
    if (optimized::NeonUkernels() != nullptr) out.tables[out.count++] = MakeOptimizedTable<&Neon>();
    if (optimized::Sse41Ukernels() != nullptr && CpuHas("sse4.1"))
      out.tables[out.count++] = MakeOptimizedTable<&Sse41>();
    if (optimized::Avx2Ukernels() != nullptr && CpuHas("avx2")) out.tables[out.count++] = MakeOptimizedTable<&Avx2>();
    return out;
  }();
  return v;
}

}  // namespace

const char* KernelSetName(KernelSet set) {
  return set == KernelSet::kReference ? "reference" : "optimized";
}

int OptimizedVariantCount() { return AllVariants().count; }

const KernelTable& OptimizedVariant(int i) {
  const Variants& v = AllVariants();
  return v.tables[i < 0 ? 0 : (i >= v.count ? v.count - 1 : i)];
}

const KernelTable& GetKernelTable(KernelSet set) {
  static const KernelTable reference_table = MakeReferenceTable();
  if (set == KernelSet::kReference) return reference_table;
  return OptimizedVariant(OptimizedVariantCount() - 1);
}

}  // namespace triage::kernels
