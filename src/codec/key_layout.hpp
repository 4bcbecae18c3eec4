// Key layout: how leases and their secondary orders map onto byte-ordered keys.
//
// Every backend stores leases under byte strings whose memcmp order is the
// order the API promises, so scans are range scans everywhere:
//   primary  'L' esc(actor_type) 00 01 uuid[16]                 -> encoded lease
//   by node  'N' esc(node_id) 00 01 esc(actor_type) 00 01 uuid  -> empty
//   expiry   'E' be64(expires_at ns XOR 2^63) esc(actor_type) 00 01 uuid -> empty
// esc() writes every 0x00 byte as 00 FF, so 00 01 terminates a string and
// no string is a prefix-collision of another. Times are signed nanoseconds
// since the Unix epoch (system_clock's own tick on Linux, so exact) with the
// sign bit flipped, so pre-epoch times sort first. memcmp order of the keys
// is: primary = ActorKey order (actor_type bytes as unsigned, then uuid
// bytes); node index = node_id, then ActorKey; expiry = time, then ActorKey.
// Layout in src/codec/FORMAT.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "orbit/lease.hpp"

namespace orbit::codec {

inline constexpr char kPrimaryTag = 'L';
inline constexpr char kNodeIndexTag = 'N';
inline constexpr char kExpiryIndexTag = 'E';

std::string primary_key(const ActorKey& key);
// primary_key(key) in a buffer of its own, built without allocating when
// the escaped actor type fits inline (every point read builds one).
class PrimaryKey {
 public:
  explicit PrimaryKey(const ActorKey& key);
  PrimaryKey(const PrimaryKey&) = delete;
  PrimaryKey& operator=(const PrimaryKey&) = delete;
  std::string_view view() const noexcept { return {data_, size_}; }

 private:
  char inline_[96];
  std::string heap_;  // the key when it does not fit inline_
  const char* data_ = inline_;
  std::size_t size_ = 0;
};
// All primary keys of one actor type start with this; the next prefix after
// it (exclusive upper bound) is prefix_successor(prefix).
std::string actor_type_prefix(std::string_view actor_type);

std::string node_index_key(std::string_view node_id, const ActorKey& key);
std::string node_index_prefix(std::string_view node_id);

std::string expiry_index_key(SystemTime expires_at, const ActorKey& key);
// Every expiry key for a time strictly before `t` sorts before this, every
// one for a time at or after `t` sorts after it. It is also the prefix of
// all expiry keys for exactly `t`.
std::string expiry_index_bound(SystemTime t);

// The smallest key greater than every key starting with `prefix`; empty
// (meaning "no upper bound") when `prefix` is empty or all 0xFF bytes.
std::string prefix_successor(std::string_view prefix);

// The key range one scan of the public API reads: keys from `seek` up to
// `upper` (exclusive; empty = no bound) of the order `tag`, leaving out
// `skip` (the start_after key of a paged scan; empty = none), at most
// `limit` results (0 = all). Index orders ('N', 'E') name the primary key
// of each result; the primary order holds the leases themselves.
struct ScanRange {
  char tag = kPrimaryTag;
  std::string seek;
  std::string skip;
  std::string upper;
  std::size_t limit = 0;
};
ScanRange scan_all_range(const std::optional<ActorKey>& start_after, std::size_t limit);
ScanRange actor_type_range(std::string_view actor_type, const std::optional<ActorKey>& start_after,
                           std::size_t limit);
ScanRange node_range(std::string_view node_id, const std::optional<ActorKey>& start_after, std::size_t limit);
// Expiry strictly before `before`, earliest first.
ScanRange expiring_range(SystemTime before, std::size_t limit);
// The key an index entry of `tag` names (nullopt when it does not decode).
std::optional<ActorKey> decode_index_key(char tag, std::string_view key);

// Back from keys to ActorKeys (nullopt when the bytes are not such a key).
std::optional<ActorKey> decode_primary_key(std::string_view key);
std::optional<ActorKey> decode_node_index_key(std::string_view key);
std::optional<ActorKey> decode_expiry_index_key(std::string_view key);
// The other parts of the secondary keys (nullopt when not such a key).
std::optional<std::string> decode_node_index_node(std::string_view key);
std::optional<SystemTime> decode_expiry_index_time(std::string_view key);

}  // namespace orbit::codec
