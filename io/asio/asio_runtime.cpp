// The loop thread runs io_context::run() while a work guard holds it open.
// Shutdown: the destructor marks the core stopping and wakes it; the loop
// drops the guard once no spawned task and no worker job is left, run()
// returns, and the thread ends. Everything the loop touches lives in a
// shared Core the thread co-owns, so a Runtime destroyed from its own loop
// thread simply detaches and the Core dies when the loop ends.
#include "io/asio/asio_runtime.hpp"

#include <asio.hpp>
#include <atomic>
#include <future>
#include <thread>

#include "io/asio/asio_net.hpp"
#include "io/detail/blocking_file_system.hpp"
#include "io/detail/detached.hpp"
#include "io/detail/worker_pool.hpp"

namespace orbit::io::asio_backend {
namespace {

class AsioRuntime;

struct Core {
  explicit Core(const RuntimeOptions& options)
      : guard(asio::make_work_guard(context)),
        workers(options.worker_threads, options.name + "-w"),
        background(options.background_threads, options.name + "-bg", WorkClass::Background) {}

  // Loop thread only.
  void maybe_finish() {
    if (stopping.load(std::memory_order_acquire) && live_tasks == 0 && worker_jobs == 0) guard.reset();
  }

  asio::io_context context;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::atomic<std::thread::id> loop_id{};
  std::atomic<bool> stopping{false};
  std::atomic<long> live_tasks{0};
  std::atomic<long> worker_jobs{0};
  detail::WorkerPool workers;
  detail::WorkerPool background;
};

class AsioRuntime final : public Runtime {
 public:
  AsioRuntime(const RuntimeOptions& options, std::string fallback_reason)
      : core_(std::make_shared<Core>(options)),
        fallback_reason_(std::move(fallback_reason)),
        fs_(*this),
        net_(core_->context) {
    std::promise<void> started;
    auto ready = started.get_future();
    std::string name = options.name;
    thread_ = std::thread([core = core_, name, &started] {
      detail::set_thread_name(name + "-loop");
      core->loop_id.store(std::this_thread::get_id());
      started.set_value();
      core->context.run();
    });
    ready.wait();
  }

  ~AsioRuntime() override {
    core_->stopping.store(true, std::memory_order_release);
    asio::post(core_->context, [core = core_.get()] { core->maybe_finish(); });
    if (on_loop_thread()) {
      // Cannot join ourselves: the loop ends by itself once idle and the
      // thread's reference keeps the Core alive until then.
      thread_.detach();
    } else {
      thread_.join();
    }
  }

  BackendKind kind() const noexcept override { return BackendKind::Asio; }
  const std::string& fallback_reason() const noexcept override { return fallback_reason_; }
  FileSystem& fs() noexcept override { return fs_; }
  Net& net() noexcept override { return net_; }

  bool on_loop_thread() const noexcept override { return core_->loop_id.load() == std::this_thread::get_id(); }

  void post(std::coroutine_handle<> handle) override {
    asio::post(core_->context, [handle] { handle.resume(); });
  }

  void run_on_worker(std::function<void()> fn, std::coroutine_handle<> done, WorkClass work) override {
    Core* core = core_.get();
    // Counted so shutdown waits for the job to come back.
    core->worker_jobs.fetch_add(1);
    (work == WorkClass::Background ? core->background : core->workers).submit([core, fn = std::move(fn), done] {
      fn();
      asio::post(core->context, [core, done] {
        core->worker_jobs.fetch_sub(1);
        done.resume();
        core->maybe_finish();
      });
    });
  }

  void spawn(Task<void> task) override {
    Core* core = core_.get();
    core->live_tasks.fetch_add(1);
    auto driver = detail::run_detached(std::move(task), [core] {
      core->live_tasks.fetch_sub(1);
      // Checked after the frame is gone: post rather than run inline.
      asio::post(core->context, [core] { core->maybe_finish(); });
    });
    post(driver.handle);
  }

  Task<bool> sleep_for(std::chrono::nanoseconds duration, CancelToken* token) override {
    if (token != nullptr && token->cancelled()) co_return false;
    asio::steady_timer timer(core_->context, duration);
    struct Wait {
      asio::steady_timer& timer;
      std::error_code ec;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) {
        timer.async_wait([this, h](std::error_code e) {
          ec = e;
          h.resume();
        });
      }
      void await_resume() const noexcept {}
    };
    Wait wait{timer, {}};
    if (token != nullptr) token->set_handler([&timer] { timer.cancel(); });
    co_await wait;
    if (token != nullptr) token->clear_handler();
    co_return !wait.ec && !(token != nullptr && token->cancelled());
  }

 private:
  std::shared_ptr<Core> core_;
  std::string fallback_reason_;
  detail::BlockingFileSystem fs_;
  AsioNet net_;
  std::thread thread_;
};

}  // namespace

IoResult<std::unique_ptr<Runtime>> create_runtime(const RuntimeOptions& options, std::string fallback_reason) {
  return std::unique_ptr<Runtime>(std::make_unique<AsioRuntime>(options, std::move(fallback_reason)));
}

}  // namespace orbit::io::asio_backend
