#include "src/provider/provider_base.hpp"

#include <thread>
#include <utility>

#include "src/provider/lease_rules.hpp"

namespace orbit {
namespace {

void add_io(PersistenceMetrics& into, const PersistenceMetrics& from) {
  into.disk_bytes_read += from.disk_bytes_read;
  into.disk_bytes_written += from.disk_bytes_written;
  into.queue_time += from.queue_time;
  into.batch_records = from.batch_records;
  if (from.lsn) into.lsn = from.lsn;
}

template <typename T>
Result<T> with_metrics(Result<T> result, const PersistenceMetrics& metrics) {
  result.metrics() = metrics;
  return result;
}

}  // namespace

ProviderBase::ProviderBase(std::unique_ptr<io::Runtime> runtime) : runtime_(std::move(runtime)) {}
ProviderBase::~ProviderBase() {
  // Destroyed on its own loop thread (a failed open that hopped onto the
  // loop, or a user's coroutine dropping the store): the runtime cannot
  // join its own thread, and tasks still running on it (a log being closed)
  // need its file system. Let another thread wait for them and destroy it.
  if (runtime_ && runtime_->on_loop_thread())
    std::thread([runtime = std::move(runtime_)]() mutable { runtime.reset(); }).detach();
}

// ---- The write queue ----------------------------------------------------------

Task<void> ProviderBase::enqueue_write(QueuedWrite& write) {
  write.enqueued = std::chrono::steady_clock::now();
  write_queue_.push_back(&write);
  if (!committing_) {
    committing_ = true;
    runtime_->spawn(commit_loop());
  }
  struct Committed {
    QueuedWrite* write;
    bool await_ready() const noexcept { return write->done; }
    void await_suspend(std::coroutine_handle<> h) noexcept { write->waiter = h; }
    void await_resume() const noexcept {}
  };
  co_await Committed{&write};
}

Task<void> ProviderBase::commit_loop() {
  while (!write_queue_.empty()) {
    std::vector<QueuedWrite*> group;
    std::size_t ops = 0;
    while (!write_queue_.empty() && (group.empty() || ops + write_queue_.front()->ops <= kMaxGroupOps)) {
      ops += write_queue_.front()->ops;
      group.push_back(write_queue_.front());
      write_queue_.pop_front();
    }
    const auto started = std::chrono::steady_clock::now();
    for (QueuedWrite* w : group) w->queue_time = started - w->enqueued;
    co_await commit_group(group);
    for (QueuedWrite* w : group) {
      w->done = true;
      if (w->waiter) post(std::exchange(w->waiter, {}));
    }
    // Let the writers just answered run first: one renewing in a loop
    // queues its next write at once and joins the next group, rather than
    // waiting a whole fsync for the one after.
    if (!write_queue_.empty()) co_await runtime_->yield();
  }
  committing_ = false;
}

ProviderBase::ActiveOp::~ActiveOp() {
  if (--store_.active_ops_ == 0 && store_.idle_waiter_) store_.post(std::exchange(store_.idle_waiter_, {}));
}

Task<void> ProviderBase::wait_until_idle() {
  struct Idle {
    ProviderBase* store;
    bool await_ready() const noexcept { return store->active_ops_ == 0; }
    void await_suspend(std::coroutine_handle<> h) noexcept { store->idle_waiter_ = h; }
    void await_resume() const noexcept {}
  };
  co_await Idle{this};
}

// ---- Lease primitives -------------------------------------------------------------

Task<Result<void>> ProviderBase::store_after_read(Lease lease, ReadBefore) {
  return do_store(std::move(lease));
}

Task<Result<void>> ProviderBase::remove_after_read(ActorKey key, ReadBefore) {
  return do_remove(std::move(key));
}

Task<Result<ProviderBase::ReadBefore>> ProviderBase::read_current(ActorKey key, PersistenceMetrics& metrics) {
  ReadBefore current;
  current.version = read_version();
  // From memory where the backend can answer without suspending (get_now).
  std::optional<Result<Lease>> got = get_now(key);
  if (!got) got.emplace(co_await do_get(std::move(key)));
  add_io(metrics, got->metrics());
  if (got->ok()) {
    current.lease = std::move(*got).value();
  } else if (got->code() != ErrorCode::NotFound) {
    co_return std::move(*got).error();
  }
  co_return current;
}

template <typename Request, typename Decide>
Task<Result<Lease>> ProviderBase::decide_and_store(Request request, Decide decide) {
  auto guard = co_await lease_locks_.lock(request.key.to_string());
  PersistenceMetrics metrics;
  auto current = co_await read_current(request.key, metrics);
  if (!current) co_return with_metrics<Lease>(std::move(current).error(), metrics);
  auto decided = decide(current->lease, request, now());
  if (!decided) co_return with_metrics<Lease>(std::move(decided).error(), metrics);
  auto stored = co_await store_after_read(decided.value(), std::move(current).value());
  add_io(metrics, stored.metrics());
  if (!stored) co_return with_metrics<Lease>(std::move(stored).error(), metrics);
  co_return with_metrics<Lease>(std::move(decided).value(), metrics);
}

Task<Result<std::vector<Lease>>> ProviderBase::do_scan_all(ScanOptions options) {
  return read_range(codec::scan_all_range(options.start_after, options.limit));
}

Task<Result<std::vector<Lease>>> ProviderBase::do_scan_by_actor_type(std::string actor_type, ScanOptions options) {
  return read_range(codec::actor_type_range(actor_type, options.start_after, options.limit));
}

Task<Result<std::vector<Lease>>> ProviderBase::do_list_by_node(std::string node_id, ScanOptions options) {
  return read_range(codec::node_range(node_id, options.start_after, options.limit));
}

Task<Result<std::vector<Lease>>> ProviderBase::do_list_expiring_before(SystemTime before, std::size_t limit) {
  return read_range(codec::expiring_range(before, limit));
}

Task<Result<Lease>> ProviderBase::do_acquire(AcquireRequest request) {
  return decide_and_store(std::move(request), &decide_acquire);
}

Task<Result<Lease>> ProviderBase::do_renew(RenewRequest request) {
  return decide_and_store(std::move(request), &decide_renew);
}

Task<Result<void>> ProviderBase::do_release(ReleaseRequest request) {
  auto guard = co_await lease_locks_.lock(request.key.to_string());
  PersistenceMetrics metrics;
  auto current = co_await read_current(request.key, metrics);
  if (!current) co_return with_metrics<void>(std::move(current).error(), metrics);
  auto allowed = check_release(current->lease, request);
  if (!allowed) co_return with_metrics<void>(std::move(allowed).error(), metrics);
  auto removed = co_await remove_after_read(request.key, std::move(current).value());
  add_io(metrics, removed.metrics());
  co_return with_metrics<void>(std::move(removed), metrics);
}

}  // namespace orbit
