// The flight loop's stages, in order, and the hooks the fault layer uses to
// watch them. The loop reads top-down as:
//   capture -> thumbnail -> preprocess -> infer -> decide -> compress ->
//   enqueue -> downlink, then between-frame work (reload, uplink, hooks).
#ifndef TRIAGE_APP_FLIGHT_STAGES_H_
#define TRIAGE_APP_FLIGHT_STAGES_H_

#include <cstdint>

#include "core/status.h"
#include "fault/fault_config.h"

namespace triage::app {

class Classifier;

enum class FlightStage : uint8_t {
  kCapture = 0,
  kThumbnail,
  kPreprocess,
  kInfer,
  kDecide,
  kCompress,
  kEnqueue,
  kDownlink,
};
constexpr int kFlightStageCount = 8;
const char* FlightStageName(FlightStage stage);  // "capture", "thumbnail", ...

// The health monitor's coarser stage for each loop stage.
fault::Stage FaultStageOf(FlightStage stage);

// Seam for fault/ (health heartbeats, deadline checks, scrubber, safe mode);
// app/fault_hooks.h implements it around a fault::Guard. Every call is on
// the loop thread, must not allocate and must not throw.
class FlightHooks {
 public:
  virtual ~FlightHooks() = default;
  virtual void OnStageBegin(FlightStage stage, uint64_t frame_id) noexcept {
    (void)stage;
    (void)frame_id;
  }
  // elapsed_ns from the loop's Clock; status is the stage's result.
  virtual void OnStageEnd(FlightStage stage, uint64_t frame_id, const Status& status, int64_t elapsed_ns) noexcept {
    (void)stage;
    (void)frame_id;
    (void)status;
    (void)elapsed_ns;
  }
  // After each frame, before the next capture: the safe point for
  // scrubbing weights and swapping models.
  virtual void BetweenFrames(uint64_t frames_done) noexcept { (void)frames_done; }
  // Called once the classifier exists (start-up) and again after a reload
  // swapped in a new model: the place to wrap classifier.interpreter() in a
  // redundant InferenceRunner (classifier.set_runner).
  virtual void OnClassifierReady(Classifier& classifier) noexcept { (void)classifier; }
  // While true (checked once per frame) classification is off: frames are
  // captured, thumbnailed, queued as thumbnails and catalogued unclassified.
  virtual bool InSafeMode() const noexcept { return false; }
};

}  // namespace triage::app

#endif  // TRIAGE_APP_FLIGHT_STAGES_H_
