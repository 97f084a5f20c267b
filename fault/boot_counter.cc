#include "fault/boot_counter.h"

#include <time.h>

#include <cstring>

#include "fault/checksum.h"
#include "fault/file_util.h"

namespace triage::fault {
namespace {

constexpr uint8_t kMagic[4] = {'T', 'R', 'B', 'C'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kFlagClean = 1;   // the run that started here shut down cleanly
constexpr uint32_t kFlagReset = 2;   // this start followed an unclean end

struct Record {
  int64_t time_ns = 0;
  uint32_t flags = 0;
};

struct State {
  uint64_t boot_count = 0;
  uint32_t count = 0;
  Record records[BootCounter::kMaxRecords];
};

// magic 4 + version 4 + boot_count 8 + count 4 + records 12 each + crc 4
constexpr size_t kHeaderBytes = 20;
constexpr size_t kRecordBytes = 12;
constexpr size_t kMaxFileBytes = kHeaderBytes + kRecordBytes * BootCounter::kMaxRecords + 4;

void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void Put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t Get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

size_t Encode(const State& s, uint8_t* out) {
  std::memcpy(out, kMagic, 4);
  Put32(out + 4, kVersion);
  Put64(out + 8, s.boot_count);
  Put32(out + 16, s.count);
  size_t n = kHeaderBytes;
  for (uint32_t i = 0; i < s.count; ++i, n += kRecordBytes) {
    Put64(out + n, static_cast<uint64_t>(s.records[i].time_ns));
    Put32(out + n + 8, s.records[i].flags);
  }
  Put32(out + n, Crc32(Span<const uint8_t>(out, n)));
  return n + 4;
}

Status Decode(const uint8_t* in, size_t size, State* s) {
  if (size < kHeaderBytes + 4 || std::memcmp(in, kMagic, 4) != 0) {
    return Status::Error(StatusCode::kDataLoss, "boot counter: bad magic or size %zu", size);
  }
  if (Get32(in + 4) != kVersion) return Status::Error(StatusCode::kDataLoss, "boot counter: version %u", Get32(in + 4));
  const uint32_t count = Get32(in + 16);
  if (count > BootCounter::kMaxRecords || size != kHeaderBytes + count * kRecordBytes + 4) {
    return Status::Error(StatusCode::kDataLoss, "boot counter: %u records in %zu bytes", count, size);
  }
  const size_t n = kHeaderBytes + count * kRecordBytes;
  if (Crc32(Span<const uint8_t>(in, n)) != Get32(in + n)) {
    return Status::Error(StatusCode::kDataLoss, "boot counter: CRC mismatch");
  }
  s->boot_count = Get64(in + 8);
  s->count = count;
  for (uint32_t i = 0; i < count; ++i) {
    s->records[i].time_ns = static_cast<int64_t>(Get64(in + kHeaderBytes + i * kRecordBytes));
    s->records[i].flags = Get32(in + kHeaderBytes + i * kRecordBytes + 8);
  }
  return Status::Ok();
}

// Missing file: empty state (OK). Corrupt: error, state left empty.
Status Load(const char* path, State* s, bool* missing) {
  uint8_t buf[kMaxFileBytes + 1];
  *missing = false;
  auto n = ReadFileInto(path, Span<uint8_t>(buf, sizeof(buf)));
  if (!n.ok()) {
    if (n.status().code() == StatusCode::kNotFound) {
      *missing = true;
      return Status::Ok();
    }
    return n.status();
  }
  return Decode(buf, *n, s);
}

Status Store(const char* path, const State& s) {
  uint8_t buf[kMaxFileBytes];
  const size_t n = Encode(s, buf);
  return WriteFileAtomically(path, Span<const uint8_t>(buf, n));
}

}  // namespace

int64_t RealtimeClock::NowNanos() const noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

RealtimeClock& RealtimeClock::Instance() {
  static RealtimeClock clock;
  return clock;
}

Result<BootInfo> BootCounter::RecordBoot(const char* path, const Clock& wall_clock, const Config& config) noexcept {
  BootInfo info;
  State s;
  bool missing = false;
  Status loaded = Load(path, &s, &missing);
  if (!loaded.ok()) {
    info.file_was_reset = true;
    info.file_error = loaded;
    s = State{};
  }
  const int64_t now = wall_clock.NowNanos();
  Record rec;
  rec.time_ns = now;
  // The previous run ended without a clean shutdown: this start is a reset.
  // A fresh or unreadable file gives no evidence either way; count a corrupt
  // one as a reset (it may have been torn by one).
  const bool prev_unclean = s.count > 0 ? (s.records[s.count - 1].flags & kFlagClean) == 0 : info.file_was_reset;
  if (prev_unclean) rec.flags |= kFlagReset;
  if (s.count == kMaxRecords) {
    std::memmove(&s.records[0], &s.records[1], sizeof(Record) * (kMaxRecords - 1));
    --s.count;
  }
  s.records[s.count++] = rec;
  ++s.boot_count;

  const int64_t window = static_cast<int64_t>(config.reset_window_s) * kNanosPerSecond;
  for (uint32_t i = 0; i < s.count; ++i) {
    if ((s.records[i].flags & kFlagReset) != 0 && now - s.records[i].time_ns < window &&
        s.records[i].time_ns <= now) {
      ++info.resets_in_window;
    }
  }
  info.boot_count = s.boot_count;
  info.this_boot_was_reset = prev_unclean;
  info.reset_loop = info.resets_in_window > config.max_resets;
  TRIAGE_RETURN_IF_ERROR(Store(path, s));
  return info;
}

Status BootCounter::RecordCleanShutdown(const char* path) noexcept {
  State s;
  bool missing = false;
  TRIAGE_RETURN_IF_ERROR(Load(path, &s, &missing));
  if (missing || s.count == 0) return Status::Error(StatusCode::kNotFound, "boot counter %s: no boot recorded", path);
  s.records[s.count - 1].flags |= kFlagClean;
  return Store(path, s);
}

}  // namespace triage::fault
