// `triage-ground evaluate --config MISSION`: the flight's own decisions on a
// labelled folder. Each class subfolder is replayed through the flight's
// code path, component by component: imaging::DirectoryCamera (frames as the
// flight reads them), imaging::Thumbnailer (the mission's thumbnail),
// decision::Classifier (preprocess, infer, dequantize, rank) and
// decision::Decide (the mission's policy), and decision::ProductEncoder (the
// products it keeps, encoded as the flight encodes them, so the bytes are
// measured, not estimated). So the decision of every frame is
// the one triage-flight would make on the same file with the same config
// (tests/app/flight_ground_agreement_test.cc checks that frame by frame).
// Ground-side code: allocates freely.
#ifndef TRIAGE_GROUND_FLIGHT_EVAL_H_
#define TRIAGE_GROUND_FLIGHT_EVAL_H_

#include <string>
#include <vector>

#include "config/mission.h"
#include "core/result.h"
#include "decision/decision.h"
#include "ground/calibrate.h"

namespace triage::ground {

struct FlightEvalOptions {
  std::string data;         // labelled folder (class subfolders, optional manifest.csv)
  std::string mission;      // mission file: model, thumbnail, camera pool, policy
  std::string confidence = "hm";  // manifest confidence levels included ("" = all)
  bool progress = true;
};

struct FlightEvalRow {
  std::string file;         // class/name, as in the folder
  int truth = -1;           // index in the model's labels
  decision::Classification scores;
  decision::Decision decision;
  size_t queued_bytes = 0;  // the products the decision queues, as encoded on board
  size_t whole_bytes = 0;   // the frame at full resolution with land's codec (the send-everything baseline)
};

struct FlightEvalResult {
  std::vector<std::string> labels;
  std::vector<FlightEvalRow> rows;
  DecisionTable table;
};

Result<FlightEvalResult> EvaluateFlightDecisions(const FlightEvalOptions& options);

// "full", "thumbnail" or "discard".
const char* ActionWord(config::FrameAction action);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_FLIGHT_EVAL_H_
