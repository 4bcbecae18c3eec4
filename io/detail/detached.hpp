// A fire-and-forget coroutine that owns a spawned Task until it ends.
//
// The frame destroys itself at its final suspend point; `on_done` runs just
// before (on the loop thread) so the runtime can count live tasks. An
// exception escaping the task is reported on stderr and otherwise dropped:
// a detached task has nobody to hand it to.
#pragma once

#include <coroutine>
#include <cstdio>
#include <exception>
#include <functional>

#include "orbit/task.hpp"

namespace orbit::io::detail {

struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept {
      return Detached{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

template <typename OnDone>
Detached run_detached(Task<void> task, OnDone on_done) {
  try {
    co_await std::move(task);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "orbit-io: spawned task ended with exception: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "orbit-io: spawned task ended with an unknown exception\n");
  }
  on_done();
}

}  // namespace orbit::io::detail
