#include "tests/kernels/op_runner.h"

#include "kernels/optimized/gemm.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/parallel.h"
#include "kernels/quant.h"

namespace triage::kernels::testing {
namespace {

const char* PaddingName(Padding p) { return p == Padding::kSame ? "SAME" : "VALID"; }
const char* ActName(Activation a) {
  switch (a) {
    case Activation::kNone: return "NONE";
    case Activation::kRelu: return "RELU";
    case Activation::kRelu6: return "RELU6";
    case Activation::kReluN1To1: return "RELU_N1_TO_1";
  }
  return "?";
}

float MinOf(const std::vector<float>& v) { return v.empty() ? 0.0f : *std::min_element(v.begin(), v.end()); }
float MaxOf(const std::vector<float>& v) { return v.empty() ? 0.0f : *std::max_element(v.begin(), v.end()); }

}  // namespace

// ---------------------------------------------------------------------------
// Conv

std::string ConvSpec::ToString() const {
  return std::string(depthwise ? "depthwise" : "conv") + " in=[" + std::to_string(batches) + "," +
         std::to_string(in_h) + "," + std::to_string(in_w) + "," + std::to_string(in_d) + "] out_d=" +
         std::to_string(out_d) + " groups=" + std::to_string(groups) + " mult=" + std::to_string(depth_multiplier) +
         " f=" + std::to_string(f_h) + "x" + std::to_string(f_w) + " stride=" + std::to_string(stride_h) + "," +
         std::to_string(stride_w) + " dil=" + std::to_string(dilation_h) + "," + std::to_string(dilation_w) + " " +
         PaddingName(padding) + " " + ActName(act) + (has_bias ? " bias" : " nobias");
}

ConvGeometry GeometryOf(const ConvSpec& s) {
  ConvGeometry g;
  const int out_h = OutSize(s.padding, s.in_h, s.f_h, s.stride_h, s.dilation_h);
  const int out_w = OutSize(s.padding, s.in_w, s.f_w, s.stride_w, s.dilation_w);
  g.pad_h = s.padding == Padding::kSame ? PadBefore(s.stride_h, s.dilation_h, s.in_h, s.f_h, out_h) : 0;
  g.pad_w = s.padding == Padding::kSame ? PadBefore(s.stride_w, s.dilation_w, s.in_w, s.f_w, out_w) : 0;
  g.input = MakeShape({s.batches, s.in_h, s.in_w, s.in_d});
  if (s.depthwise) {
    const int out_d = s.in_d * s.depth_multiplier;
    g.filter = MakeShape({1, s.f_h, s.f_w, out_d});
    g.output = MakeShape({s.batches, out_h, out_w, out_d});
  } else {
    g.filter = MakeShape({s.out_d, s.f_h, s.f_w, s.in_d / s.groups});
    g.output = MakeShape({s.batches, out_h, out_w, s.out_d});
  }
  return g;
}

ConvData RandomConvData(Rng& rng, const ConvSpec& s) {
  const ConvGeometry g = GeometryOf(s);
  ConvData d;
  d.input = rng.Floats(static_cast<size_t>(g.input.FlatSize()), -2.0f, 2.0f);
  d.filter = rng.Floats(static_cast<size_t>(g.filter.FlatSize()), -1.0f, 1.0f);
  if (s.has_bias) d.bias = rng.Floats(static_cast<size_t>(g.output.dims[3]), -1.0f, 1.0f);
  return d;
}

static DepthwiseParams GeometryParams(const ConvSpec& s, const ConvGeometry& g) {
  DepthwiseParams p;
  p.stride_h = s.stride_h;
  p.stride_w = s.stride_w;
  p.dilation_h = s.dilation_h;
  p.dilation_w = s.dilation_w;
  p.pad_h = g.pad_h;
  p.pad_w = g.pad_w;
  p.depth_multiplier = s.depth_multiplier;
  return p;
}

std::vector<float> RunConvFloat(const KernelTable& t, const ConvSpec& s, const ConvData& d) {
  const ConvGeometry g = GeometryOf(s);
  DepthwiseParams p = GeometryParams(s, g);
  p.frange = ActivationRangeFloat(s.act);
  std::vector<float> out(static_cast<size_t>(g.output.FlatSize()));
  const float* bias = d.bias.empty() ? nullptr : d.bias.data();
  if (s.depthwise) {
    t.depthwise_float(p, g.input, d.input.data(), g.filter, d.filter.data(), bias, g.output, out.data());
  } else {
    t.conv_float(p, g.input, d.input.data(), g.filter, d.filter.data(), bias, g.output, out.data());
  }
  return out;
}

template <typename T>
ConvData QuantizedConv<T>::Dequantized() const {
  ConvData d;
  d.input = DequantizeAll(input, in_q);
  d.filter.resize(filter.size());
  const int out_d = geo.output.dims[3];
  // Filters are OHWI (conv, channel = outermost) or 1HWO (depthwise, channel = innermost).
  const size_t per_out = filter.size() / static_cast<size_t>(out_d);
  for (size_t i = 0; i < filter.size(); ++i) {
    const size_t c = spec.depthwise ? i % static_cast<size_t>(out_d) : i / per_out;
    d.filter[i] = static_cast<float>(DequantizeValue(filter[i], filter_q[filter_q.size() == 1 ? 0 : c]));
  }
  for (size_t c = 0; c < bias.size(); ++c) {
    const QuantSpec& fq = filter_q[filter_q.size() == 1 ? 0 : c];
    d.bias.push_back(static_cast<float>(static_cast<double>(bias[c]) * in_q.scale * fq.scale));
  }
  return d;
}

template <typename T>
void QuantizedConv<T>::SetOutput(const QuantSpec& out) {
  out_q = out;
  const int out_d = geo.output.dims[3];
  multipliers.assign(static_cast<size_t>(out_d), 0);
  shifts.assign(static_cast<size_t>(out_d), 0);
  for (int c = 0; c < out_d; ++c) {
    const QuantSpec& fq = filter_q[filter_q.size() == 1 ? 0 : static_cast<size_t>(c)];
    // As TFLite's Prepare: uint8 (GetQuantizedConvolutionMultipler) takes the
    // scale product in float; int8 per-channel takes it in double.
    const double product = std::is_same<T, uint8_t>::value ? static_cast<double>(in_q.scale * fq.scale)
                                                           : static_cast<double>(in_q.scale) * fq.scale;
    const double real = product / static_cast<double>(out_q.scale);
    QuantizeMultiplier(real, &multipliers[static_cast<size_t>(c)], &shifts[static_cast<size_t>(c)]);
  }
  params.output_multiplier = multipliers[0];
  params.output_shift = shifts[0];
  params.input_offset = -in_q.zero_point;
  params.filter_offset = std::is_same<T, uint8_t>::value ? -filter_q[0].zero_point : 0;
  params.output_offset = out_q.zero_point;
  params.qrange = ActivationRangeQuantized(spec.act, out_q.scale, out_q.zero_point, TypeMin<T>(), TypeMax<T>());
}

namespace {
Parallel* g_parallel = nullptr;
}  // namespace

void SetRunnerParallel(Parallel* parallel) { g_parallel = parallel; }

// What the interpreter's Prepare does for an optimized table: packs the
// n x k filter (kernels/optimized/gemm.h) and sizes one scratch block per
// worker thread.
struct PackedForTest {
  std::vector<int32_t> blob, scratch;  // int32 storage: aligned for the packed header
  void Pack(const KernelTable& t, const void* filter, bool is_signed, const int32_t* bias, int n, int k,
            int32_t input_offset, int32_t filter_offset, const void** packed, void** work) {
    if (t.ukernels == nullptr) return;
    optimized::GemmPackSource src;
    src.filter = static_cast<const uint8_t*>(filter);
    src.bias = reinterpret_cast<const uint8_t*>(bias);
    src.n = n;
    src.k = k;
    src.input_offset = input_offset;
    src.filter_offset = filter_offset;
    src.filter_signed = is_signed;
    blob.assign(optimized::PackedGemmBytes(n, k) / 4 + 1, 0);
    const size_t threads = g_parallel ? static_cast<size_t>(g_parallel->threads()) : 1;
    scratch.assign(optimized::GemmScratchBytes(k) * threads / 4 + 1, 0);
    optimized::PackGemm(src, blob.data());
    *packed = blob.data();
    *work = scratch.data();
  }
};

template <typename T>
std::vector<T> QuantizedConv<T>::Run(const KernelTable& t) const {
  DepthwiseParams p = params;
  p.parallel = g_parallel;
  p.per_channel_multiplier = multipliers.data();
  p.per_channel_shift = shifts.data();
  std::vector<T> out(static_cast<size_t>(geo.output.FlatSize()));
  const int32_t* b = bias.empty() ? nullptr : bias.data();
  PackedForTest packed;
  if (!spec.depthwise && geo.filter.Dim(3) == geo.input.Dim(3)) {
    packed.Pack(t, filter.data(), std::is_signed_v<T>, b, geo.filter.Dim(0),
                geo.filter.Dim(1) * geo.filter.Dim(2) * geo.filter.Dim(3), p.input_offset, p.filter_offset,
                &p.packed, &p.scratch);
  }
  if constexpr (std::is_same<T, uint8_t>::value) {
    if (spec.depthwise) {
      t.depthwise_uint8(p, geo.input, input.data(), geo.filter, filter.data(), b, geo.output, out.data());
    } else {
      t.conv_uint8(p, geo.input, input.data(), geo.filter, filter.data(), b, geo.output, out.data());
    }
  } else {
    if (spec.depthwise) {
      t.depthwise_int8(p, geo.input, input.data(), geo.filter, filter.data(), b, geo.output, out.data());
    } else {
      t.conv_int8(p, geo.input, input.data(), geo.filter, filter.data(), b, geo.output, out.data());
    }
  }
  return out;
}

template <typename T>
QuantizedConv<T> QuantizeConv(const ConvSpec& s, const ConvData& d, const QuantSpec* out_q) {
  QuantizedConv<T> q;
  q.spec = s;
  q.geo = GeometryOf(s);
  q.params = GeometryParams(s, q.geo);
  q.in_q = CalibrateAsymmetric<T>(d.input);
  q.input = QuantizeAll<T>(d.input, q.in_q);
  const int out_d = q.geo.output.dims[3];
  q.filter.resize(d.filter.size());
  if constexpr (std::is_same<T, uint8_t>::value) {
    q.filter_q = {CalibrateAsymmetric<uint8_t>(d.filter)};
    q.filter = QuantizeAll<uint8_t>(d.filter, q.filter_q[0]);
  } else {
    // Per-channel symmetric scales over each output channel's weights.
    q.filter_q.resize(static_cast<size_t>(out_d));
    const size_t per_out = d.filter.size() / static_cast<size_t>(out_d);
    for (int c = 0; c < out_d; ++c) {
      std::vector<float> w;
      for (size_t i = 0; i < d.filter.size(); ++i) {
        const size_t ch = s.depthwise ? i % static_cast<size_t>(out_d) : i / per_out;
        if (ch == static_cast<size_t>(c)) w.push_back(d.filter[i]);
      }
      q.filter_q[static_cast<size_t>(c)] = CalibrateSymmetricInt8(w.data(), w.size());
    }
    for (size_t i = 0; i < d.filter.size(); ++i) {
      const size_t ch = s.depthwise ? i % static_cast<size_t>(out_d) : i / per_out;
      q.filter[i] = QuantizeValue<int8_t>(d.filter[i], q.filter_q[ch]);
    }
  }
  for (size_t c = 0; c < d.bias.size(); ++c) {
    const QuantSpec& fq = q.filter_q[q.filter_q.size() == 1 ? 0 : c];
    const double bias_scale = static_cast<double>(q.in_q.scale) * fq.scale;
    q.bias.push_back(static_cast<int32_t>(std::round(d.bias[c] / bias_scale)));
  }
  if (out_q != nullptr) {
    q.SetOutput(*out_q);
  } else {
    const std::vector<float> ref = RunConvFloat(GetKernelTable(KernelSet::kReference), s, q.Dequantized());
    q.SetOutput(CalibrateAsymmetric<T>(MinOf(ref), MaxOf(ref)));
  }
  return q;
}

template struct QuantizedConv<uint8_t>;
template struct QuantizedConv<int8_t>;
template QuantizedConv<uint8_t> QuantizeConv<uint8_t>(const ConvSpec&, const ConvData&, const QuantSpec*);
template QuantizedConv<int8_t> QuantizeConv<int8_t>(const ConvSpec&, const ConvData&, const QuantSpec*);

// ---------------------------------------------------------------------------
// Fully connected

std::string FcSpec::ToString() const {
  return "fc batches=" + std::to_string(batches) + " accum=" + std::to_string(accum_depth) +
         " out=" + std::to_string(output_depth) + " " + ActName(act) + (has_bias ? " bias" : " nobias");
}

FcData RandomFcData(Rng& rng, const FcSpec& s) {
  FcData d;
  d.input = rng.Floats(static_cast<size_t>(s.batches * s.accum_depth), -2.0f, 2.0f);
  d.filter = rng.Floats(static_cast<size_t>(s.output_depth * s.accum_depth), -1.0f, 1.0f);
  if (s.has_bias) d.bias = rng.Floats(static_cast<size_t>(s.output_depth), -1.0f, 1.0f);
  return d;
}

static FullyConnectedParams FcShapeParams(const FcSpec& s) {
  FullyConnectedParams p;
  p.batches = s.batches;
  p.accum_depth = s.accum_depth;
  p.output_depth = s.output_depth;
  return p;
}

std::vector<float> RunFcFloat(const KernelTable& t, const FcSpec& s, const FcData& d) {
  FullyConnectedParams p = FcShapeParams(s);
  p.frange = ActivationRangeFloat(s.act);
  std::vector<float> out(static_cast<size_t>(s.batches * s.output_depth));
  t.fully_connected_float(p, d.input.data(), d.filter.data(), d.bias.empty() ? nullptr : d.bias.data(), out.data());
  return out;
}

template <typename T>
FcData QuantizedFc<T>::Dequantized() const {
  FcData d;
  d.input = DequantizeAll(input, in_q);
  d.filter = DequantizeAll(filter, filter_q);
  for (int32_t b : bias) d.bias.push_back(static_cast<float>(static_cast<double>(b) * in_q.scale * filter_q.scale));
  return d;
}

template <typename T>
std::vector<T> QuantizedFc<T>::Run(const KernelTable& t) const {
  std::vector<T> out(static_cast<size_t>(spec.batches * spec.output_depth));
  const int32_t* b = bias.empty() ? nullptr : bias.data();
  FullyConnectedParams p = params;
  p.parallel = g_parallel;
  PackedForTest packed;
  packed.Pack(t, filter.data(), std::is_signed_v<T>, b, p.output_depth, p.accum_depth, p.input_offset,
              p.filter_offset, &p.packed, &p.scratch);
  if constexpr (std::is_same<T, uint8_t>::value) {
    t.fully_connected_uint8(p, input.data(), filter.data(), b, out.data());
  } else {
    t.fully_connected_int8(p, input.data(), filter.data(), b, out.data());
  }
  return out;
}

template <typename T>
QuantizedFc<T> QuantizeFc(const FcSpec& s, const FcData& d, bool filter_zero_point_nonzero) {
  QuantizedFc<T> q;
  q.spec = s;
  q.in_q = CalibrateAsymmetric<T>(d.input);
  q.input = QuantizeAll<T>(d.input, q.in_q);
  if (std::is_same<T, uint8_t>::value || filter_zero_point_nonzero) {
    q.filter_q = CalibrateAsymmetric<T>(d.filter);
  } else {
    q.filter_q = CalibrateSymmetricInt8(d.filter.data(), d.filter.size());
  }
  q.filter = QuantizeAll<T>(d.filter, q.filter_q);
  const double bias_scale = static_cast<double>(q.in_q.scale) * q.filter_q.scale;
  for (float b : d.bias) q.bias.push_back(static_cast<int32_t>(std::round(b / bias_scale)));
  const std::vector<float> ref = RunFcFloat(GetKernelTable(KernelSet::kReference), s, q.Dequantized());
  q.out_q = CalibrateAsymmetric<T>(MinOf(ref), MaxOf(ref));
  q.params = FcShapeParams(s);
  q.params.input_offset = -q.in_q.zero_point;
  q.params.filter_offset = -q.filter_q.zero_point;
  q.params.output_offset = q.out_q.zero_point;
  // TFLite's GetQuantizedConvolutionMultipler: float product, then widened.
  const double product = static_cast<double>(q.in_q.scale * q.filter_q.scale);
  QuantizeMultiplier(product / static_cast<double>(q.out_q.scale), &q.params.output_multiplier,
                     &q.params.output_shift);
  q.params.qrange = ActivationRangeQuantized(s.act, q.out_q.scale, q.out_q.zero_point, TypeMin<T>(), TypeMax<T>());
  return q;
}

template struct QuantizedFc<uint8_t>;
template struct QuantizedFc<int8_t>;
template QuantizedFc<uint8_t> QuantizeFc<uint8_t>(const FcSpec&, const FcData&, bool);
template QuantizedFc<int8_t> QuantizeFc<int8_t>(const FcSpec&, const FcData&, bool);

// ---------------------------------------------------------------------------
// Pooling

std::string PoolSpec::ToString() const {
  return std::string(max ? "maxpool" : "avgpool") + " in=[" + std::to_string(batches) + "," + std::to_string(in_h) +
         "," + std::to_string(in_w) + "," + std::to_string(depth) + "] f=" + std::to_string(f_h) + "x" +
         std::to_string(f_w) + " stride=" + std::to_string(stride_h) + "," + std::to_string(stride_w) + " " +
         PaddingName(padding) + " " + ActName(act);
}

PoolGeometry GeometryOf(const PoolSpec& s) {
  PoolGeometry g;
  const int out_h = OutSize(s.padding, s.in_h, s.f_h, s.stride_h, 1);
  const int out_w = OutSize(s.padding, s.in_w, s.f_w, s.stride_w, 1);
  g.input = MakeShape({s.batches, s.in_h, s.in_w, s.depth});
  g.output = MakeShape({s.batches, out_h, out_w, s.depth});
  g.params.stride_h = s.stride_h;
  g.params.stride_w = s.stride_w;
  g.params.filter_h = s.f_h;
  g.params.filter_w = s.f_w;
  g.params.pad_h = s.padding == Padding::kSame ? PadBefore(s.stride_h, 1, s.in_h, s.f_h, out_h) : 0;
  g.params.pad_w = s.padding == Padding::kSame ? PadBefore(s.stride_w, 1, s.in_w, s.f_w, out_w) : 0;
  g.params.parallel = g_parallel;
  return g;
}

std::vector<float> RunPoolFloat(const KernelTable& t, const PoolSpec& s, const std::vector<float>& in) {
  PoolGeometry g = GeometryOf(s);
  g.params.frange = ActivationRangeFloat(s.act);
  std::vector<float> out(static_cast<size_t>(g.output.FlatSize()));
  (s.max ? t.max_pool_float : t.average_pool_float)(g.params, g.input, in.data(), g.output, out.data());
  return out;
}

template <typename T>
std::vector<T> RunPoolQuantized(const KernelTable& t, const PoolSpec& s, const QuantSpec& q, const std::vector<T>& in) {
  PoolGeometry g = GeometryOf(s);
  g.params.qrange = ActivationRangeQuantized(s.act, q.scale, q.zero_point, TypeMin<T>(), TypeMax<T>());
  std::vector<T> out(static_cast<size_t>(g.output.FlatSize()));
  if constexpr (std::is_same<T, uint8_t>::value) {
    (s.max ? t.max_pool_uint8 : t.average_pool_uint8)(g.params, g.input, in.data(), g.output, out.data());
  } else {
    (s.max ? t.max_pool_int8 : t.average_pool_int8)(g.params, g.input, in.data(), g.output, out.data());
  }
  return out;
}

template std::vector<uint8_t> RunPoolQuantized<uint8_t>(const KernelTable&, const PoolSpec&, const QuantSpec&,
                                                        const std::vector<uint8_t>&);
template std::vector<int8_t> RunPoolQuantized<int8_t>(const KernelTable&, const PoolSpec&, const QuantSpec&,
                                                      const std::vector<int8_t>&);

// ---------------------------------------------------------------------------
// Add / Mul

std::string BinarySpec::ToString() const {
  return std::string(mul ? "mul " : "add ") + ShapeString(s1) + " x " + ShapeString(s2) + " -> " +
         ShapeString(out) + " " + ActName(act);
}

Shape BroadcastShape(const Shape& a, const Shape& b) {
  Shape out;
  out.rank = std::max(a.rank, b.rank);
  for (int i = 0; i < out.rank; ++i) {
    const int ia = i - (out.rank - a.rank), ib = i - (out.rank - b.rank);
    const int32_t da = ia >= 0 ? a.dims[ia] : 1, db = ib >= 0 ? b.dims[ib] : 1;
    out.dims[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<float> RunBinaryFloat(const KernelTable& t, const BinarySpec& s, const std::vector<float>& a,
                                  const std::vector<float>& b) {
  std::vector<float> out(static_cast<size_t>(s.out.FlatSize()));
  if (s.mul) {
    MulParams p;
    p.frange = ActivationRangeFloat(s.act);
    t.mul_float(p, s.s1, a.data(), s.s2, b.data(), s.out, out.data());
  } else {
    AddParams p;
    p.frange = ActivationRangeFloat(s.act);
    t.add_float(p, s.s1, a.data(), s.s2, b.data(), s.out, out.data());
  }
  return out;
}

AddParams MakeAddParams(const QuantSpec& q1, const QuantSpec& q2, const QuantSpec& qo, Activation act, int32_t qmin,
                        int32_t qmax) {
  AddParams p;
  p.input1_offset = -q1.zero_point;
  p.input2_offset = -q2.zero_point;
  p.output_offset = qo.zero_point;
  p.left_shift = 20;
  const double twice_max_input_scale = 2.0 * std::max(q1.scale, q2.scale);
  QuantizeMultiplier(q1.scale / twice_max_input_scale, &p.input1_multiplier, &p.input1_shift);
  QuantizeMultiplier(q2.scale / twice_max_input_scale, &p.input2_multiplier, &p.input2_shift);
  QuantizeMultiplier(twice_max_input_scale / ((1 << p.left_shift) * static_cast<double>(qo.scale)),
                     &p.output_multiplier, &p.output_shift);
  p.qrange = ActivationRangeQuantized(act, qo.scale, qo.zero_point, qmin, qmax);
  return p;
}

MulParams MakeMulParams(const QuantSpec& q1, const QuantSpec& q2, const QuantSpec& qo, Activation act, int32_t qmin,
                        int32_t qmax) {
  MulParams p;
  p.input1_offset = -q1.zero_point;
  p.input2_offset = -q2.zero_point;
  p.output_offset = qo.zero_point;
  QuantizeMultiplier(static_cast<double>(q1.scale) * q2.scale / qo.scale, &p.output_multiplier, &p.output_shift);
  p.qrange = ActivationRangeQuantized(act, qo.scale, qo.zero_point, qmin, qmax);
  return p;
}

template <typename T>
std::vector<T> RunBinaryQuantized(const KernelTable& t, const BinarySpec& s, const QuantSpec& q1,
                                  const std::vector<T>& a, const QuantSpec& q2, const std::vector<T>& b,
                                  const QuantSpec& qo) {
  std::vector<T> out(static_cast<size_t>(s.out.FlatSize()));
  if (s.mul) {
    const MulParams p = MakeMulParams(q1, q2, qo, s.act, TypeMin<T>(), TypeMax<T>());
    if constexpr (std::is_same<T, uint8_t>::value) {
      t.mul_uint8(p, s.s1, a.data(), s.s2, b.data(), s.out, out.data());
    } else {
      t.mul_int8(p, s.s1, a.data(), s.s2, b.data(), s.out, out.data());
    }
  } else {
    AddParams p = MakeAddParams(q1, q2, qo, s.act, TypeMin<T>(), TypeMax<T>());
    p.parallel = g_parallel;
    if constexpr (std::is_same<T, uint8_t>::value) {
      t.add_uint8(p, s.s1, a.data(), s.s2, b.data(), s.out, out.data());
    } else {
      t.add_int8(p, s.s1, a.data(), s.s2, b.data(), s.out, out.data());
    }
  }
  return out;
}

template std::vector<uint8_t> RunBinaryQuantized<uint8_t>(const KernelTable&, const BinarySpec&, const QuantSpec&,
                                                          const std::vector<uint8_t>&, const QuantSpec&,
                                                          const std::vector<uint8_t>&, const QuantSpec&);
template std::vector<int8_t> RunBinaryQuantized<int8_t>(const KernelTable&, const BinarySpec&, const QuantSpec&,
                                                        const std::vector<int8_t>&, const QuantSpec&,
                                                        const std::vector<int8_t>&, const QuantSpec&);

// ---------------------------------------------------------------------------
// Softmax

SoftmaxParams MakeSoftmaxParams(float beta, float input_scale, int outer, int depth) {
  constexpr int kScaledDiffIntegerBits = 5;
  SoftmaxParams p;
  p.beta = beta;
  p.outer_size = outer;
  p.depth = depth;
  PreprocessSoftmaxScaling(beta, input_scale, kScaledDiffIntegerBits, &p.input_multiplier, &p.input_left_shift);
  p.diff_min = -CalculateInputRadius(kScaledDiffIntegerBits, p.input_left_shift);
  return p;
}

}  // namespace triage::kernels::testing
