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
// Bounded by the bytes of its entries (keys, values and a per-entry charge),
// least recently used first out. Threading: the owning loop thread only.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace orbit::lsm {

class RowCache {
 public:
  // capacity_bytes 0: nothing is cached (every lookup misses).
  explicit RowCache(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  // The cached value, or null (counted as a hit or a miss). The pointer is
  // valid until the cache is next changed.
  const std::string* lookup(std::string_view key);
  // Caches `value` as the newest value of `key` (replacing what it held)
  // and evicts the least recently used entries past capacity. An entry
  // larger than the whole cache is not kept.
  void insert(std::string_view key, std::string_view value);
  // A change applied to `key`: a cached key takes `value`, or is dropped
  // when `erased` (or when `value` no longer fits). A key not cached stays out.
  void write_through(std::string_view key, bool erased, std::string_view value);

  std::uint64_t hits() const noexcept { return hits_; }
  std::uint64_t misses() const noexcept { return misses_; }
  std::size_t usage_bytes() const noexcept { return usage_; }
  std::size_t capacity_bytes() const noexcept { return capacity_; }
  std::size_t entry_count() const noexcept { return map_.size(); }

  // What an entry costs beyond its key and value bytes: the list node (two
  // pointers, two std::string), the hash node (next pointer, string_view,
  // iterator, cached hash) and its bucket.
  static constexpr std::size_t kEntryOverhead = 16 + 2 * sizeof(std::string) + 8 + 16 + 8 + 8 + 8;

 private:
  struct Entry {
    std::string key;
    std::string value;
  };
  using List = std::list<Entry>;

  static std::size_t charge(const Entry& e) noexcept {
    return e.key.size() + e.value.size() + kEntryOverhead;
  }
  bool fits(std::string_view key, std::string_view value) const noexcept {
    return key.size() + value.size() + kEntryOverhead <= capacity_;
  }
  void replace_value(Entry& e, std::string_view value);
  void erase(List::iterator it);
  void evict_to(std::size_t limit);

  std::size_t capacity_;
  std::size_t usage_ = 0;
  List lru_;                                                  // front: most recently used
  std::unordered_map<std::string_view, List::iterator> map_;  // keys view their Entry's key
  // The first bytes of keys ever inserted. Most changes written are to keys
  // never read by point (a store's index entries) and share no first byte
  // with the cached ones: write_through() passes them without hashing.
  std::bitset<256> first_bytes_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace orbit::lsm
