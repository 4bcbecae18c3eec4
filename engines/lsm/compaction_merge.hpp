// The CPU side of a compaction, kept off the loop thread: reading the
// inputs' blocks back (checksums, decompression) and merging them runs on a
// worker while the loop thread keeps committing writes; the loop does only
// the I/O (reading runs of blocks, writing outputs) and the store's state.
//
// CompactionInput: one sorted input of a compaction (one level-0 file, or
// the sorted, non-overlapping files of a level >= 1), walked entry by entry
// without suspending.
//
// fill() (a coroutine, loop thread) reads the next run of contiguous data
// blocks, about run_bytes, with one read. next() (plain call, any thread)
// decodes the run's blocks (checksum, decompression, parse) as it reaches
// them; once the run is used up the input is no longer valid() and
// needs_fill() says whether more blocks follow. The two are never called
// at the same time: the compaction calls one, then the other.
//
// Errors: a failed read is IOError, a damaged block or index entry
// Corruption, naming the file and offset (as SstableReader does); the input
// then stays invalid and keeps the error in status().
// Blocks read here bypass the block cache: a compaction reads each block
// once, and its inputs are deleted right after.
// The input holds its files (TablePtr) alive until it is destroyed.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/lsm/block_reader.hpp"
#include "engines/lsm/sstable_builder.hpp"
#include "engines/lsm/version.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::lsm {

class CompactionInput {
 public:
  // `files` sorted by key and non-overlapping (one file, or one level's).
  // REQUIRES: run_bytes >= 1
  CompactionInput(std::vector<TablePtr> files, std::size_t run_bytes);

  bool valid() const noexcept { return block_.has_value() && block_->valid(); }
  // True when the input is not positioned but more data blocks follow.
  bool needs_fill() const noexcept { return !valid() && status_.ok() && file_ < files_.size(); }
  const Status& status() const noexcept { return status_; }

  // Loop thread. REQUIRES: needs_fill(). Reads the next run of blocks and
  // positions at its first entry (or, past empty blocks, needs_fill() again).
  Task<Status> fill();
  // Any thread. REQUIRES: valid().
  Status next();
  std::string_view key() const noexcept { return block_->key(); }  // internal key
  std::string_view value() const noexcept { return block_->value(); }

 private:
  // Moves to the first entry of the next block in the run while the current
  // one is exhausted; stops (not valid) when the run is used up.
  Status settle();
  Status fail(Status status);

  std::vector<TablePtr> files_;
  std::size_t run_bytes_;
  std::size_t file_ = 0;                 // files_[file_] is being read
  std::optional<Block::Iterator> index_;  // over files_[file_]'s index block
  std::string run_;                      // stored bytes of consecutive data blocks
  std::uint64_t run_offset_ = 0;         // file offset of run_[0]
  std::deque<BlockHandle> blocks_;       // blocks of run_ not yet decoded
  std::optional<Block::Iterator> block_;
  Status status_;
};

// CompactionMerge: merges the inputs (given newest first; equal internal
// keys come from the earlier input) into the entries of the output: only
// the newest version of each user key, and no tombstone that no level below
// the output could hold a version of the key under. A key that no level
// below the output may hold goes out with sequence 0 (FORMAT.md).
//
// step() adds entries to the current output without suspending until the
// loop has to act, and says why (Stop). Before each step the caller fills
// every input that needs_fill(). An error from an input or the builder is
// returned; the merge is then finished.
class CompactionMerge {
 public:
  enum class Stop {
    Done,         // every input is used up
    NeedFill,     // an input needs fill()
    NeedOutput,   // an entry is to be kept and there is no output: create one
    FlushOutput,  // the output's builder should_flush()
    OutputFull,   // the output reached target_file_bytes: finish it
  };

  // `base`: the version the inputs come from (the levels below output_level
  // do not change until this compaction installs).
  CompactionMerge(std::vector<std::unique_ptr<CompactionInput>> inputs, VersionPtr base, std::size_t output_level,
                  std::uint64_t target_file_bytes);

  // Any thread, one call at a time. `output` may be null (then NeedOutput
  // comes before the first entry that is kept).
  Result<Stop> step(SstableBuilder* output);

  const std::vector<std::unique_ptr<CompactionInput>>& inputs() const noexcept { return inputs_; }
  std::uint64_t versions_dropped() const noexcept { return versions_dropped_; }
  std::uint64_t tombstones_dropped() const noexcept { return tombstones_dropped_; }

 private:
  CompactionInput* smallest() const;
  // Whether the entry goes to the output (counts what it drops).
  bool keep(const ParsedInternalKey& entry);
  bool deeper_levels_may_hold(std::string_view user_key) const;
  // `key` as the output stores it: sequence 0 when keep() said so.
  std::string_view output_key(std::string_view key);

  std::vector<std::unique_ptr<CompactionInput>> inputs_;
  VersionPtr base_;
  std::size_t output_level_;
  std::uint64_t target_file_bytes_;
  CompactionInput* kept_ = nullptr;  // an entry kept while waiting for an output
  bool zero_sequence_ = false;       // the entry kept last goes out with sequence 0
  std::string zeroed_key_;
  NewestVersions newest_;
  std::uint64_t versions_dropped_ = 0;
  std::uint64_t tombstones_dropped_ = 0;
};

}  // namespace orbit::lsm
