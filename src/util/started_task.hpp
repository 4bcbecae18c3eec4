// StartedTask: runs a Task at once, up to its first suspension, and lets
// the caller co_await its result later: start a log write, do other work
// while it is in flight, then wait for it.
//
// Construct it in the coroutine that will await it (it cannot move: the
// running task writes its result into it) and co_await it exactly once,
// on the thread that resumes the task (a runtime's loop).
#pragma once

#include <cassert>
#include <coroutine>
#include <optional>
#include <utility>

#include "orbit/task.hpp"

namespace orbit {

template <typename T>
class StartedTask {
 public:
  explicit StartedTask(Task<T> task) : wrapper_(hold(std::move(task), &result_).release()) { wrapper_.resume(); }
  StartedTask(const StartedTask&) = delete;
  StartedTask& operator=(const StartedTask&) = delete;
  ~StartedTask() {
    assert(wrapper_.done() && "a StartedTask destroyed before its task finished");
    wrapper_.destroy();
  }

  bool await_ready() const noexcept { return wrapper_.done(); }
  // Resumed by the task's completion (its final awaiter transfers here).
  void await_suspend(std::coroutine_handle<> awaiting) noexcept { wrapper_.promise().continuation = awaiting; }
  T await_resume() {
    wrapper_.promise().take();  // rethrows what the task threw
    return std::move(*result_);
  }

 private:
  static Task<void> hold(Task<T> task, std::optional<T>* out) { out->emplace(co_await std::move(task)); }

  std::optional<T> result_;
  typename Task<void>::Handle wrapper_;
};

}  // namespace orbit
