#include "decision/camera_factory.h"

#include <new>

#include "imaging/directory_camera.h"
#include "imaging/simulated_camera.h"

namespace triage::decision {

Result<std::unique_ptr<imaging::Camera>> CreateCamera(const config::CameraSection& camera) noexcept {
  std::unique_ptr<imaging::Camera> out;
  if (camera.source == config::CameraSource::kSimulated) {
    Result<imaging::SimulatedCamera> sim = imaging::SimulatedCamera::Create(camera.simulated);
    if (!sim.ok()) return sim.status();
    out.reset(new (std::nothrow) imaging::SimulatedCamera(std::move(sim.value())));
  } else {
    Result<imaging::DirectoryCamera> dir = imaging::DirectoryCamera::Create(camera.directory);
    if (!dir.ok()) return dir.status();
    out.reset(new (std::nothrow) imaging::DirectoryCamera(std::move(dir.value())));
  }
  if (!out) return Status::Error(StatusCode::kResourceExhausted, "camera: out of memory");
  return out;
}

}  // namespace triage::decision
