// Classifier: thumbnail -> model input -> inference -> class scores. In
// decision/ so that ground evaluation and replay run the flight's own code.
//
// Owns the model bytes (verified, hashed), the interpreter and its arena
// (sized from arena_bytes() at Create and never grown) and the
// preprocessor. Inference itself goes through an InferenceRunner, the seam
// where the fault layer plugs redundant execution (DMR/TMR, cross-check):
// the loop calls Preprocess -> Infer -> Read and never touches the
// interpreter directly.
//
// Phase: Create() allocates (init, or a model swap between frames).
// Preprocess/Infer/Read are flight-safe: no allocation, no exceptions.
// Thread safety: one owner (the flight loop).
#ifndef TRIAGE_DECISION_CLASSIFIER_H_
#define TRIAGE_DECISION_CLASSIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "decision/decision.h"
#include "config/mission.h"
#include "core/result.h"
#include "downlink/checksum.h"
#include "imaging/preprocess.h"
#include "inference/interpreter.h"
#include "inference/model.h"
#include "inference/op_resolver.h"

namespace triage::decision {

// Runs the model on the bytes already in the interpreter's input tensor and
// leaves the result in its output tensor. Implementations must not allocate
// and must not throw. A non-OK Status means no decision may be made:
// kDataLoss (redundant runs without a majority, or every run failed) and
// kFailedPrecondition (safe mode) keep the frame thumbnail-only and mark it
// unverified; any other code fails the frame (counted, evented).
class InferenceRunner {
 public:
  virtual ~InferenceRunner() = default;
  virtual Status Invoke() noexcept = 0;
  // The redundancy outcome of the last Invoke for telemetry ("single",
  // "agreed", "corrected", "no_majority", "failed", "skipped"); nullptr for
  // a runner without redundancy.
  virtual const char* outcome() const noexcept { return nullptr; }
};

// The plain runner: one Interpreter::Invoke().
class DirectInferenceRunner final : public InferenceRunner {
 public:
  explicit DirectInferenceRunner(inference::Interpreter* interpreter) : interpreter_(interpreter) {}
  Status Invoke() noexcept override { return interpreter_->Invoke(); }

 private:
  inference::Interpreter* interpreter_;
};

class Classifier {
 public:
  // Reads, hashes and verifies the model, prepares the interpreter, binds an
  // arena of exactly arena_bytes(), and builds a preprocessor for thumbnails
  // up to max_width x max_height. Errors name the file and the problem.
  static Result<std::unique_ptr<Classifier>> Create(const config::ModelConfig& model, int max_width,
                                                    int max_height) noexcept;
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // Resize + normalize + quantize an RGB view into the input tensor.
  Status Preprocess(const uint8_t* rgb, int width, int height, int stride_bytes) noexcept;
  // Runs the model through the current runner.
  Status Infer() noexcept;
  // Dequantized scores, top-1 and runner-up.
  Result<Classification> Read() const noexcept;

  // Replaces the runner (nullptr restores the direct one). The runner must
  // outlive its use; the fault layer wraps interpreter() in its own.
  void set_runner(InferenceRunner* runner) { runner_ = runner != nullptr ? runner : &direct_; }
  InferenceRunner* runner() const { return runner_; }
  // The current runner's outcome() for the last Infer().
  const char* inference_outcome() const { return runner_->outcome(); }

  inference::Interpreter& interpreter() { return *interpreter_; }
  const inference::Model& model() const { return *model_; }
  // The verified model bytes (weights are read in place: the scrubber's target).
  Span<const uint8_t> model_bytes() const { return bytes_.span(); }
  const downlink::Digest256& model_hash() const { return hash_; }
  const std::string& path() const { return path_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const char* label(int class_id) const;
  int num_classes() const { return num_classes_; }
  const imaging::ModelInputSpec& input_spec() const { return preprocessor_->spec(); }
  size_t arena_bytes() const { return arena_.size(); }
  // Model file + arena + op data + preprocessor.
  size_t memory_bytes() const;

 private:
  Classifier() : direct_(nullptr) {}

  std::string path_;
  inference::AlignedBuffer bytes_;
  downlink::Digest256 hash_{};
  std::unique_ptr<inference::Model> model_;
  inference::OpResolver resolver_;
  std::unique_ptr<inference::Interpreter> interpreter_;
  inference::AlignedBuffer arena_;
  std::unique_ptr<imaging::Preprocessor> preprocessor_;
  DirectInferenceRunner direct_;
  InferenceRunner* runner_ = nullptr;
  std::vector<std::string> labels_;
  int num_classes_ = 0;
};

}  // namespace triage::decision

#endif  // TRIAGE_DECISION_CLASSIFIER_H_
