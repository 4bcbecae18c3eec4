// run_concurrently: drives several tasks at once from a plain test thread.
#pragma once

#include <exception>
#include <latch>
#include <optional>
#include <vector>

#include "orbit/task.hpp"

namespace orbit::test_support {

// Runs every task at once (each hops onto the store's loop and they
// interleave there) and returns their results in order.
template <typename T>
std::vector<T> run_concurrently(std::vector<Task<T>> tasks) {
  struct Detached {
    struct promise_type {
      Detached get_return_object() noexcept { return {}; }
      std::suspend_never initial_suspend() const noexcept { return {}; }
      std::suspend_never final_suspend() const noexcept { return {}; }
      void return_void() noexcept {}
      void unhandled_exception() noexcept { std::terminate(); }
    };
  };
  std::vector<std::optional<T>> slots(tasks.size());
  std::latch done(static_cast<std::ptrdiff_t>(tasks.size()));
  auto drive = [](Task<T> task, std::optional<T>* slot, std::latch* latch) -> Detached {
    slot->emplace(co_await std::move(task));
    latch->count_down();
  };
  for (std::size_t i = 0; i < tasks.size(); ++i) drive(std::move(tasks[i]), &slots[i], &done);
  done.wait();
  std::vector<T> out;
  out.reserve(slots.size());
  for (auto& slot : slots) out.push_back(std::move(*slot));
  return out;
}

}  // namespace orbit::test_support
