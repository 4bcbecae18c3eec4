#include "src/kv/changes.hpp"

#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"
#include "src/util/coding.hpp"

namespace orbit::kv {
namespace {

// Entry formats (FORMAT.md). 1: deltas, count, and a kind byte per change;
// still read, no longer written. 2 and 3: the change kind in the low bit
// of the key length; 3 carries the live-set delta, 2 leaves it out as zero
// (every renewal). A renewal's entry is 6 bytes shorter than in format 1.
constexpr std::uint8_t kFormatCounted = 1;
constexpr std::uint8_t kFormatCompact = 2;
constexpr std::uint8_t kFormatCompactWithDelta = 3;
constexpr std::uint8_t kPut = 1;
constexpr std::uint8_t kErase = 2;
// Keys are bounded by the lease limits (255-byte names, escaped); values by
// the 64 KiB custom_data limit plus the lease's fixed fields.
constexpr std::uint64_t kMaxKey = 4096;
constexpr std::uint64_t kMaxValue = 1u << 20;

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void add_counter(std::uint64_t& counter, std::int64_t delta) {
  counter = delta < 0 && static_cast<std::uint64_t>(-delta) > counter ? 0 : counter + static_cast<std::uint64_t>(delta);
}

}  // namespace

LiveCounts& LiveCounts::operator+=(const LiveDelta& delta) noexcept {
  add_counter(keys, delta.keys);
  add_counter(key_bytes, delta.key_bytes);
  add_counter(value_bytes, delta.value_bytes);
  return *this;
}

Result<StoredLease> stored_lease(const ActorKey& key, std::string_view value) {
  auto lease = codec::decode_lease(value);
  if (!lease) {
    Error error = std::move(lease).error();
    error.message = "stored lease " + key.to_string() + ": " + error.message;
    return error;
  }
  return StoredLease{std::move(lease->node_id), lease->expires_at, value.size()};
}

std::optional<StoredLease> add_op_changes(const BatchOp& op, const std::optional<StoredLease>& before,
                                          std::vector<KvChange>& out, LiveDelta& delta) {
  const ActorKey& key = op.lease.key;
  std::string primary = codec::primary_key(key);
  if (op.kind == BatchOp::Kind::Remove) {
    if (!before) return std::nullopt;
    out.push_back({codec::node_index_key(before->node_id, key), {}, true});
    out.push_back({codec::expiry_index_key(before->expires_at, key), {}, true});
    delta.keys -= 1;
    delta.key_bytes -= static_cast<std::int64_t>(primary.size());
    delta.value_bytes -= static_cast<std::int64_t>(before->value_size);
    out.push_back({std::move(primary), {}, true});
    return std::nullopt;
  }

  const Lease& lease = op.lease;
  std::string value = codec::encode_lease(lease);
  // An index entry that stays where it is (a renewal keeps its node) is
  // already stored, empty: it is not written again. An index key is equal
  // exactly when its node (or expiry) is: no need to build both to compare.
  bool node_moved = true;
  bool expiry_moved = true;
  if (before) {
    node_moved = before->node_id != lease.node_id;
    if (node_moved) out.push_back({codec::node_index_key(before->node_id, key), {}, true});
    expiry_moved = before->expires_at != lease.expires_at;
    if (expiry_moved) out.push_back({codec::expiry_index_key(before->expires_at, key), {}, true});
    delta.value_bytes += static_cast<std::int64_t>(value.size()) - static_cast<std::int64_t>(before->value_size);
  } else {
    delta.keys += 1;
    delta.key_bytes += static_cast<std::int64_t>(primary.size());
    delta.value_bytes += static_cast<std::int64_t>(value.size());
  }
  StoredLease after{lease.node_id, lease.expires_at, value.size()};
  if (node_moved) out.push_back({codec::node_index_key(lease.node_id, key), {}, false});
  if (expiry_moved) out.push_back({codec::expiry_index_key(lease.expires_at, key), {}, false});
  out.push_back({std::move(primary), std::move(value), false});
  return after;
}

void encode_log_entry(const LogEntry& entry, std::string& out) {
  // Grown once: a format byte, three deltas and a count, then per change
  // two lengths beside its bytes (varints of at most 10 bytes each).
  std::size_t bound = 1 + 4 * 10;
  for (const KvChange& change : entry.changes) bound += 2 * 10 + change.key.size() + change.value.size();
  out.reserve(out.size() + bound);
  const LiveDelta& d = entry.delta;
  if (d.keys == 0 && d.key_bytes == 0 && d.value_bytes == 0) {
    out.push_back(static_cast<char>(kFormatCompact));
  } else {
    out.push_back(static_cast<char>(kFormatCompactWithDelta));
    coding::put_varint64(out, zigzag(d.keys));
    coding::put_varint64(out, zigzag(d.key_bytes));
    coding::put_varint64(out, zigzag(d.value_bytes));
  }
  coding::put_varint64(out, entry.changes.size());
  for (const KvChange& change : entry.changes) {
    coding::put_varint64(out, (std::uint64_t{change.key.size()} << 1) | (change.erase ? 1u : 0u));
    out.append(change.key);
    if (!change.erase) coding::put_length_prefixed(out, change.value);
  }
}

Result<LogEntry> decode_log_entry(std::string_view bytes) {
  coding::Reader in(bytes);
  auto bad = [&](const char* what) {
    return make_error(ErrorCode::Corruption, "log entry of " + std::to_string(bytes.size()) + " bytes, at byte " +
                                                 std::to_string(in.consumed_from(bytes)) + ": " + what);
  };
  std::uint8_t format = 0;
  if (!in.get_u8(format)) return bad("empty");
  if (format != kFormatCounted && format != kFormatCompact && format != kFormatCompactWithDelta)
    return bad(("unknown entry format " + std::to_string(format) + " (this build reads formats 1 to 3)").c_str());
  LogEntry entry;
  if (format != kFormatCompact) {
    std::uint64_t keys = 0, key_bytes = 0, value_bytes = 0;
    if (!in.get_varint64(keys) || !in.get_varint64(key_bytes) || !in.get_varint64(value_bytes))
      return bad("truncated live-set delta");
    entry.delta = {unzigzag(keys), unzigzag(key_bytes), unzigzag(value_bytes)};
  }
  std::uint64_t count = 0;
  if (!in.get_varint64(count)) return bad("truncated change count");
  if (count > in.remaining()) return bad("change count larger than the entry");
  entry.changes.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    bool erase = false;
    std::uint64_t key_size = 0;
    if (format == kFormatCounted) {
      std::uint8_t kind = 0;
      if (!in.get_u8(kind)) return bad("truncated change");
      if (kind != kPut && kind != kErase) return bad("unknown change kind");
      erase = kind == kErase;
      if (!in.get_varint64(key_size)) return bad("bad key length");
    } else {
      if (!in.get_varint64(key_size)) return bad("truncated change");
      erase = (key_size & 1) != 0;
      key_size >>= 1;
    }
    std::string_view key, value;
    if (key_size == 0 || key_size > kMaxKey || !in.get_bytes(static_cast<std::size_t>(key_size), key))
      return bad("bad key length");
    if (!erase && !in.get_length_prefixed(value, kMaxValue)) return bad("bad value length");
    entry.changes.push_back({std::string(key), std::string(value), erase});
  }
  if (in.remaining() != 0) return bad("trailing bytes after the last change");
  return entry;
}

}  // namespace orbit::kv
