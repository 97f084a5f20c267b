#include "kernels/parallel.h"

#include <new>
#include <system_error>

namespace triage::kernels {
namespace {

// Busy-wait this many rounds before sleeping on the condition variable:
// between two operators of one Invoke the gap is microseconds, far less than
// a futex wake-up, so a short spin keeps the second core in step.
constexpr int kSpinRounds = 1 << 14;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__arm__) || defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

}  // namespace

void SplitRows(int rows, int parts, int grain, int part, int* begin, int* end) {
  if (grain < 1) grain = 1;
  if (parts < 1) parts = 1;
  const int64_t units = (static_cast<int64_t>(rows) + grain - 1) / grain;
  const int64_t u0 = units * part / parts, u1 = units * (part + 1) / parts;
  const int64_t b = u0 * grain, e = u1 * grain;
  *begin = static_cast<int>(b < rows ? b : rows);
  *end = static_cast<int>(e < rows ? e : rows);
}

Result<std::unique_ptr<WorkerPool>> WorkerPool::Create(int threads, int64_t min_parallel_work) noexcept {
  if (threads < 1 || threads > kMaxThreads) {
    return Status::Error(StatusCode::kInvalidArgument, "threads %d is outside [1, %d]", threads, kMaxThreads);
  }
  std::unique_ptr<WorkerPool> pool(new (std::nothrow) WorkerPool(threads, min_parallel_work));
  if (!pool) return Status::Error(StatusCode::kResourceExhausted, "worker pool: out of memory");
  try {
    pool->workers_.reserve(static_cast<size_t>(threads - 1));
    for (int w = 1; w < threads; ++w) pool->workers_.emplace_back([p = pool.get(), w] { p->WorkerLoop(w); });
  } catch (const std::exception& e) {
    // The destructor stops and joins the workers already started.
    return Status::Error(StatusCode::kResourceExhausted, "cannot start worker thread %zu of %d: %s",
                         pool->workers_.size() + 1, threads - 1, e.what());
  }
  return pool;
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void WorkerPool::RunPart(int part) noexcept {
  int begin = 0, end = 0;
  SplitRows(rows_, threads_, grain_, part, &begin, &end);
  if (begin < end) task_(ctx_, part, begin, end);
}

void WorkerPool::For(RowTask task, const void* ctx, int rows, int grain) noexcept {
  if (threads_ == 1 || rows <= grain) {
    if (rows > 0) task(ctx, 0, 0, rows);
    return;
  }
  task_ = task;
  ctx_ = ctx;
  rows_ = rows;
  grain_ = grain;
  pending_.store(threads_ - 1, std::memory_order_relaxed);
  {
    // Under the lock so that a worker checking the generation before it
    // sleeps cannot miss the increment.
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  RunPart(0);
  for (int spin = 0; spin < kSpinRounds; ++spin) {
    if (pending_.load(std::memory_order_acquire) == 0) return;
    CpuRelax();
  }
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
}

void WorkerPool::WorkerLoop(int worker) noexcept {
  uint64_t seen = 0;
  for (;;) {
    int spin = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      if (++spin < kSpinRounds) {
        CpuRelax();
        continue;
      }
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    RunPart(worker);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);
      done_.notify_one();
    }
  }
}

}  // namespace triage::kernels
