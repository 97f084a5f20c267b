#include "app/telemetry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace triage::app {
namespace {

// Appends to a fixed buffer; output past the end is dropped (and the line
// then ends "...truncated"), never overflowed.
class LineBuilder {
 public:
  LineBuilder(char* buf, size_t cap) : buf_(buf), cap_(cap) {}
  void Raw(const char* s) {
    while (*s != '\0' && len_ + 1 < cap_) buf_[len_++] = *s++;
    if (*s != '\0') overflow_ = true;
  }
  void Printf(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (len_ + 1 >= cap_) {
      overflow_ = true;
      return;
    }
    va_list args;
    va_start(args, fmt);
    const int n = std::vsnprintf(buf_ + len_, cap_ - len_, fmt, args);
    va_end(args);
    if (n < 0) return;
    if (static_cast<size_t>(n) >= cap_ - len_) {
      len_ = cap_ - 1;
      overflow_ = true;
    } else {
      len_ += static_cast<size_t>(n);
    }
  }
  // A JSON string with escapes; at most kMaxText input bytes (free text
  // such as error messages is bounded, so a record always fits).
  static constexpr int kMaxText = 240;
  void Str(const char* s) {
    Raw("\"");
    int n = 0;
    for (; s != nullptr && *s != '\0' && n < kMaxText; ++s, ++n) {
      const unsigned char c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') {
        char e[3] = {'\\', static_cast<char>(c), '\0'};
        Raw(e);
      } else if (c < 0x20) {
        Printf("\\u%04x", c);
      } else {
        char e[2] = {static_cast<char>(c), '\0'};
        Raw(e);
      }
    }
    Raw("\"");
  }
  void Float(float v) {
    // Shortest round-trip form for the values we emit (probabilities are
    // multiples of 1/256 for the int8 model, so %.9g is exact and stable).
    Printf("%.9g", static_cast<double>(v));
  }
  bool overflow() const { return overflow_; }
  size_t Finish() {
    buf_[len_] = '\0';
    return len_;
  }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
};

}  // namespace

const char* DropReasonName(DropReason reason) {
  static const char* const kNames[kDropReasonCount] = {
      "capture_failed",    "corrupt_frame",   "frame_too_large", "thumbnail_failed",    "preprocess_failed",
      "inference_failed",  "discarded_policy", "discarded_uncertain", "compress_failed", "queue_full",
      "enqueue_failed",    "catalog_failed",  "abandoned_at_shutdown"};
  const auto i = static_cast<size_t>(reason);
  return i < static_cast<size_t>(kDropReasonCount) ? kNames[i] : "?";
}

bool ReadProcessMemory(uint64_t* vm_hwm_bytes, uint64_t* rss_anon_bytes) noexcept {
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  size_t len = 0;
  for (int tries = 0; tries < 16 && len + 1 < sizeof(buf); ++tries) {
    const ssize_t n = ::read(fd, buf + len, sizeof(buf) - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  buf[len] = '\0';
  auto field = [&](const char* name) -> uint64_t {
    const char* p = std::strstr(buf, name);
    if (p == nullptr) return 0;
    p += std::strlen(name);
    while (*p == ' ' || *p == '\t') ++p;
    uint64_t kb = 0;
    while (*p >= '0' && *p <= '9') kb = kb * 10 + static_cast<uint64_t>(*p++ - '0');
    return kb * 1024;
  };
  *vm_hwm_bytes = field("VmHWM:");
  *rss_anon_bytes = field("RssAnon:");
  return *vm_hwm_bytes > 0;
}

void StageTimes::Init(size_t capacity_per_stage) {
  capacity_ = capacity_per_stage;
  for (auto& s : samples_) {
    s.clear();
    s.reserve(capacity_);
  }
}

void StageTimes::Add(FlightStage stage, int64_t elapsed_ns) noexcept {
  const int i = static_cast<int>(stage);
  const int64_t us64 = elapsed_ns < 0 ? 0 : elapsed_ns / 1000;
  const uint32_t us = us64 > 0xFFFFFFFFll ? 0xFFFFFFFFu : static_cast<uint32_t>(us64);
  std::vector<uint32_t>& s = samples_[i];
  if (s.size() < capacity_) {
    s.push_back(us);  // within the reserved capacity: no allocation
  } else if (capacity_ > 0) {
    s[count_[i] % capacity_] = us;
  }
  ++count_[i];
  total_us_[i] += us;
}

double StageTimes::MedianMs(FlightStage stage) const {
  std::vector<uint32_t> v = samples_[static_cast<int>(stage)];
  if (v.empty()) return 0.0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) {
    const uint32_t lower = *std::max_element(v.begin(), v.begin() + static_cast<long>(mid));
    m = (m + lower) / 2.0;
  }
  return m / 1000.0;
}

TelemetryWriter::~TelemetryWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status TelemetryWriter::Open(const std::string& path) noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (path.empty()) return Status::Ok();
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return Status::Error(StatusCode::kIoError, "%s: cannot open: %s", path.c_str(), std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    char last = '\n';
    const int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (rfd >= 0) {
      if (::pread(rfd, &last, 1, st.st_size - 1) != 1) last = '\n';
      ::close(rfd);
    }
    if (last != '\n' && ::write(fd_, "\n", 1) != 1) {
      return Status::Error(StatusCode::kIoError, "%s: cannot write", path.c_str());
    }
  }
  return Status::Ok();
}

const char* TelemetryWriter::Format(const FrameRecord& r) noexcept {
  LineBuilder b(line_, sizeof(line_));
  b.Printf("{\"frame\":%llu,\"t_s\":%.3f,\"capture_us\":%lld,\"source\":", static_cast<unsigned long long>(r.frame_id),
           r.mission_time_s, static_cast<long long>(r.capture_us));
  b.Str(r.source);
  if (r.truth != nullptr) {
    b.Raw(",\"truth\":");
    b.Str(r.truth);
  }
  if (r.class_name != nullptr) {
    b.Raw(",\"class\":");
    b.Str(r.class_name);
    b.Printf(",\"class_id\":%d,\"confidence\":", r.class_id);
    b.Float(r.confidence);
    b.Raw(",\"runner_up\":");
    b.Float(r.runner_up);
    b.Raw(r.uncertain ? ",\"uncertain\":true" : ",\"uncertain\":false");
  }
  if (r.vote != nullptr) {
    b.Raw(",\"vote\":");
    b.Str(r.vote);
  }
  if (r.unverified) b.Raw(",\"unverified\":true");
  if (r.safe_mode) b.Raw(",\"safe_mode\":true");
  b.Raw(",\"decision\":");
  b.Str(r.decision);
  if (r.reason != nullptr && r.reason[0] != '\0') {
    b.Raw(",\"reason\":");
    b.Str(r.reason);
  }
  b.Raw(",\"products\":[");
  for (int i = 0; i < r.product_count; ++i) {
    const FrameRecord::Product& p = r.products[i];
    b.Printf("%s{\"kind\":\"%s\",\"id\":%u,\"bytes\":%llu,\"priority\":%u,\"codec\":\"%s\"}", i == 0 ? "" : ",", p.kind,
             p.id, static_cast<unsigned long long>(p.bytes), p.priority, p.codec);
  }
  b.Printf("],\"camera_bytes\":%llu,\"queued_bytes\":%llu,\"drops\":[", static_cast<unsigned long long>(r.camera_bytes),
           static_cast<unsigned long long>(r.queued_bytes));
  for (int i = 0; i < r.drop_count; ++i) {
    b.Raw(i == 0 ? "" : ",");
    b.Str(DropReasonName(r.drops[i]));
  }
  b.Raw("]");
  if (r.error != nullptr) {
    b.Raw(",\"error\":");
    b.Str(r.error);
  }
  b.Printf(",\"config\":\"%s\",\"model\":\"%s\",\"stage_ms\":{", r.config_hash, r.model_hash);
  bool first = true;
  for (int i = 0; i < kFlightStageCount; ++i) {
    if (!r.stage_ran[i]) continue;
    b.Printf("%s\"%s\":%.3f", first ? "" : ",", FlightStageName(static_cast<FlightStage>(i)),
             static_cast<double>(r.stage_ns[i]) / 1e6);
    first = false;
  }
  b.Raw("}}\n");
  length_ = b.Finish();
  if (b.overflow()) {
    // Cannot happen with bounded fields; if it does, a minimal valid line.
    LineBuilder m(line_, sizeof(line_));
    m.Printf("{\"frame\":%llu,\"decision\":", static_cast<unsigned long long>(r.frame_id));
    m.Str(r.decision);
    m.Raw(",\"truncated\":true}\n");
    length_ = m.Finish();
  }
  return line_;
}

Status TelemetryWriter::Write(const FrameRecord& record) noexcept {
  if (fd_ < 0) return Status::Ok();
  Format(record);
  size_t done = 0;
  for (int tries = 0; done < length_ && tries < 100; ++tries) {
    const ssize_t n = ::write(fd_, line_ + done, length_ - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Error(StatusCode::kIoError, "telemetry: write failed: %s", std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return done == length_ ? Status::Ok() : Status::Error(StatusCode::kIoError, "telemetry: short write");
}

}  // namespace triage::app
