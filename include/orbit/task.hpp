// orbit::Task<T> — the one coroutine type of the library.
//
// A Task is lazy: creating it runs nothing; `co_await task` starts it and
// suspends the awaiter until it finishes. Completion resumes the awaiter by
// symmetric transfer, so arbitrarily deep chains of awaits never grow the
// stack. A value returned with `co_return` or an exception thrown inside
// reaches the awaiter (the public API never lets one escape: every operation
// reports failures in its Result). The only allocation is the coroutine frame.
//
// A Task is move-only and must be awaited (or handed to sync_wait / a
// runtime's spawn) at most once. Destroying an un-started Task frees it.
//
// Standard library only: this header is part of the public API.
#pragma once

#include <cassert>
#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace orbit {

template <typename T = void>
class Task;

namespace detail {

// Resumes whoever awaited the finished task, or nobody (noop) for a task
// that was started detached.
struct TaskFinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <typename Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> finished) noexcept {
    auto continuation = finished.promise().continuation;
    return continuation ? continuation : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct TaskPromiseBase {
  std::coroutine_handle<> continuation;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  TaskFinalAwaiter final_suspend() const noexcept { return {}; }
};

template <typename T>
struct TaskPromise : TaskPromiseBase {
  std::variant<std::monostate, T, std::exception_ptr> outcome;

  Task<T> get_return_object() noexcept;
  template <typename U>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    outcome.template emplace<1>(std::forward<U>(value));
  }
  void unhandled_exception() noexcept { outcome.template emplace<2>(std::current_exception()); }

  T take() {
    if (outcome.index() == 2) std::rethrow_exception(std::get<2>(outcome));
    assert(outcome.index() == 1 && "task finished without a value");
    return std::move(std::get<1>(outcome));
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  std::exception_ptr failure;

  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void unhandled_exception() noexcept { failure = std::current_exception(); }
  void take() {
    if (failure) std::rethrow_exception(failure);
  }
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle handle) noexcept : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { destroy(); }

  bool valid() const noexcept { return static_cast<bool>(handle_); }

  auto operator co_await() && noexcept { return Awaiter{handle_}; }
  auto operator co_await() & noexcept { return Awaiter{handle_}; }

  // For runtimes and sync_wait: give up ownership of the frame.
  Handle release() noexcept { return std::exchange(handle_, {}); }

 private:
  struct Awaiter {
    Handle handle;
    bool await_ready() const noexcept { return !handle || handle.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      handle.promise().continuation = awaiting;
      return handle;  // symmetric transfer: start the task on this stack frame
    }
    T await_resume() { return handle.promise().take(); }
  };

  void destroy() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }

  Handle handle_;
};

namespace detail {
template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>{std::coroutine_handle<TaskPromise<T>>::from_promise(*this)};
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>{std::coroutine_handle<TaskPromise<void>>::from_promise(*this)};
}
}  // namespace detail

}  // namespace orbit
