// Goal: KeyedMutex admits one holder per key, queues the rest in arrival
// order, and leaves other keys free.
#include "src/util/keyed_mutex.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "orbit/task.hpp"

namespace orbit {
namespace {

// A gate the test opens by hand, so holders stay inside their critical section.
struct Gate {
  std::vector<std::coroutine_handle<>> waiting;
  auto wait() {
    struct A {
      Gate* g;
      bool await_ready() { return false; }
      void await_suspend(std::coroutine_handle<> h) { g->waiting.push_back(h); }
      void await_resume() {}
    };
    return A{this};
  }
  void open_one() {
    auto h = waiting.front();
    waiting.erase(waiting.begin());
    h.resume();
  }
};

Task<void> hold(KeyedMutex& m, std::string key, Gate& gate, std::vector<int>& order, int id) {
  auto guard = co_await m.lock(key);
  order.push_back(id);
  co_await gate.wait();
}

// Starts a task detached (the test drives resumption itself).
struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};
Detached run(Task<void> t) { co_await std::move(t); }

TEST(KeyedMutex, OneHolderPerKeyInArrivalOrder) {
  KeyedMutex m;
  Gate gate;
  std::vector<int> order;
  run(hold(m, "a", gate, order, 1));
  run(hold(m, "a", gate, order, 2));
  run(hold(m, "b", gate, order, 3));
  run(hold(m, "a", gate, order, 4));
  EXPECT_EQ(order, (std::vector<int>{1, 3}));  // 2 and 4 wait for "a"; "b" is free
  EXPECT_EQ(gate.waiting.size(), 2u);
  gate.open_one();  // 1 releases "a" -> 2 enters
  EXPECT_EQ(order, (std::vector<int>{1, 3, 2}));
  gate.open_one();  // 3 releases "b"
  gate.open_one();  // 2 releases "a" -> 4 enters
  EXPECT_EQ(order, (std::vector<int>{1, 3, 2, 4}));
  gate.open_one();
  EXPECT_EQ(m.held_keys(), 0u);
}

// Many waiters on one key while other keys come and go (the map rehashes
// under the held entries): each enters once, in arrival order, and every
// key is free at the end.
TEST(KeyedMutex, QueuesSurviveRehashing) {
  KeyedMutex m;
  Gate gate;
  std::vector<int> order;
  for (int i = 0; i < 8; ++i) run(hold(m, "hot", gate, order, i));
  for (int i = 0; i < 200; ++i) run(hold(m, "k" + std::to_string(i), gate, order, 100 + i));
  EXPECT_EQ(m.held_keys(), 201u);
  // The gate holds "hot"'s first holder and the 200 others; release the
  // others first (each releases its own key).
  std::vector<std::coroutine_handle<>> first = {gate.waiting.front()};
  gate.waiting.erase(gate.waiting.begin());
  while (!gate.waiting.empty()) gate.open_one();
  EXPECT_EQ(m.held_keys(), 1u);
  gate.waiting = first;
  for (int i = 1; i < 8; ++i) {
    gate.open_one();  // holder i-1 releases "hot": holder i enters
    EXPECT_EQ(order.back(), i);
  }
  gate.open_one();
  EXPECT_EQ(m.held_keys(), 0u);
  EXPECT_EQ(order.size(), 208u);
}

// A guard moved or released early unlocks once.
TEST(KeyedMutex, MovedGuardUnlocksOnce) {
  KeyedMutex m;
  Gate gate;
  std::vector<int> order;
  auto take = [&]() -> Task<void> {
    auto guard = co_await m.lock("a");
    KeyedMutex::Guard moved = std::move(guard);
    moved.release();
    moved.release();
    order.push_back(0);
  };
  run(take());
  EXPECT_EQ(m.held_keys(), 0u);
  run(hold(m, "a", gate, order, 1));
  EXPECT_EQ(m.held_keys(), 1u);
  gate.open_one();
  EXPECT_EQ(m.held_keys(), 0u);
}

}  // namespace
}  // namespace orbit
