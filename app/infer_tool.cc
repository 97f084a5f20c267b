#include "app/infer_tool.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/tensor_dump.h"
#include "imaging/image.h"
#include "imaging/preprocess.h"
#include "inference/interpreter.h"
#include "inference/introspection.h"
#include "inference/model.h"
#include "inference/op_resolver.h"

namespace triage::app {
namespace {

using inference::DataType;
using inference::Interpreter;
using inference::Model;
using inference::TensorView;

struct Flags {
  std::string model;
  std::string image;
  std::string labels;
  int top = 5;
  int repeat = 1;
  bool json = false;
  bool describe = false;
  std::vector<std::string> input_raw;
  std::string output_raw;
  std::string mean;     // "" = the model's "preprocessing" metadata, else 127.5
  std::string std_dev;
  std::string kernels = "reference";
  int threads = 1;
  std::string dump_dir;
  std::string compare_dir;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "triage-infer: error: %s\n", message.c_str());
  return 1;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ShapeString(const kernels::Shape& s) {
  std::string out = "[";
  for (int i = 0; i < s.rank; ++i) out += (i ? "," : "") + std::to_string(s.dims[i]);
  return out + "]";
}

// Parses "v" or "a,b,c" into three per-channel values.
bool ParseTriple(const std::string& text, float out[3]) {
  std::vector<float> values;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      values.push_back(std::stof(item));
    } catch (...) {
      return false;
    }
  }
  if (values.size() == 1) values.assign(3, values[0]);
  if (values.size() != 3) return false;
  std::copy(values.begin(), values.end(), out);
  return true;
}

std::vector<std::string> ReadLabels(const std::string& path, const Model& model, std::string* error) {
  std::vector<std::string> labels;
  std::string text;
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) {
      *error = path + ": cannot read labels";
      return labels;
    }
    text.assign(std::istreambuf_iterator<char>(in), {});
  } else {
    const Span<const uint8_t> meta = model.Metadata("labels");
    text.assign(reinterpret_cast<const char*>(meta.data()), meta.size());
  }
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  return labels;
}

float Dequantize(const TensorView& t, size_t i) {
  switch (t.type) {
    case DataType::kFloat32: return t.As<float>()[i];
    case DataType::kUint8: return t.scale > 0 ? t.scale * (static_cast<int>(t.data[i]) - t.zero_point) : t.data[i];
    case DataType::kInt8: {
      const int v = static_cast<int8_t>(t.data[i]);
      return t.scale > 0 ? t.scale * (v - t.zero_point) : static_cast<float>(v);
    }
    case DataType::kInt16: {
      int16_t v;
      std::memcpy(&v, t.data + 2 * i, 2);
      return t.scale > 0 ? t.scale * (v - t.zero_point) : static_cast<float>(v);
    }
    case DataType::kInt32: {
      int32_t v;
      std::memcpy(&v, t.data + 4 * i, 4);
      return t.scale > 0 ? t.scale * static_cast<float>(v - t.zero_point) : static_cast<float>(v);
    }
    default: return 0.0f;
  }
}

void Describe(const Model& model, const Interpreter& interp) {
  std::printf("%-4s %-20s %-3s %-22s %-8s %14s\n", "op", "operator", "v", "output shape", "type", "MACs");
  const auto ops = model.operators();
  for (size_t i = 0; i < ops.size(); ++i) {
    const TensorView out = interp.tensor(ops[i].outputs[0]);
    std::printf("%-4zu %-20s %-3d %-22s %-8s %14lld\n", i, inference::BuiltinOpName(ops[i].code), ops[i].version,
                ShapeString(out.shape).c_str(), kernels::DataTypeName(out.type),
                static_cast<long long>(inference::OperatorMacs(model, static_cast<int>(i))));
  }
  std::printf("\n%-6s %-40s %-8s %-22s %12s %s\n", "tensor", "name", "type", "shape", "bytes", "kind");
  for (size_t t = 0; t < model.tensors().size(); ++t) {
    const auto& spec = model.tensors()[t];
    std::printf("%-6zu %-40.40s %-8s %-22s %12zu %s\n", t, spec.name, kernels::DataTypeName(spec.type),
                ShapeString(spec.shape).c_str(), spec.bytes, spec.is_constant() ? "weight" : "activation");
  }
  std::printf("\noperators %zu, tensors %zu, MACs %lld\n", ops.size(), model.tensors().size(),
              static_cast<long long>(inference::TotalMacs(model)));
  std::printf("arena bytes %zu, op data bytes %zu, weight bytes %zu, file bytes %zu\n", interp.arena_bytes(),
              interp.op_data_bytes(), model.weight_bytes(), model.bytes().size());
}

Status FeedImage(const Flags& f, Interpreter& interp) {
  auto image = imaging::LoadImageFile(f.image);
  if (!image.ok()) return image.status();
  if (image->channels == 1) {
    // Grayscale files (e.g. person.bmp): replicate to RGB; the preprocessor
    // converts back to one channel when the model wants gray.
    imaging::Image rgb = imaging::MakeImage(image->width, image->height, 3);
    for (size_t i = 0; i < image->pixels.size(); ++i) {
      for (int c = 0; c < 3; ++c) rgb.pixels[3 * i + static_cast<size_t>(c)] = image->pixels[i];
    }
    *image = std::move(rgb);
  }
  TensorView in = interp.input(0);
  if (in.shape.rank != 4) {
    return Status::Error(StatusCode::kUnsupported, "input 0 has shape %s; --image needs an NHWC input",
                         ShapeString(in.shape).c_str());
  }
  imaging::ModelInputSpec spec;
  spec.height = in.shape.dims[1];
  spec.width = in.shape.dims[2];
  spec.channels = in.shape.dims[3];
  // Normalization: --mean/--std if given, else the model's "preprocessing"
  // metadata (written by triage-ground export), else 127.5 / 127.5.
  std::string mean = f.mean.empty() ? "127.5" : f.mean, std_dev = f.std_dev.empty() ? "127.5" : f.std_dev;
  const Span<const uint8_t> meta = interp.model().Metadata("preprocessing");
  if (!meta.empty()) {
    const nlohmann::json j = nlohmann::json::parse(meta.begin(), meta.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("mean") && j["mean"].is_array() && !j["mean"].empty() &&
        j["mean"][0].is_number() && j.contains("std") && j["std"].is_array() && !j["std"].empty() &&
        j["std"][0].is_number()) {
      if (f.mean.empty()) mean = std::to_string(j["mean"][0].get<double>());
      if (f.std_dev.empty()) std_dev = std::to_string(j["std"][0].get<double>());
    }
  }
  if (!ParseTriple(mean, spec.mean) || !ParseTriple(std_dev, spec.std)) {
    return Status::Error(StatusCode::kInvalidArgument, "--mean and --std take one value or three comma-separated");
  }
  switch (in.type) {
    case DataType::kFloat32: spec.type = imaging::TensorElementType::kFloat32; break;
    case DataType::kUint8: spec.type = imaging::TensorElementType::kUint8; break;
    case DataType::kInt8: spec.type = imaging::TensorElementType::kInt8; break;
    default:
      return Status::Error(StatusCode::kUnsupported, "input type %s cannot be fed from an image",
                           kernels::DataTypeName(in.type));
  }
  if (in.type != DataType::kFloat32) {
    if (in.scale > 0) {
      spec.scale = in.scale;
      spec.zero_point = in.zero_point;
    } else {
      // Unquantized integer input: feed pixels as they are (int8: pixel - 128).
      for (int c = 0; c < 3; ++c) {
        spec.mean[c] = in.type == DataType::kInt8 ? 128.0f : 0.0f;
        spec.std[c] = 1.0f;
      }
    }
  }
  auto pre = imaging::Preprocessor::Create(spec, image->width, image->height);
  if (!pre.ok()) return pre.status();
  return pre->Run(image->pixels.data(), image->width, image->height, image->stride(),
                  Span<uint8_t>(in.data, in.bytes));
}

Status FeedRaw(const Flags& f, Interpreter& interp) {
  if (f.input_raw.size() != interp.num_inputs()) {
    return Status::Error(StatusCode::kInvalidArgument, "model has %zu inputs but %zu --input-raw files were given",
                         interp.num_inputs(), f.input_raw.size());
  }
  for (size_t i = 0; i < f.input_raw.size(); ++i) {
    std::ifstream in(f.input_raw[i], std::ios::binary);
    if (!in) return Status::Error(StatusCode::kNotFound, "%s: cannot read", f.input_raw[i].c_str());
    const std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
    TensorView t = interp.input(i);
    if (bytes.size() != t.bytes) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: %zu bytes, input %zu needs %zu (%s %s)",
                           f.input_raw[i].c_str(), bytes.size(), i, t.bytes, kernels::DataTypeName(t.type),
                           ShapeString(t.shape).c_str());
    }
    std::memcpy(t.data, bytes.data(), bytes.size());
  }
  return Status::Ok();
}

}  // namespace

int RunInferTool(int argc, char** argv) {
  Flags f;
  CLI::App app{"triage-infer: run a TensorFlow Lite model on triage's embedded interpreter.\n"
               "Classifies an image (JPEG, PNG or BMP) or raw input tensor bytes, prints the top classes,\n"
               "and can describe the model or dump every intermediate tensor."};
  app.add_option("--model", f.model, "Model file (.tflite); default: models/triage_int8.tflite");
  app.add_option("--image", f.image, "Image to classify (resized to the input shape)");
  app.add_option("--labels", f.labels, "Label file, one per line (default: the model's 'labels' metadata)");
  app.add_option("--top", f.top, "Number of classes to print")->check(CLI::Range(1, 100000));
  app.add_option("--repeat", f.repeat, "Invoke N times; report median and min latency")->check(CLI::Range(1, 1000000));
  app.add_flag("--json", f.json, "Print one JSON object instead of text");
  app.add_flag("--describe", f.describe, "Print ops, tensors, shapes, MACs, arena and weight bytes");
  app.add_option("--input-raw", f.input_raw, "Exact input tensor bytes (one file per input)");
  app.add_option("--output-raw", f.output_raw, "Write output tensor 0's exact bytes here");
  app.add_option("--mean", f.mean, "Per-channel mean for normalization (v or r,g,b); default: model metadata, else 127.5");
  app.add_option("--std", f.std_dev, "Per-channel std for normalization (v or r,g,b); default: model metadata, else 127.5");
  app.add_option("--kernels", f.kernels, "Kernel set")->check(CLI::IsMember({"reference", "optimized"}));
  app.add_option("--threads", f.threads, "Threads for the optimized kernels (same output bytes for any count)")
      ->check(CLI::Range(1, kernels::WorkerPool::kMaxThreads));
  app.add_option("--dump-tensors", f.dump_dir, "Write every intermediate tensor to this directory");
  app.add_option("--compare-tensors", f.compare_dir,
                 "Compare intermediates with a dump directory (t<index>.bin) and name the first diverging op");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(std::string(e.what()) + " (see --help)");
  }

  if (f.model.empty()) {
    f.model = TRIAGE_DEFAULT_MODEL;
    if (!FileExists(f.model)) return Fail("no --model given and the default model " + f.model + " is missing");
  }
  auto file = inference::ReadFileAligned(f.model);
  if (!file.ok()) return Fail(file.status().message());
  auto model = Model::Create(file->span());
  if (!model.ok()) return Fail(f.model + ": " + model.status().message());
  inference::OpResolver resolver;
  if (Status s = inference::AddAllBuiltinOps(resolver); !s.ok()) return Fail(s.message());

  TensorRecorder recorder;
  inference::InterpreterOptions options;
  options.kernel_set = f.kernels == "optimized" ? kernels::KernelSet::kOptimized : kernels::KernelSet::kReference;
  options.threads = f.threads;
  if (!f.dump_dir.empty() || !f.compare_dir.empty()) {
    options.observer = &TensorRecorder::Observe;
    options.observer_user = &recorder;
  }
  Interpreter interp(*model, resolver, options);
  if (Status s = interp.PrepareAndAllocate(); !s.ok()) return Fail(f.model + ": " + s.message());

  if (f.describe) {
    Describe(*model, interp);
    if (f.image.empty() && f.input_raw.empty()) return 0;
  }
  if (!f.image.empty() && !f.input_raw.empty()) return Fail("give --image or --input-raw, not both");
  if (f.image.empty() && f.input_raw.empty()) return Fail("nothing to run: give --image or --input-raw (see --help)");
  Status fed = f.image.empty() ? FeedRaw(f, interp) : FeedImage(f, interp);
  if (!fed.ok()) return Fail(fed.message());

  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(f.repeat));
  const bool show_progress = f.repeat >= 10 && ::isatty(STDERR_FILENO);
  for (int i = 0; i < f.repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (Status s = interp.Invoke(); !s.ok()) return Fail(s.message());
    latencies.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    if (show_progress) std::fprintf(stderr, "\rinvoke %d/%d", i + 1, f.repeat);
  }
  if (show_progress) std::fprintf(stderr, "\n");
  std::vector<double> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2], min = sorted.front();

  const TensorView out = interp.output(0);
  if (!f.output_raw.empty()) {
    std::ofstream o(f.output_raw, std::ios::binary);
    o.write(reinterpret_cast<const char*>(out.data), static_cast<std::streamsize>(out.bytes));
    if (!o) return Fail(f.output_raw + ": cannot write");
  }
  if (!f.dump_dir.empty()) {
    ::mkdir(f.dump_dir.c_str(), 0755);
    if (Status s = recorder.WriteDirectory(f.dump_dir, interp); !s.ok()) return Fail(s.message());
  }
  if (!f.compare_dir.empty()) {
    auto d = FirstDivergingOp(interp, recorder, f.compare_dir);
    if (!d.ok()) return Fail(d.status().message());
    if (d->found) {
      const auto& op = model->operators()[static_cast<size_t>(d->op_index)];
      std::printf("first diverging op: %d (%s), output tensor %d: %zu bytes differ, first at byte %zu\n",
                  d->op_index, inference::BuiltinOpName(op.code), d->tensor_index, d->differing_bytes,
                  d->first_byte);
    } else {
      std::printf("all compared intermediate tensors match\n");
    }
  }

  std::string label_error;
  const std::vector<std::string> labels = ReadLabels(f.labels, *model, &label_error);
  if (!label_error.empty()) return Fail(label_error);
  const size_t classes = static_cast<size_t>(out.shape.FlatSize());
  std::vector<size_t> order(classes);
  for (size_t i = 0; i < classes; ++i) order[i] = i;
  const size_t k = std::min<size_t>(static_cast<size_t>(f.top), classes);
  // Ties keep the lower index first, so output is deterministic.
  std::partial_sort(order.begin(), order.begin() + static_cast<long>(k), order.end(), [&](size_t a, size_t b) {
    const float sa = Dequantize(out, a), sb = Dequantize(out, b);
    return sa != sb ? sa > sb : a < b;
  });
  auto label_of = [&](size_t i) { return i < labels.size() ? labels[i] : std::string(); };

  if (f.json) {
    nlohmann::json j;
    j["model"] = f.model;
    j["top"] = nlohmann::json::array();
    for (size_t r = 0; r < k; ++r) {
      j["top"].push_back({{"index", order[r]}, {"label", label_of(order[r])}, {"score", Dequantize(out, order[r])}});
    }
    j["latency_ms"] = median;
    j["latency_min_ms"] = min;
    j["kernels"] = interp.kernels().name;
    j["threads"] = interp.threads();
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (size_t r = 0; r < k; ++r) {
      std::printf("%5zu  %-30s %.6f\n", order[r], label_of(order[r]).c_str(), Dequantize(out, order[r]));
    }
    std::printf("latency: median %.3f ms, min %.3f ms over %d run%s (%s kernels, %d thread%s)\n", median, min,
                f.repeat, f.repeat == 1 ? "" : "s", interp.kernels().name, interp.threads(),
                interp.threads() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace triage::app
