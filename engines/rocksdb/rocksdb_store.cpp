#include "engines/rocksdb/rocksdb_store.hpp"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <span>
#include <system_error>
#include <utility>

#include <rocksdb/iterator.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/statistics.h>

#include "engines/rocksdb/data_dir_check.hpp"
#include "engines/rocksdb/range_scan.hpp"
#include "engines/rocksdb/rocksdb_status.hpp"
#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"

namespace orbit {

Task<OpenedStore> open_rocksdb_store(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime) {
  return rocksdb_engine::RocksDbStore::open(std::move(config), std::move(runtime));
}

namespace rocksdb_engine {
namespace {

using Clock = std::chrono::steady_clock;

void start_perf_counting() {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
}
std::uint64_t perf_bytes_read() { return rocksdb::get_perf_context()->block_read_byte; }

std::uint64_t directory_bytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      auto size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

std::uint64_t int_property(rocksdb::DB& db, const char* name) {
  std::uint64_t value = 0;
  return db.GetIntProperty(name, &value) ? value : 0;
}

void add_delta(std::uint64_t& into, std::int64_t delta) {
  if (delta < 0 && static_cast<std::uint64_t>(-delta) > into) {
    into = 0;
  } else {
    into = static_cast<std::uint64_t>(static_cast<std::int64_t>(into) + delta);
  }
}

// Buffered mode: makes the WAL durable every `interval` until stopped. Holds
// the database and its state by shared_ptr, never the store.
Task<void> run_flusher(io::Runtime* runtime, std::shared_ptr<FlusherState> state, std::shared_ptr<rocksdb::DB> db,
                       std::chrono::milliseconds interval) {
  while (!state->stop) {
    bool slept = co_await runtime->sleep_for(interval, &state->cancel);
    if (!slept || state->stop) break;
    rocksdb::Status status = co_await runtime->offload([&db] { return db->FlushWAL(/*sync=*/true); });
    if (!status.ok()) state->error = to_error(status, "background WAL sync (buffered durability)");
  }
  db.reset();
  state->finished = true;
  if (state->on_finished) runtime->post(std::exchange(state->on_finished, {}));
}

struct FlusherFinished {
  FlusherState* state;
  bool await_ready() const noexcept { return state->finished; }
  void await_suspend(std::coroutine_handle<> h) noexcept { state->on_finished = h; }
  void await_resume() const noexcept {}
};

}  // namespace


Task<OpenedStore> RocksDbStore::open(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime) {
  const auto started = Clock::now();
  const std::string& dir = config.data_dir;
  if (auto ours = check_data_dir_is_ours(dir); !ours) co_return OpenedStore(std::move(ours).error());

  RocksDbSetup setup = make_rocksdb_setup(config.rocksdb_config);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(setup.options, dir, &raw);
  if (!status.ok()) {
    if (is_lock_held(status))
      co_return OpenedStore(make_error(ErrorCode::Unavailable,
                                       "data_dir '" + dir + "' is in use by another process (RocksDB LOCK held): " +
                                           status.ToString(),
                                       true));
    co_return OpenedStore(to_error(status, "open RocksDB in data_dir '" + dir + "'"));
  }
  std::shared_ptr<rocksdb::DB> db(raw);

  // The live set for StorageStats: one pass over the primary keys. Writes
  // keep it current from here on (write_group.cpp reports each change).
  LiveSet live;
  {
    const std::string first(1, codec::kPrimaryTag);
    const std::string upper = codec::prefix_successor(first);
    rocksdb::ReadOptions options;
    rocksdb::Slice upper_slice(upper);
    options.iterate_upper_bound = &upper_slice;
    options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
    for (it->Seek(first); it->Valid(); it->Next()) {
      ++live.keys;
      live.key_bytes += it->key().size();
      live.value_bytes += it->value().size();
    }
    if (!it->status().ok())
      co_return OpenedStore(to_error(it->status(), "count the leases in data_dir '" + dir + "'"));
  }
  auto recovery = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  std::unique_ptr<PersistenceProvider> store(
      new RocksDbStore(std::move(config), std::move(runtime), std::move(setup), std::move(db), live, recovery));
  co_return OpenedStore(std::move(store));
}

RocksDbStore::RocksDbStore(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime, RocksDbSetup setup,
                           std::shared_ptr<rocksdb::DB> db, LiveSet live, std::chrono::microseconds recovery_time)
    : ProviderBase(std::move(runtime)),
      config_(std::move(config)),
      setup_(std::move(setup)),
      compression_name_(setup_.compression_name),
      db_(std::move(db)),
      live_(live),
      recovery_time_(recovery_time) {
  memtable_bytes_.store(int_property(*db_, "rocksdb.cur-size-all-mem-tables"));
  write_options_.sync = config_.durability == DurabilityMode::Durable;
  write_options_.disableWAL = false;
  if (config_.durability == DurabilityMode::Buffered) {
    flusher_ = std::make_shared<FlusherState>();
    this->runtime().spawn(run_flusher(&this->runtime(), flusher_, db_, std::chrono::milliseconds(config_.sync_interval_ms)));
  }
}

RocksDbStore::~RocksDbStore() {
  if (!runtime().on_loop_thread()) {
    try {
      if (!closed_) (void)runtime().block_on(do_close());
    } catch (...) {
      // Nothing to report to from a destructor.
    }
    return;
  }
  if (closed_) return;
  // Destroyed on its own loop thread: cannot wait for the loop, so close
  // synchronously. The flusher keeps its own reference and exits on its own.
  closed_ = true;
  stop_flusher();
  if (db_) {
    (void)db_->FlushWAL(/*sync=*/true);
    db_.reset();
  }
}

void RocksDbStore::stop_flusher() noexcept {
  if (!flusher_ || flusher_->stop) return;
  flusher_->stop = true;
  flusher_->cancel.cancel();
}

std::optional<Error> RocksDbStore::check_open() const {
  if (closed_)
    return make_error(ErrorCode::Unavailable, "the RocksDb store in data_dir '" + config_.data_dir + "' is closed");
  return std::nullopt;
}

std::uint64_t RocksDbStore::memory_used() const noexcept {
  std::uint64_t bytes = setup_.block_cache ? setup_.block_cache->GetUsage() : 0;
  if (db_) bytes += memtable_bytes_.load(std::memory_order_relaxed);
  return bytes;
}

// ---- Writes ------------------------------------------------------------------

std::optional<Error> RocksDbStore::check_writable() const {
  if (auto e = check_open()) return e;
  // After a failed WAL sync the log's state is unknown: stop acknowledging
  // writes rather than pretend they are durable.
  if (flusher_ && flusher_->error)
    return make_error(flusher_->error->code, "the RocksDb store in data_dir '" + config_.data_dir +
                                                 "' stopped accepting writes: " + flusher_->error->message);
  return std::nullopt;
}

Task<Result<void>> RocksDbStore::submit(PendingWrite write) {
  if (auto e = check_writable()) co_return std::move(*e);
  ActiveOp active(*this);
  Queued queued;
  queued.ops = write.ops.size();
  queued.write = std::move(write);
  co_await enqueue_write(queued);

  PersistenceMetrics metrics;
  metrics.disk_bytes_written = queued.write.bytes_written;
  metrics.disk_bytes_read = queued.write.bytes_read;
  metrics.queue_time = queued.queue_time;
  metrics.batch_records = queued.group_size;
  metrics.lsn = queued.sequence;
  if (queued.write.error) co_return Result<void>::failure(std::move(*queued.write.error), metrics);
  co_return Result<void>::success(metrics);
}

Task<void> RocksDbStore::commit_group(std::vector<QueuedWrite*>& group) {
  std::vector<PendingWrite*> writes;
  for (QueuedWrite* q : group) writes.push_back(&static_cast<Queued*>(q)->write);
  std::shared_ptr<rocksdb::DB> db = db_;
  const rocksdb::WriteOptions options = write_options_;
  GroupOutcome outcome = co_await runtime().offload([&]() noexcept {
    try {
      GroupOutcome committed = rocksdb_engine::commit_group(*db, options, std::span<PendingWrite*>(writes));
      memtable_bytes_.store(int_property(*db, "rocksdb.cur-size-all-mem-tables"), std::memory_order_relaxed);
      return committed;
    } catch (const std::exception& e) {
      for (PendingWrite* w : writes)
        if (!w->error) w->error = make_error(ErrorCode::IOError, std::string("commit: internal error: ") + e.what());
      return GroupOutcome{};
    }
  });
  for (QueuedWrite* q : group) {
    Queued& queued = *static_cast<Queued*>(q);
    PendingWrite& w = queued.write;
    if (!w.error) {
      ++records_written_;
      add_delta(live_.keys, w.keys_delta);
      add_delta(live_.key_bytes, w.key_bytes_delta);
      add_delta(live_.value_bytes, w.value_bytes_delta);
    }
    bytes_read_ += w.bytes_read;
    queued.group_size = outcome.writers;
    queued.sequence = w.error ? 0 : outcome.sequence;
  }
}

Task<Result<void>> RocksDbStore::do_store(Lease lease) {
  PendingWrite write;
  write.ops.push_back({BatchOp::Kind::Put, std::move(lease)});
  return submit(std::move(write));
}

Task<Result<void>> RocksDbStore::do_remove(ActorKey key) {
  PendingWrite write;
  BatchOp op{BatchOp::Kind::Remove, {}};
  op.lease.key = std::move(key);
  write.ops.push_back(std::move(op));
  write.missing_is_error = true;
  return submit(std::move(write));
}

Task<Result<void>> RocksDbStore::do_batch(WriteBatch batch) {
  if (auto e = check_open()) co_return std::move(*e);
  if (batch.empty()) co_return Result<void>();
  PendingWrite write;
  write.ops = std::move(batch.ops);
  co_return co_await submit(std::move(write));
}

// ---- Reads -------------------------------------------------------------------

namespace {

Result<Lease> lease_from(const rocksdb::Status& status, const std::string& value, const ActorKey& key) {
  if (status.IsNotFound()) return make_error(ErrorCode::NotFound, "no lease stored for " + key.to_string());
  if (!status.ok()) return to_error(status, "read lease " + key.to_string());
  auto lease = codec::decode_lease(value);
  if (!lease) {
    Error error = std::move(lease).error();
    error.message = "stored lease " + key.to_string() + ": " + error.message;
    return error;
  }
  return lease;
}

}  // namespace

Task<Result<Lease>> RocksDbStore::do_get(ActorKey key) {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  std::shared_ptr<rocksdb::DB> db = db_;
  const std::string primary = codec::primary_key(key);

  // Hot leases are in the memtable or the block cache: read them right here
  // on the loop. kBlockCacheTier never does I/O (it answers Incomplete
  // instead), so the loop cannot block on the disk; it saves the two thread
  // hops that dominate a cached read, and keeps the worker pool free for
  // the commit and for reads that do need the disk.
  {
    rocksdb::ReadOptions cached;
    cached.read_tier = rocksdb::kBlockCacheTier;
    std::string value;
    rocksdb::Status status = db->Get(cached, primary, &value);
    if (!status.IsIncomplete()) co_return lease_from(status, value, key);
  }

  std::uint64_t read_bytes = 0;
  Result<Lease> out = co_await runtime().offload([&]() -> Result<Lease> {
    start_perf_counting();
    std::string value;
    rocksdb::Status status = db->Get(rocksdb::ReadOptions(), primary, &value);
    read_bytes = perf_bytes_read();
    return lease_from(status, value, key);
  });
  bytes_read_ += read_bytes;
  out.metrics().disk_bytes_read = read_bytes;
  co_return out;
}

Task<Result<std::vector<Lease>>> RocksDbStore::read_range(codec::ScanRange range) {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  std::shared_ptr<rocksdb::DB> db = db_;
  std::uint64_t read_bytes = 0;
  Result<std::vector<Lease>> out = co_await runtime().offload([&] {
    start_perf_counting();
    auto result = scan_range(*db, range);
    read_bytes = perf_bytes_read();
    return result;
  });
  bytes_read_ += read_bytes;
  out.metrics().disk_bytes_read = read_bytes;
  co_return out;
}

// ---- Maintenance ---------------------------------------------------------------

Task<Result<StorageStats>> RocksDbStore::do_stats() {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  std::shared_ptr<rocksdb::DB> db = db_;
  StorageStats stats;
  stats.total_keys = live_.keys;
  stats.total_size_bytes = live_.value_bytes;
  stats.average_key_size = live_.keys ? live_.key_bytes / live_.keys : 0;
  stats.average_value_size = live_.keys ? live_.value_bytes / live_.keys : 0;
  stats.wal_records = records_written_;
  stats.recovery_time = recovery_time_;
  stats.checkpoints = checkpoints_;
  const std::uint64_t our_reads = bytes_read_;
  co_await runtime().offload([&] {
    rocksdb::Statistics& tickers = *setup_.options.statistics;
    stats.memory_usage_bytes = (setup_.block_cache ? setup_.block_cache->GetUsage() : 0) +
                               int_property(*db, "rocksdb.cur-size-all-mem-tables") +
                               int_property(*db, "rocksdb.estimate-table-readers-mem");
    stats.disk_usage_bytes = directory_bytes(config_.data_dir);
    stats.background_errors = int_property(*db, "rocksdb.background-errors");
    stats.wal_syncs = tickers.getTickerCount(rocksdb::WAL_FILE_SYNCED);
    stats.disk_bytes_written = tickers.getTickerCount(rocksdb::WAL_FILE_BYTES) +
                               tickers.getTickerCount(rocksdb::FLUSH_WRITE_BYTES) +
                               tickers.getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
    stats.disk_bytes_read = our_reads + tickers.getTickerCount(rocksdb::COMPACT_READ_BYTES);
    stats.write_stall_time = std::chrono::microseconds(tickers.getTickerCount(rocksdb::STALL_MICROS));
  });
  stats.writes_per_sync =
      stats.wal_syncs ? static_cast<double>(stats.wal_records) / static_cast<double>(stats.wal_syncs) : 0.0;
  stats.write_stalls = setup_.counters->stalls.load();
  stats.compactions = setup_.counters->compactions.load();
  stats.flushes = setup_.counters->flushes.load();
  co_return stats;
}

Task<Result<void>> RocksDbStore::do_flush() {
  if (auto e = check_writable()) co_return std::move(*e);
  ActiveOp active(*this);
  std::shared_ptr<rocksdb::DB> db = db_;
  rocksdb::Status status = co_await runtime().offload([&] { return db->FlushWAL(/*sync=*/true); });
  if (!status.ok()) co_return to_error(status, "sync the WAL in data_dir '" + config_.data_dir + "'");
  co_return Result<void>();
}

Task<Result<void>> RocksDbStore::do_checkpoint() {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  std::shared_ptr<rocksdb::DB> db = db_;
  rocksdb::Status status = co_await runtime().offload([&] {
    rocksdb::FlushOptions options;
    options.wait = true;
    rocksdb::Status flushed = db->Flush(options);
    memtable_bytes_.store(int_property(*db, "rocksdb.cur-size-all-mem-tables"), std::memory_order_relaxed);
    return flushed;
  });
  if (!status.ok()) co_return to_error(status, "flush the memtable in data_dir '" + config_.data_dir + "'");
  ++checkpoints_;
  co_return Result<void>();
}

Task<Result<void>> RocksDbStore::do_close() {
  if (closed_) co_return Result<void>();
  closed_ = true;  // new operations fail from here on
  co_await wait_until_idle();
  if (flusher_) {
    stop_flusher();
    co_await FlusherFinished{flusher_.get()};
  }
  std::shared_ptr<rocksdb::DB> db = std::move(db_);
  if (!db) co_return Result<void>();
  rocksdb::Status status = co_await runtime().offload([&] {
    rocksdb::Status synced = db->FlushWAL(/*sync=*/true);
    rocksdb::Status closed = db->Close();
    db.reset();  // releases the LOCK: the directory can be opened again
    return synced.ok() ? closed : synced;
  });
  if (!status.ok()) co_return to_error(status, "close the RocksDb store in data_dir '" + config_.data_dir + "'");
  co_return Result<void>();
}

}  // namespace rocksdb_engine
}  // namespace orbit
