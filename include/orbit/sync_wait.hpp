// orbit::sync_wait — run a Task from a plain thread and block until it ends.
//
// The task starts on the calling thread; whatever it awaits (an operation of a
// store hops onto the store's event loop) may finish it on another thread,
// which then wakes the caller. Returns the task's value or rethrows what it
// threw. Never call it from a store's own event-loop thread: the loop would
// wait for itself.
#pragma once

#include <condition_variable>
#include <coroutine>
#include <exception>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "orbit/task.hpp"

namespace orbit {
namespace detail {

// The signalling thread notifies while holding the mutex, so the waiter
// cannot return (and destroy the latch) until the signaller is done with it.
class SyncWaitLatch {
 public:
  void signal() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
    wake_.notify_one();
  }
  void wait() noexcept {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [this] { return done_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
};

// A driver coroutine: awaits the user's task, then signals the latch from its
// final suspend point, when its frame can safely be destroyed by the waiter.
struct SyncWaitDriver {
  struct promise_type {
    SyncWaitLatch* latch = nullptr;
    std::exception_ptr failure;
    SyncWaitDriver get_return_object() noexcept {
      return SyncWaitDriver{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    auto final_suspend() const noexcept {
      struct Signal {
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
          h.promise().latch->signal();
        }
        void await_resume() const noexcept {}
      };
      return Signal{};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { failure = std::current_exception(); }
  };
  std::coroutine_handle<promise_type> handle;
};

template <typename T>
SyncWaitDriver drive(Task<T>& task, std::optional<T>& out) {
  out.emplace(co_await std::move(task));
}
inline SyncWaitDriver drive(Task<void>& task, std::optional<bool>& out) {
  co_await std::move(task);
  out.emplace(true);
}

}  // namespace detail

template <typename T>
T sync_wait(Task<T> task) {
  using Slot = std::conditional_t<std::is_void_v<T>, bool, T>;
  std::optional<Slot> out;
  detail::SyncWaitLatch latch;
  auto driver = detail::drive(task, out);
  driver.handle.promise().latch = &latch;
  driver.handle.resume();
  latch.wait();
  auto failure = driver.handle.promise().failure;
  driver.handle.destroy();
  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<T>) return std::move(*out);
}

}  // namespace orbit
