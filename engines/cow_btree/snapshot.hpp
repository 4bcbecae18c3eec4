// Snapshots: point-in-time copies of a committed tree, in <data_dir>/snapshots/.
//
// A snapshot is its own page file, snapshot_<lsn>.pages (the committed tree
// written out whole, sequentially, in the page file format: both meta slots,
// no free list), plus snapshot_<lsn>.json, its TreeMetadata (metadata.hpp).
// <lsn> is the last WAL record the tree includes, 20 digits, so names sort by
// age. Why copies rather than pinned pages of the live file: the live file's
// free list then never has to know which trees a snapshot still reaches, a
// snapshot survives anything that happens to the live file, and deleting
// one is removing two files. The cost is the copy (sequential writes of the
// whole tree, ~ the live page file's size) each time one is taken.
//
// Crash safety: the pages are written as .pages.tmp, synced and renamed;
// the .json is written last (atomically). A snapshot exists iff its .json
// does; remove_snapshot_leftovers() deletes what a crash left half made.
//
// Threading: every function runs on the FileSystem's runtime loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engines/cow_btree/meta.hpp"
#include "engines/cow_btree/metadata.hpp"
#include "engines/cow_btree/tree.hpp"
#include "io/file_system.hpp"
#include "orbit/lease.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::cow_btree {

struct SnapshotInfo {
  std::string name;  // "snapshot_<lsn>"
  TreeMetadata metadata;
};

std::string snapshot_name(std::uint64_t lsn);
// InvalidArgument unless `name` is snapshot_ followed by 20 digits.
Result<void> check_snapshot_name(const std::string& name);

// Writes `tree` (a committed version: it must not change while this runs,
// which holds for any Tree value) as a complete page file at `path`: pages
// in post-order from page 2, meta in slot 1 (txn 1), zero slot 0. Returns
// the meta written. Writes in large sequential chunks, then datasyncs.
Task<Result<Meta>> write_tree_file(io::FileSystem& fs, std::string path, Tree tree, std::uint64_t lsn,
                                   std::uint32_t page_size);

// Writes snapshot_<metadata.lsn> of `tree` into `snapshots_dir` (created if
// missing). `metadata` describes the live tree; its page fields are replaced
// by the snapshot file's. An existing snapshot of the same LSN is kept as is.
Task<Result<SnapshotInfo>> write_snapshot(io::FileSystem& fs, std::string snapshots_dir, Tree tree,
                                          TreeMetadata metadata);
// Every complete snapshot, oldest first. A missing folder is an empty list.
Task<Result<std::vector<SnapshotInfo>>> list_snapshots(io::FileSystem& fs, std::string snapshots_dir);
// Removes the .json first (the snapshot is gone from then on), then the pages.
Task<Result<void>> delete_snapshot(io::FileSystem& fs, std::string snapshots_dir, std::string name);
// Removes *.tmp files and .pages files without their .json.
Task<Result<void>> remove_snapshot_leftovers(io::FileSystem& fs, std::string snapshots_dir);

// A snapshot opened read-only: the whole tree loaded and checked (every
// page checksum), then the file closed. Reads never change anything.
class CowSnapshot {
 public:
  static Task<Result<std::unique_ptr<CowSnapshot>>> open(io::FileSystem& fs, std::string snapshots_dir,
                                                         std::string name);
  const std::string& name() const noexcept { return name_; }
  const TreeMetadata& metadata() const noexcept { return metadata_; }
  const Tree& tree() const noexcept { return tree_; }
  // NotFound if the snapshot holds no lease for `key`.
  Result<Lease> get_lease(const ActorKey& key) const;
  // Every lease of `actor_type`, in key order.
  Result<std::vector<Lease>> scan_by_actor_type(const std::string& actor_type) const;
  std::uint64_t lease_count() const;

  CowSnapshot(std::string name, TreeMetadata metadata, Tree tree)
      : name_(std::move(name)), metadata_(std::move(metadata)), tree_(std::move(tree)) {}

 private:
  std::string name_;
  TreeMetadata metadata_;
  Tree tree_;
};

}  // namespace orbit::cow_btree
