// A one-line progress bar for long ground jobs (stderr). On a terminal it
// redraws in place; otherwise it prints a line every 10%.
#ifndef TRIAGE_GROUND_PROGRESS_H_
#define TRIAGE_GROUND_PROGRESS_H_

#include <chrono>
#include <cstddef>
#include <string>

namespace triage::ground {

class Progress {
 public:
  Progress(std::string label, size_t total, bool enabled = true);
  void Advance(size_t n = 1, const std::string& note = "");
  void Set(size_t done, const std::string& note = "");
  void Finish(const std::string& note = "");

 private:
  void Draw(bool final);
  std::string label_;
  size_t total_, done_ = 0;
  bool enabled_, tty_;
  int last_decile_ = -1;
  bool finished_ = false;
  std::string note_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_PROGRESS_H_
