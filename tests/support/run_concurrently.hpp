// run_concurrently, Started: drive tasks from a plain test thread.
#pragma once

#include <exception>
#include <latch>
#include <optional>
#include <vector>

#include "orbit/task.hpp"

namespace orbit::test_support {

namespace detail {
// A coroutine that starts at once and that nobody awaits.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

template <typename T>
Detached drive(Task<T> task, std::optional<T>* slot, std::latch* done) {
  slot->emplace(co_await std::move(task));
  done->count_down();
}
}  // namespace detail

// Runs every task at once (each hops onto the store's loop and they
// interleave there) and returns their results in order.
template <typename T>
std::vector<T> run_concurrently(std::vector<Task<T>> tasks) {
  std::vector<std::optional<T>> slots(tasks.size());
  std::latch done(static_cast<std::ptrdiff_t>(tasks.size()));
  for (std::size_t i = 0; i < tasks.size(); ++i) detail::drive(std::move(tasks[i]), &slots[i], &done);
  done.wait();
  std::vector<T> out;
  out.reserve(slots.size());
  for (auto& slot : slots) out.push_back(std::move(*slot));
  return out;
}

// Starts `task` at once (its hop onto the store's loop is posted before the
// constructor returns) without waiting for it; get() waits for the result.
// Call get() before it is destroyed.
template <typename T>
class Started {
 public:
  explicit Started(Task<T> task) { detail::drive(std::move(task), &slot_, &done_); }
  Started(const Started&) = delete;
  Started& operator=(const Started&) = delete;
  T get() {
    done_.wait();
    return std::move(*slot_);
  }

 private:
  std::optional<T> slot_;
  std::latch done_{1};
};

}  // namespace orbit::test_support
