#include "app/tensor_dump.h"

#include <cstdio>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "kernels/types.h"

namespace triage::app {

Status TensorRecorder::Observe(void* user, const inference::Interpreter& interp, int op_index) {
  auto* self = static_cast<TensorRecorder*>(user);
  const auto& op = interp.model().operators()[static_cast<size_t>(op_index)];
  for (int32_t t : op.outputs) {
    const inference::TensorView v = interp.tensor(t);
    self->tensors_[t].assign(v.data, v.data + v.bytes);
  }
  return Status::Ok();
}

Status TensorRecorder::WriteDirectory(const std::string& dir, const inference::Interpreter& interp) const {
  nlohmann::json index = nlohmann::json::array();
  for (const auto& [t, bytes] : tensors_) {
    const std::string path = dir + "/t" + std::to_string(t) + ".bin";
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status::Error(StatusCode::kIoError, "%s: cannot write", path.c_str());
    const inference::TensorView v = interp.tensor(t);
    std::vector<int> shape(v.shape.dims, v.shape.dims + v.shape.rank);
    index.push_back({{"tensor", t}, {"name", v.name}, {"type", kernels::DataTypeName(v.type)}, {"shape", shape},
                     {"scale", v.scale}, {"zero_point", v.zero_point}, {"file", "t" + std::to_string(t) + ".bin"}});
  }
  std::ofstream out(dir + "/index.json");
  out << index.dump(1) << "\n";
  if (!out) return Status::Error(StatusCode::kIoError, "%s/index.json: cannot write", dir.c_str());
  return Status::Ok();
}

Result<Divergence> FirstDivergingOp(const inference::Interpreter& interp, const TensorRecorder& ours,
                                    const std::string& reference_dir) {
  Divergence d;
  int compared = 0;
  const auto ops = interp.model().operators();
  for (size_t i = 0; i < ops.size() && !d.found; ++i) {
    for (int32_t t : ops[i].outputs) {
      std::ifstream in(reference_dir + "/t" + std::to_string(t) + ".bin", std::ios::binary);
      if (!in) continue;
      const std::vector<uint8_t> ref(std::istreambuf_iterator<char>(in), {});
      const auto it = ours.tensors().find(t);
      if (it == ours.tensors().end()) continue;
      ++compared;
      const std::vector<uint8_t>& mine = it->second;
      size_t diff = ref.size() == mine.size() ? 0 : std::max(ref.size(), mine.size());
      size_t first = 0;
      for (size_t k = 0; k < std::min(ref.size(), mine.size()); ++k) {
        if (ref[k] != mine[k]) {
          if (diff == 0) first = k;
          ++diff;
        }
      }
      if (diff > 0) {
        d = Divergence{true, static_cast<int>(i), t, diff, first};
        break;
      }
    }
  }
  if (compared == 0) {
    return Status::Error(StatusCode::kNotFound, "%s: no reference tensors t<index>.bin match this model",
                         reference_dir.c_str());
  }
  return d;
}

}  // namespace triage::app
