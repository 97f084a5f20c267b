#include "fault/model_store.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "fault/file_util.h"

namespace triage::fault {
namespace {

// Reads "<path>.sha256" if present. Absent: nullopt; present but malformed: error.
Result<std::optional<Sha256Digest>> ReadSidecar(const std::string& path) {
  const std::string sidecar = path + ".sha256";
  if (!FileExists(sidecar.c_str())) return std::optional<Sha256Digest>();
  char text[256];
  auto n = ReadFileInto(sidecar.c_str(), Span<uint8_t>(reinterpret_cast<uint8_t*>(text), sizeof(text)));
  if (!n.ok()) return n.status();
  Sha256Digest d;
  if (!ParseSha256Hex(text, *n, &d)) {
    return Status::Error(StatusCode::kDataLoss, "%s: not a SHA-256 hex digest", sidecar.c_str());
  }
  return std::optional<Sha256Digest>(d);
}

Result<inference::AlignedBuffer> ReadWhole(const std::string& path, size_t max_bytes) {
  auto size = FileSize(path.c_str());
  if (!size.ok()) return size.status();
  if (*size > max_bytes) {
    return Status::Error(StatusCode::kResourceExhausted, "%s: %zu bytes exceeds the %zu-byte limit", path.c_str(),
                         *size, max_bytes);
  }
  inference::AlignedBuffer buf(*size);
  auto n = ReadFileInto(path.c_str(), buf.mutable_span());
  if (!n.ok()) return n.status();
  if (*n != *size) return Status::Error(StatusCode::kDataLoss, "%s: changed size while being read", path.c_str());
  return buf;
}

}  // namespace

Result<std::unique_ptr<ModelStore>> ModelStore::Load(const ModelStoreOptions& options) {
  if (options.copies < 1 || options.copies > kMaxModelCopies) {
    return Status::Error(StatusCode::kInvalidArgument, "model store: %d copies (must be 1..%d)", options.copies,
                         kMaxModelCopies);
  }
  if (options.path.empty()) return Status::Error(StatusCode::kInvalidArgument, "model store: empty model path");
  std::unique_ptr<ModelStore> store(new (std::nothrow) ModelStore());
  if (!store) return Status::Error(StatusCode::kResourceExhausted, "model store: out of memory");
  store->options_ = options;

  std::optional<Sha256Digest> expected = options.expected_sha256;
  if (!expected) {
    auto sidecar = ReadSidecar(options.path);
    if (!sidecar.ok()) return sidecar.status();
    expected = *sidecar;
  }

  const bool have_backup = !options.backup_path.empty();
  auto primary = ReadWhole(options.path, options.max_bytes);
  bool primary_ok = primary.ok() && (!expected || Sha256(primary->span()) == *expected);
  std::optional<inference::AlignedBuffer> verified;
  bool rewrite_primary = false;
  bool rewrite_backup = false;
  if (primary_ok) {
    if (!expected) expected = Sha256(primary->span());
    verified = std::move(*primary);
  } else if (have_backup) {
    auto backup = ReadWhole(options.backup_path, options.max_bytes);
    // Without an independent digest, a backup cannot arbitrate a primary
    // that is unreadable; trust a readable backup only against a digest.
    if (backup.ok() && expected && Sha256(backup->span()) == *expected) {
      verified = std::move(*backup);
      rewrite_primary = true;
    } else if (backup.ok() && !expected && !primary.ok()) {
      expected = Sha256(backup->span());
      verified = std::move(*backup);
      rewrite_primary = true;
    }
  }
  if (!verified) {
    if (!primary.ok()) return primary.status().WithContext("model store");
    return Status::Error(StatusCode::kDataLoss, "model store: %s does not match its SHA-256%s", options.path.c_str(),
                         have_backup ? " and the backup does not either" : " and there is no backup");
  }
  store->sha256_ = *expected;
  if (rewrite_primary) {
    TRIAGE_RETURN_IF_ERROR(WriteFileAtomically(options.path.c_str(), verified->span()));
  }
  if (have_backup) {
    auto backup = ReadWhole(options.backup_path, options.max_bytes);
    rewrite_backup = !backup.ok() || Sha256(backup->span()) != store->sha256_;
    if (rewrite_backup) {
      TRIAGE_RETURN_IF_ERROR(WriteFileAtomically(options.backup_path.c_str(), verified->span()));
    }
  }
  TRIAGE_RETURN_IF_ERROR(store->Init(verified->span(), options.copies));
  return store;
}

Result<std::unique_ptr<ModelStore>> ModelStore::FromBytes(Span<const uint8_t> bytes, int copies) {
  if (copies < 1 || copies > kMaxModelCopies) {
    return Status::Error(StatusCode::kInvalidArgument, "model store: %d copies (must be 1..%d)", copies,
                         kMaxModelCopies);
  }
  std::unique_ptr<ModelStore> store(new (std::nothrow) ModelStore());
  if (!store) return Status::Error(StatusCode::kResourceExhausted, "model store: out of memory");
  store->options_.copies = copies;
  store->sha256_ = Sha256(bytes);
  TRIAGE_RETURN_IF_ERROR(store->Init(bytes, copies));
  return store;
}

Status ModelStore::Init(Span<const uint8_t> verified, int copies) {
  size_ = verified.size();
  for (int c = 0; c < copies; ++c) {
    auto image = std::make_unique<inference::AlignedBuffer>(size_);
    if (size_ > 0) std::memcpy(image->data(), verified.data(), size_);
    images_.push_back(std::move(image));
  }
  for (int c = 0; c < copies; ++c) {
    auto model = inference::Model::Create(images_[static_cast<size_t>(c)]->span());
    if (!model.ok()) return model.status().WithContext("model store: copy %d", c);
    models_.push_back(std::move(*model));
  }
  const uint8_t* base = images_[0]->data();
  for (size_t t = 0; t < models_[0].tensors().size(); ++t) {
    const inference::TensorSpec& spec = models_[0].tensors()[t];
    if (!spec.is_constant() || spec.bytes == 0) continue;
    weights_.push_back(WeightBuffer{static_cast<size_t>(spec.data - base), spec.bytes, static_cast<int>(t)});
  }
  std::sort(weights_.begin(), weights_.end(),
            [](const WeightBuffer& a, const WeightBuffer& b) { return a.offset < b.offset; });
  // Tensors sharing one buffer appear once.
  weights_.erase(std::unique(weights_.begin(), weights_.end(),
                             [](const WeightBuffer& a, const WeightBuffer& b) { return a.offset == b.offset; }),
                 weights_.end());
  weight_bytes_ = 0;
  for (const WeightBuffer& w : weights_) weight_bytes_ += w.bytes;
  if (has_disk_copy()) staging_ = inference::AlignedBuffer(size_);
  return Status::Ok();
}

Status ModelStore::ReadVerified(const std::string& path) noexcept {
  auto n = ReadFileInto(path.c_str(), staging_.mutable_span());
  if (!n.ok()) return n.status();
  if (*n != size_) {
    return Status::Error(StatusCode::kDataLoss, "%s: %zu bytes, expected %zu", path.c_str(), *n, size_);
  }
  if (Sha256(staging_.span()) != sha256_) {
    return Status::Error(StatusCode::kDataLoss, "%s: SHA-256 mismatch", path.c_str());
  }
  return Status::Ok();
}

Result<RestoreReport> ModelStore::RestoreFromDisk() noexcept {
  if (!has_disk_copy()) {
    return Status::Error(StatusCode::kFailedPrecondition, "model store: no disk copy to restore from");
  }
  RestoreReport report;
  Status primary = ReadVerified(options_.path);
  if (!primary.ok()) {
    if (options_.backup_path.empty()) return primary.WithContext("restore (no backup)");
    Status backup = ReadVerified(options_.backup_path);
    if (!backup.ok()) return backup.WithContext("restore (primary: %s)", primary.message());
    report.source = RestoreSource::kBackup;
    Status repaired = WriteFileAtomically(options_.path.c_str(), staging_.span());
    // The in-memory copies are restored even if the file cannot be rewritten;
    // the next restore then falls back to the backup again.
    report.primary_file_repaired = repaired.ok();
  }
  for (auto& image : images_) {
    if (std::memcmp(image->data(), staging_.data(), size_) != 0) {
      std::memcpy(image->data(), staging_.data(), size_);
      ++report.copies_changed;
    }
  }
  return report;
}

}  // namespace triage::fault
