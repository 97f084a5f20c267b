#include "kernels/kernel_table.h"

namespace triage::kernels {
namespace {

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

// No optimized kernels are built yet: the optimized set is the reference set
// under another name, so callers can already select it and cross-check.
KernelTable MakeOptimizedTable() {
  KernelTable t = MakeReferenceTable();
  t.name = "optimized";
  return t;
}

}  // namespace

const char* KernelSetName(KernelSet set) {
  return set == KernelSet::kReference ? "reference" : "optimized";
}

const KernelTable& GetKernelTable(KernelSet set) {
  static const KernelTable reference_table = MakeReferenceTable();
  static const KernelTable optimized_table = MakeOptimizedTable();
  return set == KernelSet::kReference ? reference_table : optimized_table;
}

}  // namespace triage::kernels
