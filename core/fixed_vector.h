// FixedVector<T, N>: a vector with inline, fixed capacity. push_back past
// capacity returns false instead of allocating. For flight-path containers.
#ifndef TRIAGE_CORE_FIXED_VECTOR_H_
#define TRIAGE_CORE_FIXED_VECTOR_H_

#include <array>
#include <cstddef>

#include "core/check.h"

namespace triage {

template <typename T, size_t N>
class FixedVector {
 public:
  static constexpr size_t kCapacity = N;
  [[nodiscard]] bool push_back(const T& v) {
    if (size_ >= N) return false;
    items_[size_++] = v;
    return true;
  }
  void clear() { size_ = 0; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == N; }
  T& operator[](size_t i) { TRIAGE_DCHECK(i < size_); return items_[i]; }
  const T& operator[](size_t i) const { TRIAGE_DCHECK(i < size_); return items_[i]; }
  T* begin() { return items_.data(); }
  T* end() { return items_.data() + size_; }
  const T* begin() const { return items_.data(); }
  const T* end() const { return items_.data() + size_; }
  T* data() { return items_.data(); }
  const T* data() const { return items_.data(); }

 private:
  std::array<T, N> items_{};
  size_t size_ = 0;
};

}  // namespace triage

#endif  // TRIAGE_CORE_FIXED_VECTOR_H_
