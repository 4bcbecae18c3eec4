// Error and Result<T>: how every operation of the library reports its outcome.
//
// A Result holds either a value or an Error, and always the operation's
// PersistenceMetrics. No exception crosses the public API: failures are
// Errors with a code, a message naming the cause (the key, file, offset or
// value involved) and whether retrying may help.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "orbit/metrics.hpp"

namespace orbit {

enum class ErrorCode : std::uint8_t {
  Ok,               // what code() answers for a success (never an Error's code)
  NotFound,         // no such lease (or file, or snapshot)
  Corruption,       // bytes on disk or wire failed a checksum or invariant
  IOError,          // the operating system failed a call
  InvalidArgument,  // the caller's input (config, key, lease, flag) is not accepted
  Conflict,         // a lease primitive lost: owned by another node, stale version
  Unavailable,      // the store is closed, fail-stopped, or a backend is not built
  NoSpace,          // ENOSPC or a configured bound was hit
  NotSupported,     // the operation makes no sense for this backend or build
};

std::string_view to_string(ErrorCode code) noexcept;

struct Error {
  ErrorCode code = ErrorCode::IOError;
  std::string message;
  bool retryable = false;  // true when the same call may succeed later unchanged

  // "Corruption: wal segment 000003.wal offset 4096: bad checksum"
  std::string to_string() const;
};

inline Error make_error(ErrorCode code, std::string message, bool retryable = false) {
  return Error{code, std::move(message), retryable};
}

template <typename T = void>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  static Result success(T value, PersistenceMetrics metrics = {}) {
    metrics.success = true;
    return Result(std::in_place_index<0>, std::move(value), metrics);
  }
  static Result failure(Error error, PersistenceMetrics metrics = {}) {
    metrics.success = false;
    return Result(std::in_place_index<1>, std::move(error), metrics);
  }
  // Implicit from a value or an error keeps engine code short.
  Result(T value) : outcome_(std::in_place_index<0>, std::move(value)) { metrics_.success = true; }
  Result(Error error) : outcome_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const noexcept { return outcome_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // REQUIRES: ok()
  T& value() & {
    assert(ok());
    return std::get<0>(outcome_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(outcome_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(outcome_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

  // REQUIRES: !ok()
  const Error& error() const& {
    assert(!ok());
    return std::get<1>(outcome_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(outcome_));
  }
  ErrorCode code() const noexcept { return ok() ? ErrorCode::Ok : std::get<1>(outcome_).code; }

  const PersistenceMetrics& metrics() const noexcept { return metrics_; }
  PersistenceMetrics& metrics() noexcept { return metrics_; }

 private:
  template <std::size_t I, typename U>
  Result(std::in_place_index_t<I> tag, U&& u, const PersistenceMetrics& m)
      : outcome_(tag, std::forward<U>(u)), metrics_(m) {}

  std::variant<T, Error> outcome_;
  PersistenceMetrics metrics_{};
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() { metrics_.success = true; }
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  static Result success(PersistenceMetrics metrics = {}) {
    Result r;
    metrics.success = true;
    r.metrics_ = metrics;
    return r;
  }
  static Result failure(Error error, PersistenceMetrics metrics = {}) {
    Result r(std::move(error));
    metrics.success = false;
    r.metrics_ = metrics;
    return r;
  }

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& {
    assert(!ok());
    return error_;
  }
  Error&& error() && {
    assert(!ok());
    return std::move(error_);
  }
  ErrorCode code() const noexcept { return ok() ? ErrorCode::Ok : error_.code; }
  const PersistenceMetrics& metrics() const noexcept { return metrics_; }
  PersistenceMetrics& metrics() noexcept { return metrics_; }

 private:
  Error error_;
  bool failed_ = false;
  PersistenceMetrics metrics_{};
};

using Status = Result<void>;

}  // namespace orbit
