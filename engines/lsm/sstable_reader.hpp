// SstableReader: read access to one SSTable written by SstableBuilder.
//
// open() reads and checks the footer, the header, the index block and the
// filter block, and keeps the index and filter in memory; data blocks are
// read on demand, through the store's BlockCache when one is attached. get() asks the bloom filter
// first and reads at most one data block. Iterator walks every entry (all
// versions and tombstones) in internal-key order, one data block in memory
// at a time.
//
// Errors: any checksum, magic, version, bounds or decoding failure is
// Corruption naming the file and the offset of the bad block or footer;
// a failed read is IOError with file and offset. Nothing is cached from a
// block that failed its checksum.
// Threading: the owning runtime's loop thread. The reader must outlive its
// iterators.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engines/lsm/block_cache.hpp"
#include "engines/lsm/block_reader.hpp"
#include "engines/lsm/format.hpp"
#include "engines/lsm/sstable_footer.hpp"
#include "io/file_system.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::lsm {

class SstableReader {
 public:
  static Task<Result<std::unique_ptr<SstableReader>>> open(io::FileSystem& fs, std::string path);
  ~SstableReader();
  SstableReader(const SstableReader&) = delete;
  SstableReader& operator=(const SstableReader&) = delete;

  // The newest version of user_key with sequence <= snapshot in this file.
  Task<Result<LookupResult>> get(std::string user_key, SequenceNumber snapshot = kMaxSequenceNumber);

  // get() without I/O: true (and `out` filled) when the answer needs no
  // read, because the bloom filter rules the key out or the data block is
  // in the cache; false when get() must read the file.
  bool get_without_io(std::string_view user_key, SequenceNumber snapshot, LookupResult& out);

  // Data blocks go through `cache` (may be null) under `file_number`.
  void attach_block_cache(BlockCache* cache, std::uint64_t file_number) noexcept {
    cache_ = cache;
    file_number_ = file_number;
  }
  // False only when the filter rules the key out (true without a filter).
  bool may_contain(std::string_view user_key) const noexcept;
  const SstableFooter& footer() const noexcept { return footer_; }
  const std::shared_ptr<const Block>& index_block() const noexcept { return index_; }
  const std::string& filter() const noexcept { return filter_; }

  const std::string& path() const noexcept { return path_; }
  std::uint64_t file_size() const noexcept { return file_size_; }
  std::uint64_t entry_count() const noexcept { return footer_.entry_count; }
  bool has_filter() const noexcept { return !filter_.empty(); }

  // Counters for tests and stats: data blocks read from the file, and
  // lookups the bloom filter answered without reading one.
  std::uint64_t data_blocks_read() const noexcept { return data_blocks_read_; }
  std::uint64_t filter_negatives() const noexcept { return filter_negatives_; }

  Task<Status> close();

  // `size` bytes at `offset` (IOError, or Corruption when the file is
  // shorter). A compaction reads runs of data blocks with it.
  Task<Result<std::string>> read_exact(std::uint64_t offset, std::uint64_t size);
  // Decodes an index entry's value and checks it lies in the data region.
  Result<BlockHandle> data_handle(std::string_view encoded, std::uint64_t index_entry_offset) const;

  class Iterator {
   public:
    explicit Iterator(SstableReader& reader);

    bool valid() const noexcept { return data_ != nullptr && data_->valid(); }
    // Each positions the iterator; on error it becomes invalid and the
    // error is returned (and kept in status()).
    Task<Status> seek_to_first();
    // First entry with internal key >= target.
    Task<Status> seek(std::string target);
    // REQUIRES: valid()
    Task<Status> next();
    std::string_view key() const noexcept { return data_->key(); }  // internal key
    std::string_view value() const noexcept { return data_->value(); }
    const Status& status() const noexcept { return status_; }

   private:
    // Loads the data block the index iterator points at, then skips
    // forward past empty blocks; `target` empty means "from its start".
    Task<Status> load_block_at_index(const std::string* target);
    Status fail(Status status);

    SstableReader& reader_;
    Block::Iterator index_;
    std::unique_ptr<Block::Iterator> data_;
    Status status_;
  };

 private:
  SstableReader(std::unique_ptr<io::File> file, std::string path, std::uint64_t file_size);
  // Reads, verifies and parses the block at `handle`; data blocks go
  // through the block cache.
  Task<Result<std::shared_ptr<const Block>>> read_block(BlockHandle handle, bool data_block = false);
  // Looks `target` up in `block`: fills `result` (NotFound when absent).
  Status lookup_in_block(const Block& block, std::uint64_t block_offset, std::string_view user_key,
                         std::string_view target, LookupResult& result) const;
  Error corruption(std::uint64_t offset, std::string_view what) const;

  std::unique_ptr<io::File> file_;
  std::string path_;
  std::uint64_t file_size_ = 0;
  SstableFooter footer_;
  std::shared_ptr<const Block> index_;
  std::string filter_;
  std::uint64_t data_blocks_read_ = 0;
  std::uint64_t filter_negatives_ = 0;
  BlockCache* cache_ = nullptr;
  std::uint64_t file_number_ = 0;
};

}  // namespace orbit::lsm
