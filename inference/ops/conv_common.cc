#include "inference/ops/conv_common.h"

#include <cmath>

namespace triage::inference::ops {
namespace {

// A plain (one-group) quantized convolution runs as a GEMM over the filter
// seen as [out_d, f_h * f_w * in_d]; depthwise and grouped ones read the
// filter in place.
Status PackConvWeights(PrepareContext& ctx, const TensorSpec& filter, const TensorSpec* bias, bool depthwise,
                       int in_d, kernels::ConvParams* p) {
  if (depthwise || filter.shape.dims[3] != in_d) return Status::Ok();
  const int n = filter.shape.dims[0];
  const int k = filter.shape.dims[1] * filter.shape.dims[2] * filter.shape.dims[3];
  return PackGemmWeights(ctx, filter, bias, n, k, p->input_offset, p->filter_offset, &p->packed, &p->scratch);
}

}  // namespace

Status PrepareConvLike(PrepareContext& ctx, const ConvGeometry& g, bool depthwise) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 2, 3, 1));
  const TensorSpec *in, *filter, *out;
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, &in));
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 1, &filter));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, &out));
  const TensorSpec* bias = ctx.input(2);
  const int ii = ctx.input_index(0), fi = ctx.input_index(1), bi = ctx.input_index(2), oi = ctx.output_index(0);
  TRIAGE_RETURN_IF_ERROR(ExpectRank(*in, ii, "input", 4));
  TRIAGE_RETURN_IF_ERROR(ExpectRank(*filter, fi, "filter", 4));
  TRIAGE_RETURN_IF_ERROR(ExpectRank(*out, oi, "output", 4));
  if (g.stride_h <= 0 || g.stride_w <= 0 || g.dilation_h <= 0 || g.dilation_w <= 0) {
    return Status::Error(StatusCode::kInvalidArgument, "stride %dx%d and dilation %dx%d must be positive",
                         g.stride_h, g.stride_w, g.dilation_h, g.dilation_w);
  }
  kernels::Activation act;
  TRIAGE_RETURN_IF_ERROR(ActivationFrom(g.activation, &act));

  const int batches = in->shape.dims[0], in_h = in->shape.dims[1], in_w = in->shape.dims[2];
  const int in_d = in->shape.dims[3];
  const int f_h = filter->shape.dims[1], f_w = filter->shape.dims[2];
  int out_d = 0, depth_multiplier = 1;
  if (depthwise) {
    if (filter->shape.dims[0] != 1) {
      return Status::Error(StatusCode::kInvalidArgument, "filter tensor %d: dimension 0 must be 1, got %d", fi,
                           filter->shape.dims[0]);
    }
    out_d = filter->shape.dims[3];
    // The depth_multiplier option is redundant (TFLite ignores it in newer
    // versions); derive it from the shapes.
    if (out_d % in_d != 0) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "filter tensor %d: %d output channels is not a multiple of %d input channels", fi, out_d,
                           in_d);
    }
    depth_multiplier = out_d / in_d;
  } else {
    out_d = filter->shape.dims[0];
    const int f_d = filter->shape.dims[3];
    if (f_d <= 0 || in_d % f_d != 0 || out_d % (in_d / f_d) != 0) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "filter tensor %d: %d filter channels do not divide %d input channels into groups", fi,
                           f_d, in_d);
    }
  }
  const int out_h = ComputeOutSize(g.padding, in_h, f_h, g.stride_h, g.dilation_h);
  const int out_w = ComputeOutSize(g.padding, in_w, f_w, g.stride_w, g.dilation_w);
  const Shape expected = kernels::MakeShape({batches, out_h, out_w, out_d});
  if (out_h <= 0 || out_w <= 0 || out->shape != expected) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "output tensor %d: shape [%d,%d,%d,%d] does not match the computed [%d,%d,%d,%d]", oi,
                         out->shape.dims[0], out->shape.dims[1], out->shape.dims[2], out->shape.dims[3], batches,
                         out_h, out_w, out_d);
  }

  const DataType type = in->type;
  if (type != DataType::kFloat32 && type != DataType::kUint8 && type != DataType::kInt8) {
    return Status::Error(StatusCode::kUnsupported, "input tensor %d: type %s unsupported", ii,
                         kernels::DataTypeName(type));
  }
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *filter, fi, "filter", type));
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *out, oi, "output", type));
  TRIAGE_RETURN_IF_ERROR(ExpectBias(ctx, bias, bi, type, out_d));

  ConvData* data = nullptr;
  TRIAGE_RETURN_IF_ERROR(NewOpData(ctx, &data));
  data->type = type;
  data->depthwise = depthwise;
  kernels::DepthwiseParams& p = data->params;
  p.stride_h = g.stride_h;
  p.stride_w = g.stride_w;
  p.dilation_h = g.dilation_h;
  p.dilation_w = g.dilation_w;
  p.pad_h = ComputePadding(g.stride_h, g.dilation_h, in_h, f_h, out_h);
  p.pad_w = ComputePadding(g.stride_w, g.dilation_w, in_w, f_w, out_w);
  p.depth_multiplier = depth_multiplier;
  p.parallel = ctx.parallel();

  if (type == DataType::kFloat32) {
    p.frange = kernels::ActivationRangeFloat(act);
    return Status::Ok();
  }

  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ii, "input"));
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*out, oi, "output"));
  TRIAGE_RETURN_IF_ERROR(ExpectQuantized(*filter, fi, "filter"));
  const float input_scale = in->quant.scales[0], output_scale = out->quant.scales[0];
  p.input_offset = -static_cast<int32_t>(in->quant.zero_points[0]);
  p.output_offset = static_cast<int32_t>(out->quant.zero_points[0]);
  p.qrange = QuantizedActivationRange(act, *out);
  {
    const int64_t terms = static_cast<int64_t>(f_h) * f_w * (depthwise ? 1 : filter->shape.dims[3]);
    TRIAGE_RETURN_IF_ERROR(CheckAccumulator(terms, type == DataType::kUint8 ? 255 * 255 : 128 * 255, bias, bi));
  }
  const size_t channel_count = filter->quant.scales.size();
  const int channel_dim = depthwise ? 3 : 0;

  if (type == DataType::kUint8) {
    TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*filter, fi, "filter"));
    const float filter_scale = filter->quant.scales[0];
    p.filter_offset = -static_cast<int32_t>(filter->quant.zero_points[0]);
    // TFLite's GetQuantizedConvolutionMultipler: the scale product is taken
    // in float, then widened; bias scale must match it within 2% of the output scale.
    const double input_product_scale = static_cast<double>(input_scale * filter_scale);
    if (bias && !bias->quant.scales.empty()) {
      const double diff = std::abs(input_product_scale - static_cast<double>(bias->quant.scales[0]));
      if (diff / static_cast<double>(output_scale) > 0.02) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "bias tensor %d: scale %g differs from input x filter scale %g", bi,
                             static_cast<double>(bias->quant.scales[0]), input_product_scale);
      }
    }
    int shift = 0;
    TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(input_product_scale / static_cast<double>(output_scale), &p.output_multiplier,
                                &shift));
    p.output_shift = shift;
    return PackConvWeights(ctx, *filter, bias, depthwise, in_d, &p);
  }

  // int8: symmetric per-channel (or per-tensor broadcast) filters.
  if (channel_count != 1) {
    if (filter->quant.quantized_dimension != channel_dim || channel_count != static_cast<size_t>(out_d)) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "filter tensor %d: %zu per-channel scales on dimension %d; expected %d on dimension %d",
                           fi, channel_count, filter->quant.quantized_dimension, out_d, channel_dim);
    }
  }
  for (size_t c = 0; c < channel_count; ++c) {
    if (filter->quant.zero_points[c] != 0) {
      return Status::Error(StatusCode::kInvalidArgument, "filter tensor %d: zero point[%zu] = %lld, int8 weights must be symmetric",
                           fi, c, static_cast<long long>(filter->quant.zero_points[c]));
    }
  }
  auto* multipliers = ctx.AllocateOpData<int32_t>(static_cast<size_t>(out_d));
  auto* shifts = ctx.AllocateOpData<int32_t>(static_cast<size_t>(out_d));
  if (!multipliers || !shifts) return Status::Error(StatusCode::kResourceExhausted, "cannot allocate op data");
  for (int c = 0; c < out_d; ++c) {
    const double filter_scale = static_cast<double>(filter->quant.scales[channel_count == 1 ? 0 : static_cast<size_t>(c)]);
    const double effective = static_cast<double>(input_scale) * filter_scale / static_cast<double>(output_scale);
    int shift = 0;
    TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(effective, &multipliers[c], &shift));
    shifts[c] = shift;
  }
  p.per_channel_multiplier = multipliers;
  p.per_channel_shift = shifts;
  return PackConvWeights(ctx, *filter, bias, depthwise, in_d, &p);
}

}  // namespace triage::inference::ops
