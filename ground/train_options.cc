// Parsing of the staged fine-tuning schedule (trainer.h); built with or
// without libtorch.
#include <cstdio>
#include <cstdlib>

#include "ground/trainer.h"

namespace triage::ground {

Result<std::vector<TrainStage>> ParseStages(const std::string& text) {
  std::vector<TrainStage> stages;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty()) {
      if (end == text.size()) break;
      return Status::Error(StatusCode::kInvalidArgument, "stages '%s': empty item", text.c_str());
    }
    const size_t a = item.find(':'), b = a == std::string::npos ? a : item.find(':', a + 1);
    if (b == std::string::npos) {
      return Status::Error(StatusCode::kInvalidArgument, "stage '%s': expected LAYERS:EPOCHS:LR (e.g. top6:3:1e-3)",
                           item.c_str());
    }
    TrainStage st;
    st.layers = item.substr(0, a);
    char* e1 = nullptr;
    char* e2 = nullptr;
    const std::string ep = item.substr(a + 1, b - a - 1), lr = item.substr(b + 1);
    const long epochs = std::strtol(ep.c_str(), &e1, 10);
    st.learning_rate = std::strtof(lr.c_str(), &e2);
    bool layers_ok = st.layers == "head" || st.layers == "all" || st.layers == "qat";
    if (st.layers.rfind("top", 0) == 0 && st.layers.size() > 3) {
      char* e3 = nullptr;
      const long n = std::strtol(st.layers.c_str() + 3, &e3, 10);
      layers_ok = *e3 == '\0' && n >= 1 && n <= 13;
    }
    if (!layers_ok) {
      return Status::Error(StatusCode::kInvalidArgument, "stage '%s': layers must be head, top1..top13, all or qat",
                           item.c_str());
    }
    if (ep.empty() || *e1 != '\0' || epochs < 1 || epochs > 1000) {
      return Status::Error(StatusCode::kInvalidArgument, "stage '%s': epochs must be 1..1000", item.c_str());
    }
    if (lr.empty() || *e2 != '\0' || !(st.learning_rate > 0.f && st.learning_rate < 1.f)) {
      return Status::Error(StatusCode::kInvalidArgument, "stage '%s': learning rate must be in (0, 1)", item.c_str());
    }
    st.epochs = static_cast<int>(epochs);
    stages.push_back(st);
  }
  if (stages.empty()) return Status::Error(StatusCode::kInvalidArgument, "stages: none given");
  return stages;
}

std::string StagesText(const std::vector<TrainStage>& stages) {
  std::string s;
  for (const TrainStage& st : stages) {
    char item[64];
    std::snprintf(item, sizeof(item), "%s%s:%d:%g", s.empty() ? "" : ",", st.layers.c_str(), st.epochs,
                  static_cast<double>(st.learning_rate));
    s += item;
  }
  return s;
}

}  // namespace triage::ground
