// The io_uring loop (see uring_core.hpp for the shape of one iteration).
//
// Ring setup happens on the loop thread, because SINGLE_ISSUER ties the ring
// to the thread that creates it: first SINGLE_ISSUER|DEFER_TASKRUN with
// TASKRUN_FLAG, then without it (6.1+), then COOP_TASKRUN|TASKRUN_FLAG
// (5.19+), then no flags. TASKRUN_FLAG lets an iteration that has nothing to
// submit skip io_uring_enter when no completion waits for one (see run()).
//
// Cross-thread post(): handles go into a mutex-guarded vector; the poster
// writes the eventfd only if the loop announced (sleeping_) that it is about
// to block, so a busy loop costs posters one lock and no syscall. The loop
// keeps one IORING_OP_READ on the eventfd armed.
//
// Shutdown: the loop ends when stop was requested and no spawned task,
// worker job, queued handle or in-flight Op is left. The Core is shared with
// the loop thread, so a Runtime destroyed on its own loop thread detaches
// and the Core dies when the loop ends.
#include "io/uring/uring_runtime.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <future>

#include "io/detail/detached.hpp"
#include "io/uring/uring_core.hpp"
#include "io/uring/uring_file_system.hpp"
#include "io/uring/uring_net.hpp"

namespace orbit::io::uring_backend {
namespace {

constexpr std::uint64_t kWakeTag = 1;  // user_data of the eventfd read (no Op is at address 0)

}  // namespace

Core::Core(const RuntimeOptions& options)
    : options_(options),
      workers_(options.worker_threads, options.name + "-w"),
      background_(options.background_threads, options.name + "-bg", WorkClass::Background) {}

Core::~Core() {
  // First: a worker may still be inside a finished job's tail (post, wake),
  // which uses the eventfd and the posted queue.
  workers_.join();
  background_.join();
  if (ring_ready_) io_uring_queue_exit(&ring_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool Core::setup(int* error, std::string* why) {
  const unsigned attempts[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      0,
  };
  int rc = -EINVAL;
  for (unsigned flags : attempts) {
    io_uring_params params{};
    params.flags = flags;
    rc = io_uring_queue_init_params(options_.queue_depth, &ring_, &params);
    if (rc == 0) {
      setup_flags_ = flags;
      break;
    }
    if (rc != -EINVAL) break;  // only "unknown flag" is worth another try
  }
  if (rc != 0) {
    *error = -rc;
    *why = "io_uring_queue_init(entries=" + std::to_string(options_.queue_depth) + ") failed: " + std::strerror(-rc);
    return false;
  }
  ring_ready_ = true;

  // fsync and buffered-write punts run on the kernel's io-wq, whose bounded
  // pool defaults to 4 x CPUs: on a 2-core box only 8 fdatasyncs would be in
  // flight however many coroutines wait. Let as many run as the ring holds
  // (capped), like one thread per writer would. Best effort (5.15+).
  unsigned workers[2] = {std::min(options_.queue_depth, 64u), 0};
  (void)io_uring_register_iowq_max_workers(&ring_, workers);

  // Refuse kernels that lack an opcode we rely on, rather than fail later.
  if (io_uring_probe* probe = io_uring_get_probe_ring(&ring_)) {
    const int needed[] = {IORING_OP_OPENAT, IORING_OP_RENAMEAT, IORING_OP_UNLINKAT, IORING_OP_FALLOCATE,
                          IORING_OP_TIMEOUT_REMOVE, IORING_OP_SEND, IORING_OP_RECV};
    for (int opcode : needed) {
      if (!io_uring_opcode_supported(probe, opcode)) {
        *error = ENOSYS;
        *why = "kernel io_uring lacks opcode " + std::to_string(opcode);
        io_uring_free_probe(probe);
        return false;
      }
    }
    io_uring_free_probe(probe);
  }

  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    *error = errno;
    *why = std::string("eventfd failed: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void Core::run(int* setup_error, std::string* why, std::promise<void>* started) {
  loop_id_.store(std::this_thread::get_id());
  detail::set_thread_name(options_.name + "-loop");
  int error = 0;
  bool ok = setup(&error, why);
  *setup_error = ok ? 0 : error;
  started->set_value();  // the creator's locals are off limits from here
  if (!ok) return;

  arm_wakeup();
  std::vector<std::coroutine_handle<>> running;
  for (;;) {
    {
      std::lock_guard lock(posted_mutex_);
      ready_.insert(ready_.end(), posted_.begin(), posted_.end());
      posted_.clear();
    }
    // Resume only this snapshot; what they post runs next iteration, after
    // the ring has been serviced, so a chain of posts cannot starve I/O.
    running.swap(ready_);
    for (auto handle : running) handle.resume();
    running.clear();

    flush_overflow();
    if (idle_and_stopping()) break;

    bool may_sleep = ready_.empty() && overflow_head_ == nullptr;
    if (may_sleep) {
      sleeping_.store(true);
      std::lock_guard lock(posted_mutex_);
      if (!posted_.empty()) may_sleep = false;
    }
    int rc = 0;
    if (may_sleep) {
      rc = io_uring_submit_and_wait(&ring_, 1);
    } else if (io_uring_sq_ready(&ring_) > 0 || (inflight_ > 0 && completions_wait_for_enter())) {
      rc = io_uring_submit_and_get_events(&ring_);
    }  // else: only posted work is pending and no completion needs the kernel entered; skip the syscall
    sleeping_.store(false);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
      std::fprintf(stderr, "orbit-io: io_uring_enter failed: %s\n", std::strerror(-rc));
    }
    reap();
  }
  loop_id_.store(std::thread::id{});
}

// Whether completions may be held in the kernel until the loop enters it.
// With TASKRUN_FLAG the kernel says so in the SQ ring's flags; with no task
// running flags it posts them itself (task work run on an IPI).
bool Core::completions_wait_for_enter() const noexcept {
  const unsigned flags = IO_URING_READ_ONCE(*ring_.sq.kflags);
  if (flags & IORING_SQ_CQ_OVERFLOW) return true;
  if (setup_flags_ & IORING_SETUP_TASKRUN_FLAG) return (flags & IORING_SQ_TASKRUN) != 0;
  return (setup_flags_ & (IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN)) != 0;
}

bool Core::idle_and_stopping() {
  if (!stopping_.load(std::memory_order_acquire)) return false;
  if (live_tasks_.load() != 0 || worker_jobs_.load() != 0) return false;
  if (!ready_.empty() || overflow_head_ != nullptr || inflight_ != 0) return false;
  std::lock_guard lock(posted_mutex_);
  return posted_.empty();
}

void Core::reap() {
  io_uring_cqe* cqe = nullptr;
  unsigned head = 0;
  unsigned seen = 0;
  bool rearm = false;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    std::uint64_t data = cqe->user_data;
    if (data == 0) continue;  // fire-and-forget (none today)
    if (data == kWakeTag) {
      rearm = true;
      continue;
    }
    --inflight_;
    Op* op = reinterpret_cast<Op*>(data & ~std::uint64_t{1});
    if (data & 1) op->res2 = cqe->res;
    else op->res = cqe->res;
    if (--op->remaining == 0) ready_.push_back(op->handle);
  }
  io_uring_cq_advance(&ring_, seen);
  if (rearm) arm_wakeup();
}

void Core::arm_wakeup() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof wake_value_, 0);
  io_uring_sqe_set_data64(sqe, kWakeTag);
}

void Core::submit(Op* op) {
  assert(on_loop_thread() && "io_uring ops must be awaited on the runtime's loop thread");
  inflight_ += op->remaining;
  if (overflow_head_ == nullptr && io_uring_sq_space_left(&ring_) >= op->sqes) {
    io_uring_sqe* sqes[2] = {};
    for (unsigned i = 0; i < op->sqes; ++i) {
      sqes[i] = io_uring_get_sqe(&ring_);
      io_uring_sqe_set_data64(sqes[i], reinterpret_cast<std::uint64_t>(op) | i);
    }
    op->prep(op, sqes);
    return;
  }
  // SQ full: queue in order; never fail the request.
  op->next = nullptr;
  if (overflow_tail_ != nullptr) overflow_tail_->next = op;
  else overflow_head_ = op;
  overflow_tail_ = op;
}

void Core::flush_overflow() {
  while (overflow_head_ != nullptr) {
    Op* op = overflow_head_;
    if (io_uring_sq_space_left(&ring_) < op->sqes) {
      io_uring_submit(&ring_);  // make room; completions are reaped later
      if (io_uring_sq_space_left(&ring_) < op->sqes) return;
    }
    overflow_head_ = op->next;
    if (overflow_head_ == nullptr) overflow_tail_ = nullptr;
    io_uring_sqe* sqes[2] = {};
    for (unsigned i = 0; i < op->sqes; ++i) {
      sqes[i] = io_uring_get_sqe(&ring_);
      io_uring_sqe_set_data64(sqes[i], reinterpret_cast<std::uint64_t>(op) | i);
    }
    op->prep(op, sqes);
  }
}

void Core::post(std::coroutine_handle<> handle) {
  if (on_loop_thread()) {
    ready_.push_back(handle);
    return;
  }
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(handle);
  }
  if (sleeping_.exchange(false)) wake();
}

void Core::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void Core::run_on_worker(std::function<void()> fn, std::coroutine_handle<> done, WorkClass work) {
  worker_jobs_.fetch_add(1);
  (work == WorkClass::Background ? background_ : workers_).submit([this, fn = std::move(fn), done] {
    fn();
    post(done);
    worker_jobs_.fetch_sub(1);  // after post: the loop sees the handle first
    // A loop that is stopping may have found this job still counted and gone
    // back to sleep: wake it to re-check. (request_stop wakes it otherwise.)
    if (stopping_.load()) wake();
  });
}

void Core::request_stop() {
  stopping_.store(true, std::memory_order_release);
  if (!on_loop_thread()) wake();  // let it re-check; a spurious wake is harmless
}

namespace {

class UringRuntime final : public Runtime {
 public:
  explicit UringRuntime(std::shared_ptr<Core> core, std::thread thread)
      : core_(std::move(core)), thread_(std::move(thread)), fs_(*core_, *this), net_(*core_) {}

  ~UringRuntime() override {
    core_->request_stop();
    if (on_loop_thread()) {
      thread_.detach();  // the loop ends once idle; it co-owns the Core
    } else {
      thread_.join();
    }
  }

  BackendKind kind() const noexcept override { return BackendKind::IoUring; }
  const std::string& fallback_reason() const noexcept override { return no_reason_; }
  FileSystem& fs() noexcept override { return fs_; }
  Net& net() noexcept override { return net_; }
  bool on_loop_thread() const noexcept override { return core_->on_loop_thread(); }
  void post(std::coroutine_handle<> handle) override { core_->post(handle); }
  void run_on_worker(std::function<void()> fn, std::coroutine_handle<> done, WorkClass work) override {
    core_->run_on_worker(std::move(fn), done, work);
  }

  void spawn(Task<void> task) override {
    Core* core = core_.get();
    core->live_tasks().fetch_add(1);
    auto driver = detail::run_detached(std::move(task), [core] { core->live_tasks().fetch_sub(1); });
    core->post(driver.handle);
  }

  Task<bool> sleep_for(std::chrono::nanoseconds duration, CancelToken* token) override {
    if (token != nullptr && token->cancelled()) co_return false;
    if (duration.count() < 0) duration = std::chrono::nanoseconds{0};
    __kernel_timespec ts{};
    ts.tv_sec = duration.count() / 1'000'000'000;
    ts.tv_nsec = duration.count() % 1'000'000'000;
    Core* core = core_.get();
    auto timer = uring_op(core, [&ts](io_uring_sqe** s) { io_uring_prep_timeout(s[0], &ts, 0, 0); });
    // The remove request reports into the timer's Op (second slot), so the
    // coroutine resumes only after both CQEs: nothing refers to this frame
    // once it moves on.
    struct RemoveOp : Op {
      Op* target = nullptr;
    } remove;
    remove.target = &timer;
    remove.prep = [](Op* op, io_uring_sqe** s) {
      Op* target = static_cast<RemoveOp*>(op)->target;
      io_uring_prep_timeout_remove(s[0], reinterpret_cast<std::uint64_t>(target), 0);
      io_uring_sqe_set_data64(s[0], reinterpret_cast<std::uint64_t>(target) | 1);
    };
    if (token != nullptr) {
      token->set_handler([core, &timer, &remove] {
        if (timer.remaining == 0) return;  // already fired; its resume is queued
        ++timer.remaining;
        remove.remaining = 1;
        core->submit(&remove);
      });
    }
    int res = co_await timer;
    if (token != nullptr) token->clear_handler();
    co_return res == -ETIME;
  }

 private:
  std::shared_ptr<Core> core_;
  std::thread thread_;
  UringFileSystem fs_;
  UringNet net_;
  std::string no_reason_;
};

}  // namespace

IoResult<std::unique_ptr<Runtime>> create_runtime(const RuntimeOptions& options, std::string* why) {
  auto core = std::make_shared<Core>(options);
  int setup_error = 0;
  std::string reason;
  std::promise<void> started;
  auto ready = started.get_future();
  std::thread thread([core, &setup_error, &reason, &started] { core->run(&setup_error, &reason, &started); });
  ready.wait();
  if (setup_error != 0) {
    thread.join();
    if (why != nullptr) *why = reason;
    return Errno{setup_error};
  }
  return std::unique_ptr<Runtime>(std::make_unique<UringRuntime>(std::move(core), std::move(thread)));
}

}  // namespace orbit::io::uring_backend
