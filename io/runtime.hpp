// Runtime: one event-loop thread that runs coroutines and completes their I/O.
//
// A Runtime owns its loop thread (started by create(), joined by the
// destructor after every spawned task has finished or been dropped), a
// FileSystem bound to it, and a small worker pool for calls that block or
// burn CPU. Two implementations: io_uring (io/uring) and Asio (io/asio).
//
// Destroying a Runtime on its own loop thread (from one of its coroutines)
// does not deadlock: the destructor returns at once and the loop ends by
// itself once its spawned tasks finish; those tasks must not touch fs() or
// net() after that point (they die with the Runtime object). As with any
// object, no other thread may be inside post()/spawn() while it is destroyed.
//
// Threading: post(), spawn() and schedule() may be called from any thread;
// everything else, and every coroutine the runtime resumes, runs on the loop
// thread. Completions are taken off the kernel's queue before any coroutine
// is resumed, so a resumed coroutine never re-enters the completion loop.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "io/background.hpp"
#include "io/file_system.hpp"
#include "io/io_result.hpp"
#include "io/net.hpp"
#include "orbit/sync_wait.hpp"
#include "orbit/task.hpp"

namespace orbit::io {

enum class BackendKind : std::uint8_t { IoUring, Asio };
enum class BackendChoice : std::uint8_t { Auto, IoUring, Asio };

// Which workers run an offloaded call. Background work (an LSM flush or
// compaction step, a COW checkpoint's encoding, freeing a flushed memtable)
// has its own threads, which yield the CPU to the loop and to the kernel
// workers carrying its log writes (io/background.hpp): a flush or
// compaction takes longer instead of stretching every writer's wait.
// Foreground calls (a RocksDB operation, file calls of the Asio backend)
// keep the loop's priority.
enum class WorkClass : std::uint8_t { Foreground, Background };

struct RuntimeOptions {
  BackendChoice backend = BackendChoice::Auto;
  unsigned queue_depth = 256;    // io_uring submission queue entries
  unsigned worker_threads = 2;   // blocking/CPU work (and Asio's file calls)
  unsigned background_threads = 1;  // WorkClass::Background work
  std::string name = "orbit-io"; // thread name prefix
};

// Cancels a pending sleep (and other cancellable waits) from the loop thread.
class CancelToken {
 public:
  void cancel();
  bool cancelled() const noexcept { return cancelled_; }

  // For runtimes: what to run on cancel (one pending waiter at a time).
  void set_handler(std::function<void()> handler) { handler_ = std::move(handler); }
  void clear_handler() { handler_ = nullptr; }

 private:
  bool cancelled_ = false;
  std::function<void()> handler_;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Probes and starts a runtime. With Auto, io_uring is tried first; if the
  // kernel refuses it, Asio is used and fallback_reason() says why. With
  // IoUring forced and refused, the error is returned (errno from
  // io_uring_queue_init) and `why` is filled.
  static IoResult<std::unique_ptr<Runtime>> create(RuntimeOptions options, std::string* why = nullptr);

  virtual BackendKind kind() const noexcept = 0;
  // Empty unless Auto fell back to Asio.
  virtual const std::string& fallback_reason() const noexcept = 0;

  virtual FileSystem& fs() noexcept = 0;
  // TCP on this runtime's loop (added for replication).
  virtual Net& net() noexcept = 0;

  virtual bool on_loop_thread() const noexcept = 0;
  // Resumes `handle` on the loop thread soon. Thread-safe; wakes the loop.
  virtual void post(std::coroutine_handle<> handle) = 0;
  // Runs `fn` on a worker thread of that class, then posts `done` back to the loop.
  virtual void run_on_worker(std::function<void()> fn, std::coroutine_handle<> done, WorkClass work) = 0;
  // Starts `task` detached on the loop. Thread-safe. The runtime keeps
  // running until it ends (the destructor waits for detached tasks).
  virtual void spawn(Task<void> task) = 0;

  // Resume after `duration` (true), or early when `token` is cancelled (false).
  virtual Task<bool> sleep_for(std::chrono::nanoseconds duration, CancelToken* token = nullptr) = 0;

  // Awaitable: continue on the loop thread (no-op if already there).
  auto schedule() noexcept {
    struct Awaiter {
      Runtime* rt;
      bool await_ready() const noexcept { return rt->on_loop_thread(); }
      void await_suspend(std::coroutine_handle<> h) { rt->post(h); }
      void await_resume() const noexcept {}
    };
    return Awaiter{this};
  }

  // Awaitable: let other ready coroutines run, then continue.
  auto yield() noexcept {
    struct Awaiter {
      Runtime* rt;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { rt->post(h); }
      void await_resume() const noexcept {}
    };
    return Awaiter{this};
  }

  // Awaitable: run `fn` on a worker thread and resume on the loop with its
  // result (exceptions from fn propagate to the awaiter).
  template <typename F>
  auto offload(F fn) {
    return offload_as<WorkClass::Foreground>(std::move(fn));
  }
  // offload() onto the background workers (see WorkClass).
  template <typename F>
  auto offload_background(F fn) {
    return offload_as<WorkClass::Background>(std::move(fn));
  }

  template <WorkClass kWork, typename F>
  auto offload_as(F fn) {
    using R = std::invoke_result_t<F&>;
    struct Awaiter {
      Runtime* rt;
      F fn;
      std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> out;
      std::exception_ptr failure;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) {
        rt->run_on_worker(
            [this] {
              try {
                if constexpr (std::is_void_v<R>) {
                  fn();
                  out.emplace(true);
                } else {
                  out.emplace(fn());
                }
              } catch (...) {
                failure = std::current_exception();
              }
            },
            h, kWork);
      }
      R await_resume() {
        if (failure) std::rethrow_exception(failure);
        if constexpr (!std::is_void_v<R>) return std::move(*out);
      }
    };
    return Awaiter{this, std::move(fn), std::nullopt, nullptr};
  }

  // Runs `task` on the loop and blocks the calling (non-loop) thread until it ends.
  template <typename T>
  T block_on(Task<T> task);

 protected:
  Runtime() = default;
};

std::string_view to_string(BackendKind kind) noexcept;  // "io_uring" / "asio"

template <typename T>
T Runtime::block_on(Task<T> task) {
  // Hop onto the loop first, then run the task there.
  auto hop = [](Runtime* rt, Task<T> inner) -> Task<T> {
    co_await rt->schedule();
    co_return co_await std::move(inner);
  };
  return orbit::sync_wait(hop(this, std::move(task)));
}

}  // namespace orbit::io
