// CowBTreeStore: open (page file, then WAL replay), the KvStore hooks over
// one immutable Tree, checkpoints (foreground and background), snapshots.
#include "engines/cow_btree/cow_store.hpp"

#include <chrono>
#include <cstdio>
#include <utility>

#include "src/layout/data_dir.hpp"
#include "src/codec/key_layout.hpp"

namespace orbit {

Task<OpenedStore> open_cow_btree_store(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime) {
  return cow_btree::CowBTreeStore::open(std::move(config), std::move(runtime));
}

namespace cow_btree {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

// A consistent read view: the Tree value as it was when the view was taken.
class CowView final : public kv::KvView {
 public:
  explicit CowView(Tree tree) : tree_(std::move(tree)) {}

  Task<Result<std::optional<std::string>>> get(std::string key) override {
    auto value = tree_.get(key);
    if (!value) co_return std::optional<std::string>();
    co_return std::optional<std::string>(std::string(*value));
  }

  Task<Result<std::vector<kv::KvPair>>> range(std::string seek, std::string upper, std::size_t limit) override {
    std::vector<kv::KvPair> out;
    for (auto it = tree_.seek(seek); it.valid(); it.next()) {
      if (!upper.empty() && !(it.key() < upper)) break;
      if (limit != 0 && out.size() >= limit) break;
      out.push_back({std::string(it.key()), std::string(it.value())});
    }
    co_return out;
  }

 private:
  Tree tree_;
};

}  // namespace

struct CowBTreeStore::Background {
  bool stop = false;
  bool finished = false;
  io::CancelToken cancel;
  std::coroutine_handle<> waiter;
};

CowBTreeStore::CowBTreeStore(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime, CowStoreOptions options)
    : KvStore(std::move(config), std::move(runtime), "CowBTree"),
      options_(options),
      tree_(this->config().cow_config.max_keys_per_node) {}

CowBTreeStore::~CowBTreeStore() {
  close_in_destructor();
  if (background_ && !background_->finished) {
    // Destroyed on the loop thread without close(): the checkpointer sees
    // `stop` when it wakes and ends without touching the store.
    background_->stop = true;
    background_->cancel.cancel();
  }
}

io::FileSystem& CowBTreeStore::fs() noexcept {
  return options_.file_system != nullptr ? *options_.file_system : runtime().fs();
}

std::string CowBTreeStore::path(const char* name) const { return config().data_dir + "/" + name; }

Task<OpenedStore> CowBTreeStore::open(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime,
                                      CowStoreOptions options) {
  io::Runtime& rt = *runtime;
  co_await rt.schedule();
  io::FileSystem& fs = options.file_system != nullptr ? *options.file_system : rt.fs();
  auto names = fs.list_dir(config.data_dir);
  if (auto ours = layout::check_owned_by(config.data_dir, names ? names.value() : std::vector<std::string>(),
                                         PersistenceBackend::CowBTree);
      !ours)
    co_return OpenedStore(std::move(ours).error());
  std::unique_ptr<CowBTreeStore> store(new CowBTreeStore(std::move(config), std::move(runtime), options));
  auto opened = co_await store->open_files();
  if (!opened) {
    (void)co_await store->close();
    co_return OpenedStore(std::move(opened).error());
  }
  co_return OpenedStore(std::unique_ptr<PersistenceProvider>(std::move(store)));
}

Task<Result<void>> CowBTreeStore::open_files() {
  const auto started = Clock::now();
  auto context = [this](Error error) {
    error.message = "open the CowBTree store in data_dir '" + config().data_dir + "': " + error.message;
    return error;
  };
  if (auto locked = lock_data_dir(); !locked) co_return context(std::move(locked).error());
  auto leftovers = co_await remove_snapshot_leftovers(fs(), path(kSnapshotsDirName));
  if (!leftovers) co_return context(std::move(leftovers).error());
  if (const std::string temp = path(kMetadataFileName) + ".tmp"; fs().exists(temp)) {
    auto removed = co_await fs().remove(temp);
    if (!removed) note_background_error("remove leftover " + temp + ": " + removed.message());
  }

  PagerOptions pager_options;
  pager_options.path = path(kPageFileName);
  pager_options.max_keys_per_node = config().cow_config.max_keys_per_node;
  pager_options.runtime = &runtime();  // a checkpoint shares the loop with writers
  auto pager = co_await Pager::open(fs(), pager_options);
  if (!pager) co_return context(std::move(pager).error());
  pager_ = std::move(pager).value();
  // An existing file keeps the fan-out it was built with (its meta says).
  tree_ = pager_->tree();

  kv::LiveCounts live;
  const std::string first(1, codec::kPrimaryTag);
  for (auto it = tree_.seek(first); it.valid() && it.key()[0] == codec::kPrimaryTag; it.next()) {
    ++live.keys;
    live.key_bytes += it.key().size();
    live.value_bytes += it.value().size();
  }
  recovery_.load_time = since(started);
  recovery_.loaded_entries = tree_.size();
  recovery_.created = pager_->created();
  add_recovery_time(recovery_.load_time);

  const auto replay_started = Clock::now();
  wal::WalOptions wal_options;
  wal_options.buffer_bytes = config().cow_config.wal_buffer_size;
  wal_options.file_system = options_.file_system;
  wal_options.prepare_spare = options_.wal_prepare_spare;
  if (options_.wal_segment_size != 0) wal_options.segment_size = options_.wal_segment_size;
  const std::uint64_t committed = pager_->meta().lsn;
  auto logged = co_await open_log(std::move(wal_options), committed, live);
  if (!logged) co_return logged;
  recovery_.replay_time = since(replay_started);
  recovery_.replayed_records = applied_lsn() - committed;
  if (log().next_lsn() <= committed) {
    co_return context(make_error(
        ErrorCode::Corruption, "orbit.wal ends before LSN " + std::to_string(log().next_lsn()) + " but " +
                                   kPageFileName + " includes records up to LSN " + std::to_string(committed) +
                                   ": the log was removed or replaced; new writes would reuse those LSNs"));
  }

  if (pager_->created() || !fs().exists(path(kMetadataFileName))) {
    auto written = co_await write_file_atomically(fs(), path(kMetadataFileName),
                                                  encode_metadata(describe(pager_->meta(), live)));
    if (!written) co_return context(std::move(written).error());
  }
  last_checkpoint_ = Clock::now();
  wal_bytes_at_checkpoint_ = log().stats().bytes_written;
  opened_ = true;
  if (options_.checkpoint_poll.count() > 0) {
    background_ = std::make_shared<Background>();
    runtime().spawn(checkpointer(background_));
  }
  co_return Result<void>();
}

TreeMetadata CowBTreeStore::describe(const Meta& meta, const kv::LiveCounts& live) const {
  TreeMetadata m;
  m.format_version = meta.format_version;
  m.page_file = kPageFileName;
  m.page_size = meta.page_size;
  m.max_keys_per_node = meta.max_keys_per_node;
  m.txn_id = meta.txn_id;
  m.lsn = meta.lsn;
  m.root_page = meta.root.page_id;
  m.page_count = meta.page_count;
  m.entry_count = meta.entry_count;
  m.lease_count = live.keys;
  m.lease_bytes = live.key_bytes + live.value_bytes;
  m.created_unix_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  return m;
}

// ---- KvStore hooks -------------------------------------------------------------

std::unique_ptr<kv::KvView> CowBTreeStore::view() { return std::make_unique<CowView>(tree_); }

// The whole tree is in memory: every point read is answered at once.
kv::ValueNow CowBTreeStore::read_latest_now(std::string_view key) {
  auto value = tree_.get(key);
  if (!value) return {kv::ValueNow::State::Absent, {}};
  return {kv::ValueNow::State::Found, *value};
}

namespace {

// In place where no reader, checkpoint or other tree shares a node
// (Tree::insert_or_assign); copied where one does.
void apply_to(Tree& tree, std::span<const kv::KvChange> changes) {
  for (const kv::KvChange& change : changes) {
    if (change.erase) {
      tree.remove(change.key);
    } else {
      tree.insert_or_assign(change.key, change.value);
    }
  }
}

// Groups up to this many changes are staged. Staging copies every path the
// group changes (the published tree shares them all); that work hides
// behind the log write only while the loop has nothing else to do, as with
// a few writers. Larger groups change tree_ in place after the write.
constexpr std::size_t kMaxStagedChanges = 64;

}  // namespace

void CowBTreeStore::apply(std::span<const kv::KvChange> changes, std::uint64_t /*lsn*/) {
  // The LSN is kept by KvStore (applied_lsn()); a checkpoint reads both at once.
  retired_.reset();
  apply_to(tree_, changes);
}

bool CowBTreeStore::stages(std::size_t changes) const { return changes <= kMaxStagedChanges; }

void CowBTreeStore::stage(std::span<const std::span<const kv::KvChange>> entries) {
  retired_.reset();
  staged_ = tree_;
  for (const auto& entry : entries) apply_to(*staged_, entry);
}

void CowBTreeStore::publish_staged() {
  retired_ = std::exchange(tree_, std::move(*staged_));
  staged_.reset();
}

void CowBTreeStore::discard_staged() { staged_.reset(); }

std::uint64_t CowBTreeStore::memory_used() const noexcept {
  // Node buffers hold the bytes plus 6 bytes of framing per entry (node.hpp)
  // and some growth slack; index keys are about a primary key plus 10 bytes.
  // Measured against RSS with 1M leases (cow_measure_test.cpp): within 2%.
  const kv::LiveCounts& l = live();
  constexpr std::uint64_t kPerEntry = 16;
  return tree_.size() * kPerEntry + l.key_bytes * 3 + l.keys * 20 + l.value_bytes;
}

void CowBTreeStore::engine_stats(StorageStats& stats) {
  stats.memory_usage_bytes = memory_used();
  stats.checkpoints = checkpoints_;
  if (pager_) {
    stats.disk_bytes_written += pager_->bytes_written();
    stats.disk_bytes_read += pager_->bytes_read();
  }
}

CowEngineStats CowBTreeStore::engine_counters() const {
  CowEngineStats s;
  s.checkpoints = checkpoints_;
  s.checkpoint_failures = checkpoint_failures_;
  s.snapshots_written = snapshots_written_;
  s.checkpoint_error = checkpoint_error_;
  s.tree_entries = tree_.size();
  s.tree_height = tree_.height();
  if (pager_) {
    s.checkpointed_lsn = pager_->meta().lsn;
    s.page_count = pager_->meta().page_count;
    s.free_pages = pager_->free_page_count();
    s.page_bytes_written = pager_->bytes_written();
  }
  return s;
}

// ---- Checkpoints -----------------------------------------------------------------

Task<void> CowBTreeStore::lock_checkpoint() {
  struct Lock {
    CowBTreeStore* store;
    bool await_ready() const noexcept { return !store->checkpoint_running_; }
    void await_suspend(std::coroutine_handle<> h) { store->checkpoint_waiters_.push_back(h); }
    void await_resume() const noexcept {}
  };
  // Woken waiters are handed the lock directly (running_ stays true).
  if (!checkpoint_running_) {
    checkpoint_running_ = true;
    co_return;
  }
  co_await Lock{this};
}

void CowBTreeStore::unlock_checkpoint() {
  if (checkpoint_waiters_.empty()) {
    checkpoint_running_ = false;
    return;
  }
  std::coroutine_handle<> next = checkpoint_waiters_.front();
  checkpoint_waiters_.erase(checkpoint_waiters_.begin());
  runtime().post(next);
}

Task<Result<void>> CowBTreeStore::run_checkpoint(bool snapshot_now, SnapshotInfo* snapshot) {
  co_await lock_checkpoint();
  struct Unlock {
    CowBTreeStore* store;
    ~Unlock() { store->unlock_checkpoint(); }
  } unlock{this};
  auto failed = [this](Error error) {
    ++checkpoint_failures_;
    if (!checkpoint_error_) {
      checkpoint_error_ = error;
      std::fprintf(stderr,
                   "orbit: CowBTree checkpoint in '%s' failed (acknowledged writes stay in orbit.wal; "
                   "checkpoints stop until reopen if the page file failed): %s\n",
                   config().data_dir.c_str(), error.to_string().c_str());
    }
    return error;
  };

  // The instant of the checkpoint: writers continue from here.
  const Tree tree = tree_;
  const std::uint64_t lsn = applied_lsn();
  const kv::LiveCounts live_now = live();
  const std::uint64_t wal_bytes = log().stats().bytes_written;
  const bool changed = lsn != pager_->meta().lsn || tree.root() != pager_->tree().root();
  if (changed) {
    auto committed = co_await pager_->commit(tree, lsn);
    if (!committed) co_return failed(std::move(committed).error());
    wal_bytes_at_checkpoint_ = wal_bytes;
    last_checkpoint_ = Clock::now();
    ++checkpoints_;
    auto cut = co_await log().truncate_before(lsn + 1);
    if (!cut) co_return failed(std::move(cut).error());
    auto described = co_await write_file_atomically(fs(), path(kMetadataFileName),
                                                    encode_metadata(describe(pager_->meta(), live_now)));
    if (!described) co_return failed(std::move(described).error());
  }
  const auto& cow = config().cow_config;
  const bool periodic = cow.enable_snapshots && changed && checkpoints_ % cow.snapshot_interval == 0;
  if (snapshot_now || periodic) {
    auto written = co_await write_snapshot(fs(), path(kSnapshotsDirName), pager_->tree(),
                                           describe(pager_->meta(), live_now));
    if (!written) co_return failed(std::move(written).error());
    ++snapshots_written_;
    if (snapshot != nullptr) *snapshot = std::move(written).value();
  }
  co_return Result<void>();
}

Task<void> CowBTreeStore::checkpointer(std::shared_ptr<Background> background) {
  io::Runtime* rt = &runtime();
  while (!background->stop) {
    const bool slept = co_await rt->sleep_for(options_.checkpoint_poll, &background->cancel);
    if (!slept || background->stop) break;
    if (pager_->failed()) continue;
    const bool size_due = log().stats().bytes_written - wal_bytes_at_checkpoint_ >= options_.checkpoint_wal_bytes;
    const bool time_due =
        applied_lsn() > pager_->meta().lsn && Clock::now() - last_checkpoint_ >= options_.checkpoint_interval;
    if (!size_due && !time_due) continue;
    auto done = co_await run_checkpoint(false, nullptr);
    if (!done) note_background_error("checkpoint: " + done.error().to_string());
  }
  background->finished = true;
  if (background->waiter) rt->post(std::exchange(background->waiter, {}));
}

Task<Result<void>> CowBTreeStore::do_checkpoint() {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  co_return co_await run_checkpoint(false, nullptr);
}

Task<Result<void>> CowBTreeStore::close_engine() {
  if (background_ && !background_->finished) {
    background_->stop = true;
    background_->cancel.cancel();
    struct Finished {
      Background* background;
      bool await_ready() const noexcept { return background->finished; }
      void await_suspend(std::coroutine_handle<> h) noexcept { background->waiter = h; }
      void await_resume() const noexcept {}
    };
    co_await Finished{background_.get()};
  }
  if (!opened_ || pager_->failed() || !options_.checkpoint_on_close) co_return Result<void>();
  // A last checkpoint: the next open loads the tree and replays nothing.
  co_return co_await run_checkpoint(false, nullptr);
}

// ---- Snapshots -------------------------------------------------------------------

Task<Result<SnapshotInfo>> CowBTreeStore::create_snapshot() {
  co_await runtime().schedule();
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  SnapshotInfo info;
  auto done = co_await run_checkpoint(true, &info);
  if (!done) co_return std::move(done).error();
  co_return info;
}

Task<Result<std::vector<SnapshotInfo>>> CowBTreeStore::list_snapshots() {
  co_await runtime().schedule();
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  co_return co_await cow_btree::list_snapshots(fs(), path(kSnapshotsDirName));
}

Task<Result<void>> CowBTreeStore::delete_snapshot(std::string name) {
  co_await runtime().schedule();
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  co_return co_await cow_btree::delete_snapshot(fs(), path(kSnapshotsDirName), std::move(name));
}

Task<Result<std::unique_ptr<CowSnapshot>>> CowBTreeStore::open_snapshot(std::string name) {
  co_await runtime().schedule();
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  co_return co_await CowSnapshot::open(fs(), path(kSnapshotsDirName), std::move(name));
}

}  // namespace cow_btree
}  // namespace orbit
