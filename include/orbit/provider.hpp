// PersistenceProvider: the one interface every backend implements.
//
// Every operation is a lazy Task: `co_await provider.store_lease(lease)`.
// The operation hops onto the store's own event loop (if the caller is not
// already there), does its work, and resumes the caller on that loop thread;
// a plain thread uses orbit::sync_wait. Any number of operations may be in
// flight at once, from any threads; a durable write's Result arrives only
// once the record is on stable storage (fdatasync done), and concurrent
// writers share one fdatasync (group commit).
//
// Every Result carries the operation's PersistenceMetrics, filled even on
// failure. Errors each operation can return (besides Unavailable once the
// store is closed or fail-stopped after an I/O error, and IOError/NoSpace from
// the disk):
//   store_lease      InvalidArgument (field over its limit)
//   get_lease        NotFound
//   remove_lease     NotFound (nothing stored under the key)
//   apply_batch      InvalidArgument; all or nothing, also across a crash
//   scans            none beyond the common ones; results in key order
//   acquire_lease    Conflict (held by another node and not expired)
//   renew_lease      NotFound, Conflict (other owner, or version != expected)
//   release_lease    NotFound, Conflict (other owner, or version != expected)
//   checkpoint       NotSupported where a backend has no such step
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "orbit/lease.hpp"
#include "orbit/metrics.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit {

enum class PersistenceBackend : std::uint8_t { CowBTree, LsmTree, RocksDb };

// One change of an atomic batch: a store (upsert) or a removal.
struct BatchOp {
  enum class Kind : std::uint8_t { Put, Remove } kind = Kind::Put;
  Lease lease;  // for Remove only lease.key is read
};

struct WriteBatch {
  std::vector<BatchOp> ops;
  void put(Lease lease) { ops.push_back({BatchOp::Kind::Put, std::move(lease)}); }
  void remove(ActorKey key) {
    BatchOp op{BatchOp::Kind::Remove, {}};
    op.lease.key = std::move(key);
    ops.push_back(std::move(op));
  }
  bool empty() const { return ops.empty(); }
  std::size_t size() const { return ops.size(); }
};

struct ScanOptions {
  ScanOptions() = default;
  explicit ScanOptions(std::size_t limit_, std::optional<ActorKey> start_after_ = std::nullopt)
      : limit(limit_), start_after(std::move(start_after_)) {}

  std::size_t limit = 0;                    // 0 = no limit
  std::optional<ActorKey> start_after;      // resume a paged scan after this key
};

// What the actor system asks of the lease primitives. Constructors rather
// than aggregates: see the note on ActorKey (g++ 12 and co_await).
struct AcquireRequest {
  AcquireRequest() = default;
  AcquireRequest(ActorKey key_, std::string node_id_, Millis duration_, std::string custom_data_ = "{}")
      : key(std::move(key_)), node_id(std::move(node_id_)), duration(duration_), custom_data(std::move(custom_data_)) {}

  ActorKey key;
  std::string node_id;
  Millis duration{0};
  std::string custom_data = "{}";
};

struct RenewRequest {
  RenewRequest() = default;
  RenewRequest(ActorKey key_, std::string node_id_, std::uint64_t expected_version_, Millis duration_)
      : key(std::move(key_)), node_id(std::move(node_id_)), expected_version(expected_version_), duration(duration_) {}

  ActorKey key;
  std::string node_id;
  std::uint64_t expected_version = 0;  // the version the caller holds
  Millis duration{0};
};

struct ReleaseRequest {
  ReleaseRequest() = default;
  ReleaseRequest(ActorKey key_, std::string node_id_, std::uint64_t expected_version_)
      : key(std::move(key_)), node_id(std::move(node_id_)), expected_version(expected_version_) {}

  ActorKey key;
  std::string node_id;
  std::uint64_t expected_version = 0;
};

class PersistenceProvider {
 public:
  virtual ~PersistenceProvider() = default;
  PersistenceProvider(const PersistenceProvider&) = delete;
  PersistenceProvider& operator=(const PersistenceProvider&) = delete;

  virtual PersistenceBackend backend() const noexcept = 0;

  // Upsert. Durable on success (in the durable mode).
  Task<Result<void>> store_lease(Lease lease);
  Task<Result<Lease>> get_lease(ActorKey key);
  Task<Result<void>> remove_lease(ActorKey key);
  Task<Result<void>> apply_batch(WriteBatch batch);

  Task<Result<std::vector<Lease>>> scan_by_actor_type(std::string actor_type, ScanOptions options = {});
  Task<Result<std::vector<Lease>>> list_by_node(std::string node_id, ScanOptions options = {});
  // Leases with expires_at < before, earliest first.
  Task<Result<std::vector<Lease>>> list_expiring_before(SystemTime before, std::size_t limit = 0);
  // Every lease of every actor type, in key order (actor_type, then actor_id):
  // page through a whole store with options.limit and start_after = the last
  // key of the previous page (orbit-cli export does). Metrics are tagged
  // scan_by_actor_type. NotSupported from a backend that has not
  // implemented it yet.
  Task<Result<std::vector<Lease>>> scan_all(ScanOptions options = {});

  // Succeeds only if the lease is absent or expired; the winner's lease (a
  // new epoch: version = previous + 1, or 1) is returned.
  Task<Result<Lease>> acquire_lease(AcquireRequest request);
  // Succeeds only if node_id owns it and expected_version matches; returns
  // the renewed lease (version + 1).
  Task<Result<Lease>> renew_lease(RenewRequest request);
  // Removes the lease if node_id owns it and expected_version matches.
  Task<Result<void>> release_lease(ReleaseRequest request);

  Task<Result<StorageStats>> stats();
  // Makes everything acknowledged so far durable (matters in buffered mode).
  Task<Result<void>> flush();
  // Writes in-memory state to the backend's main files (COW checkpoint,
  // LSM memtable flush, RocksDB flush) so the log can be truncated.
  Task<Result<void>> checkpoint();
  // Flushes and closes; later operations fail with Unavailable. Idempotent.
  // Fails if closing met an I/O error, or if background work met errors no
  // stats() call has reported yet (StorageStats::background_errors); the
  // store is closed either way.
  Task<Result<void>> close();

 protected:
  PersistenceProvider();

  // Backends implement these; the public wrappers above time them, tag the
  // metrics, turn exceptions into errors, and hop onto the loop first.
  virtual Task<Result<void>> do_store(Lease lease) = 0;
  virtual Task<Result<Lease>> do_get(ActorKey key) = 0;
  // The hot read: get_lease answered on the loop thread without suspending,
  // when the backend holds the answer in memory; nullopt makes get_lease
  // await do_get instead. The default never answers.
  virtual std::optional<Result<Lease>> get_now(const ActorKey& key);
  virtual Task<Result<void>> do_remove(ActorKey key) = 0;
  virtual Task<Result<void>> do_batch(WriteBatch batch) = 0;
  virtual Task<Result<std::vector<Lease>>> do_scan_by_actor_type(std::string actor_type,
                                                                 ScanOptions options) = 0;
  virtual Task<Result<std::vector<Lease>>> do_list_by_node(std::string node_id, ScanOptions options) = 0;
  virtual Task<Result<std::vector<Lease>>> do_list_expiring_before(SystemTime before,
                                                                   std::size_t limit) = 0;
  // The default answers NotSupported; a backend overrides it with one range
  // scan over the primary keys.
  virtual Task<Result<std::vector<Lease>>> do_scan_all(ScanOptions options);
  virtual Task<Result<Lease>> do_acquire(AcquireRequest request) = 0;
  virtual Task<Result<Lease>> do_renew(RenewRequest request) = 0;
  virtual Task<Result<void>> do_release(ReleaseRequest request) = 0;
  virtual Task<Result<StorageStats>> do_stats() = 0;
  virtual Task<Result<void>> do_flush() = 0;
  virtual Task<Result<void>> do_checkpoint() = 0;
  virtual Task<Result<void>> do_close() = 0;

  // The store's event loop. on_loop_thread() true means no hop is needed;
  // post() resumes a coroutine on the loop, from any thread.
  virtual bool on_loop_thread() const noexcept = 0;
  virtual void post(std::coroutine_handle<> handle) = 0;
  // Bytes the store holds in memory, reported in every operation's metrics.
  virtual std::uint64_t memory_used() const noexcept = 0;

 private:
  struct LoopHop {
    PersistenceProvider* provider;
    bool await_ready() const noexcept { return provider->on_loop_thread(); }
    void await_suspend(std::coroutine_handle<> h) { provider->post(h); }
    void await_resume() const noexcept {}
  };
  template <typename T>
  Task<Result<T>> run(OperationType type, Task<Result<T>> body);
  template <typename T>
  void finish(OperationType type, std::uint64_t start_ticks, Result<T>& out) const noexcept;
};

std::string_view to_string(PersistenceBackend backend) noexcept;  // "CowBTree", ...

}  // namespace orbit
