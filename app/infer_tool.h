// triage-infer: classify one image (or raw tensor bytes) with a .tflite model
// on our interpreter; describe a model; dump intermediate tensors.
// Returns the process exit code; prints a one-line reason on failure.
#ifndef TRIAGE_APP_INFER_TOOL_H_
#define TRIAGE_APP_INFER_TOOL_H_

namespace triage::app {

int RunInferTool(int argc, char** argv);

}  // namespace triage::app

#endif  // TRIAGE_APP_INFER_TOOL_H_
