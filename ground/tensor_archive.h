// TensorArchive: the trainer's checkpoint format, readable without libtorch
// so that export and quantization do not need it.
//
// Named float tensors plus named strings (hyper-parameters, provenance).
// File: "TCKP", version u32, tensor count u32, string count u32, then each
// tensor (name, rank, dims i64, float32 values) and string (name, value),
// little-endian, with a CRC-32 of everything before it at the end.
// Ground-side code: allocates freely.
#ifndef TRIAGE_GROUND_TENSOR_ARCHIVE_H_
#define TRIAGE_GROUND_TENSOR_ARCHIVE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace triage::ground {

struct ArchiveTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
  int64_t count() const;
};

class TensorArchive {
 public:
  void Put(const std::string& name, ArchiveTensor tensor) { tensors_[name] = std::move(tensor); }
  void PutString(const std::string& name, std::string value) { strings_[name] = std::move(value); }

  // Errors name the missing tensor and the expected shape.
  Result<const ArchiveTensor*> Get(const std::string& name, const std::vector<int64_t>& shape) const;
  bool Has(const std::string& name) const { return tensors_.count(name) != 0; }
  std::string GetString(const std::string& name, const std::string& fallback = "") const;

  const std::map<std::string, ArchiveTensor>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& strings() const { return strings_; }

  std::vector<uint8_t> Serialize() const;
  static Result<TensorArchive> Parse(const std::vector<uint8_t>& bytes, const std::string& what);
  Status Save(const std::string& path) const;  // tmp + rename
  static Result<TensorArchive> Load(const std::string& path);

 private:
  std::map<std::string, ArchiveTensor> tensors_;
  std::map<std::string, std::string> strings_;
};

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_TENSOR_ARCHIVE_H_
