// RocksDbStore: backend 3, RocksDB behind the PersistenceProvider interface.
//
// One RocksDB database in data_dir, one (default) column family holding the
// shared key layout of src/codec/key_layout.hpp: primary 'L' keys with the
// encoded lease, and empty-valued 'N' (by node) and 'E' (by expiry) index
// keys. Every write is one rocksdb::WriteBatch, so a lease and its index
// entries change together, also across a crash.
//
// Threading: every do_* runs on the store's loop thread (the public wrappers
// hop there) and sends RocksDB's blocking calls to the runtime's worker pool
// with runtime().offload(). The one exception is a point read that the
// memtable or block cache can answer (ReadOptions::read_tier =
// kBlockCacheTier, which never does I/O): it runs on the loop, and only a
// miss goes to a worker. Writes queue on the loop and a single commit
// loop writes each gathered group as one WriteBatch (write_group.hpp), so
// the read-before-write that maintains the indexes never races another
// writer. Durability is per write: WriteOptions.sync in the durable mode;
// in the buffered mode a background coroutine syncs the WAL every
// sync_interval_ms; in mode None nothing syncs (the WAL is still written).
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "engines/rocksdb/rocksdb_options.hpp"
#include "engines/rocksdb/write_group.hpp"
#include "orbit/config.hpp"
#include "src/codec/key_layout.hpp"
#include "src/factory/engine_registry.hpp"
#include "src/provider/provider_base.hpp"

namespace orbit::rocksdb_engine {

// Shared by the store and its buffered-mode flusher coroutine, so the
// flusher never touches the store itself (which may be gone first).
struct FlusherState {
  bool stop = false;
  bool finished = false;
  io::CancelToken cancel;
  std::coroutine_handle<> on_finished;
  std::optional<Error> error;  // the last failed background sync
};

class RocksDbStore final : public ProviderBase {
 public:
  // Refuses a directory holding another backend's files, opens (creating if
  // needed) the database, and counts the live leases for StorageStats.
  // Blocks the calling thread for the open: it runs where the caller runs,
  // so a failed open destroys `runtime` off its own loop thread.
  static Task<OpenedStore> open(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime);

  ~RocksDbStore() override;

  PersistenceBackend backend() const noexcept override { return PersistenceBackend::RocksDb; }

  // For tests: which compression the options mapping chose ("lz4", "zstd", "none").
  const std::string& compression_name() const noexcept { return compression_name_; }

 protected:
  Task<Result<void>> do_store(Lease lease) override;
  Task<Result<Lease>> do_get(ActorKey key) override;
  Task<Result<void>> do_remove(ActorKey key) override;
  Task<Result<void>> do_batch(WriteBatch batch) override;
  Task<Result<StorageStats>> do_stats() override;
  Task<Result<void>> do_flush() override;
  Task<Result<void>> do_checkpoint() override;
  Task<Result<void>> do_close() override;
  std::uint64_t memory_used() const noexcept override;

 private:
  struct LiveSet {
    std::uint64_t keys = 0;
    std::uint64_t key_bytes = 0;
    std::uint64_t value_bytes = 0;
  };
  // A writer waiting in the queue; lives in its coroutine's frame.
  struct Queued : QueuedWrite {
    PendingWrite write;
    std::uint32_t group_size = 0;
    std::uint64_t sequence = 0;
  };

  RocksDbStore(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime, RocksDbSetup setup,
               std::shared_ptr<rocksdb::DB> db, LiveSet live, std::chrono::microseconds recovery_time);

  std::optional<Error> check_open() const;
  // check_open, and no failed background WAL sync (buffered mode).
  std::optional<Error> check_writable() const;
  Task<Result<void>> submit(PendingWrite write);
  Task<void> commit_group(std::vector<QueuedWrite*>& group) override;
  Task<Result<std::vector<Lease>>> read_range(codec::ScanRange range) override;
  void stop_flusher() noexcept;

  PersistenceConfig config_;
  RocksDbSetup setup_;
  std::string compression_name_;
  std::shared_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;
  std::shared_ptr<FlusherState> flusher_;  // null unless buffered

  // Loop-thread state.
  bool closed_ = false;
  LiveSet live_;
  std::uint64_t records_written_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t checkpoints_ = 0;
  std::chrono::microseconds recovery_time_{0};
  // Memtable bytes, read on a worker after each write group (the property
  // takes RocksDB's DB mutex, which the loop thread must not wait for).
  std::atomic<std::uint64_t> memtable_bytes_{0};
};

}  // namespace orbit::rocksdb_engine
