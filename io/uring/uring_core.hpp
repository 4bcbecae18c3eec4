// The io_uring event loop, shared by the runtime, the file system and the net
// code of io/uring. Internal: only io/uring includes it.
//
// An operation is an Op that lives inside the awaiting coroutine's frame;
// its address is the SQE's user_data (low bit set for the second SQE of a
// linked pair), so an I/O allocates nothing. The loop thread alone touches
// the ring. Each iteration it: takes posted handles, resumes the ready ones,
// moves queued (overflow) Ops into free SQEs, submits everything with one
// io_uring_enter that also waits when nothing is ready (and skips it when
// there is nothing to submit and no completion held in the kernel), then
// copies every CQE into its Op and marks the Op's coroutine ready — resuming
// only on the next iteration, after the CQ has been advanced, so nothing
// re-enters the loop.
#pragma once

#include <liburing.h>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/detail/worker_pool.hpp"
#include "io/runtime.hpp"

namespace orbit::io::uring_backend {

struct Op {
  std::coroutine_handle<> handle;  // resumed once `remaining` reaches 0
  int res = 0;                     // CQE result of the first SQE
  int res2 = 0;                    // CQE result of the second (linked) SQE
  int remaining = 0;               // CQEs still expected
  unsigned sqes = 1;               // SQEs this Op needs, taken together
  void (*prep)(Op*, io_uring_sqe** sqes) = nullptr;
  Op* next = nullptr;              // overflow list link
};

class Core {
 public:
  explicit Core(const RuntimeOptions& options);
  ~Core();

  // Runs on the loop thread: sets up the ring, reports through `setup_error`
  // (0 = ok) and `why`, then loops until stopped and idle.
  void run(int* setup_error, std::string* why, std::promise<void>* started);

  bool on_loop_thread() const noexcept { return loop_id_.load(std::memory_order_relaxed) == std::this_thread::get_id(); }
  void post(std::coroutine_handle<> handle);
  // Loop thread: queue `op` for submission (SQ full -> overflow list).
  void submit(Op* op);
  void run_on_worker(std::function<void()> fn, std::coroutine_handle<> done, WorkClass work);
  void request_stop();
  std::atomic<long>& live_tasks() noexcept { return live_tasks_; }
  unsigned setup_flags() const noexcept { return setup_flags_; }

 private:
  bool setup(int* error, std::string* why);
  void arm_wakeup();
  void wake();  // any thread: make the loop's io_uring_enter return
  void flush_overflow();
  void reap();
  bool completions_wait_for_enter() const noexcept;
  bool idle_and_stopping();

  RuntimeOptions options_;
  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned setup_flags_ = 0;
  std::atomic<std::thread::id> loop_id_{};

  std::mutex posted_mutex_;
  std::vector<std::coroutine_handle<>> posted_;
  std::atomic<bool> sleeping_{false};
  int wake_fd_ = -1;
  std::uint64_t wake_value_ = 0;

  std::vector<std::coroutine_handle<>> ready_;  // loop thread only
  Op* overflow_head_ = nullptr;
  Op* overflow_tail_ = nullptr;
  long inflight_ = 0;  // CQEs expected for Ops (not the wake-up read)

  std::atomic<bool> stopping_{false};
  std::atomic<long> live_tasks_{0};
  std::atomic<long> worker_jobs_{0};
  detail::WorkerPool workers_;
  detail::WorkerPool background_;
};

// Awaitable for one Op whose SQE(s) `fill` prepares. The Op is this object,
// so it lives in the awaiting coroutine's frame.
template <typename Fill>
struct SqeAwaiter : Op {
  SqeAwaiter(Core* core_in, Fill fill_in, unsigned sqe_count) : core(core_in), fill(std::move(fill_in)) {
    sqes = sqe_count;
    prep = &prep_thunk;
  }
  SqeAwaiter(const SqeAwaiter&) = delete;
  SqeAwaiter& operator=(const SqeAwaiter&) = delete;

  static void prep_thunk(Op* op, io_uring_sqe** s) { static_cast<SqeAwaiter*>(op)->fill(s); }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    handle = h;
    remaining = static_cast<int>(sqes);
    core->submit(this);
  }
  int await_resume() const noexcept { return res; }

  Core* core;
  Fill fill;
};

template <typename Fill>
SqeAwaiter<Fill> uring_op(Core* core, Fill fill, unsigned sqe_count = 1) {
  return SqeAwaiter<Fill>(core, std::move(fill), sqe_count);
}

// Largest single read/write we hand the kernel (it caps at ~2 GiB anyway).
inline constexpr std::size_t kMaxChunk = std::size_t{1} << 30;

}  // namespace orbit::io::uring_backend
