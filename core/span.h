// Span<T>: a non-owning view of contiguous elements (C++17 has no std::span).
// The viewed memory must outlive the span. Bounds are checked in debug builds.
#ifndef TRIAGE_CORE_SPAN_H_
#define TRIAGE_CORE_SPAN_H_

#include <cstddef>
#include <type_traits>

#include "core/check.h"

namespace triage {

template <typename T>
class Span {
 public:
  constexpr Span() = default;
  constexpr Span(T* data, size_t size) : data_(data), size_(size) {}
  template <size_t N>
  constexpr Span(T (&array)[N]) : data_(array), size_(N) {}  // NOLINT
  // Allows Span<const T> from Span<T>.
  template <typename U, typename = std::enable_if_t<std::is_convertible_v<U (*)[], T (*)[]>>>
  constexpr Span(const Span<U>& other) : data_(other.data()), size_(other.size()) {}  // NOLINT
  // From any container with data() and size() (std::vector, std::array, std::string).
  template <typename C, typename = decltype(std::declval<C&>().data()),
            typename = std::enable_if_t<
                std::is_convertible_v<std::remove_pointer_t<decltype(std::declval<C&>().data())> (*)[],
                                      T (*)[]>>>
  constexpr Span(C& c) : data_(c.data()), size_(c.size()) {}  // NOLINT

  constexpr T* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr T* begin() const { return data_; }
  constexpr T* end() const { return data_ + size_; }
  T& operator[](size_t i) const {
    TRIAGE_DCHECK(i < size_);
    return data_[i];
  }
  Span subspan(size_t offset, size_t count) const {
    TRIAGE_DCHECK(offset <= size_ && count <= size_ - offset);
    return Span(data_ + offset, count);
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace triage

#endif  // TRIAGE_CORE_SPAN_H_
