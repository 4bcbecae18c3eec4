// IoResult<T>: a value or a negative errno, the way liburing reports outcomes.
//
// The I/O layer knows nothing of leases, so it reports plain errno values;
// the engines turn them into orbit::Error with the file and offset involved.
#pragma once

#include <cassert>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace orbit::io {

struct Errno {
  int value = 0;  // positive errno (EIO, ENOSPC, ...)
  std::string message() const { return std::strerror(value); }
};

template <typename T = void>
class [[nodiscard]] IoResult {
 public:
  IoResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  IoResult(Errno e) : v_(std::in_place_index<1>, e) { assert(e.value > 0); }
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }
  int error() const noexcept { return ok() ? 0 : std::get<1>(v_).value; }
  std::string message() const { return ok() ? std::string("ok") : std::get<1>(v_).message(); }

 private:
  std::variant<T, Errno> v_;
};

template <>
class [[nodiscard]] IoResult<void> {
 public:
  IoResult() = default;
  IoResult(Errno e) : err_(e.value) { assert(e.value > 0); }
  bool ok() const noexcept { return err_ == 0; }
  explicit operator bool() const noexcept { return ok(); }
  int error() const noexcept { return err_; }
  std::string message() const { return ok() ? std::string("ok") : std::string(std::strerror(err_)); }

 private:
  int err_ = 0;
};

// From a syscall-style return (>= 0 ok, < 0 is -errno).
inline IoResult<void> from_res(int res) {
  if (res < 0) return Errno{-res};
  return {};
}

}  // namespace orbit::io
