#include "downlink/checksum.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <climits>

namespace triage::downlink {

uint32_t Crc32(Span<const uint8_t> bytes, uint32_t crc) noexcept {
  // zlib takes a uInt length; feed huge buffers in bounded chunks.
  constexpr size_t kChunk = size_t{1} << 30;
  uLong c = crc;
  const uint8_t* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const size_t n = left < kChunk ? left : kChunk;
    c = crc32(c, p, static_cast<uInt>(n));
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(c);
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
  EVP_MD_free(static_cast<EVP_MD*>(md_));
}

Status Sha256::Init() noexcept {
  if (md_ == nullptr) {
    // An explicit fetch, once: passing EVP_sha256() to EVP_DigestInit_ex
    // makes OpenSSL 3 fetch (and malloc) the implementation on every Reset.
    md_ = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (md_ == nullptr) return Status::Error(StatusCode::kInternal, "sha256: EVP_MD_fetch(SHA256) failed");
  }
  if (ctx_ == nullptr) {
    ctx_ = EVP_MD_CTX_new();
    if (ctx_ == nullptr) return Status::Error(StatusCode::kResourceExhausted, "sha256: EVP_MD_CTX_new failed");
  }
  return Reset();
}

Status Sha256::Reset() noexcept {
  if (ctx_ == nullptr) return Status::Error(StatusCode::kFailedPrecondition, "sha256: Reset before Init");
  if (EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), static_cast<EVP_MD*>(md_), nullptr) != 1) {
    return Status::Error(StatusCode::kInternal, "sha256: EVP_DigestInit_ex failed");
  }
  return Status::Ok();
}

Status Sha256::Update(Span<const uint8_t> bytes) noexcept {
  if (ctx_ == nullptr) return Status::Error(StatusCode::kFailedPrecondition, "sha256: Update before Init");
  if (bytes.empty()) return Status::Ok();
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), bytes.data(), bytes.size()) != 1) {
    return Status::Error(StatusCode::kInternal, "sha256: EVP_DigestUpdate failed");
  }
  return Status::Ok();
}

Status Sha256::Final(Digest256* out) noexcept {
  if (ctx_ == nullptr) return Status::Error(StatusCode::kFailedPrecondition, "sha256: Final before Init");
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out->data(), &len) != 1 || len != out->size()) {
    return Status::Error(StatusCode::kInternal, "sha256: EVP_DigestFinal_ex failed");
  }
  return Status::Ok();
}

Status Sha256::Of(Span<const uint8_t> bytes, Digest256* out) noexcept {
  Sha256 h;
  TRIAGE_RETURN_IF_ERROR(h.Init());
  TRIAGE_RETURN_IF_ERROR(h.Update(bytes));
  return h.Final(out);
}

}  // namespace triage::downlink
