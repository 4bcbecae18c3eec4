// Goal: Task is lazy, propagates values and exceptions, and deep await
// chains run in constant stack (symmetric transfer); sync_wait works from a
// plain thread, including when the task finishes on another thread.
#include "orbit/task.hpp"

#include <gtest/gtest.h>

#include <coroutine>
#include <stdexcept>
#include <thread>

#include "orbit/sync_wait.hpp"

namespace orbit {
namespace {

Task<int> answer() { co_return 42; }
Task<int> add_one(Task<int> inner) { co_return 1 + co_await std::move(inner); }
Task<void> thrower() {
  throw std::runtime_error("boom");
  co_return;
}
Task<int> chain(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await chain(depth - 1);
}

TEST(Task, IsLazyUntilAwaited) {
  bool started = false;
  auto make = [&]() -> Task<void> {
    started = true;
    co_return;
  };
  auto task = make();
  EXPECT_FALSE(started);
  sync_wait(std::move(task));
  EXPECT_TRUE(started);
}

TEST(Task, ReturnsValuesThroughAwaits) { EXPECT_EQ(sync_wait(add_one(add_one(answer()))), 44); }

TEST(Task, PropagatesExceptions) { EXPECT_THROW(sync_wait(thrower()), std::runtime_error); }

TEST(Task, DeepChainDoesNotGrowTheStack) {
  // 200k nested awaits would overflow an 8 MiB stack without symmetric transfer
  // on completion... the resume path is what matters: each level returns by transfer.
  EXPECT_EQ(sync_wait(chain(200000)), 200000);
}

TEST(Task, MoveOnlyValues) {
  auto make = []() -> Task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
  EXPECT_EQ(*sync_wait(make()), 7);
}

TEST(Task, DestroyingAnUnstartedTaskFreesIt) {
  auto task = answer();
  EXPECT_TRUE(task.valid());
  task = Task<int>();
  EXPECT_FALSE(task.valid());
}

// An awaitable that resumes the coroutine on a fresh thread.
struct ResumeOnOtherThread {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { std::thread([h] { h.resume(); }).detach(); }
  void await_resume() const noexcept {}
};

TEST(SyncWait, WakesWhenTheTaskFinishesOnAnotherThread) {
  auto caller = std::this_thread::get_id();
  auto task = [](std::thread::id caller_id) -> Task<bool> {
    co_await ResumeOnOtherThread{};
    co_return std::this_thread::get_id() != caller_id;
  }(caller);
  EXPECT_TRUE(sync_wait(std::move(task)));
}

}  // namespace
}  // namespace orbit
