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

// Symmetric transfer is a guaranteed tail call with clang at any -O level;
// g++ 12 emits the tail call only when optimising (-O2) without sanitizers.
#if defined(__clang__) || (defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__))
constexpr bool kTailCallTransfer = true;
#else
constexpr bool kTailCallTransfer = false;
#endif

TEST(Task, DeepChainDoesNotGrowTheStack) {
  if (!kTailCallTransfer) GTEST_SKIP() << "this compiler/flags do not make symmetric transfer a tail call";
  // A million nested awaits: without symmetric transfer each start and each
  // completion would add frames and overflow an 8 MiB stack many times over.
  EXPECT_EQ(sync_wait(chain(1000000)), 1000000);
}

Task<int> ready_value(int v) { co_return v; }

TEST(Task, LongLoopOfSynchronousCompletions) {
  if (!kTailCallTransfer) GTEST_SKIP() << "this compiler/flags do not make symmetric transfer a tail call";
  auto loop = []() -> Task<long> {
    long sum = 0;
    for (int i = 0; i < 1000000; ++i) sum += co_await ready_value(1);
    co_return sum;
  };
  EXPECT_EQ(sync_wait(loop()), 1000000);
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
