// Block and Block::Iterator: read access to the contents BlockBuilder made
// (after block_trailer.hpp has verified and decompressed them).
//
// Block::parse checks the restart array's bounds once; the iterator checks
// every entry's varints and lengths as it decodes them and, on bad bytes,
// becomes invalid with status() = Corruption naming the block's file and
// offset (the `where` given to parse). Nothing reads outside the contents.
// seek(target) finds the first entry whose key >= target by binary search
// over the restart points, then a scan of at most one restart interval.
// Threading: a Block is immutable and may be shared; an Iterator is used
// by one thread at a time and must not outlive its Block.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engines/lsm/format.hpp"
#include "orbit/result.hpp"

namespace orbit::lsm {

// Where a block lives, for error messages ("sstable <file> offset <n>").
struct BlockLocation {
  std::string file;
  std::uint64_t offset = 0;
};

class Block {
 public:
  // Takes the uncompressed contents. Corruption when the restart array does
  // not fit.
  static Result<std::shared_ptr<const Block>> parse(std::string contents, BlockLocation where,
                                                    KeyCompare compare = internal_key_compare);

  std::size_t size() const noexcept { return contents_.size(); }
  std::uint32_t restart_count() const noexcept { return restart_count_; }
  const BlockLocation& location() const noexcept { return where_; }

  class Iterator {
   public:
    // Keeps the block alive as long as the iterator.
    explicit Iterator(std::shared_ptr<const Block> block);
    // Borrows it: the caller keeps the block alive. For a point lookup,
    // which would otherwise pay two atomic reference-count updates per
    // iterator (two iterators per table).
    explicit Iterator(const Block& block);

    bool valid() const noexcept { return valid_; }
    void seek_to_first();
    // First entry with key >= target; invalid if none (or on corruption).
    void seek(std::string_view target);
    // REQUIRES: valid()
    void next();
    std::string_view key() const noexcept { return key_.view(); }
    std::string_view value() const noexcept { return value_; }
    // Ok, or the Corruption that stopped the iterator.
    const Status& status() const noexcept { return status_; }

   private:
    std::uint32_t restart_offset(std::uint32_t index) const;
    void seek_to_restart(std::uint32_t index);
    struct Entry {
      std::uint64_t shared = 0, non_shared = 0, value_size = 0;
      std::size_t delta = 0;  // offset of the key's non-shared bytes in data_
    };
    // REQUIRES: offset < data_.size()
    bool decode_entry(std::size_t offset, Entry& entry) const noexcept;
    // Decodes the entry at next_offset_; false at the end or on corruption.
    bool parse_next();
    void corrupt(std::string_view what);

    const Block* block_;
    std::shared_ptr<const Block> owner_;  // empty when borrowed
    std::string_view data_;  // entries only, restart array excluded
    std::size_t current_ = 0;
    std::size_t next_offset_ = 0;
    // The current key, rebuilt from the shared prefix and the delta. Inline
    // up to 128 bytes (every key_layout key of a lease fits): a point
    // lookup builds two iterators per table, and a heap key each was a
    // malloc and a free per iterator.
    class KeyBuffer {
     public:
      std::size_t size() const noexcept { return size_; }
      std::string_view view() const noexcept { return {data(), size_}; }
      void clear() noexcept { size_ = 0; }
      // REQUIRES: n <= size()
      void truncate(std::size_t n) noexcept { size_ = n; }
      void append(const char* p, std::size_t n);

     private:
      const char* data() const noexcept { return heap_.empty() ? inline_ : heap_.data(); }
      char inline_[128];
      std::string heap_;  // the whole key, once it has outgrown inline_
      std::size_t size_ = 0;
    };
    KeyBuffer key_;
    std::string_view value_;
    bool valid_ = false;
    Status status_;
  };

 private:
  Block(std::string contents, BlockLocation where, KeyCompare compare, std::uint32_t restart_count)
      : contents_(std::move(contents)),
        where_(std::move(where)),
        compare_(compare),
        restart_count_(restart_count) {}

  std::string contents_;
  BlockLocation where_;
  KeyCompare compare_;
  std::uint32_t restart_count_;
};

}  // namespace orbit::lsm
