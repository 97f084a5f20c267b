// SSE4.1 or AVX2 micro-kernels: this file is compiled twice, once with
// -msse4.1 (TRIAGE_UKERNEL_ISA_SSE41) and once with -mavx2
// (TRIAGE_UKERNEL_ISA_AVX2). The drivers reach it only after the CPU check in
// kernel_table.cc, so a CPU without the feature never executes it.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/optimized/ukernels.h"

namespace triage::kernels::optimized {

#if defined(TRIAGE_UKERNEL_ISA_AVX2)
namespace avx2 {
#include "kernels/optimized/ukernels_impl.inc"

inline __m256i BroadcastPair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

// Eight lanes of RequantOne (ukernels_impl.inc), exactly.
inline __m256i RequantAvx2(__m256i acc, __m256i multiplier, __m256i shift, const Requant& rq) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i left = _mm256_max_epi32(shift, zero);
  const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
  const __m256i x = _mm256_sllv_epi32(acc, left);
  const __m256i round = _mm256_set1_epi64x(int64_t{1} << 30);
  // 64-bit products of the even lanes, then of the odd lanes.
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, multiplier), round), 31);
  const __m256i odd = _mm256_srli_epi64(
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(multiplier, 32)), round), 31);
  const __m256i high = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right), _mm256_set1_epi32(1));
  const __m256i remainder = _mm256_and_si256(high, mask);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_cmpgt_epi32(zero, high));
  __m256i v = _mm256_sub_epi32(_mm256_srav_epi32(high, right), _mm256_cmpgt_epi32(remainder, threshold));
  v = _mm256_add_epi32(v, _mm256_set1_epi32(rq.output_offset));
  v = _mm256_max_epi32(v, _mm256_set1_epi32(rq.min));
  return _mm256_min_epi32(v, _mm256_set1_epi32(rq.max));
}

// Eight clamped int32 lanes (already inside the output type's range) to bytes.
template <typename TOut>
inline void StoreBytes(__m256i v, int n, TOut* out) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i bytes = std::is_signed_v<TOut> ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
  if (n == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
  } else {
    alignas(16) uint8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
    std::memcpy(out, tmp, static_cast<size_t>(n));
  }
}

inline void LoadRequant(const Requant& rq, int c, int n, __m256i* m, __m256i* sh) {
  if (!rq.per_channel) {
    *m = _mm256_set1_epi32(rq.multiplier[0]);
    *sh = _mm256_set1_epi32(rq.shift[0]);
  } else if (n == 8) {
    *m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rq.multiplier + c));
    *sh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rq.shift + c));
  } else {
    alignas(32) int32_t mt[8] = {}, st[8] = {};
    std::memcpy(mt, rq.multiplier + c, sizeof(int32_t) * static_cast<size_t>(n));
    std::memcpy(st, rq.shift + c, sizeof(int32_t) * static_cast<size_t>(n));
    *m = _mm256_load_si256(reinterpret_cast<const __m256i*>(mt));
    *sh = _mm256_load_si256(reinterpret_cast<const __m256i*>(st));
  }
}

inline __m256i LoadPartial(const int32_t* p, int n) {
  if (n == 8) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  alignas(32) int32_t t[8] = {};
  std::memcpy(t, p, sizeof(int32_t) * static_cast<size_t>(n));
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(t));
}

template <typename TOut>
void RequantRowAvx2(int n, const int32_t* acc, const int32_t* bias, const Requant& rq, TOut* out) {
  for (int c = 0; c < n; c += 8) {
    const int len = n - c < 8 ? n - c : 8;
    __m256i v = LoadPartial(acc + c, len);
    if (bias) v = _mm256_add_epi32(v, LoadPartial(bias + c, len));
    __m256i m, sh;
    LoadRequant(rq, c, len, &m, &sh);
    StoreBytes<TOut>(RequantAvx2(v, m, sh, rq), len, out + c);
  }
}

// One 256-bit register holds the 8 columns x 2 depth steps of a block row;
// vpmaddwd multiplies each pair by the broadcast pair of a and adds them into
// one int32 per column. The tile is requantized in registers.
template <bool kSigned, typename TOut>
void GemmAvx2(int kpairs, const int16_t* a, size_t a_stride, const uint8_t* b, const int32_t* col_bias,
              const int32_t* row_corr, const Requant& rq, int rows, int cols, TOut* out, size_t out_stride) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
  const int16_t *a0 = a, *a1 = a + a_stride, *a2 = a + 2 * a_stride, *a3 = a + 3 * a_stride;
  for (int kp = 0; kp < kpairs; ++kp) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + static_cast<size_t>(kp) * 16));
    const __m256i bw = kSigned ? _mm256_cvtepi8_epi16(raw) : _mm256_cvtepu8_epi16(raw);
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(BroadcastPair(a0 + 2 * kp), bw));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(BroadcastPair(a1 + 2 * kp), bw));
    c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(BroadcastPair(a2 + 2 * kp), bw));
    c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(BroadcastPair(a3 + 2 * kp), bw));
  }
  const __m256i cb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col_bias));
  __m256i m, sh;
  LoadRequant(rq, 0, cols, &m, &sh);
  const __m256i tile[kMr] = {c0, c1, c2, c3};
  for (int r = 0; r < rows; ++r) {
    const __m256i v = _mm256_add_epi32(_mm256_add_epi32(tile[r], cb), _mm256_set1_epi32(row_corr[r]));
    StoreBytes<TOut>(RequantAvx2(v, m, sh, rq), cols, out + r * out_stride);
  }
}
}  // namespace avx2

const Ukernels* Avx2Ukernels() {
  static const Ukernels table = [] {
    Ukernels u = avx2::MakeTable("avx2");
    u.gemm_s8 = &avx2::GemmAvx2<true, int8_t>;
    u.gemm_u8 = &avx2::GemmAvx2<false, uint8_t>;
    u.requant_s8 = &avx2::RequantRowAvx2<int8_t>;
    u.requant_u8 = &avx2::RequantRowAvx2<uint8_t>;
    return u;
  }();
  return &table;
}

#elif defined(TRIAGE_UKERNEL_ISA_SSE41)
namespace sse41 {
#include "kernels/optimized/ukernels_impl.inc"

inline __m128i BroadcastPair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm_set1_epi32(v);
}

// Two 128-bit halves per block row: columns 0-3 and 4-7. The output stage
// is the portable one.
template <bool kSigned, typename TOut>
void GemmSse41(int kpairs, const int16_t* a, size_t a_stride, const uint8_t* b, const int32_t* col_bias,
               const int32_t* row_corr, const Requant& rq, int rows, int cols, TOut* out, size_t out_stride) {
  __m128i lo[kMr], hi[kMr];
  for (int r = 0; r < kMr; ++r) lo[r] = hi[r] = _mm_setzero_si128();
  for (int kp = 0; kp < kpairs; ++kp) {
    const uint8_t* bp = b + static_cast<size_t>(kp) * 16;
    const __m128i raw_lo = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bp));
    const __m128i raw_hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bp + 8));
    const __m128i b_lo = kSigned ? _mm_cvtepi8_epi16(raw_lo) : _mm_cvtepu8_epi16(raw_lo);
    const __m128i b_hi = kSigned ? _mm_cvtepi8_epi16(raw_hi) : _mm_cvtepu8_epi16(raw_hi);
    for (int r = 0; r < kMr; ++r) {
      const __m128i av = BroadcastPair(a + r * a_stride + 2 * kp);
      lo[r] = _mm_add_epi32(lo[r], _mm_madd_epi16(av, b_lo));
      hi[r] = _mm_add_epi32(hi[r], _mm_madd_epi16(av, b_hi));
    }
  }
  const __m128i cb_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(col_bias));
  const __m128i cb_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(col_bias + 4));
  for (int r = 0; r < rows; ++r) {
    alignas(16) int32_t row[kNr];
    const __m128i corr = _mm_set1_epi32(row_corr[r]);
    _mm_store_si128(reinterpret_cast<__m128i*>(row), _mm_add_epi32(_mm_add_epi32(lo[r], cb_lo), corr));
    _mm_store_si128(reinterpret_cast<__m128i*>(row + 4), _mm_add_epi32(_mm_add_epi32(hi[r], cb_hi), corr));
    RequantPortable<TOut>(cols, row, nullptr, rq, out + r * out_stride);
  }
}
}  // namespace sse41

const Ukernels* Sse41Ukernels() {
  static const Ukernels table = [] {
    Ukernels u = sse41::MakeTable("sse41");
    u.gemm_s8 = &sse41::GemmSse41<true, int8_t>;
    u.gemm_u8 = &sse41::GemmSse41<false, uint8_t>;
    return u;
  }();
  return &table;
}
#else
#error "compile ukernels_x86.cc with TRIAGE_UKERNEL_ISA_SSE41 or TRIAGE_UKERNEL_ISA_AVX2"
#endif

}  // namespace triage::kernels::optimized
