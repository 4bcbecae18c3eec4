// LsmStore: the LSM-tree backend. KvStore (src/kv) provides the whole
// PersistenceProvider over one write-ahead log; this class keeps the key
// layout in memtables and SSTables.
//
// Write path: KvStore logs each writer's changes (group commit) and then
// calls apply(changes, lsn), which inserts them into the active memtable
// with sequence number = LSN. Several changes of one log entry share its
// LSN; when one entry changes a key twice (a batch writing one lease twice)
// only the last change of that key is inserted, which is exactly the
// entry's effect. When the active memtable reaches memtable_size_mb it
// becomes immutable (covering every entry up to the applied LSN, together
// with the live counts at that LSN) and a background coroutine flushes it to
// a level-0 SSTable; a new memtable takes writes at once. Writers wait
// (before_commit: counted, and bounded by one flush or compaction step) only
// when kMaxImmutables memtables are already waiting for their flush, or
// level 0 holds compaction_threshold * kL0StopFactor files.
//
// Flush: SSTable written under its final name (O_EXCL, one datasync),
// sstables/ synced, new manifest.json installed (flushed_lsn = the
// memtable's last LSN), then the log is cut before flushed_lsn + 1.
//
// Compaction (leveled, one at a time, in the background): level 0 -> 1 when
// level 0 holds compaction_threshold files (all of level 0 plus the level-1
// files they overlap); level n -> n+1 when level n's bytes pass its target
// (max(memtable bytes * compaction_threshold, 256 MiB) *
// level_size_multiplier^(n-1)),
// one file at a time, round robin, moved without rewriting when nothing in
// level n+1 overlaps it. Output keeps only the newest version of each user
// key: no view ever needs an older one, because a view pins the Version and
// memtables it reads (shared_ptr), so a compaction never changes what an
// existing view sees. A tombstone is dropped when no level below the output
// holds its key. Inputs are deleted only once the manifest without them is
// durable.
//
// Flushes and compactions keep their CPU work off the loop thread, which
// commits every writer: building blocks (encoding, compression, checksums,
// the filter) and a compaction's merge (compaction_merge.hpp) run on a
// runtime worker in steps, while the loop does only the I/O between steps
// and every change of the store's state (memtable list, version, manifest,
// block cache). During a step nothing else touches what the worker reads:
// an immutable memtable, open SSTables held by the job, the builder.
//
// Reads: active memtable, immutable memtables newest first, level 0 newest
// first, then one file per level; bloom filters skip files; data blocks go
// through an LRU BlockCache. A read of the newest value that ends in the
// SSTables leaves the value in a RowCache, which every applied change
// keeps current (row_cache.hpp); it is asked after the memtables, before
// the SSTables. block_cache_mb bounds both: 7/8 for blocks, 1/8 for rows.
// Scans merge every source.
//
// Recovery (open): refuse another backend's directory, read manifest.json,
// open every SSTable it names (footer, index, filter checked), delete
// unnamed .sst files (an interrupted flush or compaction), then replay the
// log after flushed_lsn into the memtable.
// Threading: everything on the store's loop thread, except the flush and
// compaction steps above.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engines/lsm/block_cache.hpp"
#include "engines/lsm/memtable.hpp"
#include "engines/lsm/row_cache.hpp"
#include "engines/lsm/sstable_builder.hpp"
#include "engines/lsm/version.hpp"
#include "src/factory/engine_registry.hpp"
#include "src/kv/kv_store.hpp"

namespace orbit::lsm {

// Inserts one log entry's changes into `table` at sequence `lsn`: when the
// entry changes a key more than once, only its last change of that key
// (the entry's net effect; all share the LSN). Used by apply() and by
// verify's read-only replay.
void add_log_entry(Memtable& table, std::span<const kv::KvChange> changes, std::uint64_t lsn);

// What block_cache_mb gives the BlockCache and the RowCache.
std::size_t block_cache_bytes(const LsmConfig& config) noexcept;
std::size_t row_cache_bytes(const LsmConfig& config) noexcept;

// Refuses a directory holding another backend's files (InvalidArgument
// naming them).
Result<void> check_data_dir_is_ours(const std::string& data_dir);

// For tests: what open() uses instead of the defaults.
struct LsmStoreOptions {
  io::FileSystem* file_system = nullptr;  // null: the runtime's
  bool wal_prepare_spare = true;          // WalOptions::prepare_spare
  bool background = true;                 // false: flush/compact only when asked (tests)
  std::uint64_t wal_segment_size = 0;     // 0: the WAL's default
  std::uint64_t level1_target_bytes = 0;  // 0: max(memtable bytes * compaction_threshold, 256 MiB)
  std::uint64_t target_file_bytes = 0;    // 0: memtable bytes (at least 1 MiB)
};

// Counters for tests and stats (loop thread).
struct LsmCounters {
  std::uint64_t flushes = 0;
  std::uint64_t compactions = 0;
  std::uint64_t trivial_moves = 0;
  std::vector<std::uint64_t> compactions_into_level;  // per output level
  std::uint64_t tombstones_dropped = 0;
  std::uint64_t versions_dropped = 0;
  std::uint64_t stalls = 0;
  std::chrono::microseconds stall_time{0};
  std::uint64_t sstable_bytes_written = 0;
  std::uint64_t manifest_bytes_written = 0;
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t row_cache_hits = 0;  // newest-value reads the RowCache answered
  std::uint64_t row_cache_misses = 0;
  std::uint64_t checkpoints = 0;
};

class LsmStore final : public kv::KvStore {
 public:
  static constexpr std::size_t kMaxImmutables = 2;
  static constexpr std::uint32_t kL0StopFactor = 5;

  static Task<OpenedStore> open(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime,
                                LsmStoreOptions options = {});
  ~LsmStore() override;

  PersistenceBackend backend() const noexcept override { return PersistenceBackend::LsmTree; }
  // Memtables plus block cache, as of the last write or flush (any thread).
  std::uint64_t memory_used() const noexcept override { return memory_used_.load(std::memory_order_relaxed); }

  // ---- For tests (loop thread, or through run_on_loop) -----------------------
  LsmCounters counters() const;
  // Files per level of the current version.
  std::vector<std::vector<FileMeta>> files_per_level() const;
  std::uint64_t flushed_lsn() const noexcept { return flushed_lsn_; }
  // Runs pending flushes and compactions until none is due (or one fails).
  Task<Result<void>> compact_until_idle();
  io::Runtime& runtime_for_testing() noexcept { return runtime(); }
  // read_latest_now() (the hot read), on the loop thread; Found carries a copy.
  std::pair<kv::ValueNow::State, std::string> read_now_for_testing(std::string_view key) {
    const kv::ValueNow now = read_latest_now(key);
    return {now.state, std::string(now.value)};
  }
  const std::string& sstable_dir() const noexcept { return sst_dir_; }

 protected:
  std::unique_ptr<kv::KvView> view() override;
  kv::ValueNow read_latest_now(std::string_view key) override;
  Task<Result<std::optional<std::string>>> read_latest(std::string key) override;
  void apply(std::span<const kv::KvChange> changes, std::uint64_t lsn) override;
  void prepare_apply(std::span<const std::span<const kv::KvChange>> entries) override;
  Task<Result<void>> before_commit() override;
  Task<Result<void>> close_engine() override;
  void engine_stats(StorageStats& stats) override;
  Task<Result<void>> do_checkpoint() override;

 private:
  struct Immutable {
    std::shared_ptr<Memtable> table;
    std::uint64_t last_lsn = 0;
    kv::LiveCounts live;
  };
  struct Edit {
    std::vector<std::pair<std::size_t, TablePtr>> added;  // (level, table)
    std::vector<std::uint64_t> removed;                   // file numbers
    std::optional<std::uint64_t> flushed_lsn;
    std::optional<kv::LiveCounts> live;
  };
  struct CompactionJob {
    std::size_t level = 0;  // inputs from level and level + 1
    std::vector<TablePtr> inputs;        // from `level`
    std::vector<TablePtr> next_inputs;   // from level + 1
    bool trivial_move = false;
  };
  class View;
  friend class View;

  LsmStore(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime, LsmStoreOptions options);
  Task<Result<void>> recover();
  io::FileSystem& fs() noexcept { return *fs_; }

  void maybe_switch_memtable();
  void switch_memtable();
  void start_background();
  void schedule_flush();
  void schedule_compaction();
  Task<void> flush_loop();
  Task<void> prepare_next_memtable();
  Task<void> compaction_loop();
  Task<Result<void>> flush_one(Immutable imm);
  std::optional<CompactionJob> pick_compaction();
  Task<Result<void>> run_compaction(CompactionJob job);
  Task<Result<void>> install(Edit edit);
  Task<void> delete_files(std::vector<TablePtr> tables);
  // Removes a file no manifest names (obsolete, or left by a failed or
  // interrupted flush or compaction); a failure is a background error.
  Task<void> remove_unnamed(std::string path);
  // Abandons an unfinished output (closes and removes it), likewise.
  Task<void> abandon(SstableBuilder& builder);
  Task<Result<TablePtr>> open_table(FileMeta meta);
  // Data blocks of new SSTables on their way to the block cache: the
  // builder's observer parses them on whichever thread builds, and the loop
  // inserts them (insert_cached) after each step.
  struct CacheFill {
    struct Entry {
      std::uint64_t number = 0;
      std::uint64_t offset = 0;
      std::shared_ptr<const Block> block;
    };
    std::vector<Entry> blocks;
  };
  void fill_cache_from(SstableBuilder& builder, std::uint64_t number, const std::string& path, CacheFill& fill);
  void insert_cached(CacheFill& fill);
  std::uint64_t level_target_bytes(std::size_t level) const;
  std::uint64_t target_file_bytes() const;
  void set_background_error(Error error);
  void wake_waiters();
  // Waits for the next wake_waiters().
  auto background_progress() {
    struct Awaiter {
      LsmStore* store;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { store->waiters_.push_back(h); }
      void await_resume() const noexcept {}
    };
    return Awaiter{this};
  }

  LsmStoreOptions options_;
  io::FileSystem* fs_;
  LsmConfig lsm_;
  SstableOptions sstable_options_;
  std::string dir_;
  std::string sst_dir_;
  std::size_t memtable_bytes_;

  // The user keys the next memtable's index is sized for (declared before
  // mem_, which the constructor sizes from it).
  std::size_t next_mem_keys_;
  std::shared_ptr<Memtable> mem_;
  // What the next switch takes for mem_, built on a worker (see
  // prepare_next_memtable).
  std::shared_ptr<Memtable> next_mem_;
  std::deque<Immutable> imms_;  // oldest first
  VersionPtr version_;
  // Holds the value read_latest_now() found in an SSTable until the caller
  // has read it (ValueNow points at engine-owned bytes).
  LookupResult table_lookup_;
  std::unique_ptr<BlockCache> cache_;
  RowCache rows_;
  std::uint64_t next_file_number_ = 1;
  std::uint64_t flushed_lsn_ = 0;
  std::uint64_t log_cut_lsn_ = 0;  // the log was cut after a flush up to here
  kv::LiveCounts flushed_live_;
  std::vector<std::string> compact_pointer_;  // per level: largest user key last compacted

  bool background_enabled_ = false;
  bool flush_running_ = false;
  bool compaction_running_ = false;
  bool stopping_ = false;
  bool installing_ = false;
  std::optional<Error> background_error_;
  std::vector<std::coroutine_handle<>> waiters_;
  LsmCounters counters_;
  std::atomic<std::uint64_t> memory_used_{0};
  void update_memory_used() noexcept;
};

}  // namespace orbit::lsm
