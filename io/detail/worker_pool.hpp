// WorkerPool: a few threads that run blocking or CPU-heavy jobs for a runtime.
// A Background pool's threads run at nice +kBackgroundNice (best effort:
// setpriority on each thread; a failure leaves them at the creator's) and
// give way at background_checkpoint() (io/background.hpp).
//
// submit() is thread-safe. The destructor finishes every queued job, then
// joins the threads; it must not run on one of the pool's own threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/runtime.hpp"

namespace orbit::io::detail {

class WorkerPool {
 public:
  WorkerPool(unsigned threads, const std::string& name, WorkClass work = WorkClass::Foreground);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(std::function<void()> job);
  // Finishes the queued jobs and joins the threads (idempotent; the
  // destructor calls it).
  void join();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Names the calling thread (best effort, truncated to 15 bytes).
void set_thread_name(const std::string& name);

}  // namespace orbit::io::detail
