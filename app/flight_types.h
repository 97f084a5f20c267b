// The flight loop's names for the decision path, which lives in decision/
// (the classifier, the policy and product encoding) so that ground evaluation and replay run
// the very same code.
#ifndef TRIAGE_APP_FLIGHT_TYPES_H_
#define TRIAGE_APP_FLIGHT_TYPES_H_

#include "decision/classifier.h"
#include "decision/decision.h"
#include "decision/product_encoder.h"

namespace triage::app {

using decision::Classification;
using decision::Classifier;
using decision::ComputePriority;
using decision::Decide;
using decision::Decision;
using decision::DecisionReason;
using decision::DecisionReasonName;
using decision::DirectInferenceRunner;
using decision::InferenceRunner;
using decision::LimitsFor;
using decision::ProductEncoder;
using decision::ProductEncoderLimits;
using decision::RankScores;

}  // namespace triage::app

#endif  // TRIAGE_APP_FLIGHT_TYPES_H_
