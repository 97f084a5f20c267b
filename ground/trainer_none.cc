// Stand-in when the build has no libtorch: training is refused by name.
#include "ground/trainer.h"

namespace triage::ground {

bool TorchAvailable() { return false; }

Result<TrainResult> Train(const TrainOptions&) {
  return Status::Error(StatusCode::kUnsupported,
                       "this build has no libtorch; install libtorch-dev (scripts/install-deps.sh --with-training) "
                       "and rebuild");
}

Result<std::vector<std::vector<float>>> TorchPredict(const TensorArchive&, const std::vector<std::vector<float>>&) {
  return Status::Error(StatusCode::kUnsupported, "this build has no libtorch");
}

}  // namespace triage::ground
