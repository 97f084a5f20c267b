// XNNPACK peer runner: the same models, run by XNNPACK (the engine behind
// TensorFlow Lite's fast CPU path), so that our interpreter's latency can be
// compared with it in the same session. Bench-only and optional: it is built
// only when Debian's libxnnpack-dev and libpthreadpool-dev are installed.
//
// One benchmark per (model, thread count), named "XNNPACK/<model>/<n>T"
// (n = 1, 2: pthreadpool_create(n)). Each run
//   1. loads the model with our loader (Model::Create, read in place),
//   2. runs our own Interpreter once with the reference kernels on the same
//      deterministic input (cached per model), capturing the outputs and every
//      tensor that crosses an XNNPACK stage boundary,
//   3. translates our Model's operators and tensors into XNNPACK stages (see
//      below), creates the runtime on the thread pool, fills the same input,
//      does one untimed warm-up run and compares the outputs byte for byte,
//   4. times one full inference (all stages) per iteration, in wall time.
//
// Stages. Operators are mapped one to one; consecutive mappable operators form
// one XNNPACK subgraph/runtime:
//   CONV_2D            xnn_define_convolution_2d (int8: qcint8 per-channel
//                      filter, per-tensor scales replicated; uint8: quint8)
//   DEPTHWISE_CONV_2D  xnn_define_depthwise_convolution_2d (filter [1,H,W,C*M])
//   FULLY_CONNECTED    xnn_define_fully_connected (per-tensor qint8/quint8);
//                      per-channel int8 as a 1x1 qcint8 convolution on [N,1,1,K]
//   AVERAGE_POOL_2D    global window: xnn_define_global_average_pooling_2d;
//                      other windows: standalone xnn_*_average_pooling2d_nhwc_qu8
//   MEAN over H,W      xnn_define_global_average_pooling_2d
//   ADD, MUL           xnn_define_add2, xnn_define_multiply2
//   MAX_POOL_2D        xnn_define_max_pooling_2d
//   RELU, RELU6, RELU_N1_TO_1  xnn_define_clamp;  LOGISTIC  xnn_define_sigmoid
//   PAD                xnn_define_static_constant_pad (pads with real 0)
//   RESHAPE, SQUEEZE   no node: the output is the input's bytes
//   SOFTMAX            standalone xnn_create_softmax_nc_qu8 (the 2022 subgraph
//                      API has no quantized softmax); int8 runs as uint8 by
//                      flipping the sign bit (x ^ 0x80 = x + 128, zero point
//                      + 128), in and out. beta is folded into the input scale.
//   QUANTIZE, DEQUANTIZE  a host loop (int8 <-> uint8 of equal scale: x ^ 0x80)
// TFLite SAME padding becomes explicit paddings (TFLite's formula). Fused
// activations become output_min/output_max in the real domain. Any other
// operator ends the benchmark with SkipWithError naming it. The benchmark
// label lists the stages, e.g. "subgraph[29 nodes] > softmax_qu8(int8 via ^0x80)".
//
// Counters (JSON keys, used by scripts/bench_table.py):
//   max_diff            max |XNNPACK - reference| over every output element
//                       (quantized units; XNNPACK rounds differently, so a few
//                       units are expected; a large value is a mapping bug)
//   mismatches          output elements that differ at all
//   boundary_max_diff   the same over tensors passed between stages that are
//                       not model outputs (e.g. the logits before SOFTMAX)
//   threads             pthreadpool threads
//   macs, macs_per_s    TotalMacs(model), per inference and per second
//   weight_bytes        Model::weight_bytes() (XNNPACK packs its own copy)
//   runtime_rss_bytes   VmRSS growth while the runtime was created and warmed
//                       up: approximately XNNPACK's packed weights + its
//                       activation workspace + our stage buffers (page-grained)
//   peak_rss_bytes      VmHWM after the timed loop, reset after the reference
//                       check: baseline + model file + XNNPACK runtime
//   baseline_rss_bytes  VmRSS just before the model was loaded
//
// Debugging: TRIAGE_XNN_DEBUG=1 puts every operator in a stage of its own
// (every activation an external buffer) and prints to stderr the max
// difference of every tensor against the reference, in execution order, then
// of every operator run alone on the reference's inputs (its own error).
//
// Operator options (strides, padding, activation) are read through the flatc
// accessors of our schema (inference/schema_internal.h): this ground-side
// tool reads them the way inference/ops/ does; nothing is written.
#include <benchmark/benchmark.h>
#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <sys/stat.h>

#include "bench/bench_models.h"
#include "bench/proc_memory.h"
#include "inference/interpreter.h"
#include "inference/introspection.h"
#include "inference/model.h"
#include "inference/op_resolver.h"
#include "inference/schema_internal.h"
#include "kernels/kernel_table.h"


namespace triage::bench {
namespace {

using inference::BuiltinOp;
using inference::Interpreter;
using inference::InterpreterOptions;
using inference::Model;
using inference::OperatorSpec;
using inference::OpResolver;
using inference::TensorSpec;
using inference::TensorView;
using kernels::DataType;

constexpr float kInf = std::numeric_limits<float>::infinity();

constexpr int kThreadCounts[] = {1, 2};

bool g_xnn_ready = false;
std::string g_xnn_init_error;

bool DebugMode() {
  const char* env = std::getenv("TRIAGE_XNN_DEBUG");
  return env != nullptr && env[0] != '\0' && std::strcmp(env, "0") != 0;
}

const char* XnnStatusName(xnn_status s) {
  switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid_parameter";
    case xnn_status_invalid_state: return "invalid_state";
    case xnn_status_unsupported_parameter: return "unsupported_parameter";
    case xnn_status_unsupported_hardware: return "unsupported_hardware";
    case xnn_status_out_of_memory: return "out_of_memory";
  }
  return "unknown";
}

std::string ShapeText(const kernels::Shape& s) {
  std::string out = "[";
  for (int i = 0; i < s.rank; ++i) out += (i ? "," : "") + std::to_string(s.dims[i]);
  return out + "]";
}

// Element-wise max |a - b| of two tensors of one type; counts differing elements.
double MaxAbsDiff(DataType type, const uint8_t* a, const uint8_t* b, size_t bytes, size_t* mismatches) {
  double worst = 0.0;
  size_t differ = 0;
  auto visit = [&](double x, double y) {
    const double d = std::fabs(x - y);
    if (d > 0) ++differ;
    if (d > worst || std::isnan(d)) worst = std::isnan(d) ? kInf : d;
  };
  switch (type) {
    case DataType::kInt8:
      for (size_t i = 0; i < bytes; ++i) visit(static_cast<int8_t>(a[i]), static_cast<int8_t>(b[i]));
      break;
    case DataType::kFloat32:
    case DataType::kInt32:
      for (size_t i = 0; i + 4 <= bytes; i += 4) {
        if (type == DataType::kFloat32) {
          float x, y;
          std::memcpy(&x, a + i, 4);
          std::memcpy(&y, b + i, 4);
          visit(x, y);
        } else {
          int32_t x, y;
          std::memcpy(&x, a + i, 4);
          std::memcpy(&y, b + i, 4);
          visit(x, y);
        }
      }
      break;
    default:
      for (size_t i = 0; i < bytes; ++i) visit(a[i], b[i]);
      break;
  }
  if (mismatches) *mismatches += differ;
  return worst;
}

// Fused activation as XNNPACK's real-domain output range.
bool ActivationRange(tflite::ActivationFunctionType a, float* lo, float* hi) {
  switch (a) {
    case tflite::ActivationFunctionType::NONE: *lo = -kInf; *hi = kInf; return true;
    case tflite::ActivationFunctionType::RELU: *lo = 0.0f; *hi = kInf; return true;
    case tflite::ActivationFunctionType::RELU_N1_TO_1: *lo = -1.0f; *hi = 1.0f; return true;
    case tflite::ActivationFunctionType::RELU6: *lo = 0.0f; *hi = 6.0f; return true;
    default: return false;
  }
}

// TFLite's padding for one spatial dimension, as explicit (before, after)
// paddings; false when the model's output size disagrees with the options.
bool ExplicitPadding(tflite::Padding padding, int in, int filter, int stride, int dilation, int model_out,
                     uint32_t* before, uint32_t* after) {
  const int effective = (filter - 1) * dilation + 1;
  if (padding == tflite::Padding::VALID) {
    *before = *after = 0;
    return (in - effective + stride) / stride == model_out;
  }
  const int out = (in + stride - 1) / stride;
  const int total = std::max((out - 1) * stride + effective - in, 0);
  *before = static_cast<uint32_t>(total / 2);
  *after = static_cast<uint32_t>(total - total / 2);
  return out == model_out;
}

// ---------------------------------------------------------------------------
// The translated model: stages over buffers keyed by model tensor index.

enum class StageKind { kSubgraph, kSoftmax, kAveragePool, kHostConvert };

struct Stage {
  StageKind kind = StageKind::kSubgraph;
  std::vector<int> ops;
  // kSubgraph
  xnn_runtime_t runtime = nullptr;
  std::vector<xnn_external_value> externals;
  int nodes = 0;
  // kSoftmax, kAveragePool (standalone operators), kHostConvert
  xnn_operator_t op = nullptr;
  int in = -1, out = -1;  // root tensor indices
  std::vector<int> ext_inputs, ext_outputs;  // roots this stage reads / writes (buffers)
  bool flip = false;      // int8 run as uint8: x ^ 0x80 on the way in and out
  std::vector<uint8_t> scratch_in, scratch_out;
  size_t elements = 0;
};

class XnnModel {
 public:
  explicit XnnModel(const Model& model) : model_(model) {}
  ~XnnModel() {
    for (Stage& s : stages_) {
      if (s.runtime) xnn_delete_runtime(s.runtime);
      if (s.op) xnn_delete_operator(s.op);
    }
  }
  XnnModel(const XnnModel&) = delete;
  XnnModel& operator=(const XnnModel&) = delete;

  // Assigns operators to stages and decides which tensors get a buffer.
  // No XNNPACK calls. Returns "" or an error naming the operator.
  // per_op (debugging): one stage per operator, every activation a buffer.
  std::string Plan(bool per_op);
  // Defines the subgraphs, creates the runtimes and standalone operators on
  // `pool`, allocates the buffers and binds them.
  std::string Build(pthreadpool_t pool);
  // One inference over every stage. False (and error()) on an XNNPACK failure.
  bool Run();
  // One stage alone (debugging: isolates a standalone stage's own error).
  bool RunStage(size_t k);
  size_t num_stages() const { return stages_.size(); }
  // Buffers (roots) stage k reads and writes, and its first operator.
  const std::vector<int>& stage_inputs(size_t k) const { return stages_[k].ext_inputs; }
  const std::vector<int>& stage_outputs(size_t k) const { return stages_[k].ext_outputs; }
  std::string stage_op(size_t k) const { return OpName(stages_[k].ops[0]); }

  int Root(int t) const { return root_[static_cast<size_t>(t)]; }
  uint8_t* buffer(int t) { return buffers_.at(Root(t)).data(); }
  bool has_buffer(int t) const { return buffers_.count(Root(t)) != 0; }
  const std::vector<int>& materialized() const { return materialized_list_; }
  const std::string& error() const { return error_; }
  std::string Describe() const;

 private:
  const TensorSpec& T(int t) const { return model_.tensors()[static_cast<size_t>(t)]; }
  std::string OpName(int op_index) const;
  std::string Classify(int op_index, StageKind* kind, bool* alias) const;
  std::string BuildSegment(Stage& st, int stage_index, pthreadpool_t pool);
  std::string BuildStandalone(Stage& st, pthreadpool_t pool);
  std::string DefineNode(int op_index);

  // Subgraph values of the segment being built.
  std::string Input(int t, uint32_t* id, const std::vector<size_t>* dims = nullptr);
  std::string Output(int t, uint32_t* id, const std::vector<size_t>* dims = nullptr);
  std::string DefineQuantized(const TensorSpec& ts, const std::vector<size_t>& dims, const void* data,
                              uint32_t external_id, uint32_t flags, uint32_t* id);
  std::string Filter(int t, size_t channel_dim, const std::vector<size_t>& dims, std::vector<float>* scales,
                     uint32_t* id);
  std::string Bias(int t, float input_scale, const std::vector<float>& filter_scales, bool channelwise,
                   size_t channels, uint32_t* id);
  static std::vector<size_t> Dims(const kernels::Shape& s) {
    return std::vector<size_t>(s.dims, s.dims + s.rank);
  }
  std::string Fail(int op_index, const std::string& what) const { return OpName(op_index) + ": " + what; }
  std::string XnnFail(int op_index, const char* call, xnn_status s) const {
    return Fail(op_index, std::string(call) + " failed: " + XnnStatusName(s));
  }

  const Model& model_;
  std::vector<int> root_;
  std::vector<int> producer_stage_;  // per root; -1: model input or constant
  std::vector<bool> materialized_;
  std::vector<int> materialized_list_;
  std::vector<Stage> stages_;
  std::map<int, std::vector<uint8_t>> buffers_;  // per root, + XNN_EXTRA_BYTES
  std::deque<std::vector<float>> owned_floats_;  // per-channel scales (outlive the runtimes)
  std::deque<std::vector<int32_t>> owned_ints_;  // synthesized zero biases
  std::string error_;
  pthreadpool_t pool_ = nullptr;

  // Segment under construction.
  xnn_subgraph_t sg_ = nullptr;
  int seg_stage_ = -1;
  std::unordered_map<int, uint32_t> seg_ids_;
  std::unordered_map<uint32_t, std::vector<size_t>> seg_dims_;
  std::vector<xnn_external_value>* seg_externals_ = nullptr;
};

std::string XnnModel::OpName(int op_index) const {
  const OperatorSpec& op = model_.operators()[static_cast<size_t>(op_index)];
  return "op " + std::to_string(op_index) + " " + inference::BuiltinOpName(op.code);
}

// Global average pooling: the window covers the whole input.
bool IsGlobalPool(const TensorSpec& in, const TensorSpec& out, const tflite::Pool2DOptions& o) {
  return in.shape.rank == 4 && out.shape.rank == 4 && out.shape.dims[1] == 1 && out.shape.dims[2] == 1 &&
         o.filter_height() == in.shape.dims[1] && o.filter_width() == in.shape.dims[2];
}

std::string XnnModel::Classify(int op_index, StageKind* kind, bool* alias) const {
  const OperatorSpec& op = model_.operators()[static_cast<size_t>(op_index)];
  const auto* fop = static_cast<const tflite::Operator*>(op.flatbuffer_op);
  *alias = false;
  *kind = StageKind::kSubgraph;
  switch (static_cast<BuiltinOp>(op.code)) {
    case BuiltinOp::kConv2d:
    case BuiltinOp::kDepthwiseConv2d:
    case BuiltinOp::kFullyConnected:
    case BuiltinOp::kAdd:
    case BuiltinOp::kMul:
    case BuiltinOp::kMaxPool2d:
    case BuiltinOp::kRelu:
    case BuiltinOp::kRelu6:
    case BuiltinOp::kReluN1To1:
    case BuiltinOp::kLogistic:
    case BuiltinOp::kPad:
    case BuiltinOp::kMean:
      return "";
    case BuiltinOp::kReshape:
    case BuiltinOp::kSqueeze:
      *alias = true;
      return "";
    case BuiltinOp::kSoftmax:
      *kind = StageKind::kSoftmax;
      return "";
    case BuiltinOp::kQuantize:
    case BuiltinOp::kDequantize:
      *kind = StageKind::kHostConvert;
      return "";
    case BuiltinOp::kAveragePool2d: {
      const auto* o = fop ? fop->builtin_options_as_Pool2DOptions() : nullptr;
      if (o == nullptr) return Fail(op_index, "no Pool2DOptions");
      const bool global = IsGlobalPool(T(op.inputs[0]), T(op.outputs[0]), *o);
      *kind = global ? StageKind::kSubgraph : StageKind::kAveragePool;
      return "";
    }
    default:
      return Fail(op_index, "no XNNPACK mapping for this operator");
  }
}

std::string XnnModel::Plan(bool per_op) {
  const size_t n = model_.tensors().size();
  root_.resize(n);
  for (size_t t = 0; t < n; ++t) root_[t] = static_cast<int>(t);
  producer_stage_.assign(n, -1);
  materialized_.assign(n, false);

  for (int i = 0; i < static_cast<int>(model_.operators().size()); ++i) {
    const OperatorSpec& op = model_.operators()[static_cast<size_t>(i)];
    StageKind kind;
    bool alias;
    if (std::string e = Classify(i, &kind, &alias); !e.empty()) return e;
    if (op.outputs.size() != 1) return Fail(i, "expected one output");
    if (alias) {
      root_[static_cast<size_t>(op.outputs[0])] = Root(op.inputs[0]);
      continue;
    }
    if (per_op || kind != StageKind::kSubgraph || stages_.empty() || stages_.back().kind != StageKind::kSubgraph) {
      stages_.emplace_back();
      stages_.back().kind = kind;
    }
    stages_.back().ops.push_back(i);
    producer_stage_[static_cast<size_t>(op.outputs[0])] = static_cast<int>(stages_.size()) - 1;
  }

  auto materialize = [&](int t) {
    const int r = Root(t);
    if (T(r).is_constant() || materialized_[static_cast<size_t>(r)]) return;
    materialized_[static_cast<size_t>(r)] = true;
    materialized_list_.push_back(r);
  };
  for (int t : model_.inputs()) materialize(t);
  for (size_t s = 0; s < stages_.size(); ++s) {
    for (int i : stages_[s].ops) {
      const OperatorSpec& op = model_.operators()[static_cast<size_t>(i)];
      for (int t : op.inputs) {
        if (t < 0) continue;
        const int r = Root(t);
        // Crosses a stage boundary, or feeds a standalone/host stage.
        if (!T(r).is_constant() && (producer_stage_[static_cast<size_t>(r)] != static_cast<int>(s) ||
                                    stages_[s].kind != StageKind::kSubgraph)) {
          materialize(r);
        }
      }
      if (stages_[s].kind != StageKind::kSubgraph || per_op) materialize(op.outputs[0]);
    }
  }
  for (int t : model_.outputs()) materialize(t);
  return "";
}

std::string XnnModel::Describe() const {
  std::string out;
  for (const Stage& s : stages_) {
    if (!out.empty()) out += " > ";
    const DataType type = s.in >= 0 ? T(s.in).type : DataType::kInt8;
    switch (s.kind) {
      case StageKind::kSubgraph:
        out += "subgraph[" + std::to_string(s.nodes) + " nodes]";
        break;
      case StageKind::kSoftmax:
        out += s.flip ? "softmax_qu8(int8 via ^0x80)" : "softmax_qu8";
        break;
      case StageKind::kAveragePool:
        out += s.flip ? "avgpool_qu8(int8 via ^0x80)" : "avgpool_qu8";
        break;
      case StageKind::kHostConvert:
        out += std::string("host ") + kernels::DataTypeName(type) + "->" + kernels::DataTypeName(T(s.out).type);
        break;
    }
  }
  return out;
}

std::string XnnModel::Build(pthreadpool_t pool) {
  pool_ = pool;
  for (int r : materialized_list_) buffers_[r].assign(T(r).bytes + XNN_EXTRA_BYTES, 0);
  for (size_t s = 0; s < stages_.size(); ++s) {
    Stage& st = stages_[s];
    std::string e = st.kind == StageKind::kSubgraph ? BuildSegment(st, static_cast<int>(s), pool)
                                                    : BuildStandalone(st, pool);
    if (!e.empty()) return e;
  }
  return "";
}

std::string XnnModel::DefineQuantized(const TensorSpec& ts, const std::vector<size_t>& dims, const void* data,
                                      uint32_t external_id, uint32_t flags, uint32_t* id) {
  xnn_datatype dt;
  if (ts.type == DataType::kInt8) {
    dt = xnn_datatype_qint8;
  } else if (ts.type == DataType::kUint8) {
    dt = xnn_datatype_quint8;
  } else {
    return std::string("tensor '") + ts.name + "' is " + kernels::DataTypeName(ts.type) +
           "; only int8/uint8 activations are mapped";
  }
  if (ts.quant.scales.size() != 1) return std::string("tensor '") + ts.name + "' is not per-tensor quantized";
  const xnn_status s = xnn_define_quantized_tensor_value(
      sg_, dt, static_cast<int32_t>(ts.quant.zero_points[0]), ts.quant.scales[0], dims.size(), dims.data(), data,
      external_id, flags, id);
  if (s != xnn_status_success) {
    return std::string("xnn_define_quantized_tensor_value('") + ts.name + "') failed: " + XnnStatusName(s);
  }
  seg_dims_[*id] = dims;
  return "";
}

std::string XnnModel::Input(int t, uint32_t* id, const std::vector<size_t>* dims) {
  const int r = Root(t);
  if (auto it = seg_ids_.find(r); it != seg_ids_.end()) {
    *id = it->second;
    return "";
  }
  const TensorSpec& ts = T(r);
  const std::vector<size_t> d = dims ? *dims : Dims(ts.shape);
  std::string e;
  if (ts.is_constant()) {
    e = DefineQuantized(ts, d, ts.data, XNN_INVALID_VALUE_ID, 0, id);
  } else if (materialized_[static_cast<size_t>(r)] && producer_stage_[static_cast<size_t>(r)] != seg_stage_) {
    e = DefineQuantized(ts, d, nullptr, static_cast<uint32_t>(r), XNN_VALUE_FLAG_EXTERNAL_INPUT, id);
    if (e.empty()) {
      seg_externals_->push_back({static_cast<uint32_t>(r), buffers_.at(r).data()});
      stages_[static_cast<size_t>(seg_stage_)].ext_inputs.push_back(r);
    }
  } else {
    return std::string("tensor '") + ts.name + "' is not available to this subgraph";
  }
  if (e.empty()) seg_ids_[r] = *id;
  return e;
}

std::string XnnModel::Output(int t, uint32_t* id, const std::vector<size_t>* dims) {
  const int r = Root(t);
  if (seg_ids_.count(r)) return std::string("tensor '") + T(r).name + "' defined twice";
  const std::vector<size_t> d = dims ? *dims : Dims(T(r).shape);
  std::string e;
  if (materialized_[static_cast<size_t>(r)]) {
    e = DefineQuantized(T(r), d, nullptr, static_cast<uint32_t>(r), XNN_VALUE_FLAG_EXTERNAL_OUTPUT, id);
    if (e.empty()) {
      seg_externals_->push_back({static_cast<uint32_t>(r), buffers_.at(r).data()});
      stages_[static_cast<size_t>(seg_stage_)].ext_outputs.push_back(r);
    }
  } else {
    e = DefineQuantized(T(r), d, nullptr, XNN_INVALID_VALUE_ID, 0, id);
  }
  if (e.empty()) seg_ids_[r] = *id;
  return e;
}

// A constant conv/FC filter. int8: qcint8 with one scale per output channel
// (`channel_dim`), per-tensor scales replicated; uint8: quint8 with its zero
// point. The scales used are returned for the bias.
std::string XnnModel::Filter(int t, size_t channel_dim, const std::vector<size_t>& dims, std::vector<float>* scales,
                             uint32_t* id) {
  const TensorSpec& f = T(t);
  if (!f.is_constant()) return std::string("filter '") + f.name + "' is not constant";
  if (f.quant.scales.empty()) return std::string("filter '") + f.name + "' is not quantized";
  const size_t channels = dims[channel_dim];
  if (f.type == DataType::kUint8) {
    if (f.quant.per_channel()) return std::string("uint8 filter '") + f.name + "' is per-channel";
    scales->assign(channels, f.quant.scales[0]);
    return DefineQuantized(f, dims, f.data, XNN_INVALID_VALUE_ID, 0, id);
  }
  if (f.type != DataType::kInt8) return std::string("filter '") + f.name + "' is not int8/uint8";
  if (f.quant.per_channel() && f.quant.scales.size() != channels) {
    return std::string("filter '") + f.name + "' has " + std::to_string(f.quant.scales.size()) +
           " scales for " + std::to_string(channels) + " channels";
  }
  for (int64_t zp : f.quant.zero_points) {
    if (zp != 0) return std::string("int8 filter '") + f.name + "' has a non-zero zero point";
  }
  scales->resize(channels);
  for (size_t c = 0; c < channels; ++c) (*scales)[c] = f.quant.scales[f.quant.per_channel() ? c : 0];
  owned_floats_.push_back(*scales);
  const xnn_status s = xnn_define_channelwise_quantized_tensor_value(
      sg_, xnn_datatype_qcint8, owned_floats_.back().data(), dims.size(), channel_dim, dims.data(), f.data,
      XNN_INVALID_VALUE_ID, 0, id);
  if (s != xnn_status_success) {
    return std::string("xnn_define_channelwise_quantized_tensor_value('") + f.name + "') failed: " +
           XnnStatusName(s);
  }
  return "";
}

// int32 bias with scale input_scale x filter_scale (per channel for qcint8
// filters). A missing bias becomes zeros.
std::string XnnModel::Bias(int t, float input_scale, const std::vector<float>& filter_scales, bool channelwise,
                           size_t channels, uint32_t* id) {
  const int32_t* data;
  if (t < 0) {
    owned_ints_.emplace_back(channels, 0);
    data = owned_ints_.back().data();
  } else {
    const TensorSpec& b = T(t);
    if (!b.is_constant() || b.type != DataType::kInt32 || b.shape.FlatSize() != static_cast<int64_t>(channels)) {
      return std::string("bias '") + b.name + "' is not a constant int32 [" + std::to_string(channels) + "]";
    }
    data = reinterpret_cast<const int32_t*>(b.data);
  }
  const size_t dims[1] = {channels};
  xnn_status s;
  if (channelwise) {
    std::vector<float> scales(channels);
    for (size_t c = 0; c < channels; ++c) scales[c] = input_scale * filter_scales[c];
    owned_floats_.push_back(std::move(scales));
    s = xnn_define_channelwise_quantized_tensor_value(sg_, xnn_datatype_qcint32, owned_floats_.back().data(), 1, 0,
                                                      dims, data, XNN_INVALID_VALUE_ID, 0, id);
  } else {
    s = xnn_define_quantized_tensor_value(sg_, xnn_datatype_qint32, 0, input_scale * filter_scales[0], 1, dims, data,
                                          XNN_INVALID_VALUE_ID, 0, id);
  }
  if (s != xnn_status_success) return std::string("bias definition failed: ") + XnnStatusName(s);
  return "";
}

std::string XnnModel::DefineNode(int i) {
  const OperatorSpec& op = model_.operators()[static_cast<size_t>(i)];
  const auto* fop = static_cast<const tflite::Operator*>(op.flatbuffer_op);
  const auto in_at = [&](size_t k) { return k < op.inputs.size() ? op.inputs[k] : -1; };
  const TensorSpec& out = T(op.outputs[0]);
  std::string e;
  float lo = -kInf, hi = kInf;
  xnn_status s = xnn_status_success;
  uint32_t in_id = 0, out_id = 0;

  switch (static_cast<BuiltinOp>(op.code)) {
    case BuiltinOp::kConv2d:
    case BuiltinOp::kDepthwiseConv2d: {
      const bool depthwise = op.code == static_cast<int32_t>(BuiltinOp::kDepthwiseConv2d);
      const TensorSpec& in = T(in_at(0));
      const TensorSpec& f = T(in_at(1));
      if (in.shape.rank != 4 || f.shape.rank != 4 || out.shape.rank != 4) return Fail(i, "expected 4-D tensors");
      int stride_h, stride_w, dil_h, dil_w;
      tflite::Padding padding;
      tflite::ActivationFunctionType act;
      if (depthwise) {
        const auto* o = fop->builtin_options_as_DepthwiseConv2DOptions();
        if (o == nullptr) return Fail(i, "no DepthwiseConv2DOptions");
        stride_h = o->stride_h(), stride_w = o->stride_w(), dil_h = o->dilation_h_factor(),
        dil_w = o->dilation_w_factor(), padding = o->padding(), act = o->fused_activation_function();
      } else {
        const auto* o = fop->builtin_options_as_Conv2DOptions();
        if (o == nullptr) return Fail(i, "no Conv2DOptions");
        stride_h = o->stride_h(), stride_w = o->stride_w(), dil_h = o->dilation_h_factor(),
        dil_w = o->dilation_w_factor(), padding = o->padding(), act = o->fused_activation_function();
      }
      if (!ActivationRange(act, &lo, &hi)) return Fail(i, "unsupported fused activation");
      const int kh = f.shape.dims[1], kw = f.shape.dims[2];
      uint32_t pt, pb, pl, pr;
      if (!ExplicitPadding(padding, in.shape.dims[1], kh, stride_h, dil_h, out.shape.dims[1], &pt, &pb) ||
          !ExplicitPadding(padding, in.shape.dims[2], kw, stride_w, dil_w, out.shape.dims[2], &pl, &pr)) {
        return Fail(i, "output size disagrees with the padding options");
      }
      std::vector<float> fscales;
      uint32_t f_id, b_id;
      const size_t channel_dim = depthwise ? 3 : 0;
      const size_t out_channels = static_cast<size_t>(out.shape.dims[3]);
      if (!(e = Input(in_at(0), &in_id)).empty() || !(e = Filter(in_at(1), channel_dim, Dims(f.shape), &fscales,
                                                                  &f_id)).empty() ||
          !(e = Bias(in_at(2), in.quant.scales[0], fscales, f.type == DataType::kInt8, out_channels, &b_id))
               .empty() ||
          !(e = Output(op.outputs[0], &out_id)).empty()) {
        return Fail(i, e);
      }
      if (depthwise) {
        const uint32_t multiplier = static_cast<uint32_t>(out.shape.dims[3] / in.shape.dims[3]);
        s = xnn_define_depthwise_convolution_2d(sg_, pt, pr, pb, pl, kh, kw, stride_h, stride_w, dil_h, dil_w,
                                                multiplier, in.shape.dims[3], lo, hi, in_id, f_id, b_id, out_id, 0);
        if (s != xnn_status_success) return XnnFail(i, "xnn_define_depthwise_convolution_2d", s);
      } else {
        const int group_in = f.shape.dims[3];
        if (group_in <= 0 || in.shape.dims[3] % group_in != 0) return Fail(i, "input channels not a group multiple");
        const uint32_t groups = static_cast<uint32_t>(in.shape.dims[3] / group_in);
        s = xnn_define_convolution_2d(sg_, pt, pr, pb, pl, kh, kw, stride_h, stride_w, dil_h, dil_w, groups,
                                      static_cast<size_t>(group_in), out_channels / groups, lo, hi, in_id, f_id, b_id,
                                      out_id, 0);
        if (s != xnn_status_success) return XnnFail(i, "xnn_define_convolution_2d", s);
      }
      return "";
    }

    case BuiltinOp::kFullyConnected: {
      const auto* o = fop->builtin_options_as_FullyConnectedOptions();
      if (o == nullptr) return Fail(i, "no FullyConnectedOptions");
      if (!ActivationRange(o->fused_activation_function(), &lo, &hi)) return Fail(i, "unsupported activation");
      const TensorSpec& in = T(in_at(0));
      const TensorSpec& f = T(in_at(1));
      if (f.shape.rank != 2) return Fail(i, "expected a 2-D filter");
      const size_t units = static_cast<size_t>(f.shape.dims[0]), depth = static_cast<size_t>(f.shape.dims[1]);
      const size_t batch = static_cast<size_t>(in.shape.FlatSize()) / depth;
      std::vector<float> fscales;
      uint32_t f_id, b_id;
      if (f.type == DataType::kInt8 && f.quant.per_channel()) {
        // The 2022 subgraph API has no per-channel fully connected: a 1x1
        // qcint8 convolution over [batch, 1, 1, depth] is the same arithmetic.
        const std::vector<size_t> in_dims = {batch, 1, 1, depth}, out_dims = {batch, 1, 1, units};
        if (!(e = Input(in_at(0), &in_id, &in_dims)).empty()) return Fail(i, e);
        const std::vector<size_t>& have = seg_dims_[in_id];
        if (have.size() != 4 || have[1] * have[2] != 1 || have[3] != depth) {
          return Fail(i, "per-channel FULLY_CONNECTED (as a 1x1 convolution) needs an [N,1,1,K] input");
        }
        if (!(e = Filter(in_at(1), 0, {units, 1, 1, depth}, &fscales, &f_id)).empty() ||
            !(e = Bias(in_at(2), in.quant.scales[0], fscales, true, units, &b_id)).empty() ||
            !(e = Output(op.outputs[0], &out_id, &out_dims)).empty()) {
          return Fail(i, e);
        }
        s = xnn_define_convolution_2d(sg_, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, depth, units, lo, hi, in_id, f_id, b_id,
                                      out_id, 0);
        if (s != xnn_status_success) return XnnFail(i, "xnn_define_convolution_2d (per-channel FC)", s);
        return "";
      }
      const std::vector<size_t> out_dims = {batch, units};
      if (!f.is_constant() || f.quant.scales.size() != 1) return Fail(i, "filter not constant per-tensor");
      fscales.assign(1, f.quant.scales[0]);
      if (!(e = Input(in_at(0), &in_id)).empty() ||
          !(e = DefineQuantized(f, Dims(f.shape), f.data, XNN_INVALID_VALUE_ID, 0, &f_id)).empty() ||
          !(e = Bias(in_at(2), in.quant.scales[0], fscales, false, units, &b_id)).empty() ||
          !(e = Output(op.outputs[0], &out_id, &out_dims)).empty()) {
        return Fail(i, e);
      }
      s = xnn_define_fully_connected(sg_, lo, hi, in_id, f_id, b_id, out_id, XNN_FLAG_TENSORFLOW_RESHAPE_2D);
      if (s != xnn_status_success) return XnnFail(i, "xnn_define_fully_connected", s);
      return "";
    }

    case BuiltinOp::kAdd:
    case BuiltinOp::kMul: {
      const bool add = op.code == static_cast<int32_t>(BuiltinOp::kAdd);
      tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE;
      if (const auto* o = fop->builtin_options_as_AddOptions(); add && o) act = o->fused_activation_function();
      if (const auto* o = fop->builtin_options_as_MulOptions(); !add && o) act = o->fused_activation_function();
      if (!ActivationRange(act, &lo, &hi)) return Fail(i, "unsupported fused activation");
      uint32_t a_id, b_id;
      if (!(e = Input(in_at(0), &a_id)).empty() || !(e = Input(in_at(1), &b_id)).empty() ||
          !(e = Output(op.outputs[0], &out_id)).empty()) {
        return Fail(i, e);
      }
      s = add ? xnn_define_add2(sg_, lo, hi, a_id, b_id, out_id, 0)
              : xnn_define_multiply2(sg_, lo, hi, a_id, b_id, out_id, 0);
      if (s != xnn_status_success) return XnnFail(i, add ? "xnn_define_add2" : "xnn_define_multiply2", s);
      return "";
    }

    case BuiltinOp::kAveragePool2d:
    case BuiltinOp::kMean: {
      const TensorSpec& in = T(in_at(0));
      if (in.shape.rank != 4) return Fail(i, "expected a 4-D input");
      if (op.code == static_cast<int32_t>(BuiltinOp::kAveragePool2d)) {
        const auto* o = fop->builtin_options_as_Pool2DOptions();
        if (!ActivationRange(o->fused_activation_function(), &lo, &hi)) return Fail(i, "unsupported activation");
      } else {
        const TensorSpec& axes = T(in_at(1));
        if (!axes.is_constant() || axes.type != DataType::kInt32) return Fail(i, "axes not constant int32");
        std::vector<int32_t> ax(static_cast<size_t>(axes.shape.FlatSize()));
        std::memcpy(ax.data(), axes.data, ax.size() * sizeof(int32_t));
        for (int32_t& a : ax) a = a < 0 ? a + 4 : a;
        std::sort(ax.begin(), ax.end());
        if (ax != std::vector<int32_t>{1, 2}) return Fail(i, "only MEAN over axes {1, 2} maps to global pooling");
      }
      const std::vector<size_t> out_dims = {static_cast<size_t>(in.shape.dims[0]), 1, 1,
                                            static_cast<size_t>(in.shape.dims[3])};
      if (!(e = Input(in_at(0), &in_id)).empty() || !(e = Output(op.outputs[0], &out_id, &out_dims)).empty()) {
        return Fail(i, e);
      }
      s = xnn_define_global_average_pooling_2d(sg_, lo, hi, in_id, out_id, 0);
      if (s != xnn_status_success) return XnnFail(i, "xnn_define_global_average_pooling_2d", s);
      return "";
    }

    case BuiltinOp::kMaxPool2d: {
      const auto* o = fop->builtin_options_as_Pool2DOptions();
      if (o == nullptr) return Fail(i, "no Pool2DOptions");
      if (!ActivationRange(o->fused_activation_function(), &lo, &hi)) return Fail(i, "unsupported activation");
      const TensorSpec& in = T(in_at(0));
      uint32_t pt, pb, pl, pr;
      if (!ExplicitPadding(o->padding(), in.shape.dims[1], o->filter_height(), o->stride_h(), 1, out.shape.dims[1],
                           &pt, &pb) ||
          !ExplicitPadding(o->padding(), in.shape.dims[2], o->filter_width(), o->stride_w(), 1, out.shape.dims[2],
                           &pl, &pr)) {
        return Fail(i, "output size disagrees with the padding options");
      }
      if (!(e = Input(in_at(0), &in_id)).empty() || !(e = Output(op.outputs[0], &out_id)).empty()) return Fail(i, e);
      s = xnn_define_max_pooling_2d(sg_, pt, pr, pb, pl, o->filter_height(), o->filter_width(), o->stride_h(),
                                    o->stride_w(), 1, 1, lo, hi, in_id, out_id, 0);
      if (s != xnn_status_success) return XnnFail(i, "xnn_define_max_pooling_2d", s);
      return "";
    }

    case BuiltinOp::kRelu:
    case BuiltinOp::kRelu6:
    case BuiltinOp::kReluN1To1:
    case BuiltinOp::kLogistic: {
      if (!(e = Input(in_at(0), &in_id)).empty() || !(e = Output(op.outputs[0], &out_id)).empty()) return Fail(i, e);
      if (op.code == static_cast<int32_t>(BuiltinOp::kLogistic)) {
        s = xnn_define_sigmoid(sg_, in_id, out_id, 0);
        if (s != xnn_status_success) return XnnFail(i, "xnn_define_sigmoid", s);
        return "";
      }
      const tflite::ActivationFunctionType act =
          op.code == static_cast<int32_t>(BuiltinOp::kRelu)     ? tflite::ActivationFunctionType::RELU
          : op.code == static_cast<int32_t>(BuiltinOp::kRelu6) ? tflite::ActivationFunctionType::RELU6
                                                                : tflite::ActivationFunctionType::RELU_N1_TO_1;
      ActivationRange(act, &lo, &hi);
      s = xnn_define_clamp(sg_, lo, hi, in_id, out_id, 0);
      if (s != xnn_status_success) return XnnFail(i, "xnn_define_clamp", s);
      return "";
    }

    case BuiltinOp::kPad: {
      const TensorSpec& in = T(in_at(0));
      const TensorSpec& pads = T(in_at(1));
      if (!pads.is_constant() || pads.type != DataType::kInt32 || pads.shape.FlatSize() != 2 * in.shape.rank) {
        return Fail(i, "paddings not a constant int32 [rank, 2]");
      }
      std::vector<int32_t> p(static_cast<size_t>(pads.shape.FlatSize()));
      std::memcpy(p.data(), pads.data, p.size() * sizeof(int32_t));
      size_t pre[XNN_MAX_TENSOR_DIMS], post[XNN_MAX_TENSOR_DIMS];
      for (int d = 0; d < in.shape.rank; ++d) {
        pre[d] = static_cast<size_t>(p[2 * static_cast<size_t>(d)]);
        post[d] = static_cast<size_t>(p[2 * static_cast<size_t>(d) + 1]);
      }
      if (!(e = Input(in_at(0), &in_id)).empty() || !(e = Output(op.outputs[0], &out_id)).empty()) return Fail(i, e);
      s = xnn_define_static_constant_pad(sg_, pre, post, 0.0f, in_id, out_id, 0);
      if (s != xnn_status_success) return XnnFail(i, "xnn_define_static_constant_pad", s);
      return "";
    }

    default:
      return Fail(i, "no XNNPACK mapping for this operator");
  }
}

std::string XnnModel::BuildSegment(Stage& st, int stage_index, pthreadpool_t pool) {
  xnn_status s = xnn_create_subgraph(static_cast<uint32_t>(model_.tensors().size()), 0, &sg_);
  if (s != xnn_status_success) return std::string("xnn_create_subgraph failed: ") + XnnStatusName(s);
  seg_stage_ = stage_index;
  seg_ids_.clear();
  seg_dims_.clear();
  seg_externals_ = &st.externals;
  std::string e;
  for (int i : st.ops) {
    if (!(e = DefineNode(i)).empty()) break;
    ++st.nodes;
  }
  if (e.empty()) {
    s = xnn_create_runtime_v2(sg_, pool, 0, &st.runtime);
    if (s != xnn_status_success) e = std::string("xnn_create_runtime_v2 failed: ") + XnnStatusName(s);
  }
  xnn_delete_subgraph(sg_);
  sg_ = nullptr;
  if (!e.empty()) return e;
  s = xnn_setup_runtime(st.runtime, st.externals.size(), st.externals.data());
  if (s != xnn_status_success) return std::string("xnn_setup_runtime failed: ") + XnnStatusName(s);
  return "";
}

std::string XnnModel::BuildStandalone(Stage& st, pthreadpool_t pool) {
  const int i = st.ops[0];
  const OperatorSpec& op = model_.operators()[static_cast<size_t>(i)];
  const auto* fop = static_cast<const tflite::Operator*>(op.flatbuffer_op);
  st.in = Root(op.inputs[0]);
  st.out = Root(op.outputs[0]);
  st.ext_inputs = {st.in};
  st.ext_outputs = {st.out};
  const TensorSpec& in = T(op.inputs[0]);
  const TensorSpec& out = T(op.outputs[0]);
  st.elements = static_cast<size_t>(in.shape.FlatSize());
  if (st.kind == StageKind::kHostConvert) {
    const bool ok_in = in.type == DataType::kInt8 || in.type == DataType::kUint8 || in.type == DataType::kFloat32;
    const bool ok_out = out.type == DataType::kInt8 || out.type == DataType::kUint8 || out.type == DataType::kFloat32;
    if (!ok_in || !ok_out) return Fail(i, "only int8/uint8/float32 conversions are mapped");
    if ((in.type != DataType::kFloat32 && in.quant.scales.size() != 1) ||
        (out.type != DataType::kFloat32 && out.quant.scales.size() != 1)) {
      return Fail(i, "needs per-tensor quantization");
    }
    return "";
  }
  if (in.type != out.type || (in.type != DataType::kInt8 && in.type != DataType::kUint8)) {
    return Fail(i, "only int8/uint8 in and out are mapped");
  }
  if (in.quant.scales.size() != 1 || out.quant.scales.size() != 1) return Fail(i, "needs per-tensor quantization");
  st.flip = in.type == DataType::kInt8;
  const int shift = st.flip ? 128 : 0;  // int8 zero points as uint8
  const uint8_t in_zp = static_cast<uint8_t>(in.quant.zero_points[0] + shift);
  const uint8_t out_zp = static_cast<uint8_t>(out.quant.zero_points[0] + shift);
  const uint8_t* src = buffers_.at(st.in).data();
  uint8_t* dst = buffers_.at(st.out).data();
  if (st.flip) {
    st.scratch_in.assign(in.bytes + XNN_EXTRA_BYTES, 0);
    st.scratch_out.assign(out.bytes + XNN_EXTRA_BYTES, 0);
    src = st.scratch_in.data();
    dst = st.scratch_out.data();
  }
  xnn_status s;
  if (st.kind == StageKind::kSoftmax) {
    const auto* o = fop->builtin_options_as_SoftmaxOptions();
    const float beta = o ? o->beta() : 1.0f;
    const size_t channels = static_cast<size_t>(in.shape.dims[in.shape.rank - 1]);
    s = xnn_create_softmax_nc_qu8(channels, channels, channels, in.quant.scales[0] * beta, out_zp,
                                  out.quant.scales[0], 0, &st.op);
    if (s != xnn_status_success) return XnnFail(i, "xnn_create_softmax_nc_qu8", s);
    s = xnn_setup_softmax_nc_qu8(st.op, st.elements / channels, src, dst, pool);
    if (s != xnn_status_success) return XnnFail(i, "xnn_setup_softmax_nc_qu8", s);
    return "";
  }
  // Windowed average pooling (global windows are subgraph nodes).
  const auto* o = fop->builtin_options_as_Pool2DOptions();
  float lo, hi;
  if (!ActivationRange(o->fused_activation_function(), &lo, &hi)) return Fail(i, "unsupported activation");
  auto q = [&](float real) {
    const float v = std::nearbyint(real / out.quant.scales[0]) + static_cast<float>(out_zp);
    return static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, v)));
  };
  uint32_t pt, pb, pl, pr;
  if (!ExplicitPadding(o->padding(), in.shape.dims[1], o->filter_height(), o->stride_h(), 1, out.shape.dims[1], &pt,
                       &pb) ||
      !ExplicitPadding(o->padding(), in.shape.dims[2], o->filter_width(), o->stride_w(), 1, out.shape.dims[2], &pl,
                       &pr)) {
    return Fail(i, "output size disagrees with the padding options");
  }
  const size_t channels = static_cast<size_t>(in.shape.dims[3]);
  s = xnn_create_average_pooling2d_nhwc_qu8(pt, pr, pb, pl, o->filter_height(), o->filter_width(), o->stride_h(),
                                            o->stride_w(), channels, channels, channels, in_zp, in.quant.scales[0],
                                            out_zp, out.quant.scales[0], q(lo), q(hi), 0, &st.op);
  if (s != xnn_status_success) return XnnFail(i, "xnn_create_average_pooling2d_nhwc_qu8", s);
  s = xnn_setup_average_pooling2d_nhwc_qu8(st.op, in.shape.dims[0], in.shape.dims[1], in.shape.dims[2], src, dst,
                                           pool);
  if (s != xnn_status_success) return XnnFail(i, "xnn_setup_average_pooling2d_nhwc_qu8", s);
  return "";
}

void FlipSignBits(const uint8_t* src, uint8_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = src[i] ^ 0x80u;
}

// QUANTIZE / DEQUANTIZE on the host: int8 <-> uint8 with equal scales is a
// sign-bit flip; anything else goes through the real value.
void HostConvert(const TensorSpec& in, const TensorSpec& out, const uint8_t* src, uint8_t* dst, size_t n) {
  const bool in_q = in.type != DataType::kFloat32, out_q = out.type != DataType::kFloat32;
  if (in_q && out_q && in.type != out.type && in.quant.scales[0] == out.quant.scales[0] &&
      out.quant.zero_points[0] - in.quant.zero_points[0] == (out.type == DataType::kUint8 ? 128 : -128)) {
    FlipSignBits(src, dst, n);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    float real;
    if (!in_q) {
      std::memcpy(&real, src + 4 * i, 4);
    } else {
      const int32_t q = in.type == DataType::kInt8 ? static_cast<int8_t>(src[i]) : src[i];
      real = static_cast<float>(q - in.quant.zero_points[0]) * in.quant.scales[0];
    }
    if (!out_q) {
      std::memcpy(dst + 4 * i, &real, 4);
      continue;
    }
    const int32_t lo = out.type == DataType::kInt8 ? -128 : 0, hi = out.type == DataType::kInt8 ? 127 : 255;
    const int32_t q = static_cast<int32_t>(std::lround(real / out.quant.scales[0])) +
                      static_cast<int32_t>(out.quant.zero_points[0]);
    dst[i] = static_cast<uint8_t>(std::min(hi, std::max(lo, q)));
  }
}

bool XnnModel::Run() {
  for (size_t k = 0; k < stages_.size(); ++k) {
    if (!RunStage(k)) return false;
  }
  return true;
}

bool XnnModel::RunStage(size_t k) {
  Stage& st = stages_[k];
  xnn_status s = xnn_status_success;
  switch (st.kind) {
    case StageKind::kSubgraph:
      s = xnn_invoke_runtime(st.runtime);
      break;
    case StageKind::kHostConvert: {
      const OperatorSpec& op = model_.operators()[static_cast<size_t>(st.ops[0])];
      HostConvert(T(op.inputs[0]), T(op.outputs[0]), buffers_.at(st.in).data(), buffers_.at(st.out).data(),
                  st.elements);
      break;
    }
    case StageKind::kSoftmax:
    case StageKind::kAveragePool:
      if (st.flip) FlipSignBits(buffers_.at(st.in).data(), st.scratch_in.data(), T(st.in).bytes);
      s = xnn_run_operator(st.op, pool_);
      if (st.flip) FlipSignBits(st.scratch_out.data(), buffers_.at(st.out).data(), T(st.out).bytes);
      break;
  }
  if (s != xnn_status_success) {
    error_ = OpName(st.ops[0]) + ": XNNPACK run failed: " + XnnStatusName(s);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Reference outputs of our interpreter (reference kernels), cached per model.

struct Reference {
  std::string error;
  std::vector<std::vector<uint8_t>> inputs;          // per model input
  std::map<int, std::vector<uint8_t>> tensors;       // captured op outputs (by tensor index)
};

struct Capture {
  const std::vector<bool>* wanted;
  std::map<int, std::vector<uint8_t>>* out;
};

Status CaptureOutputs(void* user, const Interpreter& interp, int op_index) {
  auto* c = static_cast<Capture*>(user);
  const OperatorSpec& op = interp.model().operators()[static_cast<size_t>(op_index)];
  for (int t : op.outputs) {
    if (t >= 0 && (*c->wanted)[static_cast<size_t>(t)]) {
      const TensorView v = interp.tensor(t);
      (*c->out)[t].assign(v.data, v.data + v.bytes);
    }
  }
  return Status::Ok();
}

const Reference& ReferenceFor(const std::string& name, const Model& model, const std::vector<int>& wanted_list) {
  static std::map<std::string, Reference> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  Reference& ref = cache[name];
  std::vector<bool> wanted(model.tensors().size(), false);
  for (int t : wanted_list) wanted[static_cast<size_t>(t)] = true;
  Capture capture{&wanted, &ref.tensors};
  OpResolver resolver;
  if (Status s = inference::AddAllBuiltinOps(resolver); !s.ok()) {
    ref.error = std::string("AddAllBuiltinOps: ") + s.message();
    return ref;
  }
  InterpreterOptions options;
  options.kernel_set = kernels::KernelSet::kReference;
  options.observer = &CaptureOutputs;
  options.observer_user = &capture;
  Interpreter interp(model, resolver, options);
  if (Status s = interp.PrepareAndAllocate(); !s.ok()) {
    ref.error = std::string("reference PrepareAndAllocate: ") + s.message();
    return ref;
  }
  for (size_t i = 0; i < interp.num_inputs(); ++i) {
    const TensorView v = interp.input(i);
    FillDeterministic(v.data, v.bytes, v.type, 0x7153u + static_cast<uint32_t>(i));
    ref.inputs.emplace_back(v.data, v.data + v.bytes);
  }
  if (Status s = interp.Invoke(); !s.ok()) ref.error = std::string("reference Invoke: ") + s.message();
  return ref;
}

void BM_Xnnpack(benchmark::State& state, const ModelCase& model_case, int threads) {
  if (!g_xnn_ready) {
    state.SkipWithError(g_xnn_init_error.c_str());
    return;
  }
  std::string path;
  if (const std::string skip = FindModel(model_case, &path); !skip.empty()) {
    state.SkipWithError(skip.c_str());
    return;
  }

  ReleaseFreedMemory();
  (void)ResetPeakRss();
  const size_t baseline_rss = ProcStatusBytes("VmRSS");

  auto file = inference::ReadFileAligned(path);
  if (!file.ok()) {
    state.SkipWithError((std::string("read model: ") + file.status().message()).c_str());
    return;
  }
  auto model = Model::Create(file->span());
  if (!model.ok()) {
    state.SkipWithError((std::string("Model::Create: ") + model.status().message()).c_str());
    return;
  }

  const bool debug = DebugMode();
  std::unique_ptr<XnnModel> xnn = std::make_unique<XnnModel>(*model);
  if (std::string e = xnn->Plan(debug); !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  const Reference& ref = ReferenceFor(model_case.name, *model, xnn->materialized());
  if (!ref.error.empty()) {
    state.SkipWithError(ref.error.c_str());
    return;
  }

  // The reference interpreter is gone; measure XNNPACK's own footprint.
  ReleaseFreedMemory();
  (void)ResetPeakRss();
  const size_t before_runtime_rss = ProcStatusBytes("VmRSS");
  std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool(
      pthreadpool_create(static_cast<size_t>(threads)), &pthreadpool_destroy);
  if (!pool) {
    state.SkipWithError("pthreadpool_create failed");
    return;
  }
  if (std::string e = xnn->Build(pool.get()); !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  for (size_t i = 0; i < model->inputs().size(); ++i) {
    const int t = model->inputs()[i];
    std::memcpy(xnn->buffer(t), ref.inputs[i].data(), ref.inputs[i].size());
  }
  if (!xnn->Run()) {  // warm-up (and the correctness check below)
    state.SkipWithError(xnn->error().c_str());
    return;
  }
  const size_t after_runtime_rss = ProcStatusBytes("VmRSS");
  const size_t runtime_rss = after_runtime_rss - std::min(before_runtime_rss, after_runtime_rss);

  double max_diff = 0.0, boundary_max_diff = 0.0;
  size_t mismatches = 0;
  std::vector<bool> is_output(model->tensors().size(), false);
  for (int t : model->outputs()) {
    is_output[static_cast<size_t>(xnn->Root(t))] = true;
    const TensorSpec& ts = model->tensors()[static_cast<size_t>(t)];
    auto it = ref.tensors.find(xnn->Root(t));
    if (it == ref.tensors.end()) {
      state.SkipWithError("reference output not captured");
      return;
    }
    max_diff = std::max(max_diff, MaxAbsDiff(ts.type, xnn->buffer(t), it->second.data(), ts.bytes, &mismatches));
  }
  for (int r : xnn->materialized()) {
    auto it = ref.tensors.find(r);
    if (it == ref.tensors.end()) continue;  // model inputs
    const TensorSpec& ts = model->tensors()[static_cast<size_t>(r)];
    const double d = MaxAbsDiff(ts.type, xnn->buffer(r), it->second.data(), ts.bytes, nullptr);
    if (!is_output[static_cast<size_t>(r)]) boundary_max_diff = std::max(boundary_max_diff, d);
    if (debug) {
      std::fprintf(stderr, "xnnpack %s: tensor %4d %-8s %-18s max_diff %6.1f  %s\n", model_case.name, r,
                   kernels::DataTypeName(ts.type), ShapeText(ts.shape).c_str(), d, ts.name);
    }
  }

  if (debug) {
    // Every stage (one per operator) again, fed the reference's inputs: the
    // operator's own error, without the error of the operators before it.
    for (size_t k = 0; k < xnn->num_stages(); ++k) {
      bool fed = true;
      for (int in : xnn->stage_inputs(k)) {
        auto it = ref.tensors.find(in);
        if (it != ref.tensors.end()) {
          std::memcpy(xnn->buffer(in), it->second.data(), it->second.size());
        } else if (std::find(model->inputs().begin(), model->inputs().end(), in) == model->inputs().end()) {
          fed = false;
        }
      }
      if (!fed || !xnn->RunStage(k)) continue;
      for (int out : xnn->stage_outputs(k)) {
        auto it = ref.tensors.find(out);
        if (it == ref.tensors.end()) continue;
        const TensorSpec& ts = model->tensors()[static_cast<size_t>(out)];
        std::fprintf(stderr, "xnnpack %s: %-28s alone on reference inputs: tensor %4d max_diff %6.1f\n",
                     model_case.name, xnn->stage_op(k).c_str(), out,
                     MaxAbsDiff(ts.type, xnn->buffer(out), it->second.data(), ts.bytes, nullptr));
      }
    }
    for (size_t i = 0; i < model->inputs().size(); ++i) {
      std::memcpy(xnn->buffer(model->inputs()[i]), ref.inputs[i].data(), ref.inputs[i].size());
    }
    if (!xnn->Run()) {
      state.SkipWithError(xnn->error().c_str());
      return;
    }
  }

  for (auto _ : state) {
    if (!xnn->Run()) {
      state.SkipWithError(xnn->error().c_str());
      break;
    }
  }

  const double macs = static_cast<double>(inference::TotalMacs(*model));
  using benchmark::Counter;
  state.SetLabel(debug ? "TRIAGE_XNN_DEBUG: one stage per operator, timing not representative"
                       : xnn->Describe());
  state.counters["max_diff"] = Counter(max_diff);
  state.counters["mismatches"] = Counter(static_cast<double>(mismatches));
  state.counters["boundary_max_diff"] = Counter(boundary_max_diff);
  state.counters["threads"] = Counter(threads);
  state.counters["macs_per_s"] = Counter(macs, Counter::kIsIterationInvariantRate);
  state.counters["macs"] = Counter(macs);
  state.counters["weight_bytes"] =
      Counter(static_cast<double>(model->weight_bytes()), Counter::kDefaults, Counter::kIs1024);
  state.counters["runtime_rss_bytes"] =
      Counter(static_cast<double>(runtime_rss), Counter::kDefaults, Counter::kIs1024);
  state.counters["peak_rss_bytes"] =
      Counter(static_cast<double>(ProcStatusBytes("VmHWM")), Counter::kDefaults, Counter::kIs1024);
  state.counters["baseline_rss_bytes"] =
      Counter(static_cast<double>(baseline_rss), Counter::kDefaults, Counter::kIs1024);
}

void RegisterAll(bool user_min_time) {
  for (const ModelCase& model_case : kModels) {
    if (!model_case.quantized) continue;  // the peer maps quantized graphs only
    for (int threads : kThreadCounts) {
      const std::string name = std::string("XNNPACK/") + model_case.name + "/" + std::to_string(threads) + "T";
      benchmark::internal::Benchmark* b =
          benchmark::RegisterBenchmark(name.c_str(), BM_Xnnpack, model_case, threads);
      b->Unit(benchmark::kMillisecond)->UseRealTime()->ComputeStatistics("min", &MinOf)->ComputeStatistics(
          "max", &MaxOf);
      if (!user_min_time) b->MinTime(kDefaultMinTimeSeconds);
    }
  }
}

}  // namespace
}  // namespace triage::bench

int main(int argc, char** argv) {
  using namespace triage::bench;
  const bool user_min_time = HasFlag(argc, argv, "--benchmark_min_time");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const xnn_status init = xnn_initialize(nullptr);
  g_xnn_ready = init == xnn_status_success;
  if (!g_xnn_ready) g_xnn_init_error = std::string("xnn_initialize failed: ") + XnnStatusName(init);

  const std::string shared = SharedDir();
  const bool rss_reset = ResetPeakRss();
  benchmark::AddCustomContext("triage_build_type", TRIAGE_BUILD_TYPE);
  benchmark::AddCustomContext("triage_shared_dir", shared);
  benchmark::AddCustomContext("triage_peer", "XNNPACK (Debian libxnnpack 0.0~git20220216), pthreadpool");
  benchmark::AddCustomContext("triage_peak_rss",
                              rss_reset ? "per benchmark (VmHWM reset after the reference check)"
                                        : "process lifetime (cannot reset VmHWM)");
  if (!IsDir(shared)) {
    std::fprintf(stderr,
                 "triage_bench_xnnpack: shared directory '%s' not found; only triage_int8 will run. "
                 "Set TRIAGE_SHARED_DIR to the directory holding models/.\n",
                 shared.c_str());
  }
  RegisterAll(user_min_time);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_xnn_ready) xnn_deinitialize();
  return 0;
}
