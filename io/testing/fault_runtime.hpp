// FaultRuntime: a Runtime whose file system is a FaultFileSystem, so that a
// whole engine (which reaches the disk only through runtime.fs()) can be
// driven into power loss and I/O errors without knowing it is tested.
//
// It owns the real runtime it wraps and forwards everything to it; fs()
// answers the FaultFileSystem built over the real runtime's file system.
// Hand it to an engine like any runtime and keep a pointer to faults() to
// inject failures, count operations and crash() (run crash() on this
// runtime's loop, e.g. with block_on, before the engine is destroyed: the
// durable images live in the FaultFileSystem, which dies with the runtime).
#pragma once

#include <memory>
#include <string>

#include "io/runtime.hpp"
#include "io/testing/fault_file_system.hpp"

namespace orbit::io::testing {

class FaultRuntime final : public Runtime {
 public:
  FaultRuntime(std::unique_ptr<Runtime> inner, std::uint64_t seed)
      : inner_(std::move(inner)), faults_(std::make_unique<FaultFileSystem>(inner_->fs(), seed)) {}
  // The real runtime goes first: its destructor waits for spawned tasks,
  // which may still be using the FaultFileSystem.
  ~FaultRuntime() override { inner_.reset(); }

  static IoResult<std::unique_ptr<FaultRuntime>> create(RuntimeOptions options, std::uint64_t seed,
                                                        std::string* why = nullptr) {
    auto inner = Runtime::create(std::move(options), why);
    if (!inner) return Errno{inner.error()};
    return std::make_unique<FaultRuntime>(std::move(inner).value(), seed);
  }

  FaultFileSystem& faults() noexcept { return *faults_; }

  BackendKind kind() const noexcept override { return inner_->kind(); }
  const std::string& fallback_reason() const noexcept override { return inner_->fallback_reason(); }
  FileSystem& fs() noexcept override { return *faults_; }
  Net& net() noexcept override { return inner_->net(); }
  bool on_loop_thread() const noexcept override { return inner_->on_loop_thread(); }
  void post(std::coroutine_handle<> handle) override { inner_->post(handle); }
  void run_on_worker(std::function<void()> fn, std::coroutine_handle<> done, WorkClass work) override {
    inner_->run_on_worker(std::move(fn), done, work);
  }
  void spawn(Task<void> task) override { inner_->spawn(std::move(task)); }
  Task<bool> sleep_for(std::chrono::nanoseconds duration, CancelToken* token = nullptr) override {
    return inner_->sleep_for(duration, token);
  }

 private:
  std::unique_ptr<Runtime> inner_;
  std::unique_ptr<FaultFileSystem> faults_;
};

}  // namespace orbit::io::testing
