#include "kernels/optimized/gemm.h"

#include <cstring>

namespace triage::kernels::optimized {

size_t PackedGemmBytes(int n, int k) {
  if (n <= 0 || k <= 0) return 0;
  const size_t blocks = (static_cast<size_t>(n) + kNr - 1) / kNr;
  const size_t kpairs = (static_cast<size_t>(k) + 1) / 2;
  return sizeof(PackedGemm) + blocks * kNr * sizeof(int32_t) + blocks * kpairs * kNr * 2;
}

void PackGemm(const GemmPackSource& src, void* out) {
  const int n = src.n, k = src.k;
  const bool filter_signed = src.filter_signed;
  const int32_t input_offset = src.input_offset, filter_offset = src.filter_offset;
  const uint8_t* bias = src.bias;
  auto* header = static_cast<PackedGemm*>(out);
  *header = PackedGemm{};
  header->n = n;
  header->k = k;
  header->kpairs = (k + 1) / 2;
  header->blocks = (n + kNr - 1) / kNr;
  header->filter_signed = filter_signed ? 1 : 0;
  auto* col_bias = const_cast<int32_t*>(header->col_bias());
  auto* w = const_cast<uint8_t*>(header->weights());
  const size_t blocks = static_cast<size_t>(header->blocks), kpairs = static_cast<size_t>(header->kpairs);
  std::memset(col_bias, 0, blocks * kNr * sizeof(int32_t));
  std::memset(w, 0, blocks * kpairs * kNr * 2);
  const uint8_t* bytes = src.filter;
  for (int col = 0; col < n; ++col) {
    const uint8_t* row = bytes + static_cast<size_t>(col) * k;
    uint32_t sum = 0;
    for (int d = 0; d < k; ++d) {
      const int32_t v = filter_signed ? static_cast<int32_t>(static_cast<int8_t>(row[d])) : row[d];
      sum += static_cast<uint32_t>(v);
      const size_t b = static_cast<size_t>(col) / kNr, j = static_cast<size_t>(col) % kNr;
      w[((b * kpairs + static_cast<size_t>(d) / 2) * kNr + j) * 2 + static_cast<size_t>(d) % 2] = row[d];
    }
    uint32_t cb = 0;
    if (bias) std::memcpy(&cb, bias + 4 * static_cast<size_t>(col), 4);
    cb += static_cast<uint32_t>(input_offset) * sum;
    cb += static_cast<uint32_t>(k) * static_cast<uint32_t>(input_offset) * static_cast<uint32_t>(filter_offset);
    col_bias[col] = static_cast<int32_t>(cb);
  }
}

GemmView ViewPackedGemm(const void* blob, int n, int k) {
  GemmView v;
  v.n = n;
  v.k = k;
  v.kpairs = (k + 1) / 2;
  v.blocks = (n + kNr - 1) / kNr;
  v.col_bias = reinterpret_cast<const int32_t*>(static_cast<const PackedGemm*>(blob) + 1);
  v.weights = reinterpret_cast<const uint8_t*>(v.col_bias + static_cast<size_t>(v.blocks) * kNr);
  return v;
}

size_t GemmScratchBytes(int k) {
  const size_t kpad = 2 * ((static_cast<size_t>(k > 0 ? k : 0) + 1) / 2);
  return kMr * kpad * sizeof(int16_t);
}

}  // namespace triage::kernels::optimized
