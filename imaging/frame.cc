#include "imaging/frame.h"

#include <limits>

namespace triage::imaging {

void Frame::Clear() {
  meta = FrameMetadata();
  encoding = FrameEncoding::kEmpty;
  width = height = 0;
  encoded_size = 0;
}

Result<FramePool> FramePool::Create(const FramePoolConfig& config) {
  if (config.frame_count < 1 || config.frame_count > 1024) {
    return Status::Error(StatusCode::kInvalidArgument, "frame pool: frame_count %d outside 1..1024",
                         config.frame_count);
  }
  if (config.raw_max_width < 0 || config.raw_max_height < 0 || config.raw_max_width > 65535 ||
      config.raw_max_height > 65535) {
    return Status::Error(StatusCode::kInvalidArgument, "frame pool: raw size %dx%d",
                         config.raw_max_width, config.raw_max_height);
  }
  const size_t raw = static_cast<size_t>(config.raw_max_width) * config.raw_max_height * 3;
  if (config.encoded_bytes == 0 && raw == 0) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "frame pool: frames need JPEG or raw capacity (both are 0)");
  }
  const size_t per_frame = config.encoded_bytes + raw;
  if (per_frame > std::numeric_limits<size_t>::max() / static_cast<size_t>(config.frame_count)) {
    return Status::Error(StatusCode::kInvalidArgument, "frame pool: size overflows");
  }
  FramePool pool;
  pool.config_ = config;
  try {
    pool.storage_.resize(per_frame * static_cast<size_t>(config.frame_count));
    pool.frames_.resize(static_cast<size_t>(config.frame_count));
    pool.in_use_.assign(static_cast<size_t>(config.frame_count), 0);
    pool.mutex_ = std::make_unique<std::mutex>();
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kResourceExhausted,
                         "frame pool: cannot allocate %d frames of %zu bytes", config.frame_count,
                         per_frame);
  }
  for (size_t i = 0; i < pool.frames_.size(); ++i) {
    uint8_t* base = pool.storage_.data() + i * per_frame;
    pool.frames_[i].encoded = Span<uint8_t>(base, config.encoded_bytes);
    pool.frames_[i].pixels = Span<uint8_t>(base + config.encoded_bytes, raw);
  }
  return pool;
}

Result<Frame*> FramePool::Acquire() {
  std::lock_guard<std::mutex> lock(*mutex_);
  for (size_t i = 0; i < frames_.size(); ++i) {
    if (!in_use_[i]) {
      in_use_[i] = 1;
      frames_[i].Clear();
      return &frames_[i];
    }
  }
  return Status::Error(StatusCode::kResourceExhausted, "frame pool: all %zu frames in use",
                       frames_.size());
}

Status FramePool::Release(Frame* frame) {
  std::lock_guard<std::mutex> lock(*mutex_);
  if (frame == nullptr || frames_.empty() || frame < frames_.data() ||
      frame >= frames_.data() + frames_.size()) {
    return Status::Error(StatusCode::kInvalidArgument, "frame pool: frame is not from this pool");
  }
  const size_t i = static_cast<size_t>(frame - frames_.data());
  if (!in_use_[i]) {
    return Status::Error(StatusCode::kInvalidArgument, "frame pool: frame %zu released twice", i);
  }
  in_use_[i] = 0;
  return Status::Ok();
}

size_t FramePool::available() const {
  std::lock_guard<std::mutex> lock(*mutex_);
  size_t n = 0;
  for (uint8_t u : in_use_) n += u == 0;
  return n;
}

FrameLease& FrameLease::operator=(FrameLease&& other) noexcept {
  if (this != &other) {
    Reset();
    pool_ = other.pool_;
    frame_ = other.frame_;
    other.frame_ = nullptr;
  }
  return *this;
}

void FrameLease::Reset() {
  if (frame_ != nullptr && pool_ != nullptr) (void)pool_->Release(frame_);
  frame_ = nullptr;
}

Result<FrameLease> AcquireLease(FramePool& pool) {
  Result<Frame*> f = pool.Acquire();
  if (!f.ok()) return f.status();
  return FrameLease(&pool, f.value());
}

}  // namespace triage::imaging
