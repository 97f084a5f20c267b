#include "app/infer_tool.h"

int main(int argc, char** argv) { return triage::app::RunInferTool(argc, argv); }
