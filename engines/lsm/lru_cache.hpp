// LruCache: the bookkeeping the LSM tree's two caches share (BlockCache:
// data blocks by file and offset; RowCache: newest values by key): entries
// charged in bytes, bounded by a capacity, the least recently used evicted
// first, hits and misses counted.
//
// Key is what an entry keeps; View is what the map and the callers look it
// up by (a std::string key is looked up by std::string_view, without a
// copy). The map's views point into the entries' own keys, which never move
// (std::list). An entry charged more than the whole capacity is not kept:
// it would push out every other entry and then itself.
//
// Why not sharded or locked: every read of a store runs on its runtime's
// single loop thread. Threading: the owning loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <list>
#include <unordered_map>
#include <utility>

namespace orbit::lsm {

template <typename Key, typename Value, typename View = Key, typename Hash = std::hash<View>>
class LruCache {
 public:
  // capacity_bytes 0: nothing is cached (every lookup misses).
  explicit LruCache(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // The cached value, now the most recently used, or null: counted as a hit
  // or (if count_miss) a miss. Valid until the cache is next changed.
  Value* find(View key, bool count_miss = true) {
    auto it = map_.find(key);
    if (it == map_.end()) {
      if (count_miss) ++misses_;
      return nullptr;
    }
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return &it->second->value;
  }

  // Inserts (or replaces) key -> value, charged `charge` bytes, and evicts
  // the least recently used entries past capacity.
  void insert(View key, Value value, std::size_t charge) {
    if (auto it = map_.find(key); it != map_.end()) erase(it->second);
    if (charge > capacity_) return;
    lru_.push_front(Entry{Key(key), std::move(value), charge});
    map_.emplace(View(lru_.front().key), lru_.begin());
    usage_ += charge;
    evict_to(capacity_);
  }

  // Lets `change(Value&)` rewrite a cached value in place, without making
  // it more recent; it returns the entry's new charge (0: drop the entry).
  // False when `key` is not cached (`change` is not called).
  template <typename Change>
  bool update(View key, Change&& change) {
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    const typename List::iterator entry = it->second;
    const std::size_t charge = std::forward<Change>(change)(entry->value);
    if (charge == 0 || charge > capacity_) {
      erase(entry);
      return true;
    }
    usage_ = usage_ - entry->charge + charge;
    entry->charge = charge;
    evict_to(capacity_);
    return true;
  }

  // Drops every entry whose key satisfies `pred(const Key&)`.
  template <typename Pred>
  void erase_if(Pred&& pred) {
    for (auto it = lru_.begin(); it != lru_.end();) {
      auto next = std::next(it);
      if (pred(it->key)) erase(it);
      it = next;
    }
  }

  std::uint64_t hits() const noexcept { return hits_; }
  std::uint64_t misses() const noexcept { return misses_; }
  std::size_t usage_bytes() const noexcept { return usage_; }
  std::size_t capacity_bytes() const noexcept { return capacity_; }
  std::size_t entry_count() const noexcept { return map_.size(); }
  bool empty() const noexcept { return map_.empty(); }

 private:
  struct Entry {
    Key key;
    Value value;
    std::size_t charge = 0;
  };
  using List = std::list<Entry>;

  void erase(typename List::iterator entry) {
    usage_ -= entry->charge;
    map_.erase(View(entry->key));
    lru_.erase(entry);
  }
  void evict_to(std::size_t limit) {
    while (usage_ > limit && !lru_.empty()) erase(std::prev(lru_.end()));
  }

  std::size_t capacity_;
  std::size_t usage_ = 0;
  List lru_;  // front: most recently used
  std::unordered_map<View, typename List::iterator, Hash> map_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace orbit::lsm
