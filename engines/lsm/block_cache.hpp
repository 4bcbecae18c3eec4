// BlockCache: an LRU cache (lru_cache.hpp) of decoded (verified,
// decompressed, parsed) data blocks, keyed by (file number, block offset),
// bounded by the bytes of the blocks it holds (7/8 of block_cache_mb).
//
// The cache hands out shared_ptr<const Block>: an entry evicted while an
// iterator still reads its block stays alive until that iterator lets go.
//
// Index and filter blocks are not in this cache: each open SSTable keeps
// its index block and filter in memory for as long as it is open (they are
// read at open and verified there), so they always "hit".
//
// Threading: the owning loop thread only.
#pragma once

#include <cstdint>
#include <memory>

#include "engines/lsm/block_reader.hpp"
#include "engines/lsm/lru_cache.hpp"

namespace orbit::lsm {

class BlockCache {
 public:
  // capacity_bytes 0: nothing is cached (every lookup misses).
  explicit BlockCache(std::size_t capacity_bytes) : lru_(capacity_bytes) {}

  // The cached block, or null (counted as a hit or, if count_miss, a miss:
  // a probe that falls back to a read which looks again counts once).
  std::shared_ptr<const Block> lookup(std::uint64_t file_number, std::uint64_t offset,
                                      bool count_miss = true);
  // The same without a reference: the block stays valid only until the
  // cache is next changed (insert, erase_file), so only for a lookup that
  // finishes before anything else runs on the loop. Saves the reference
  // count's two atomic updates on the point-read path.
  const Block* peek(std::uint64_t file_number, std::uint64_t offset, bool count_miss = true);
  // Inserts (or replaces) and evicts least recently used blocks past capacity.
  void insert(std::uint64_t file_number, std::uint64_t offset, std::shared_ptr<const Block> block);
  // Drops every block of a file (it was deleted).
  void erase_file(std::uint64_t file_number);

  std::uint64_t hits() const noexcept { return lru_.hits(); }
  std::uint64_t misses() const noexcept { return lru_.misses(); }
  std::size_t usage_bytes() const noexcept { return lru_.usage_bytes(); }
  std::size_t capacity_bytes() const noexcept { return lru_.capacity_bytes(); }
  std::size_t entry_count() const noexcept { return lru_.entry_count(); }

 private:
  struct Key {
    std::uint64_t file = 0;
    std::uint64_t offset = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(k.file * 0x9e3779b97f4a7c15ull ^ (k.offset + (k.offset << 21)));
    }
  };

  LruCache<Key, std::shared_ptr<const Block>, Key, KeyHash> lru_;
};

}  // namespace orbit::lsm
