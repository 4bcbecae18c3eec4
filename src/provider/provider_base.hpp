// ProviderBase: what every backend shares above its storage.
//
// Owns the store's io::Runtime (destroyed last, after the engine's own
// members), answers the loop-hop questions of PersistenceProvider from it,
// and implements the lease primitives once: take the key's lock, read the
// current lease, apply lease_rules, write the result with the backend's own
// do_store / do_remove. A backend derives from this and implements storage.
//
// It also runs the write queue every backend shares: writers wait in one
// queue, and one commit group at a time (up to kMaxGroupOps operations of
// the writers at the front) goes to the backend's commit_group(); the
// writers just answered run before the next group forms, so one renewing in
// a loop joins it. And it counts operations in flight (ActiveOp), so close
// can wait until none runs (wait_until_idle).
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "io/runtime.hpp"
#include "orbit/provider.hpp"
#include "src/codec/key_layout.hpp"
#include "src/util/keyed_mutex.hpp"

namespace orbit {

class ProviderBase : public PersistenceProvider {
 public:
  ~ProviderBase() override;

 protected:
  explicit ProviderBase(std::unique_ptr<io::Runtime> runtime);

  io::Runtime& runtime() noexcept { return *runtime_; }
  // The clock the lease primitives judge expiry by.
  virtual SystemTime now() const { return std::chrono::system_clock::now(); }

  bool on_loop_thread() const noexcept override { return runtime_->on_loop_thread(); }
  void post(std::coroutine_handle<> handle) override { runtime_->post(handle); }

  // The four scans of the API, each one codec::ScanRange read by read_range().
  Task<Result<std::vector<Lease>>> do_scan_all(ScanOptions options) override;
  Task<Result<std::vector<Lease>>> do_scan_by_actor_type(std::string actor_type, ScanOptions options) override;
  Task<Result<std::vector<Lease>>> do_list_by_node(std::string node_id, ScanOptions options) override;
  Task<Result<std::vector<Lease>>> do_list_expiring_before(SystemTime before, std::size_t limit) override;
  // The leases of `range`, in its order, from one consistent view.
  virtual Task<Result<std::vector<Lease>>> read_range(codec::ScanRange range) = 0;

  // ---- The write queue ----------------------------------------------------
  static constexpr std::size_t kMaxGroupOps = 4096;  // batch operations per commit group
  // A writer in the queue; the backend's own kind of write derives from it
  // and lives in the writing coroutine's frame.
  struct QueuedWrite {
    std::size_t ops = 0;  // batch operations it holds
    std::chrono::steady_clock::time_point enqueued;
    std::chrono::nanoseconds queue_time{0};  // from enqueued until its group started
    bool done = false;
    std::coroutine_handle<> waiter;
  };
  // Queues `write` and returns once its group has been committed.
  Task<void> enqueue_write(QueuedWrite& write);
  // Commits one group of the backend's writes (in queue order) and records
  // each one's outcome in it. Loop thread; one group at a time.
  virtual Task<void> commit_group(std::vector<QueuedWrite*>& group) = 0;

  // Counts operations in flight, so close() waits until none runs.
  class ActiveOp {
   public:
    explicit ActiveOp(ProviderBase& store) : store_(store) { ++store_.active_ops_; }
    ~ActiveOp();
    ActiveOp(const ActiveOp&) = delete;
    ActiveOp& operator=(const ActiveOp&) = delete;

   private:
    ProviderBase& store_;
  };
  Task<void> wait_until_idle();

  // ---- Writes that follow a read under the key's lock ----------------------
  // The lease primitives read the stored lease, decide, then write. A
  // backend whose write must know the stored lease (to drop its old index
  // entries) may take it from `before` instead of reading it again, if
  // read_version() still equals before.version when it builds the write:
  // then nothing has been written since the read began. The defaults ignore
  // `before`.
  struct ReadBefore {
    std::optional<Lease> lease;  // stored at the read; nullopt if none
    std::uint64_t version = 0;   // read_version() just before the read
  };
  // Moves on every change of what reads return (loop thread).
  virtual std::uint64_t read_version() const noexcept { return 0; }
  virtual Task<Result<void>> store_after_read(Lease lease, ReadBefore before);
  virtual Task<Result<void>> remove_after_read(ActorKey key, ReadBefore before);

  Task<Result<Lease>> do_acquire(AcquireRequest request) override;
  Task<Result<Lease>> do_renew(RenewRequest request) override;
  Task<Result<void>> do_release(ReleaseRequest request) override;

 private:
  // Reads the current lease (NotFound becomes nullopt, other errors pass up),
  // with read_version() taken just before the read.
  Task<Result<ReadBefore>> read_current(ActorKey key, PersistenceMetrics& metrics);
  // Under the key's lock: read the current lease, let `decide` (a lease_rules
  // function) pick the lease to write or the error, and write it.
  template <typename Request, typename Decide>
  Task<Result<Lease>> decide_and_store(Request request, Decide decide);

  Task<void> commit_loop();

  std::unique_ptr<io::Runtime> runtime_;
  KeyedMutex lease_locks_;
  std::deque<QueuedWrite*> write_queue_;
  bool committing_ = false;
  std::uint64_t active_ops_ = 0;
  std::coroutine_handle<> idle_waiter_;
};

}  // namespace orbit
