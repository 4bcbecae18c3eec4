// Memtable: the LSM tree's in-memory write buffer, an ordered map from
// internal key (user key, sequence, Put/Delete) to value.
//
// Why std::map and not a skiplist: every write and every read of a store
// runs on its runtime's single loop thread (coroutines interleave, threads
// do not), so LevelDB's lock-free single-writer/many-reader skiplist buys
// nothing here, and a red-black tree gives the same O(log n) ordered
// insert/seek with iterators that stay valid across inserts, which is the
// property a flush or a scan running across a co_await needs. If readers
// ever move off the loop thread this is the class to replace.
//
// Memory: the tree's nodes and every key and value live in one arena
// (std::pmr::monotonic_buffer_resource, blocks growing geometrically), so
// freeing a flushed memtable frees a few dozen large blocks. With one heap
// allocation per key, value and node, freeing a 64 MB memtable put about
// a million small chunks into malloc's free lists, and the next large
// allocation on the loop thread consolidated them: a 100-200 ms pause of
// every writer, once per flush.
//
// Newest versions: a hash index (in the same arena) maps each user key to
// its newest entry in the tree. A lookup at the newest snapshot (every
// foreground read) is one hash probe instead of a tree descent of ~20
// key comparisons, and a key absent from the memtable is known without
// touching the tree. A new version of a key sorts just before its previous
// newest, so the insert takes that entry as its hint: amortized constant
// instead of a descent. Renewing leases is such an update, over and over.
// The index is sized up front from the expected number of user keys: grown
// by rehashing as it fills, a million keys took 35-45 ms on the loop, a
// pause of every writer. The store passes the previous memtable's count.
//
// Promises: add() never overwrites; each (user key, sequence) is a distinct
// entry. get(key, snapshot) sees the newest entry with sequence <= snapshot.
// approximate_memory_usage() grows monotonically and bounds what the
// entries cost (keys, values and an estimate of per-node overhead).
// Threading: one thread (the owning loop's) at a time, except that once no
// add() will come (an immutable memtable) any threads may read it at once:
// a flush encodes it on a worker while the loop still serves reads from it.
#pragma once

#include <cstddef>
#include <map>
#include <memory_resource>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engines/lsm/format.hpp"

namespace orbit::lsm {

class Memtable {
 private:
  struct Less {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept {
      return internal_key_compare(a, b) < 0;
    }
  };
  // Keys and values view arena bytes.
  using Map = std::pmr::map<std::string_view, std::string_view, Less>;
  // User key (viewing the bytes of its first entry) -> its newest entry.
  using Newest = std::pmr::unordered_map<std::string_view, Map::const_iterator>;

 public:
  // `expected_keys`: distinct user keys it will likely hold (0: grow as needed).
  explicit Memtable(std::size_t expected_keys = 0);
  Memtable(const Memtable&) = delete;
  Memtable& operator=(const Memtable&) = delete;

  // Inserts (user_key, sequence, type) -> value. A Delete's value is
  // ignored (stored empty).
  // REQUIRES: sequence <= kMaxSequenceNumber and (user_key, sequence) not
  // already present (sequences are unique per store).
  void add(SequenceNumber sequence, ValueType type, std::string_view user_key, std::string_view value);

  using LookupState = lsm::LookupState;
  using LookupResult = lsm::LookupResult;
  LookupResult get(std::string_view user_key, SequenceNumber snapshot = kMaxSequenceNumber) const;
  // get() without copying the value: `value` views the entry's own bytes
  // (Found only; valid while the Memtable lives, entries never move).
  struct Found {
    LookupState state = LookupState::NotFound;
    SequenceNumber sequence = 0;
    std::string_view value;
  };
  Found find(std::string_view user_key, SequenceNumber snapshot = kMaxSequenceNumber) const;

  std::size_t approximate_memory_usage() const noexcept { return memory_usage_; }
  // Bytes of the entries themselves: internal keys and values. What a flush
  // writes before prefix compression and block compression.
  std::size_t data_bytes() const noexcept { return data_bytes_; }
  std::size_t entry_count() const noexcept { return map_.size(); }
  std::size_t key_count() const noexcept { return newest_.size(); }  // distinct user keys
  bool empty() const noexcept { return map_.empty(); }

  // Walks every entry (all versions, tombstones included) in internal-key
  // order. Stays valid across add(); invalid once the Memtable is gone.
  class Iterator {
   public:
    explicit Iterator(const Memtable& table) : map_(&table.map_), it_(map_->end()) {}
    bool valid() const noexcept { return it_ != map_->end(); }
    void seek_to_first() { it_ = map_->begin(); }
    // First entry >= internal_key.
    void seek(std::string_view internal_key) { it_ = map_->lower_bound(internal_key); }
    // REQUIRES: valid()
    void next() { ++it_; }
    std::string_view key() const { return it_->first; }  // internal key
    std::string_view value() const { return it_->second; }

   private:
    const Map* map_;
    Map::const_iterator it_;
  };

 private:
  // A red-black tree node: three pointers, a colour word and the two
  // string_views.
  static constexpr std::size_t kNodeOverhead = 32 + 2 * sizeof(std::string_view);
  // A hash node (next pointer, key, iterator, cached hash) and its bucket.
  static constexpr std::size_t kNewestOverhead = 8 + sizeof(std::string_view) + 8 + 8 + 8;
  static constexpr std::size_t kFirstArenaBlock = 64 << 10;

  std::pmr::monotonic_buffer_resource arena_{kFirstArenaBlock};  // outlives map_
  Map map_{&arena_};
  Newest newest_{&arena_};
  std::size_t memory_usage_ = 0;
  std::size_t data_bytes_ = 0;
};

}  // namespace orbit::lsm
