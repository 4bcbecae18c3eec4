#include "src/kv/kv_store.hpp"

#include <cerrno>
#include <filesystem>
#include <unordered_map>
#include <utility>

#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"
#include "src/util/started_task.hpp"

namespace orbit::kv {
namespace {

using Clock = std::chrono::steady_clock;

// A commit group takes at most this many ops (bounds the group's memory and
// the time its writers wait behind one another).

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

wal::Durability wal_durability(DurabilityMode mode) {
  switch (mode) {
    case DurabilityMode::Durable: return wal::Durability::Durable;
    case DurabilityMode::Buffered: return wal::Durability::Buffered;
    case DurabilityMode::None: return wal::Durability::None;
  }
  return wal::Durability::Durable;
}

Error not_found(const ActorKey& key) {
  return make_error(ErrorCode::NotFound, "no lease stored for " + key.to_string());
}

Result<Lease> decode_stored(std::string_view key, std::string_view value) {
  Result<Lease> lease = codec::decode_lease(value);
  if (!lease) {
    Error error = std::move(lease).error();
    error.message = "lease under key '" + std::string(key) + "': " + error.message;
    lease = Result<Lease>(std::move(error));
  }
  return lease;  // one object on every path: returned in place
}

}  // namespace

// A writer waiting in the queue; lives in its coroutine's frame.
struct KvStore::Writer : QueuedWrite {
  std::vector<BatchOp> batch;
  bool missing_is_error = false;  // remove_lease: NotFound when nothing is stored
  LogEntry entry;
  std::optional<Error> error;
  std::uint64_t lsn = 0;
  std::uint64_t bytes_written = 0;
  std::uint32_t group_size = 0;
  std::optional<KnownBefore> known;  // single-op writers of the lease primitives
};

// What earlier writers of the group (or earlier ops of one writer) stored.
struct KvStore::Overlay {
  std::unordered_map<std::string, std::optional<StoredLease>> leases;
};

KvStore::KvStore(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime, std::string engine_name)
    : ProviderBase(std::move(runtime)), config_(std::move(config)), engine_name_(std::move(engine_name)) {}

KvStore::~KvStore() = default;

void KvStore::close_in_destructor() noexcept {
  if (closed_) return;
  if (!runtime().on_loop_thread()) {
    try {
      (void)runtime().block_on(do_close());
    } catch (...) {
      // Nothing to report to from a destructor.
    }
    return;
  }
  // Destroyed on its own loop thread without close(): nothing can be awaited
  // here. The log is closed by a task of its own (ProviderBase's destructor
  // then lets another thread wait for it before the runtime goes).
  closed_ = true;
  if (wal_) runtime().spawn(close_detached(std::move(wal_)));
}

Task<void> KvStore::close_detached(std::unique_ptr<wal::Wal> wal) { (void)co_await wal->close(); }

std::optional<Error> KvStore::check_open() const {
  if (closed_)
    return make_error(ErrorCode::Unavailable,
                      "the " + engine_name_ + " store in data_dir '" + config_.data_dir + "' is closed");
  return std::nullopt;
}

// ---- Recovery ----------------------------------------------------------------

Result<void> KvStore::lock_data_dir() {
  const std::string path = (std::filesystem::path(config_.data_dir) / kLockFileName).string();
  auto lock = runtime().fs().lock_file(path);
  if (!lock) {
    if (lock.error() == EWOULDBLOCK)
      return make_error(ErrorCode::Unavailable,
                        "data_dir '" + config_.data_dir + "' is in use by another open " + engine_name_ +
                            " store (" + kLockFileName + " is locked); close it first",
                        true);
    return make_error(ErrorCode::IOError, "lock " + path + ": " + lock.message());
  }
  dir_lock_ = std::move(lock).value();
  return Result<void>();
}

Task<Result<void>> KvStore::open_log(wal::WalOptions options, std::uint64_t applied_lsn, LiveCounts live) {
  const auto started = Clock::now();
  options.dir = (std::filesystem::path(config_.data_dir) / "orbit.wal").string();
  options.durability = wal_durability(config_.durability);
  options.sync_interval = std::chrono::milliseconds(config_.sync_interval_ms);
  auto opened = co_await wal::Wal::open(runtime(), std::move(options));
  if (!opened) {
    Error error = std::move(opened).error();
    error.message = "open the " + engine_name_ + " store's log in '" + config_.data_dir + "': " + error.message;
    co_return error;
  }
  wal_ = std::move(opened).value();
  recovery_log_bytes_cut_ = wal_->recovery_stats().tail_bytes_cut;
  applied_lsn_ = applied_lsn;
  live_ = live;
  auto replayed = co_await wal_->replay(applied_lsn + 1, [this](std::uint64_t lsn, std::string_view payload) {
    return replay_entry(lsn, payload);
  });
  if (!replayed) {
    // No background work of the log may outlive a failed open.
    (void)co_await wal_->close();
    wal_.reset();
    Error error = std::move(replayed).error();
    error.message = "replay the " + engine_name_ + " store's log in '" + config_.data_dir + "': " + error.message;
    co_return error;
  }
  recovery_time_ += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  co_return Result<void>();
}

Result<void> KvStore::replay_entry(std::uint64_t lsn, std::string_view payload) {
  auto entry = decode_log_entry(payload);
  if (!entry) {
    Error error = std::move(entry).error();
    error.message = "log record LSN " + std::to_string(lsn) + ": " + error.message;
    return error;
  }
  apply(entry->changes, lsn);
  live_ += entry->delta;
  applied_lsn_ = lsn;
  return Result<void>();
}

// ---- Writes ------------------------------------------------------------------

Task<Result<void>> KvStore::submit(std::vector<BatchOp> ops, bool missing_is_error,
                                   std::optional<KnownBefore> known) {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  Writer writer;
  writer.ops = ops.size();
  writer.batch = std::move(ops);
  writer.missing_is_error = missing_is_error;
  writer.known = std::move(known);
  co_await enqueue_write(writer);

  PersistenceMetrics metrics;
  metrics.disk_bytes_written = writer.bytes_written;
  metrics.queue_time = writer.queue_time;
  metrics.batch_records = writer.group_size;
  metrics.lsn = writer.lsn;
  if (writer.error) co_return Result<void>::failure(std::move(*writer.error), metrics);
  co_return Result<void>::success(metrics);
}

Task<std::optional<Error>> KvStore::build_changes(Writer& writer, const Overlay& group, Overlay& mine) {
  writer.entry.changes.reserve(writer.batch.size() * 5);  // the most one op adds (add_op_changes)
  for (const BatchOp& op : writer.batch) {
    std::string primary = codec::primary_key(op.lease.key);
    std::optional<StoredLease> before;
    if (auto it = mine.leases.find(primary); it != mine.leases.end()) {
      before = it->second;
    } else if (auto git = group.leases.find(primary); git != group.leases.end()) {
      before = git->second;
    } else if (writer.known && writer.known->version == applied_lsn_) {
      before = writer.known->lease;  // nothing was applied since the primitive read it
    } else {
      auto value = co_await read_latest(primary);
      if (!value) {
        Error error = std::move(value).error();
        error.message = "read " + op.lease.key.to_string() + " before writing it: " + error.message;
        co_return error;
      }
      if (value.value()) {
        auto stored = stored_lease(op.lease.key, *value.value());
        if (!stored) co_return std::move(stored).error();
        before = std::move(stored).value();
      }
    }
    if (op.kind == BatchOp::Kind::Remove && !before && writer.missing_is_error)
      co_return make_error(ErrorCode::NotFound, "no lease stored for " + op.lease.key.to_string());
    mine.leases[std::move(primary)] = add_op_changes(op, before, writer.entry.changes, writer.entry.delta);
  }
  co_return std::nullopt;
}

Task<void> KvStore::commit_group(std::vector<QueuedWrite*>& queued) {
  std::vector<Writer*> group;
  for (QueuedWrite* q : queued) group.push_back(static_cast<Writer*>(q));
  if (auto room = co_await before_commit(); !room) {
    for (Writer* w : group) w->error = room.error();
    co_return;
  }

  Overlay overlay;
  std::vector<std::string> entries;
  std::vector<Writer*> logged;
  std::vector<std::uint64_t> sizes;
  std::uint64_t payload_bytes = 0;
  std::size_t change_count = 0;
  for (Writer* w : group) {
    Overlay mine;
    if (auto error = co_await build_changes(*w, overlay, mine)) {
      w->error = std::move(error);
      continue;
    }
    if (w->entry.changes.empty()) continue;  // e.g. a batch removing only absent leases
    if (w != group.back()) {  // what the group's later writers read
      for (auto& [key, stored] : mine.leases) overlay.leases[key] = std::move(stored);
    }
    std::string payload;
    encode_log_entry(w->entry, payload);
    sizes.push_back(payload.size());
    payload_bytes += payload.size();
    change_count += w->entry.changes.size();
    entries.push_back(std::move(payload));
    logged.push_back(w);
  }
  if (entries.empty()) co_return;

  const bool staged = stages(change_count);
  StartedTask<Result<wal::AppendResult>> appending(wal_->append_batch(std::move(entries)));
  {
    co_await runtime().yield();  // the loop submits the write before it runs us again
    std::vector<std::span<const KvChange>> changes;
    changes.reserve(logged.size());
    for (Writer* w : logged) changes.emplace_back(w->entry.changes);
    if (staged) {
      stage(changes);
    } else {
      prepare_apply(changes);
    }
  }
  auto appended = co_await appending;
  if (!appended) {
    if (staged) discard_staged();
    for (Writer* w : logged) w->error = appended.error();
    co_return;
  }
  const wal::AppendResult& at = appended.value();
  log_bytes_written_ += at.bytes_written;
  if (staged) publish_staged();
  for (std::size_t i = 0; i < logged.size(); ++i) {
    Writer* w = logged[i];
    const std::uint64_t lsn = at.lsn + i;
    if (!staged) apply(w->entry.changes, lsn);
    live_ += w->entry.delta;
    applied_lsn_ = lsn;
    w->lsn = lsn;
    w->group_size = static_cast<std::uint32_t>(logged.size());
    w->bytes_written = payload_bytes ? at.bytes_written * sizes[i] / payload_bytes : 0;
  }
}

namespace {

std::vector<BatchOp> put_op(Lease lease) {
  std::vector<BatchOp> ops;
  ops.push_back({BatchOp::Kind::Put, std::move(lease)});
  return ops;
}

std::vector<BatchOp> remove_op(ActorKey key) {
  std::vector<BatchOp> ops;
  BatchOp op{BatchOp::Kind::Remove, {}};
  op.lease.key = std::move(key);
  ops.push_back(std::move(op));
  return ops;
}

}  // namespace

Task<Result<void>> KvStore::do_store(Lease lease) { return submit(put_op(std::move(lease)), false); }

Task<Result<void>> KvStore::do_remove(ActorKey key) { return submit(remove_op(std::move(key)), true); }

KvStore::KnownBefore KvStore::known_before(ReadBefore before) {
  KnownBefore known;
  known.version = before.version;
  if (const std::optional<Lease>& lease = before.lease)
    known.lease = StoredLease{lease->node_id, lease->expires_at, codec::encoded_lease_size(*lease)};
  return known;
}

Task<Result<void>> KvStore::store_after_read(Lease lease, ReadBefore before) {
  return submit(put_op(std::move(lease)), false, known_before(std::move(before)));
}

Task<Result<void>> KvStore::remove_after_read(ActorKey key, ReadBefore before) {
  return submit(remove_op(std::move(key)), true, known_before(std::move(before)));
}

Task<Result<void>> KvStore::do_batch(WriteBatch batch) {
  if (auto e = check_open()) co_return std::move(*e);
  if (batch.empty()) co_return Result<void>();
  co_return co_await submit(std::move(batch.ops), false);
}

// ---- Reads -------------------------------------------------------------------

ValueNow KvStore::read_latest_now(std::string_view) { return {}; }

Task<Result<std::optional<std::string>>> KvStore::read_latest(std::string key) {
  if (const ValueNow now = read_latest_now(key); now.answered()) co_return now.copy();
  std::unique_ptr<KvView> v = view();
  co_return co_await v->get(std::move(key));
}

// Nothing here suspends, so no ActiveOp: close() cannot run in between.
std::optional<Result<Lease>> KvStore::get_now(const ActorKey& key) {
  if (auto e = check_open()) return Result<Lease>(std::move(*e));
  const codec::PrimaryKey primary(key);
  const ValueNow now = read_latest_now(primary.view());
  switch (now.state) {
    case ValueNow::State::Found: return decode_stored(primary.view(), now.value);
    case ValueNow::State::Absent: return Result<Lease>(not_found(key));
    case ValueNow::State::NeedsIo: break;
  }
  return std::nullopt;
}

Task<Result<Lease>> KvStore::do_get(ActorKey key) {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  std::string primary = codec::primary_key(key);
  auto value = co_await read_latest(primary);
  if (!value) co_return std::move(value).error();
  if (!value.value()) co_return not_found(key);
  co_return decode_stored(primary, *value.value());
}

Task<Result<std::vector<Lease>>> KvStore::read_range(codec::ScanRange range) {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  std::unique_ptr<KvView> v = view();
  // One extra entry when the first may be the skipped one.
  const std::size_t want = range.limit == 0 ? 0 : range.limit + (range.skip.empty() ? 0 : 1);
  auto entries = co_await v->range(range.seek, range.upper, want);
  if (!entries) co_return std::move(entries).error();

  std::vector<Lease> out;
  for (KvPair& entry : entries.value()) {
    if (!range.skip.empty() && entry.key == range.skip) continue;
    if (range.limit != 0 && out.size() >= range.limit) break;
    if (range.tag == codec::kPrimaryTag) {
      auto lease = decode_stored(entry.key, entry.value);
      if (!lease) co_return std::move(lease).error();
      out.push_back(std::move(lease).value());
      continue;
    }
    auto key = codec::decode_index_key(range.tag, entry.key);
    if (!key) co_return make_error(ErrorCode::Corruption, "index entry '" + entry.key + "' does not decode");
    std::string primary = codec::primary_key(*key);
    auto value = co_await v->get(primary);
    if (!value) co_return std::move(value).error();
    if (!value.value())
      co_return make_error(ErrorCode::Corruption, "index entry '" + entry.key + "' names " + key->to_string() +
                                                      ", which is not stored");
    auto lease = decode_stored(primary, *value.value());
    if (!lease) co_return std::move(lease).error();
    out.push_back(std::move(lease).value());
  }
  co_return out;
}

// ---- Maintenance ---------------------------------------------------------------

Task<Result<StorageStats>> KvStore::do_stats() {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  StorageStats stats;
  stats.total_keys = live_.keys;
  stats.total_size_bytes = live_.value_bytes;
  stats.average_key_size = live_.keys ? live_.key_bytes / live_.keys : 0;
  stats.average_value_size = live_.keys ? live_.value_bytes / live_.keys : 0;
  const wal::WalStats log = wal_->stats();
  stats.wal_syncs = log.syncs;
  stats.wal_records = log.records;
  stats.writes_per_sync = log.records_per_sync();
  stats.disk_bytes_written = log.bytes_written;
  stats.recovery_time = recovery_time_;
  stats.recovery_log_bytes_cut = recovery_log_bytes_cut_;
  const BackgroundErrors errors = all_background_errors();
  stats.background_errors = errors.count;
  stats.last_background_error = errors.last;
  background_errors_reported_ = errors.count;
  // Captures by reference: g++ 12 double-frees a std::string held by value
  // in a temporary of a co_await expression.
  const std::string& dir = config_.data_dir;
  stats.disk_usage_bytes = co_await runtime().offload([&dir] { return directory_bytes(dir); });
  engine_stats(stats);
  co_return stats;
}

Task<Result<void>> KvStore::do_flush() {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  co_return co_await wal_->sync();
}

Task<Result<void>> KvStore::do_close() {
  if (closed_) co_return Result<void>();
  closed_ = true;  // new operations fail from here on
  co_await wait_until_idle();
  Result<void> engine = co_await close_engine();
  Result<void> logged;
  if (wal_) logged = co_await wal_->close();  // (not inside ?:, see the g++ 12 note in README)
  dir_lock_.reset();  // the directory may be opened again
  if (!engine) co_return engine;
  if (!logged) co_return logged;
  // Background errors no stats() has reported yet: after close, only close can.
  const BackgroundErrors errors = all_background_errors();
  if (errors.count > background_errors_reported_)
    co_return make_error(ErrorCode::IOError, "the " + engine_name_ + " store in data_dir '" + config_.data_dir +
                                                 "' closed, but background work met " +
                                                 std::to_string(errors.count - background_errors_reported_) +
                                                 " error(s) no stats() reported; the last: " + errors.last);
  co_return Result<void>();
}

BackgroundErrors KvStore::all_background_errors() const {
  BackgroundErrors errors = background_errors_;
  if (wal_) errors.merge(wal_->stats().background_errors);
  return errors;
}

}  // namespace orbit::kv
