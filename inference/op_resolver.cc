#include "inference/op_resolver.h"

namespace triage::inference {

Status OpResolver::Add(const OpRegistration& registration) {
  if (registration.prepare == nullptr || registration.eval == nullptr) {
    return Status::Error(StatusCode::kInvalidArgument, "op resolver: %s has no prepare/eval", registration.name);
  }
  if (Find(registration.code) != nullptr) {
    return Status::Error(StatusCode::kInvalidArgument, "op resolver: %s registered twice", registration.name);
  }
  if (!registrations_.push_back(registration)) {
    return Status::Error(StatusCode::kResourceExhausted, "op resolver: capacity %zu reached adding %s", kCapacity,
                         registration.name);
  }
  return Status::Ok();
}

const OpRegistration* OpResolver::Find(int32_t code) const {
  for (const OpRegistration& r : registrations_) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

}  // namespace triage::inference
