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

// Eight lanes of MultiplyByQuantizedMultiplier (RequantOne without the
// output offset and clamp), exactly.
inline __m256i MulByQuantizedMultiplierAvx2(__m256i acc, __m256i multiplier, __m256i shift) {
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
  return _mm256_sub_epi32(_mm256_srav_epi32(high, right), _mm256_cmpgt_epi32(remainder, threshold));
}

// Eight lanes of RequantOne (ukernels_impl.inc), exactly.
inline __m256i RequantAvx2(__m256i acc, __m256i multiplier, __m256i shift, const Requant& rq) {
  __m256i v = _mm256_add_epi32(MulByQuantizedMultiplierAvx2(acc, multiplier, shift),
                               _mm256_set1_epi32(rq.output_offset));
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

// Two column blocks (16 columns) per call: each broadcast of a feeds two
// vpmaddwd, halving the broadcasts per multiply.
template <bool kSigned, typename TOut>
void Gemm2Avx2(int kpairs, const int16_t* a, size_t a_stride, const uint8_t* b, size_t b_block_stride,
               const int32_t* col_bias, const int32_t* row_corr, const Requant& rq, int rows, int cols, TOut* out,
               size_t out_stride) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
  const int16_t *a0 = a, *a1 = a + a_stride, *a2 = a + 2 * a_stride, *a3 = a + 3 * a_stride;
  const uint8_t* b2 = b + b_block_stride;
  for (int kp = 0; kp < kpairs; ++kp) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + static_cast<size_t>(kp) * 16));
    const __m128i raw2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b2 + static_cast<size_t>(kp) * 16));
    const __m256i bw = kSigned ? _mm256_cvtepi8_epi16(raw) : _mm256_cvtepu8_epi16(raw);
    const __m256i bw2 = kSigned ? _mm256_cvtepi8_epi16(raw2) : _mm256_cvtepu8_epi16(raw2);
    __m256i av = BroadcastPair(a0 + 2 * kp);
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(av, bw));
    d0 = _mm256_add_epi32(d0, _mm256_madd_epi16(av, bw2));
    av = BroadcastPair(a1 + 2 * kp);
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(av, bw));
    d1 = _mm256_add_epi32(d1, _mm256_madd_epi16(av, bw2));
    av = BroadcastPair(a2 + 2 * kp);
    c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(av, bw));
    d2 = _mm256_add_epi32(d2, _mm256_madd_epi16(av, bw2));
    av = BroadcastPair(a3 + 2 * kp);
    c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(av, bw));
    d3 = _mm256_add_epi32(d3, _mm256_madd_epi16(av, bw2));
  }
  const __m256i cb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col_bias));
  const __m256i cb2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col_bias + kNr));
  __m256i m, sh, m2, sh2;
  LoadRequant(rq, 0, kNr, &m, &sh);
  LoadRequant(rq, kNr, cols - kNr, &m2, &sh2);
  const __m256i tile[kMr] = {c0, c1, c2, c3}, tile2[kMr] = {d0, d1, d2, d3};
  for (int r = 0; r < rows; ++r) {
    const __m256i corr = _mm256_set1_epi32(row_corr[r]);
    StoreBytes<TOut>(RequantAvx2(_mm256_add_epi32(_mm256_add_epi32(tile[r], cb), corr), m, sh, rq), kNr,
                     out + r * out_stride);
    StoreBytes<TOut>(RequantAvx2(_mm256_add_epi32(_mm256_add_epi32(tile2[r], cb2), corr), m2, sh2, rq), cols - kNr,
                     out + r * out_stride + kNr);
  }
}

// Sixteen channels of x[c] + input_offset (or w[c] + filter_offset) as int16.
template <bool kSigned>
inline __m256i Widen16(const void* p, __m256i offset) {
  const __m128i raw = _mm_loadu_si128(static_cast<const __m128i*>(p));
  return _mm256_add_epi16(kSigned ? _mm256_cvtepi8_epi16(raw) : _mm256_cvtepu8_epi16(raw), offset);
}

// Depthwise taps two at a time: the two taps' int16 values are interleaved
// per channel and vpmaddwd adds both products into one int32 per channel
// (each |product| <= 255 * 255, so the pair sum is exact). Unpacking works
// within 128-bit halves: lo holds channels 0-3 and 8-11, hi 4-7 and 12-15.
template <bool kSigned, typename T>
void DwAvx2(int n, int taps, const T* const* x, const T* const* w, int c0, int32_t input_offset,
            int32_t filter_offset, int32_t* acc) {
  const __m256i xo = _mm256_set1_epi16(static_cast<int16_t>(input_offset));
  const __m256i wo = _mm256_set1_epi16(static_cast<int16_t>(kSigned ? 0 : filter_offset));
  int c = 0;
  for (; c + 16 <= n; c += 16) {
    const int at = c0 + c;
    __m256i lo = _mm256_setzero_si256(), hi = lo;
    int t = 0;
    for (; t + 2 <= taps; t += 2) {
      const __m256i xa = Widen16<kSigned>(x[t] + at, xo), xb = Widen16<kSigned>(x[t + 1] + at, xo);
      const __m256i wa = Widen16<kSigned>(w[t] + at, wo), wb = Widen16<kSigned>(w[t + 1] + at, wo);
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), _mm256_unpacklo_epi16(wa, wb)));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), _mm256_unpackhi_epi16(wa, wb)));
    }
    if (t < taps) {
      const __m256i xa = Widen16<kSigned>(x[t] + at, xo), wa = Widen16<kSigned>(w[t] + at, wo);
      const __m256i z = _mm256_setzero_si256();
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, z), _mm256_unpacklo_epi16(wa, z)));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, z), _mm256_unpackhi_epi16(wa, z)));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + c), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + c + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
  }
  if (c + 8 <= n) {
    // Eight channels in 128-bit halves.
    const int at = c0 + c;
    const __m128i xo8 = _mm256_castsi256_si128(xo), wo8 = _mm256_castsi256_si128(wo);
    auto widen8 = [](const T* ptr, __m128i offset) {
      const __m128i raw = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(ptr));
      return _mm_add_epi16(kSigned ? _mm_cvtepi8_epi16(raw) : _mm_cvtepu8_epi16(raw), offset);
    };
    __m128i lo = _mm_setzero_si128(), hi = lo;
    for (int t = 0; t < taps; t += 2) {
      const __m128i xa = widen8(x[t] + at, xo8), wa = widen8(w[t] + at, wo8);
      const __m128i xb = t + 1 < taps ? widen8(x[t + 1] + at, xo8) : _mm_setzero_si128();
      const __m128i wb = t + 1 < taps ? widen8(w[t + 1] + at, wo8) : _mm_setzero_si128();
      lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_unpacklo_epi16(xa, xb), _mm_unpacklo_epi16(wa, wb)));
      hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_unpackhi_epi16(xa, xb), _mm_unpackhi_epi16(wa, wb)));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + c), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + c + 4), hi);
    c += 8;
  }
  if (c < n) DwBlock<T, !kSigned>(n - c, taps, x, w, c0 + c, input_offset, filter_offset, acc + c);
}

// Quantized ADD eight elements at a time: the reference's per-element steps
// (AddQuantizedOne) in vector lanes; Prepare guarantees shifts <= 0, for
// which MultiplyByQuantizedMultiplierSmallerThanOneExp is the function above.
template <bool kSigned, typename T>
void AddAvx2(int n, const T* a, const T* b, const AddParams& p, T* out) {
  const __m256i off1 = _mm256_set1_epi32(p.input1_offset), off2 = _mm256_set1_epi32(p.input2_offset);
  const __m256i left = _mm256_set1_epi32(p.left_shift);
  const __m256i m1 = _mm256_set1_epi32(p.input1_multiplier), s1 = _mm256_set1_epi32(p.input1_shift);
  const __m256i m2 = _mm256_set1_epi32(p.input2_multiplier), s2 = _mm256_set1_epi32(p.input2_shift);
  const __m256i mo = _mm256_set1_epi32(p.output_multiplier), so = _mm256_set1_epi32(p.output_shift);
  const __m256i oo = _mm256_set1_epi32(p.output_offset);
  const __m256i lo = _mm256_set1_epi32(p.qrange.min), hi = _mm256_set1_epi32(p.qrange.max);
  auto in_range = [](int shift) { return shift <= 0 && shift >= -31; };
  const bool vector_ok = in_range(p.input1_shift) && in_range(p.input2_shift) && in_range(p.output_shift) &&
                         p.left_shift >= 0 && p.left_shift < 24;
  int i = 0;
  for (; vector_ok && i + 8 <= n; i += 8) {
    const __m128i ra = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + i));
    const __m128i rb = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + i));
    const __m256i va = kSigned ? _mm256_cvtepi8_epi32(ra) : _mm256_cvtepu8_epi32(ra);
    const __m256i vb = kSigned ? _mm256_cvtepi8_epi32(rb) : _mm256_cvtepu8_epi32(rb);
    const __m256i x1 = _mm256_sllv_epi32(_mm256_add_epi32(va, off1), left);
    const __m256i x2 = _mm256_sllv_epi32(_mm256_add_epi32(vb, off2), left);
    const __m256i sum =
        _mm256_add_epi32(MulByQuantizedMultiplierAvx2(x1, m1, s1), MulByQuantizedMultiplierAvx2(x2, m2, s2));
    __m256i v = _mm256_add_epi32(MulByQuantizedMultiplierAvx2(sum, mo, so), oo);
    v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
    StoreBytes<T>(v, 8, out + i);
  }
  for (; i < n; ++i) out[i] = reference::AddQuantizedOne<T>(p, a[i], b[i]);
}

void DwS8Avx2(int n, int taps, const int8_t* const* x, const int8_t* const* w, int c0, int32_t input_offset,
              int32_t* acc) {
  DwAvx2<true, int8_t>(n, taps, x, w, c0, input_offset, 0, acc);
}
void DwU8Avx2(int n, int taps, const uint8_t* const* x, const uint8_t* const* w, int c0, int32_t input_offset,
              int32_t filter_offset, int32_t* acc) {
  DwAvx2<false, uint8_t>(n, taps, x, w, c0, input_offset, filter_offset, acc);
}
}  // namespace avx2

const Ukernels* Avx2Ukernels() {
  static const Ukernels table = [] {
    Ukernels u = avx2::MakeTable("avx2");
    u.gemm_s8 = &avx2::GemmAvx2<true, int8_t>;
    u.gemm_u8 = &avx2::GemmAvx2<false, uint8_t>;
    u.requant_s8 = &avx2::RequantRowAvx2<int8_t>;
    u.requant_u8 = &avx2::RequantRowAvx2<uint8_t>;
    u.gemm2_s8 = &avx2::Gemm2Avx2<true, int8_t>;
    u.gemm2_u8 = &avx2::Gemm2Avx2<false, uint8_t>;
    u.dw_s8 = &avx2::DwS8Avx2;
    u.add_s8 = &avx2::AddAvx2<true, int8_t>;
    u.add_u8 = &avx2::AddAvx2<false, uint8_t>;
    u.dw_u8 = &avx2::DwU8Avx2;
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
