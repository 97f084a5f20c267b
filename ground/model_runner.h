// ModelRunner: a .tflite model on our interpreter with the flight
// preprocessing (imaging::Preprocessor, mean/std from the model's
// "preprocessing" metadata), returning class probabilities as floats.
// Shared by evaluate, quantize (calibration and reports) and the export check
// so that ground numbers are the numbers flight would produce.
// Ground-side: allocates freely; not thread safe (one per thread).
#ifndef TRIAGE_GROUND_MODEL_RUNNER_H_
#define TRIAGE_GROUND_MODEL_RUNNER_H_

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "imaging/image.h"
#include "imaging/preprocess.h"
#include "inference/interpreter.h"
#include "inference/model.h"
#include "inference/op_resolver.h"

namespace triage::ground {

// Gray (or gray+alpha) images expanded to RGB; RGB returned as is.
imaging::Image ToRgb(const imaging::Image& image);

class ModelRunner {
 public:
  static Result<std::unique_ptr<ModelRunner>> Load(const std::string& path,
                                                   const inference::InterpreterOptions& options = {});
  static Result<std::unique_ptr<ModelRunner>> FromBytes(const std::vector<uint8_t>& bytes, const std::string& what,
                                                        const inference::InterpreterOptions& options = {});

  // Resizes (area) and normalizes any RGB image, runs the model.
  Status ClassifyImage(const imaging::Image& image, std::vector<float>* probabilities);
  // Input already normalized to floats (NHWC, model size): quantized with the
  // input tensor's parameters when the model is quantized.
  Status ClassifyNormalized(const float* input, std::vector<float>* probabilities);
  // The model-size 8-bit RGB that ClassifyImage feeds (for training data).
  Status ResizeForModel(const imaging::Image& image, std::vector<uint8_t>* rgb);

  const std::vector<std::string>& labels() const { return labels_; }
  int input_size() const { return spec_.width; }
  const imaging::ModelInputSpec& input_spec() const { return spec_; }
  inference::Interpreter& interpreter() { return *interpreter_; }
  size_t file_bytes() const { return buffer_.size(); }

 private:
  ModelRunner() = default;
  Status Init(const std::string& what, const inference::InterpreterOptions& options);
  Status ReadOutput(std::vector<float>* probabilities) const;

  inference::AlignedBuffer buffer_;
  std::unique_ptr<inference::Model> model_;
  inference::OpResolver resolver_;
  std::unique_ptr<inference::Interpreter> interpreter_;
  imaging::ModelInputSpec spec_;
  std::unique_ptr<imaging::Preprocessor> preprocessor_;
  std::unique_ptr<imaging::Resampler> resampler_;
  std::vector<std::string> labels_;
};

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_MODEL_RUNNER_H_
