// The camera a mission config names (the simulated orbit or a directory of
// frames), made the same way for the flight loop and for ground replay.
#ifndef TRIAGE_DECISION_CAMERA_FACTORY_H_
#define TRIAGE_DECISION_CAMERA_FACTORY_H_

#include <memory>

#include "config/mission.h"
#include "core/result.h"
#include "imaging/camera.h"

namespace triage::decision {

// Init-time only (allocates the source's buffers).
Result<std::unique_ptr<imaging::Camera>> CreateCamera(const config::CameraSection& camera) noexcept;

}  // namespace triage::decision

#endif  // TRIAGE_DECISION_CAMERA_FACTORY_H_
