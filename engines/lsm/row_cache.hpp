// RowCache: the newest value of keys last read from the SSTables, so that a
// lease read again after its memtable was flushed is one hash probe rather
// than a walk of the levels (filter, index and block search per table).
//
// Why: a renewal reads its lease before it writes it, and an actor system
// reads hot leases again and again. Once the memtable holding a lease's
// last version is flushed, that read goes to the SSTables: a filter probe
// per candidate table, an index search, a block search. Measured (README):
// a hot SSTable-resident get went from 0.48-0.50 us to 0.18-0.19 us; at 256
// writers with 2 MB memtables the mixed reads' p50 from 1.4-1.7 to 1.0-1.1
// us, with the write throughput unchanged (the loop's share in point reads
// went from ~12-14% of its samples to ~7%, inside the run-to-run noise).
// RocksDB has the same idea (row_cache).
//
// The contract that keeps it exact: every key it holds maps to the key's
// newest value. The store fills it only from a lookup at the newest
// sequence that ran without suspending (nothing could be applied between
// the lookup and the fill), and passes every applied change through
// write_through(): a cached key takes the new value, or leaves on a delete.
// Keys it does not hold are not added by writes (the memtable has them).
// Flushes and compactions move versions between files without changing
// any key's newest value, so they need not touch it.
//
// An LRU cache (lru_cache.hpp) bounded by the bytes of its entries (keys,
// values and a per-entry charge; 1/8 of block_cache_mb). Threading: the
// owning loop thread only.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engines/lsm/lru_cache.hpp"

namespace orbit::lsm {

class RowCache {
 public:
  // capacity_bytes 0: nothing is cached (every lookup misses).
  explicit RowCache(std::size_t capacity_bytes) : lru_(capacity_bytes) {}

  // The cached value, or null (counted as a hit or a miss). The pointer is
  // valid until the cache is next changed.
  const std::string* lookup(std::string_view key) { return lru_.find(key); }
  // Caches `value` as the newest value of `key` (replacing what it held)
  // and evicts the least recently used entries past capacity. An entry
  // larger than the whole cache is not kept.
  void insert(std::string_view key, std::string_view value);
  // A change applied to `key`: a cached key takes `value`, or is dropped
  // when `erased` (or when `value` no longer fits). A key not cached stays out.
  void write_through(std::string_view key, bool erased, std::string_view value);

  std::uint64_t hits() const noexcept { return lru_.hits(); }
  std::uint64_t misses() const noexcept { return lru_.misses(); }
  std::size_t usage_bytes() const noexcept { return lru_.usage_bytes(); }
  std::size_t capacity_bytes() const noexcept { return lru_.capacity_bytes(); }
  std::size_t entry_count() const noexcept { return lru_.entry_count(); }

  // What an entry costs beyond its key and value bytes: the list node (two
  // pointers, two std::string, the charge), the hash node (next pointer,
  // string_view, iterator, cached hash) and its bucket.
  static constexpr std::size_t kEntryOverhead = 16 + 2 * sizeof(std::string) + 8 + 8 + 16 + 8 + 8 + 8;
  static constexpr std::size_t charge(std::string_view key, std::string_view value) noexcept {
    return key.size() + value.size() + kEntryOverhead;
  }

 private:
  LruCache<std::string, std::string, std::string_view> lru_;
  // The first bytes of keys ever inserted. Most changes written are to keys
  // never read by point (a store's index entries) and share no first byte
  // with the cached ones: write_through() passes them without hashing.
  std::bitset<256> first_bytes_;
};

}  // namespace orbit::lsm
