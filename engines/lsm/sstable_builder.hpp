// SstableBuilder: writes one immutable, sorted SSTable file from entries
// given in internal-key order (a memtable flush or a compaction's output).
//
// Layout (FORMAT.md): header, data blocks of about block_size_bytes, one
// bloom filter block over the user keys, an index block (the last key of
// each data block -> its handle), a fixed 56-byte footer.
//
// I/O: add() and seal() only encode into memory. Encoded bytes are written with one
// large sequential write_at each time write_buffer_bytes accumulate (the
// caller awaits flush() when should_flush() says so) and at finish(), which
// then issues the file's single datasync. Making the file's name durable
// (sync_dir) and recording it in the manifest is the caller's job.
//
// Errors: the first failed write or sync fails the builder; every later
// call returns that error, and the file must be abandoned. The file is
// created exclusively: an existing file is never overwritten.
// Threading: the owning runtime's loop thread; add() and seal(), which do
// no I/O, may run on another thread while the loop does not touch the
// builder (the data block observer is called on that thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engines/lsm/block_builder.hpp"
#include "engines/lsm/block_trailer.hpp"
#include "engines/lsm/bloom.hpp"
#include "engines/lsm/format.hpp"
#include "engines/lsm/sstable_footer.hpp"
#include "io/file_system.hpp"
#include "orbit/config.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::lsm {

struct SstableOptions {
  std::uint32_t block_size_bytes = 4096;  // target uncompressed data block size
  std::uint32_t restart_interval = 16;    // entries between full keys in a block
  std::uint32_t bloom_bits_per_key = 10;  // 0: no filter block
  CompressionType compression = CompressionType::Lz4;
  // Bytes gathered per write_at (and so per encode step of a flush or a
  // compaction). Small on purpose: with 1 MB the store's log commits, on the
  // same device, stalled 3-7 ms about 25 times a second while flushes and
  // compactions ran, and LsmTree's write p99.9 was 7.0-7.8 ms at 64 writers
  // with 2 MB memtables; with 64 KB, 3.9-5.3 ms in eight runs (README, "What
  // the numbers say"). 32 and 16 KB did no better and cost more CPU.
  std::size_t write_buffer_bytes = 64 << 10;

  // sstable_block_size_kb, enable_bloom_filters, bloom_filter_bits_per_key
  // and enable_compression (LZ4 when on) from the user's configuration.
  static SstableOptions from_config(const LsmConfig& config);
};

// What finish() reports, for the manifest.
struct SstableInfo {
  std::string path;
  std::uint64_t file_size = 0;
  std::uint64_t entry_count = 0;
  std::uint64_t data_block_count = 0;
  std::string smallest_key;  // internal keys; empty when entry_count == 0
  std::string largest_key;
};

class SstableBuilder {
 public:
  // Creates `path` (O_CREAT|O_EXCL). IOError when it exists or cannot be made.
  static Task<Result<std::unique_ptr<SstableBuilder>>> create(io::FileSystem& fs, std::string path,
                                                              SstableOptions options);
  ~SstableBuilder();
  SstableBuilder(const SstableBuilder&) = delete;
  SstableBuilder& operator=(const SstableBuilder&) = delete;

  // Appends one entry. InvalidArgument when internal_key does not parse or
  // is not greater than the previous key; the builder is unchanged then.
  Status add(std::string_view internal_key, std::string_view value);

  // True when at least write_buffer_bytes are waiting to be written.
  bool should_flush() const noexcept { return pending_.size() >= options_.write_buffer_bytes; }
  // Writes the bytes encoded so far (complete blocks only).
  Task<Status> flush();

  // Encodes the last data block, the filter, the index and the footer (CPU
  // work only: a store runs it on a worker). REQUIRES: called at most once,
  // and then only finish() or abandon().
  void seal();
  // Seals (unless sealed), writes what is left, datasyncs once and closes
  // the file. REQUIRES: called once, and no other call afterwards.
  Task<Result<SstableInfo>> finish();

  // Closes and removes the file (after an error, or to drop the output).
  Task<Status> abandon();

  // Called with each data block's offset and uncompressed contents as it is
  // encoded (the store fills its block cache with a new file's blocks).
  void set_data_block_observer(std::function<void(std::uint64_t offset, std::string_view contents)> observer) {
    observer_ = std::move(observer);
  }

  std::uint64_t entry_count() const noexcept { return info_.entry_count; }
  // Bytes written plus bytes pending: the file size so far.
  std::uint64_t file_size_estimate() const noexcept {
    return written_ + pending_.size() + data_block_.size_estimate();
  }

 private:
  SstableBuilder(io::FileSystem& fs, std::unique_ptr<io::File> file, std::string path,
                 SstableOptions options);
  // Encodes the current data block into pending_ and indexes it.
  void finish_data_block();
  // Appends an encoded block to pending_; returns its handle.
  BlockHandle append_block(std::string_view contents, CompressionType compression);
  Task<Status> write_pending();
  Error io_error(std::string_view op, std::uint64_t offset, int error) const;

  io::FileSystem& fs_;
  std::unique_ptr<io::File> file_;
  std::string path_;
  SstableOptions options_;
  BlockBuilder data_block_;
  BlockBuilder index_block_;
  BloomFilterBuilder filter_;
  std::string pending_;
  std::uint64_t written_ = 0;
  std::string last_user_key_;
  SstableInfo info_;
  Status failed_;
  bool sealed_ = false;
  std::function<void(std::uint64_t, std::string_view)> observer_;
};

}  // namespace orbit::lsm
