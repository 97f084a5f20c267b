// Intermediate-tensor dumps for conformance bisection (tools only; allocates).
//
// TensorRecorder is an interpreter observer that copies every operator's
// outputs after it runs. The recorded tensors can be written to a directory
// (one raw little-endian file per tensor, "t<index>.bin", plus index.json) and
// compared against another dump, e.g. one made with TensorFlow Lite's
// preserve-all-tensors option, to find the first operator whose output
// diverges.
#ifndef TRIAGE_APP_TENSOR_DUMP_H_
#define TRIAGE_APP_TENSOR_DUMP_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "inference/interpreter.h"

namespace triage::app {

class TensorRecorder {
 public:
  // Observer callback for InterpreterOptions (user = TensorRecorder*).
  static Status Observe(void* user, const inference::Interpreter& interp, int op_index);

  const std::map<int, std::vector<uint8_t>>& tensors() const { return tensors_; }
  Status WriteDirectory(const std::string& dir, const inference::Interpreter& interp) const;

 private:
  std::map<int, std::vector<uint8_t>> tensors_;  // tensor index -> bytes
};

struct Divergence {
  bool found = false;
  int op_index = -1;
  int tensor_index = -1;
  size_t differing_bytes = 0;
  size_t first_byte = 0;
};

// Walks operators in order and reports the first whose output tensor differs
// from "<dir>/t<index>.bin". Missing reference files are skipped.
Result<Divergence> FirstDivergingOp(const inference::Interpreter& interp, const TensorRecorder& ours,
                                    const std::string& reference_dir);

}  // namespace triage::app

#endif  // TRIAGE_APP_TENSOR_DUMP_H_
