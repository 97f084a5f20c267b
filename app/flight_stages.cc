#include "app/flight_stages.h"

namespace triage::app {

const char* FlightStageName(FlightStage stage) {
  static const char* const kNames[kFlightStageCount] = {"capture", "thumbnail", "preprocess", "infer",
                                                        "decide",  "compress",  "enqueue",    "downlink"};
  const auto i = static_cast<size_t>(stage);
  return i < static_cast<size_t>(kFlightStageCount) ? kNames[i] : "?";
}

fault::Stage FaultStageOf(FlightStage stage) {
  switch (stage) {
    case FlightStage::kCapture: return fault::Stage::kCapture;
    case FlightStage::kThumbnail:
    case FlightStage::kPreprocess: return fault::Stage::kPreprocess;
    case FlightStage::kInfer: return fault::Stage::kInfer;
    case FlightStage::kDecide:
    case FlightStage::kCompress: return fault::Stage::kDecide;
    case FlightStage::kEnqueue:
    case FlightStage::kDownlink: return fault::Stage::kDownlink;
  }
  return fault::Stage::kCapture;
}

}  // namespace triage::app
