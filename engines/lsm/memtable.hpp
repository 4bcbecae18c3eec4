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
// Memory: the tree's nodes and every key, version and value live in one
// arena (std::pmr::monotonic_buffer_resource, blocks growing geometrically)
// and the hash index in one mapping (two while it grows), so freeing a
// flushed memtable unmaps a few dozen large blocks (never malloc's: see
// PageResource in memtable.cpp). With one heap allocation
// per key, value and node, freeing a 64 MB memtable put about a million
// small chunks into malloc's free lists, and the next large allocation on
// the loop thread consolidated them: a 100-200 ms pause of every writer,
// once per flush.
//
// Layout: each user key has a head (its bytes and its newest version) and
// one node of an ordered map of user keys; its versions hang off the head
// in a chain, newest first, which is internal-key order within the key. So
// a new version of a key already held (a renewal, over and over) is a hash
// probe and a few stores to the key's head: the ordered map is touched only
// by a user key's first version. With one map node per version (the layout
// before), every renewal paid an insert with a hint the map had to check by
// walking to the hint's predecessor, a cache miss or two per write on a
// 64 MB memtable; at 256 writers the memtable's inserts and probes were a
// third of the loop.
//
// The hash index maps each user key to its head: open addressing over
// 16-byte slots (the key's 64-bit hash and the head), at most half full. A
// new version of a held key touches the slot and the head; a lookup at the
// newest snapshot (every foreground read) the slot, the head and the newest
// version; a key absent from the memtable is known from its slot alone. The
// index is sized up front from the expected number of user keys (the store
// passes the previous memtable's count) and grows without a pause when that
// was too few (KeyIndex below).
//
// A user key's first version sorts right after the last first version
// added, when keys arrive in order: an expiry-index key is now + TTL, the
// largest so far. That position is the map insert's hint.
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
#include <memory>
#include <memory_resource>
#include <new>
#include <string>
#include <string_view>

#include "engines/lsm/format.hpp"

namespace orbit::lsm {

class Memtable {
 private:
  // One version of a user key. Its internal key (user key + tag) and value
  // follow it in the same arena allocation.
  struct Version {
    Version* older;  // the next version of the key in internal-key order, or null
    SequenceNumber sequence;
    ValueType type;
    std::uint32_t key_size;  // internal key bytes
    std::uint32_t value_size;
    const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }
    std::string_view internal_key() const noexcept { return {bytes(), key_size}; }
    std::string_view value() const noexcept { return {bytes() + key_size, value_size}; }
  };
  // One user key: its bytes, inline, and its newest version. The hash
  // index points here, so a probe that finds the key touches one place for
  // the key's bytes, its newest version and that version's sequence.
  struct KeyHead {
    Version* newest;
    SequenceNumber newest_sequence;  // newest->sequence, without a trip to the version
    std::uint32_t size;
    const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }
    std::string_view key() const noexcept { return {bytes(), size}; }
  };
  // User key (viewing its KeyHead's bytes) -> its KeyHead.
  using Keys = std::pmr::map<std::string_view, KeyHead*>;
  // The hash index: user key -> its KeyHead. Open addressing with linear
  // probing over 16-byte slots (the key's hash and its head), at most half
  // full. It grows by doubling, and the old table's slots move over a few
  // at each insert while lookups ask both tables: no insert pauses for a
  // whole rehash (a million keys took milliseconds, a stall of every
  // writer). Slots live in anonymous pages, zeroed by the kernel as inserts
  // first touch them: no memset of the whole table on the loop. A table
  // sized up front can instead be faulted in by prefault(), on a worker.
  // Nothing is ever removed.
  class KeyIndex {
   public:
    explicit KeyIndex(std::size_t expected_keys);
    KeyHead* find(std::string_view user_key, std::uint64_t hash) const noexcept;
    void prefetch(std::uint64_t hash) const noexcept;
    // REQUIRES: find(head->key(), hash) == nullptr
    void insert(std::uint64_t hash, KeyHead* head);
    std::size_t reserved_bytes() const noexcept { return reserved_bytes_; }  // grows monotonically
    // Faults in the pages of the table sized up front.
    // REQUIRES: nothing inserted yet.
    void prefault() noexcept;

   private:
    struct Slot {
      std::uint64_t hash;
      KeyHead* head;  // null: free
    };
    struct Unmap {
      std::size_t bytes;
      void operator()(Slot* slots) const noexcept;
    };
    struct Table {
      std::unique_ptr<Slot[], Unmap> slots;
      std::size_t size = 0;  // a power of two, or 0 before the first insert
    };
    static constexpr std::size_t kMinSlots = 16;
    static constexpr std::size_t kMoveStep = 64;  // old slots moved per insert while growing

    Table make_table(std::size_t slots);
    static KeyHead* find_in(const Table& table, std::string_view user_key, std::uint64_t hash) noexcept;
    static void place(Table& table, const Slot& slot) noexcept;
    void move_some() noexcept;

    Table table_;
    Table moving_;  // the table before the last growth, until its slots have moved
    std::size_t moved_ = 0;
    std::size_t keys_ = 0;
    std::size_t reserved_bytes_ = 0;
  };

 public:
  // `expected_keys`: distinct user keys it will likely hold (0: grow as needed).
  explicit Memtable(std::size_t expected_keys = 0);
  Memtable(const Memtable&) = delete;
  Memtable& operator=(const Memtable&) = delete;

  // Faults in the memory sized for expected_keys now rather than a page at
  // a time as add() touches it: for a memtable built off the loop, so the
  // first commits after it takes writes do not pay for it.
  // REQUIRES: nothing added yet.
  void prefault() noexcept;

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

  // Cache hints for a coming add() or find() of `user_key`, which they leave
  // unchanged: prefetch() starts loading the key's index slot, touch()
  // loads the slot and the key's head.
  void prefetch(std::string_view user_key) const noexcept;
  void touch(std::string_view user_key) const noexcept;

  std::size_t approximate_memory_usage() const noexcept { return memory_usage_; }
  // Bytes of the entries themselves: internal keys and values. What a flush
  // writes before prefix compression and block compression.
  std::size_t data_bytes() const noexcept { return data_bytes_; }
  std::size_t entry_count() const noexcept { return entries_; }
  std::size_t key_count() const noexcept { return keys_.size(); }  // distinct user keys
  bool empty() const noexcept { return entries_ == 0; }

  // Walks every entry (all versions, tombstones included) in internal-key
  // order. Stays valid across add(); invalid once the Memtable is gone.
  class Iterator {
   public:
    explicit Iterator(const Memtable& table) : keys_(&table.keys_), it_(keys_->end()) {}
    bool valid() const noexcept { return version_ != nullptr; }
    void seek_to_first() { at_key(keys_->begin()); }
    // First entry >= internal_key.
    // REQUIRES: internal_key.size() >= kInternalKeyTagSize
    void seek(std::string_view internal_key);
    // REQUIRES: valid()
    void next() {
      version_ = version_->older;
      if (version_ == nullptr) at_key(std::next(it_));
    }
    // REQUIRES: valid(). Skips the current user key's older versions: the
    // next entry is the newest version of the next user key. A flush walks
    // only what it writes: a memtable of renewals holds many versions per key.
    void next_key() { at_key(std::next(it_)); }
    std::string_view key() const { return version_->internal_key(); }
    std::string_view value() const { return version_->value(); }

   private:
    void at_key(Keys::const_iterator it) {
      it_ = it;
      version_ = it == keys_->end() ? nullptr : it->second->newest;
    }
    const Keys* keys_;
    Keys::const_iterator it_;
    const Version* version_ = nullptr;
  };

 private:
  // A red-black tree node: three pointers, a colour word, the key and the
  // head pointer.
  static constexpr std::size_t kKeyOverhead = 32 + sizeof(std::string_view) + sizeof(KeyHead*);
  static constexpr std::size_t kFirstArenaBlock = 64 << 10;

  static std::pmr::memory_resource* pages() noexcept;  // the arena's upstream

  std::pmr::monotonic_buffer_resource arena_{kFirstArenaBlock, pages()};  // outlives keys_
  // Lives in the arena with its nodes, which hold only views and pointers,
  // and is never destroyed: the arena's release frees it all, where the
  // map's destructor would first visit every node (milliseconds for a full
  // memtable).
  Keys& keys_ = *new (arena_.allocate(sizeof(Keys), alignof(Keys))) Keys(&arena_);
  Keys::iterator last_first_ = keys_.end();  // the last user key added
  KeyIndex index_;
  std::size_t entries_ = 0;
  std::size_t memory_usage_ = 0;
  std::size_t data_bytes_ = 0;
};

}  // namespace orbit::lsm
