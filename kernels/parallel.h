// Parallel: a fixed pool of worker threads for the optimized kernels.
//
// The workers start once, when the interpreter is prepared; Invoke creates
// no thread and allocates nothing. A kernel hands For() a plain function and
// a context; [0, rows) is cut into one contiguous range per thread by
// SplitRows, which depends only on (rows, threads, grain), and each output
// row is computed by the same code whichever range it falls in. So the
// output bytes are identical for every thread count (tests check 1, 2, 3).
#ifndef TRIAGE_KERNELS_PARALLEL_H_
#define TRIAGE_KERNELS_PARALLEL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/result.h"

namespace triage::kernels {

// Part `part` of `parts` of [0, rows): [*begin, *end). Boundaries fall on
// multiples of grain (>= 1) except the last; parts past the work are empty.
void SplitRows(int rows, int parts, int grain, int part, int* begin, int* end);

// task(ctx, worker, begin, end): worker is 0 (the calling thread) to
// threads() - 1, for per-worker scratch.
using RowTask = void (*)(const void* ctx, int worker, int begin, int end);

class Parallel {
 public:
  virtual ~Parallel() = default;
  virtual int threads() const = 0;
  // Operators with fewer multiply-accumulates than this run on the calling
  // thread alone (the hand-off would cost more than it saves).
  virtual int64_t min_parallel_work() const = 0;
  // Runs task over SplitRows(rows, threads(), grain, t) for every t, part 0
  // on the calling thread, and returns when all parts are done. Never
  // allocates, never throws. Not reentrant: one caller at a time.
  virtual void For(RowTask task, const void* ctx, int rows, int grain) noexcept = 0;
};

class WorkerPool final : public Parallel {
 public:
  static constexpr int kMaxThreads = 8;
  // About 3 us of AVX2 GEMM; a hand-off to a spinning worker costs ~1 us.
  static constexpr int64_t kDefaultMinParallelWork = int64_t{1} << 16;
  // threads - 1 workers (threads in [1, kMaxThreads]). kResourceExhausted if
  // the OS refuses a thread. Tests pass min_parallel_work 0 to split even
  // the smallest operator.
  static Result<std::unique_ptr<WorkerPool>> Create(
      int threads, int64_t min_parallel_work = kDefaultMinParallelWork) noexcept;
  ~WorkerPool() override;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const override { return threads_; }
  int64_t min_parallel_work() const override { return min_work_; }
  void For(RowTask task, const void* ctx, int rows, int grain) noexcept override;

 private:
  WorkerPool(int threads, int64_t min_work) : threads_(threads), min_work_(min_work) {}
  void WorkerLoop(int worker) noexcept;
  void RunPart(int part) noexcept;

  const int threads_;
  const int64_t min_work_;
  std::mutex mu_;
  std::condition_variable wake_;   // workers wait here for a new generation
  std::condition_variable done_;   // the caller waits here for pending_ == 0
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;              // guarded by mu_
  // The current job; written by For before the generation is published.
  RowTask task_ = nullptr;
  const void* ctx_ = nullptr;
  int rows_ = 0;
  int grain_ = 1;
  std::vector<std::thread> workers_;
};

}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_PARALLEL_H_
