#include "ground/progress.h"

#include <unistd.h>

#include <cstdio>

namespace triage::ground {

Progress::Progress(std::string label, size_t total, bool enabled)
    : label_(std::move(label)),
      total_(total == 0 ? 1 : total),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::Advance(size_t n, const std::string& note) { Set(done_ + n, note); }

void Progress::Set(size_t done, const std::string& note) {
  done_ = done > total_ ? total_ : done;
  if (!note.empty()) note_ = note;
  Draw(false);
}

void Progress::Finish(const std::string& note) {
  if (!note.empty()) note_ = note;
  done_ = total_;
  Draw(true);
}

void Progress::Draw(bool final) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const int decile = static_cast<int>(10 * done_ / total_);
  if (tty_) {
    if (!final && now - last_draw_ < std::chrono::milliseconds(200)) return;
  } else if (decile == last_decile_ && (!final || finished_)) {
    return;
  }
  if (done_ == total_) finished_ = true;
  last_draw_ = now;
  last_decile_ = decile;
  const double frac = static_cast<double>(done_) / total_;
  const double eta = frac > 0 ? elapsed / frac - elapsed : 0;
  char bar[31];
  const int filled = static_cast<int>(frac * 30);
  for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '#' : '.';
  bar[30] = '\0';
  std::fprintf(stderr, "%s%s [%s] %5.1f%% %zu/%zu %.0fs elapsed, eta %.0fs %s%s", tty_ ? "\r" : "", label_.c_str(),
               bar, 100 * frac, done_, total_, elapsed, eta, note_.c_str(), (final || !tty_) ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace triage::ground
