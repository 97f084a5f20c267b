#include "ground/tensor_archive.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "downlink/checksum.h"

namespace triage::ground {
namespace {

constexpr char kMagic[4] = {'T', 'C', 'K', 'P'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kMaxValues = 1ull << 28;

template <typename T>
void PutRaw(std::vector<uint8_t>* out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // archives are little-endian; ground hosts are
  out->insert(out->end(), b, b + sizeof(T));
}
void PutName(std::vector<uint8_t>* out, const std::string& s) {
  PutRaw<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out->insert(out->end(), s.begin(), s.end());
}

class Reader {
 public:
  Reader(const std::vector<uint8_t>& b, size_t end) : b_(b), end_(end) {}
  template <typename T>
  bool Get(T* v) {
    if (end_ - pos_ < sizeof(T)) return false;
    std::memcpy(v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s, size_t max) {
    uint32_t n = 0;
    if (!Get(&n) || n > max || end_ - pos_ < n) return false;
    s->assign(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool GetFloats(std::vector<float>* v, uint64_t n) {
    if (n > kMaxValues || (end_ - pos_) / sizeof(float) < n) return false;
    v->resize(n);
    std::memcpy(v->data(), b_.data() + pos_, n * sizeof(float));
    pos_ += n * sizeof(float);
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  const std::vector<uint8_t>& b_;
  size_t end_;
  size_t pos_ = 0;
};

}  // namespace

int64_t ArchiveTensor::count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Result<const ArchiveTensor*> TensorArchive::Get(const std::string& name,
                                                const std::vector<int64_t>& shape) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    return Status::Error(StatusCode::kNotFound, "checkpoint has no tensor '%s'", name.c_str());
  }
  if (it->second.shape != shape) {
    std::string want, got;
    for (int64_t d : shape) want += std::to_string(d) + "x";
    for (int64_t d : it->second.shape) got += std::to_string(d) + "x";
    return Status::Error(StatusCode::kInvalidArgument, "checkpoint tensor '%s': shape %s, expected %s",
                         name.c_str(), got.c_str(), want.c_str());
  }
  return &it->second;
}

std::string TensorArchive::GetString(const std::string& name, const std::string& fallback) const {
  auto it = strings_.find(name);
  return it == strings_.end() ? fallback : it->second;
}

std::vector<uint8_t> TensorArchive::Serialize() const {
  std::vector<uint8_t> out(kMagic, kMagic + 4);
  PutRaw<uint32_t>(&out, kVersion);
  PutRaw<uint32_t>(&out, static_cast<uint32_t>(tensors_.size()));
  PutRaw<uint32_t>(&out, static_cast<uint32_t>(strings_.size()));
  for (const auto& [name, t] : tensors_) {
    PutName(&out, name);
    PutRaw<uint32_t>(&out, static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) PutRaw<int64_t>(&out, d);
    PutRaw<uint64_t>(&out, t.values.size());
    const auto* p = reinterpret_cast<const uint8_t*>(t.values.data());
    out.insert(out.end(), p, p + t.values.size() * sizeof(float));
  }
  for (const auto& [name, value] : strings_) {
    PutName(&out, name);
    PutName(&out, value);
  }
  PutRaw<uint32_t>(&out, downlink::Crc32(Span<const uint8_t>(out.data(), out.size())));
  return out;
}

Result<TensorArchive> TensorArchive::Parse(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto bad = [&](const char* why, size_t at) {
    return Status::Error(StatusCode::kDataLoss, "%s: %s at byte %zu", what.c_str(), why, at);
  };
  if (bytes.size() < 20 || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return bad("not a triage checkpoint (magic TCKP)", 0);
  }
  const size_t body = bytes.size() - 4;
  uint32_t crc = 0;
  std::memcpy(&crc, bytes.data() + body, 4);
  if (crc != downlink::Crc32(Span<const uint8_t>(bytes.data(), body))) return bad("CRC mismatch", body);
  Reader r(bytes, body);
  uint32_t magic = 0, version = 0, nt = 0, ns = 0;
  (void)r.Get(&magic);
  if (!r.Get(&version) || version != kVersion) return bad("unsupported version", 4);
  if (!r.Get(&nt) || !r.Get(&ns)) return bad("truncated header", r.pos());
  TensorArchive archive;
  for (uint32_t i = 0; i < nt; ++i) {
    std::string name;
    uint32_t rank = 0;
    ArchiveTensor t;
    if (!r.GetString(&name, 4096) || !r.Get(&rank) || rank > 8) return bad("bad tensor header", r.pos());
    int64_t expect = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      int64_t dim = 0;
      if (!r.Get(&dim) || dim < 0 || dim > (1 << 24)) return bad("bad dimension", r.pos());
      t.shape.push_back(dim);
      expect *= dim;
      if (expect > static_cast<int64_t>(kMaxValues)) return bad("tensor too large", r.pos());
    }
    uint64_t n = 0;
    if (!r.Get(&n) || n != static_cast<uint64_t>(expect) || !r.GetFloats(&t.values, n)) {
      return bad("tensor values do not match the shape", r.pos());
    }
    archive.tensors_[name] = std::move(t);
  }
  for (uint32_t i = 0; i < ns; ++i) {
    std::string name, value;
    if (!r.GetString(&name, 4096) || !r.GetString(&value, 1 << 20)) return bad("bad string", r.pos());
    archive.strings_[name] = std::move(value);
  }
  if (r.pos() != body) return bad("trailing bytes", r.pos());
  return archive;
}

Status TensorArchive::Save(const std::string& path) const {
  const std::vector<uint8_t> bytes = Serialize();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status::Error(StatusCode::kIoError, "%s: cannot write", tmp.c_str());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Error(StatusCode::kIoError, "%s: cannot rename into place", path.c_str());
  }
  return Status::Ok();
}

Result<TensorArchive> TensorArchive::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(StatusCode::kNotFound, "%s: cannot open checkpoint", path.c_str());
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  return Parse(bytes, path);
}

}  // namespace triage::ground
