// CowBTreeStore: the copy-on-write B+ tree backend (PersistenceBackend::CowBTree).
//
// State: one immutable Tree (tree.hpp) holding the shared key layout
// (src/kv/changes.hpp: primary 'L' entries with the encoded lease, 'N' and
// 'E' index entries), fully in memory in packed nodes (node.hpp). KvStore
// does the rest of the API: a write is logged to <data_dir>/orbit.wal (group
// commit, durable by default) and then applied here: nodes that a reader's
// view, a running checkpoint or the committed tree can reach are copied
// (path copying), the others changed in place (Tree::insert_or_assign). A
// view is a Tree value, copied in O(1); it never changes and needs no lock.
//
// Files in data_dir (FORMAT.md):
//   orbit.wal/       the shared WAL (src/wal/FORMAT.md)
//   orbit.pages      the page file: the last checkpointed tree, copy-on-write
//                    pages, two meta slots (pager.hpp)
//   metadata.json    the checkpointed tree described (metadata.hpp)
//   snapshots/       snapshot_<lsn>.pages + .json (snapshot.hpp)
//
// Checkpoint: take the current Tree, applied LSN and live counts at one
// instant (writers go on at once), commit the tree to the page file (only
// the nodes changed since the last checkpoint, each encoded and written in
// turn so writers run between writes; the rest of the commit's CPU work in
// slices or on a worker: pager.hpp), then cut the WAL below that LSN and
// rewrite metadata.json. A background coroutine checkpoints when
// the WAL grew by checkpoint_wal_bytes or checkpoint_interval passed with
// writes pending; checkpoint() does one now. One checkpoint at a time. An
// I/O error in a checkpoint loses nothing acknowledged (the WAL keeps every
// record past the committed LSN), is logged to stderr once, returned by
// every later checkpoint() and stops checkpoints until the store is
// reopened (the page file's state is unknown after a failed fdatasync).
//
// Open: refuse another backend's files, load the page file's newest valid
// meta and its whole tree (every checksum checked), count the live leases,
// replay the WAL past the tree's LSN. close(): stops the checkpointer and
// checkpoints once more, so the next open replays nothing.
//
// Snapshots (cow_config.enable_snapshots): every snapshot_interval-th
// checkpoint also writes its tree as a snapshot; create_snapshot() takes one
// now. list/open/delete below.
//
// Threading: everything runs on the runtime's loop thread (KvStore).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engines/cow_btree/metadata.hpp"
#include "engines/cow_btree/pager.hpp"
#include "engines/cow_btree/snapshot.hpp"
#include "engines/cow_btree/tree.hpp"
#include "src/factory/engine_registry.hpp"
#include "src/kv/kv_store.hpp"

namespace orbit::cow_btree {

// Knobs the seed's config does not have (tests and benchmarks set them).
struct CowStoreOptions {
  // Checkpoint in the background once the WAL grew by this many bytes...
  std::uint64_t checkpoint_wal_bytes = 64ull << 20;
  // ...or this long after the last checkpoint with writes applied since.
  std::chrono::milliseconds checkpoint_interval{30000};
  // How often the background checkpointer looks. 0: no background checkpoints.
  std::chrono::milliseconds checkpoint_poll{50};
  // Files go through this file system (a FaultFileSystem in tests); null:
  // the runtime's.
  io::FileSystem* file_system = nullptr;
  // The WAL prepares a spare segment in the background (off for tests that
  // simulate power loss, see wal::WalOptions::prepare_spare).
  bool wal_prepare_spare = true;
  // WAL segment size (0: the WAL's default, 64 MiB). Small in tests, so a
  // checkpoint visibly deletes segments.
  std::uint64_t wal_segment_size = 0;
  // close() checkpoints once more (tests turn it off to reopen from the WAL).
  bool checkpoint_on_close = true;
};

// How long the last open took, by part.
struct CowRecovery {
  std::chrono::microseconds load_time{0};    // page file: metas, every node, free list, live count
  std::chrono::microseconds replay_time{0};  // WAL past the tree's LSN
  std::uint64_t replayed_records = 0;
  std::uint64_t loaded_entries = 0;
  bool created = false;                      // the page file was new
};

// Counters only this engine has (StorageStats carries the common ones).
struct CowEngineStats {
  std::uint64_t checkpoints = 0;
  std::uint64_t checkpoint_failures = 0;
  std::uint64_t checkpointed_lsn = 0;
  std::uint64_t page_count = 0;        // page file high-water mark
  std::uint64_t free_pages = 0;        // listed in the free list
  std::uint64_t page_bytes_written = 0;
  std::uint64_t tree_entries = 0;
  std::uint64_t tree_height = 0;
  std::uint64_t snapshots_written = 0;
  std::optional<Error> checkpoint_error;  // the first failure, if any
};

class CowBTreeStore final : public kv::KvStore {
 public:
  static Task<OpenedStore> open(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime,
                                CowStoreOptions options = {});
  ~CowBTreeStore() override;

  PersistenceBackend backend() const noexcept override { return PersistenceBackend::CowBTree; }
  // An estimate from the live counts: bytes of keys and values in the tree
  // plus per-entry framing and slack of the packed nodes (not a measurement).
  std::uint64_t memory_used() const noexcept override;

  // ---- Snapshots (engine-level API; call from any thread: each hops onto the loop)
  // Checkpoints, then writes the committed tree as a snapshot.
  Task<Result<SnapshotInfo>> create_snapshot();
  Task<Result<std::vector<SnapshotInfo>>> list_snapshots();
  Task<Result<void>> delete_snapshot(std::string name);
  // Opens a snapshot read-only (independent of this store's later changes).
  Task<Result<std::unique_ptr<CowSnapshot>>> open_snapshot(std::string name);

  // ---- Introspection (loop thread, or while no operation runs)
  CowRecovery recovery() const { return recovery_; }
  CowEngineStats engine_counters() const;
  const Tree& current_tree() const noexcept { return tree_; }

 protected:
  std::unique_ptr<kv::KvView> view() override;
  kv::ValueNow read_latest_now(std::string_view key) override;
  void apply(std::span<const kv::KvChange> changes, std::uint64_t lsn) override;
  bool stages(std::size_t changes) const override;
  void stage(std::span<const std::span<const kv::KvChange>> entries) override;
  void publish_staged() override;
  void discard_staged() override;
  Task<Result<void>> close_engine() override;
  void engine_stats(StorageStats& stats) override;
  Task<Result<void>> do_checkpoint() override;

 private:
  struct Background;
  CowBTreeStore(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime, CowStoreOptions options);

  Task<Result<void>> open_files();
  io::FileSystem& fs() noexcept;
  std::string path(const char* name) const;
  // One checkpoint (waits for a running one first). `snapshot_now` also
  // writes a snapshot of the committed tree.
  Task<Result<void>> run_checkpoint(bool snapshot_now, SnapshotInfo* snapshot);
  Task<void> checkpointer(std::shared_ptr<Background> background);
  Task<void> lock_checkpoint();
  void unlock_checkpoint();
  TreeMetadata describe(const Meta& meta, const kv::LiveCounts& live) const;

  CowStoreOptions options_;
  bool opened_ = false;  // open_files() completed: close checkpoints
  std::unique_ptr<Pager> pager_;
  Tree tree_;
  // A small group's changes, made to a copy of tree_ while its log write
  // is in flight (stage()); and the tree it replaced, freed at the next
  // stage() rather than before the writers are answered.
  std::optional<Tree> staged_;
  std::optional<Tree> retired_;
  CowRecovery recovery_;

  bool checkpoint_running_ = false;
  std::vector<std::coroutine_handle<>> checkpoint_waiters_;
  std::shared_ptr<Background> background_;
  std::uint64_t wal_bytes_at_checkpoint_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_;
  std::uint64_t checkpoints_ = 0;
  std::uint64_t checkpoint_failures_ = 0;
  std::uint64_t snapshots_written_ = 0;
  std::optional<Error> checkpoint_error_;
};

}  // namespace orbit::cow_btree
