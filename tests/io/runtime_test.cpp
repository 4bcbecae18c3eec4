// Runtime behaviour, identical on both backends: task chains, timers,
// cancellation, cross-thread wake-ups, worker offload, shutdown, probing.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/io/io_test_support.hpp"

namespace orbit::io::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Task<int> leaf(int value) { co_return value; }

Task<long> many_sequential_awaits(int count) {
  long sum = 0;
  for (int i = 0; i < count; ++i) sum += co_await leaf(i);
  co_return sum;
}

Task<int> nested(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

class RuntimeSuite : public RuntimeTest {};

// Goal: 100000 awaits, in sequence and nested 100000 deep, finish without
// growing the stack (symmetric transfer) on the loop thread.
TEST_P(RuntimeSuite, DeepAwaitChainsDoNotOverflowTheStack) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizer instrumentation stops GCC from making symmetric transfer a tail call";
#endif
  EXPECT_EQ(rt->block_on(many_sequential_awaits(100000)), 100000L * 99999 / 2);
  EXPECT_EQ(rt->block_on(nested(100000)), 100000);
}

Task<bool> on_loop(Runtime* rt) { co_return rt->on_loop_thread(); }

TEST_P(RuntimeSuite, BlockOnRunsOnTheLoopThread) {
  EXPECT_FALSE(rt->on_loop_thread());
  EXPECT_TRUE(rt->block_on(on_loop(rt.get())));
}

Task<std::chrono::nanoseconds> timed_sleep(Runtime* rt, std::chrono::nanoseconds d, bool* fired) {
  auto start = Clock::now();
  *fired = co_await rt->sleep_for(d);
  co_return Clock::now() - start;
}

// Goal: a sleep lasts at least its duration and reports that it fired.
TEST_P(RuntimeSuite, SleepWaitsAtLeastItsDuration) {
  bool fired = false;
  auto took = rt->block_on(timed_sleep(rt.get(), 20ms, &fired));
  EXPECT_TRUE(fired);
  EXPECT_GE(took, 20ms);
  EXPECT_LT(took, 2s);
}

Task<void> sleeper(Runtime* rt, CancelToken* token, std::chrono::nanoseconds d, int* result, WaitGroup* wg) {
  *result = (co_await rt->sleep_for(d, token)) ? 1 : 0;
  wg->done();
}

Task<void> cancel_after(Runtime* rt, CancelToken* token, std::chrono::nanoseconds d) {
  co_await rt->sleep_for(d);
  token->cancel();
}

// Goal: cancelling a pending 10 s sleep resumes it promptly with false.
TEST_P(RuntimeSuite, CancelWakesAPendingSleep) {
  CancelToken token;
  int result = -1;
  WaitGroup wg;
  wg.add(1);
  auto start = Clock::now();
  rt->spawn(sleeper(rt.get(), &token, 10s, &result, &wg));
  rt->block_on(cancel_after(rt.get(), &token, 10ms));
  wg.wait();
  EXPECT_EQ(result, 0);
  EXPECT_LT(Clock::now() - start, 2s);
}

// Goal: a sleep whose token is already cancelled returns false at once.
TEST_P(RuntimeSuite, SleepWithCancelledTokenReturnsAtOnce) {
  CancelToken token;
  token.cancel();
  int result = -1;
  WaitGroup wg;
  wg.add(1);
  rt->spawn(sleeper(rt.get(), &token, 10s, &result, &wg));
  wg.wait();
  EXPECT_EQ(result, 0);
}

Task<bool> yield_until_fired(Runtime* rt, const int* result) {
  const auto deadline = Clock::now() + 5s;
  while (*result == -1 && Clock::now() < deadline) co_await rt->yield();
  co_return *result == 1;
}

// Goal: a completion reaches a loop that never runs out of ready work (a
// coroutine yielding in a loop), so never sleeps in io_uring_enter: the
// loop enters the kernel when a completion waits for it (TASKRUN_FLAG).
TEST_P(RuntimeSuite, CompletionsReachALoopThatNeverIdles) {
  int result = -1;
  WaitGroup wg;
  wg.add(1);
  rt->spawn(sleeper(rt.get(), nullptr, 5ms, &result, &wg));
  EXPECT_TRUE(rt->block_on(yield_until_fired(rt.get(), &result)));
  wg.wait();
}

// Goal: many timers of different lengths all fire; cancelling half of them
// leaves the other half intact.
Task<void> many_timers(Runtime* rt, int* fired, int* cancelled) {
  std::vector<CancelToken> tokens(100);
  std::vector<int> results(100, -1);
  WaitGroup wg;
  wg.add(100);
  for (int i = 0; i < 100; ++i) {
    rt->spawn(sleeper(rt, &tokens[i], i % 2 == 0 ? std::chrono::milliseconds(1 + i % 7) : 10s, &results[i], &wg));
  }
  co_await rt->sleep_for(30ms);
  for (int i = 1; i < 100; i += 2) tokens[i].cancel();
  while (wg.pending.load() != 0) co_await rt->sleep_for(1ms);
  for (int i = 0; i < 100; ++i) (results[i] == 1 ? *fired : *cancelled) += 1;
}

TEST_P(RuntimeSuite, ManyTimersFireOrCancelIndependently) {
  int fired = 0, cancelled = 0;
  rt->block_on(many_timers(rt.get(), &fired, &cancelled));
  EXPECT_EQ(fired, 50);
  EXPECT_EQ(cancelled, 50);
}

// Hands the awaiting coroutine to a foreign thread, which posts it back.
struct ForeignHop {
  Runtime* rt;
  std::vector<std::thread>* threads;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    Runtime* runtime = rt;
    threads->emplace_back([runtime, h] {
      std::this_thread::sleep_for(1ms);  // let the loop go to sleep first
      runtime->post(h);
    });
  }
  void await_resume() const noexcept {}
};

Task<int> hop_many(Runtime* rt, int hops, std::vector<std::thread>* threads) {
  int on_loop = 0;
  for (int i = 0; i < hops; ++i) {
    co_await ForeignHop{rt, threads};
    on_loop += rt->on_loop_thread() ? 1 : 0;
  }
  co_return on_loop;
}

// Goal: post() from foreign threads wakes a sleeping loop every time.
TEST_P(RuntimeSuite, PostFromForeignThreadsWakesTheLoop) {
  std::vector<std::thread> threads;
  EXPECT_EQ(rt->block_on(hop_many(rt.get(), 200, &threads)), 200);
  for (auto& t : threads) t.join();
}

Task<void> count_up(Runtime* rt, std::atomic<int>* counter, WaitGroup* wg) {
  co_await rt->yield();
  counter->fetch_add(1);
  wg->done();
}

// Goal: spawn() from several threads at once loses no task.
TEST_P(RuntimeSuite, SpawnFromManyThreads) {
  std::atomic<int> counter{0};
  WaitGroup wg;
  wg.add(4 * 2000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) rt->spawn(count_up(rt.get(), &counter, &wg));
    });
  }
  for (auto& t : threads) t.join();
  wg.wait();
  EXPECT_EQ(counter.load(), 8000);
}

// An exception thrown on a worker of that class reaches the awaiter on the loop.
template <WorkClass kWork>
Task<void> expect_exception_crosses(Runtime* rt) {
  bool thrown = false;
  try {
    co_await rt->offload_as<kWork>([]() -> int { throw std::runtime_error("boom"); });
  } catch (const std::runtime_error&) {
    thrown = true;
  }
  EXPECT_TRUE(thrown);
}

Task<void> offload_checks(Runtime* rt) {
  auto loop_id = std::this_thread::get_id();
  auto worker_id = co_await rt->offload([] { return std::this_thread::get_id(); });
  EXPECT_NE(worker_id, loop_id);
  EXPECT_TRUE(rt->on_loop_thread());
  EXPECT_EQ(std::this_thread::get_id(), loop_id);
  int value = co_await rt->offload([] { return 41 + 1; });
  EXPECT_EQ(value, 42);
  co_await expect_exception_crosses<WorkClass::Foreground>(rt);
}

// Goal: offload runs on a worker, resumes on the loop, carries values and exceptions.
TEST_P(RuntimeSuite, OffloadRunsOnAWorkerAndResumesOnTheLoop) { rt->block_on(offload_checks(rt.get())); }

// A thread's own nice value (Linux keeps one per thread).
int own_nice() { return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))); }

Task<void> background_checks(Runtime* rt, int loop_nice) {
  struct Seen {
    std::thread::id id;
    int nice;
  };
  auto seen = [] { return Seen{std::this_thread::get_id(), own_nice()}; };
  const Seen foreground = co_await rt->offload(seen);
  const Seen background = co_await rt->offload_background(seen);
  EXPECT_TRUE(rt->on_loop_thread());
  EXPECT_NE(background.id, std::this_thread::get_id());
  EXPECT_NE(background.id, foreground.id) << "background work has its own threads";
  EXPECT_EQ(foreground.nice, loop_nice);
  EXPECT_EQ(background.nice, std::min(loop_nice + kBackgroundNice, 19));
  co_await expect_exception_crosses<WorkClass::Background>(rt);
}

// Goal: background work runs on its own threads, at a lower CPU priority
// than the loop and the foreground workers, and returns like offload().
TEST_P(RuntimeSuite, BackgroundOffloadRunsAtALowerPriority) {
  const int loop_nice = rt->block_on([]() -> Task<int> { co_return own_nice(); }());
  rt->block_on(background_checks(rt.get(), loop_nice));
}

// The calling thread's voluntary context switches so far: each sleep is one.
long own_voluntary_switches() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nvcsw;
}

// Runs for `busy` of wall time, passing a checkpoint every microsecond or
// so; returns how many times the thread slept meanwhile.
long spin_through_checkpoints(std::chrono::microseconds busy) {
  const long before = own_voluntary_switches();
  const auto end = Clock::now() + busy;
  while (Clock::now() < end) background_checkpoint();
  return own_voluntary_switches() - before;
}

Task<void> checkpoint_checks(Runtime* rt) {
  // About one pause per kBackgroundSlice of wall time: ~20 in 5 ms, however
  // the scheduler treats the worker.
  const long background = co_await rt->offload_background([] { return spin_through_checkpoints(5ms); });
  EXPECT_GE(background, 2);
  const long foreground = co_await rt->offload([] { return spin_through_checkpoints(5ms); });
  EXPECT_EQ(foreground, 0);
  EXPECT_EQ(spin_through_checkpoints(2ms), 0) << "on the loop thread";
}

// Goal: background work gives its CPU away at checkpoints, once per slice;
// the same code on the loop or a foreground worker never sleeps there.
TEST_P(RuntimeSuite, OnlyBackgroundWorkGivesWayAtCheckpoints) { rt->block_on(checkpoint_checks(rt.get())); }

Task<void> slow_task(Runtime* rt, std::atomic<bool>* finished) {
  co_await rt->sleep_for(50ms);
  finished->store(true);
}

// Goal: the destructor waits for spawned tasks to finish.
TEST_P(RuntimeSuite, DestructorWaitsForSpawnedTasks) {
  std::atomic<bool> finished{false};
  rt->spawn(slow_task(rt.get(), &finished));
  rt.reset();
  EXPECT_TRUE(finished.load());
}

Task<void> destroy_from_inside(std::unique_ptr<Runtime>* owner, std::atomic<bool>* spawned, std::atomic<bool>* done) {
  // Wait until spawn() has returned on the test thread: destroying an object
  // while another thread is still inside one of its calls is a plain race.
  while (!spawned->load()) co_await (*owner)->sleep_for(1ms);
  owner->reset();  // runs the destructor on the loop thread itself
  done->store(true);
  done->notify_all();
  co_return;
}

// Goal: destroying the runtime from its own loop thread neither deadlocks nor crashes.
TEST_P(RuntimeSuite, DestructorOnTheLoopThreadDoesNotDeadlock) {
  std::atomic<bool> spawned{false};
  std::atomic<bool> done{false};
  rt->spawn(destroy_from_inside(&rt, &spawned, &done));
  spawned.store(true);
  done.wait(false);
  EXPECT_EQ(rt, nullptr);
  std::this_thread::sleep_for(20ms);  // let the detached loop wind down
}

ORBIT_INSTANTIATE_BACKENDS(RuntimeSuite);

// ---- Probing (not parametrized) --------------------------------------------

// Goal: when io_uring works, Auto picks it and prints nothing.
TEST(RuntimeProbe, AutoPicksIoUringSilentlyWhenItWorks) {
  ::testing::internal::CaptureStderr();
  auto created = Runtime::create(RuntimeOptions{});
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(created.ok());
  if ((*created)->kind() != BackendKind::IoUring) GTEST_SKIP() << "io_uring unavailable here: " << err;
  EXPECT_EQ(err, "");
  EXPECT_EQ((*created)->fallback_reason(), "");
  EXPECT_EQ(to_string((*created)->kind()), "io_uring");
}

// The kernel refuses a ring larger than IORING_MAX_ENTRIES (32768) with
// EINVAL: a real refusal we can cause on any machine.
RuntimeOptions refused_options(BackendChoice choice) {
  RuntimeOptions options;
  options.backend = choice;
  options.queue_depth = 1u << 20;
  return options;
}

// Goal: forced io_uring that the kernel refuses is an error with `why` filled.
TEST(RuntimeProbe, ForcedIoUringRefusedIsAnError) {
  std::string why;
  auto created = Runtime::create(refused_options(BackendChoice::IoUring), &why);
  if (created.ok()) GTEST_SKIP() << "kernel accepted an oversized ring; cannot simulate a refusal";
  EXPECT_GT(created.error(), 0);
  EXPECT_NE(why.find("io_uring_queue_init"), std::string::npos) << why;
}

// Goal: Auto falls back to Asio with one stderr line saying why.
TEST(RuntimeProbe, AutoFallsBackToAsioWithOneLogLine) {
  ::testing::internal::CaptureStderr();
  auto created = Runtime::create(refused_options(BackendChoice::Auto));
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(created.ok());
  if ((*created)->kind() == BackendKind::IoUring) GTEST_SKIP() << "cannot simulate a refusal";
  EXPECT_EQ((*created)->kind(), BackendKind::Asio);
  EXPECT_FALSE((*created)->fallback_reason().empty());
  EXPECT_NE(err.find("falling back to Asio"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

}  // namespace
}  // namespace orbit::io::testing
