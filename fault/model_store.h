// ModelStore: the in-memory model images the fault layer protects, and the
// way back to a verified image on disk.
//
// Load() reads the model file, establishes its trusted SHA-256 (given by the
// caller, else a "<path>.sha256" sidecar in `sha256sum` format, else the
// digest of the file as read at load, which is then trusted on first use),
// keeps `copies` identical 16-byte-aligned copies in memory (redundant runs
// can each read their own weights) and builds one verified inference::Model
// per copy. With a backup path, a missing or mismatching backup is rewritten
// from the verified primary at load, and a mismatching primary is repaired
// from a verified backup.
//
// RestoreFromDisk() is the scrubber's repair: it reads the primary file into
// a staging buffer reserved at load, checks its SHA-256, falls back to the
// backup (and then rewrites the primary file atomically), and copies the
// verified bytes over every in-memory copy in place, so Models and
// Interpreters built on them stay valid. It does not allocate.
//
// Ownership: the store owns the bytes and the Models; they live as long as
// the store, at fixed addresses. Phase: Load is init-time (allocates
// copies x file size + one staging buffer); RestoreFromDisk and the byte
// accessors are flight-safe. Thread safety: single owner; do not restore
// while an interpreter on these copies is running.
#ifndef TRIAGE_FAULT_MODEL_STORE_H_
#define TRIAGE_FAULT_MODEL_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "fault/checksum.h"
#include "inference/model.h"

namespace triage::fault {

constexpr int kMaxModelCopies = 3;

struct ModelStoreOptions {
  std::string path;                       // primary model file
  std::string backup_path;                // second on-disk copy ("" = none)
  int copies = 1;                         // in-memory copies, 1..kMaxModelCopies
  std::optional<Sha256Digest> expected_sha256;
  size_t max_bytes = 64u << 20;
};

// A constant tensor's data inside the image (offset from the image start).
struct WeightBuffer {
  size_t offset = 0;
  size_t bytes = 0;
  int tensor = -1;  // first tensor using it
};

enum class RestoreSource : uint8_t { kPrimary = 0, kBackup = 1 };

struct RestoreReport {
  RestoreSource source = RestoreSource::kPrimary;
  bool primary_file_repaired = false;
  int copies_changed = 0;  // in-memory copies that differed from the verified image
};

class ModelStore {
 public:
  static Result<std::unique_ptr<ModelStore>> Load(const ModelStoreOptions& options);
  // An image held only in memory (tests, synthetic models). RestoreFromDisk
  // then fails with kFailedPrecondition.
  static Result<std::unique_ptr<ModelStore>> FromBytes(Span<const uint8_t> bytes, int copies);

  int copies() const { return static_cast<int>(images_.size()); }
  size_t size() const { return size_; }
  const inference::Model& model(int copy) const { return models_[static_cast<size_t>(copy)]; }
  // Mutable bytes of one copy (scrubber repair, fault injection).
  Span<uint8_t> bytes(int copy) { return images_[static_cast<size_t>(copy)]->mutable_span(); }
  Span<const uint8_t> bytes(int copy) const { return images_[static_cast<size_t>(copy)]->span(); }
  const Sha256Digest& sha256() const { return sha256_; }
  // Sorted by offset, one entry per distinct buffer.
  Span<const WeightBuffer> weight_buffers() const { return Span<const WeightBuffer>(weights_); }
  size_t weight_bytes() const { return weight_bytes_; }
  const std::string& path() const { return options_.path; }
  const std::string& backup_path() const { return options_.backup_path; }
  bool has_disk_copy() const { return !options_.path.empty(); }

  Result<RestoreReport> RestoreFromDisk() noexcept;

 private:
  ModelStore() = default;
  Status Init(Span<const uint8_t> verified, int copies);
  // Reads path into staging_ and checks it against sha256_; returns the size.
  Status ReadVerified(const std::string& path) noexcept;

  ModelStoreOptions options_;
  size_t size_ = 0;
  Sha256Digest sha256_;
  std::vector<std::unique_ptr<inference::AlignedBuffer>> images_;
  std::vector<inference::Model> models_;
  std::vector<WeightBuffer> weights_;
  size_t weight_bytes_ = 0;
  inference::AlignedBuffer staging_;
};

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_MODEL_STORE_H_
