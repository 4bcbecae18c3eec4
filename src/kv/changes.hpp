// What one lease write does to the shared key layout, and how it is logged.
//
// The COW and LSM engines keep the key layout of src/codec/key_layout.hpp
// in an ordered key-value structure: the primary 'L' key holds the encoded
// lease, the 'N' (by node) and 'E' (by expiry) index keys hold nothing. A
// write of a lease therefore changes up to five keys (the primary, the new
// index entries, the old ones that moved); an index entry that stays where
// it was is not written again. add_op_changes() turns one
// BatchOp and the lease stored before it into those KvChanges, and the
// change of the live set (LiveDelta) that StorageStats counts.
//
// The engines log the resulting changes, not the ops: replay then needs no
// reads (an LSM store would otherwise read SSTables to learn which index
// entries a replayed write replaced) and gives the same state every time.
// A LogEntry is one writer's changes; FORMAT.md documents its bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orbit/lease.hpp"
#include "orbit/provider.hpp"
#include "orbit/result.hpp"

namespace orbit::kv {

struct KvChange {
  std::string key;
  std::string value;   // empty for an erase and for index entries
  bool erase = false;  // true: remove `key`
};

// Change of the live set (primary keys only).
struct LiveDelta {
  std::int64_t keys = 0;
  std::int64_t key_bytes = 0;    // bytes of primary keys
  std::int64_t value_bytes = 0;  // bytes of encoded leases
  LiveDelta& operator+=(const LiveDelta& other) noexcept {
    keys += other.keys;
    key_bytes += other.key_bytes;
    value_bytes += other.value_bytes;
    return *this;
  }
};

// The live set itself, as StorageStats reports it and engines persist it.
struct LiveCounts {
  std::uint64_t keys = 0;
  std::uint64_t key_bytes = 0;
  std::uint64_t value_bytes = 0;
  LiveCounts& operator+=(const LiveDelta& delta) noexcept;
};

// What the indexes need to know about a stored lease.
struct StoredLease {
  std::string node_id;
  SystemTime expires_at{};
  std::size_t value_size = 0;
};

// Decodes the stored value of `key`'s primary entry; the error names the key.
Result<StoredLease> stored_lease(const ActorKey& key, std::string_view value);

// Appends to `out` the changes `op` makes given `before` (the lease stored
// now, nullopt if none) and adds its effect to `delta`. Returns what is
// stored afterwards. A Remove of an absent lease changes nothing.
std::optional<StoredLease> add_op_changes(const BatchOp& op, const std::optional<StoredLease>& before,
                                          std::vector<KvChange>& out, LiveDelta& delta);

// One writer's logged changes: replayed all together or not at all.
struct LogEntry {
  LiveDelta delta;
  std::vector<KvChange> changes;
};

void encode_log_entry(const LogEntry& entry, std::string& out);
// Corruption (naming the byte offset inside the entry) on malformed input.
Result<LogEntry> decode_log_entry(std::string_view bytes);

}  // namespace orbit::kv
