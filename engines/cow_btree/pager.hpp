// Pager: the tree's page file. Commits a Tree copy-on-write (new nodes go to
// free or new pages, never over a page the committed meta can reach), flips
// the meta slot, and opens the newest valid commit.
//
// Open loads the whole committed tree eagerly into memory, verifying every
// checksum on the way. Why eager: readers then walk immutable in-memory nodes
// without I/O or locks, and a disk page being reused can never be seen by an
// in-memory reader; the lease set of an actor system fits in memory. The cost
// is open time and memory proportional to the tree.
//
// Page reuse: a page freed by commit N (reachable from tree N-1, not from N)
// is reused only once commit N+1 is durable: until then meta slot (N+1)&1
// still names tree N-1, so both slots always name intact trees (a fallback
// to the older slot finds every page it references). The on-disk free list
// marks the pages its own commit freed ("recent"), so a reopen keeps that
// delay. Snapshots are separate files (snapshot.hpp) and pin nothing here.
//
// Creation: a new page file is written as <path>.new and renamed into place
// once its first meta is durable, so an existing page file always has a
// valid meta (a crash while creating leaves a new store, not Corruption).
//
// Threading: one Pager per page file; its coroutines run on the FileSystem's
// runtime loop, one at a time. After any I/O error the pager refuses further
// commits (the file's state is unknown); reopen to continue.
//
// Sharing the loop: a commit writes each node as soon as it is encoded and
// does the rest of its CPU work (the walk over the previous tree that frees
// its pages, releasing that tree's nodes once the new meta is durable) in
// slices with a yield to PagerOptions::runtime between them, and encodes the
// free list on one of its workers, so the loop's other coroutines wait for a
// slice, never for a commit. The page states and the meta change only on the
// loop.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engines/cow_btree/meta.hpp"
#include "engines/cow_btree/tree.hpp"
#include "io/file_system.hpp"
#include "io/runtime.hpp"
#include "orbit/result.hpp"

namespace orbit::cow_btree {

struct PagerOptions {
  std::string path;               // the page file
  std::uint32_t page_size = 4096;  // for a new file; an existing file's meta wins
  std::size_t max_keys_per_node = kDefaultMaxKeysPerNode;  // for a new file
  // Never create, write or commit (verify, snapshots): a missing file is NotFound.
  bool read_only = false;
  // The loop the pager runs on: commits yield to it and offload to its
  // workers (see above). Null: a commit runs its CPU work in one go.
  io::Runtime* runtime = nullptr;
};

class Pager {
 public:
  // Opens or creates the page file. A new file gets an empty tree at txn 1.
  static Task<Result<std::unique_ptr<Pager>>> open(io::FileSystem& fs, PagerOptions options);

  // Writes the nodes of `tree` not yet on disk, then the free list, syncs,
  // writes the meta, syncs. On success tree() is `tree`.
  Task<Result<void>> commit(Tree tree, std::uint64_t lsn);

  const Tree& tree() const noexcept { return tree_; }
  const Meta& meta() const noexcept { return meta_; }
  std::size_t free_page_count() const noexcept { return free_count_ + pending_count_; }
  // Every page the free list names (reusable now, and freed by the last commit).
  std::set<std::uint64_t> listed_free_pages() const {
    std::set<std::uint64_t> out;
    for (std::uint64_t p = 0; p < state_.size(); ++p)
      if (state_[p] != 0) out.insert(p);
    return out;
  }
  // This open made the file (it did not exist).
  bool created() const noexcept { return created_; }
  // Both slots as read at open (nullopt: invalid, `slot_problem` says why).
  const std::optional<Meta>& slot(int i) const noexcept { return slots_[i]; }
  const std::string& slot_problem(int i) const noexcept { return slot_problems_[i]; }
  std::uint64_t file_bytes_at_open() const noexcept { return file_bytes_; }
  std::uint64_t bytes_written() const noexcept { return bytes_written_; }
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }
  std::uint64_t commits() const noexcept { return commits_; }
  // Set after an I/O error: commits are refused until reopened.
  bool failed() const noexcept { return failed_; }
  const std::string& failure() const noexcept { return failure_; }

  Pager(io::FileSystem& fs, PagerOptions options) : fs_(fs), options_(std::move(options)) {}

 private:
  Task<Result<void>> load();
  Task<Result<void>> create();
  Task<Result<NodePtr>> load_node(PageRef ref, std::size_t depth);
  Task<Result<std::string>> read_run(std::uint64_t page_id, std::uint32_t page_count);
  Task<Result<void>> write_run(const std::string& run, std::uint64_t page_id);
  std::uint64_t allocate(std::uint32_t pages);
  void set_state(std::uint64_t page, std::uint8_t state);
  Error io_error(const char* what, int err, std::uint64_t offset);

  io::FileSystem& fs_;
  PagerOptions options_;
  std::unique_ptr<io::File> file_;
  Tree tree_;
  Meta meta_;
  // One state per page id (pager.cpp: used, free = reusable now, pending =
  // freed by the last commit and reusable once the next is durable, freed
  // now = by the commit in progress), with counts. A byte per page keeps the
  // bookkeeping of a commit linear and allocation-free.
  std::vector<std::uint8_t> state_;
  std::size_t free_count_ = 0;
  std::size_t pending_count_ = 0;
  std::size_t freed_now_count_ = 0;
  std::uint64_t cursor_ = 2;  // next-fit position within a commit
  // Within a commit: no run of this many free pages is left (see allocate()).
  std::uint32_t no_run_of_ = std::numeric_limits<std::uint32_t>::max();
  bool failed_ = false;
  std::string failure_;
  bool created_ = false;
  std::optional<Meta> slots_[2];
  std::string slot_problems_[2];
  std::uint64_t file_bytes_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t commits_ = 0;
};

}  // namespace orbit::cow_btree
