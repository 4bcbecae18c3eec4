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
// is reused from commit N+1 on: that commit's meta overwrites slot (N+1)&1,
// which named tree N-1, while slot N&1 keeps naming tree N. On-disk snapshots
// that read the page file later must pin older trees (not built yet).
//
// Threading: one Pager per page file; its coroutines run on the FileSystem's
// runtime loop, one at a time. After any I/O error the pager refuses further
// commits (the file's state is unknown); reopen to continue.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "engines/cow_btree/meta.hpp"
#include "engines/cow_btree/tree.hpp"
#include "io/file_system.hpp"
#include "orbit/result.hpp"

namespace orbit::cow_btree {

struct PagerOptions {
  std::string path;               // the page file
  std::uint32_t page_size = 4096;  // for a new file; an existing file's meta wins
  std::size_t max_keys_per_node = kDefaultMaxKeysPerNode;  // for a new file
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
  std::size_t free_page_count() const noexcept { return free_.size() + pending_.size(); }

  Pager(io::FileSystem& fs, PagerOptions options) : fs_(fs), options_(std::move(options)) {}

 private:
  Task<Result<void>> load();
  Task<Result<NodePtr>> load_node(PageRef ref, std::size_t depth);
  Task<Result<std::string>> read_run(std::uint64_t page_id, std::uint32_t page_count);
  Task<Result<void>> write_run(const std::string& run, std::uint64_t page_id);
  std::uint64_t allocate(std::uint32_t pages);
  Error io_error(const char* what, int err, std::uint64_t offset);

  io::FileSystem& fs_;
  PagerOptions options_;
  std::unique_ptr<io::File> file_;
  Tree tree_;
  Meta meta_;
  std::set<std::uint64_t> free_;     // reusable now
  std::set<std::uint64_t> pending_;  // freed by the last commit: reusable from the next
  bool failed_ = false;
};

}  // namespace orbit::cow_btree
