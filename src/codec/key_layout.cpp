// Key layout (FORMAT.md, "Keys"). Strings are escaped so that their
// terminator 00 01 sorts below every continuation (00 FF for an embedded
// NUL, or any byte 01..FF), which makes memcmp order of the key equal the
// lexicographic order of the (unsigned-byte) strings it contains.
#include "src/codec/key_layout.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "src/util/coding.hpp"

namespace orbit::codec {
namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedNul = '\xFF';
constexpr char kTerminator = '\x01';
constexpr std::uint64_t kSignBit = 1ull << 63;

// Appends to a buffer the caller sized for the worst case (PrimaryKey).
struct FixedWriter {
  char* end;
  void push_back(char c) noexcept { *end++ = c; }
  void append(const char* bytes, std::size_t n) noexcept {
    std::memcpy(end, bytes, n);
    end += n;
  }
};

// Out: std::string or FixedWriter.
template <typename Out>
void put_escaped(Out& out, std::string_view s) {
  for (char c : s) {
    out.push_back(c);
    if (c == kEscape) out.push_back(kEscapedNul);
  }
  out.push_back(kEscape);
  out.push_back(kTerminator);
}

// Reads one escaped, terminated string from the front of `in`.
bool get_escaped(std::string_view& in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != kEscape) {
      out.push_back(in[i]);
      continue;
    }
    if (i + 1 >= in.size()) return false;
    if (in[i + 1] == kTerminator) {
      in.remove_prefix(i + 2);
      return true;
    }
    if (in[i + 1] != kEscapedNul) return false;
    out.push_back(kEscape);
    ++i;
  }
  return false;  // no terminator
}

template <typename Out>
void put_uuid(Out& out, const Uuid& id) {
  out.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
}

bool get_uuid_exactly(std::string_view in, Uuid& id) {
  if (in.size() != id.bytes.size()) return false;
  for (std::size_t i = 0; i < in.size(); ++i) id.bytes[i] = static_cast<std::uint8_t>(in[i]);
  return true;
}

// Signed nanoseconds with the sign bit flipped: unsigned big-endian order
// of the result equals signed order of the times (pre-epoch sorts first).
std::uint64_t ordered_time(SystemTime t) {
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return static_cast<std::uint64_t>(nanos) ^ kSignBit;
}

SystemTime time_from_ordered(std::uint64_t v) {
  auto nanos = std::chrono::nanoseconds(static_cast<std::int64_t>(v ^ kSignBit));
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(nanos));
}

bool strip_tag(std::string_view& key, char tag) {
  if (key.empty() || key.front() != tag) return false;
  key.remove_prefix(1);
  return true;
}

// The part shared by all three keys: esc(actor_type) 00 01 uuid, ending the key.
std::optional<ActorKey> decode_actor_key_suffix(std::string_view rest) {
  ActorKey key;
  if (!get_escaped(rest, key.actor_type)) return std::nullopt;
  if (!get_uuid_exactly(rest, key.actor_id)) return std::nullopt;
  return key;
}

}  // namespace

std::string primary_key(const ActorKey& key) {
  std::string out(1, kPrimaryTag);
  out.reserve(1 + key.actor_type.size() + 2 + 16);
  put_escaped(out, key.actor_type);
  put_uuid(out, key.actor_id);
  return out;
}

PrimaryKey::PrimaryKey(const ActorKey& key) {
  // Escaping at most doubles the actor type.
  if (1 + 2 * key.actor_type.size() + 2 + key.actor_id.bytes.size() > sizeof inline_) {
    heap_ = primary_key(key);
    data_ = heap_.data();
    size_ = heap_.size();
    return;
  }
  FixedWriter out{inline_};
  out.push_back(kPrimaryTag);
  put_escaped(out, key.actor_type);
  put_uuid(out, key.actor_id);
  size_ = static_cast<std::size_t>(out.end - inline_);
}

std::string actor_type_prefix(std::string_view actor_type) {
  std::string out(1, kPrimaryTag);
  put_escaped(out, actor_type);
  return out;
}

std::string node_index_key(std::string_view node_id, const ActorKey& key) {
  std::string out(1, kNodeIndexTag);
  put_escaped(out, node_id);
  put_escaped(out, key.actor_type);
  put_uuid(out, key.actor_id);
  return out;
}

std::string node_index_prefix(std::string_view node_id) {
  std::string out(1, kNodeIndexTag);
  put_escaped(out, node_id);
  return out;
}

std::string expiry_index_key(SystemTime expires_at, const ActorKey& key) {
  std::string out = expiry_index_bound(expires_at);
  put_escaped(out, key.actor_type);
  put_uuid(out, key.actor_id);
  return out;
}

std::string expiry_index_bound(SystemTime t) {
  std::string out(1, kExpiryIndexTag);
  coding::put_big_endian64(out, ordered_time(t));
  return out;
}

std::string prefix_successor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto last = static_cast<unsigned char>(out.back());
    if (last != 0xFF) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return out;  // empty: no finite successor (prefix empty or all FF)
}

std::optional<ActorKey> decode_primary_key(std::string_view key) {
  if (!strip_tag(key, kPrimaryTag)) return std::nullopt;
  return decode_actor_key_suffix(key);
}

std::optional<ActorKey> decode_node_index_key(std::string_view key) {
  std::string node_id;
  if (!strip_tag(key, kNodeIndexTag) || !get_escaped(key, node_id)) return std::nullopt;
  return decode_actor_key_suffix(key);
}

std::optional<std::string> decode_node_index_node(std::string_view key) {
  std::string node_id;
  if (!strip_tag(key, kNodeIndexTag) || !get_escaped(key, node_id)) return std::nullopt;
  if (!decode_actor_key_suffix(key)) return std::nullopt;
  return node_id;
}

std::optional<ActorKey> decode_expiry_index_key(std::string_view key) {
  if (!strip_tag(key, kExpiryIndexTag) || key.size() < 8) return std::nullopt;
  key.remove_prefix(8);
  return decode_actor_key_suffix(key);
}

std::optional<SystemTime> decode_expiry_index_time(std::string_view key) {
  if (!strip_tag(key, kExpiryIndexTag) || key.size() < 8) return std::nullopt;
  std::uint64_t ordered = coding::decode_big_endian64(key.data());
  key.remove_prefix(8);
  if (!decode_actor_key_suffix(key)) return std::nullopt;
  return time_from_ordered(ordered);
}

namespace {

ScanRange prefix_range(char tag, std::string prefix, std::string skip, std::size_t limit) {
  ScanRange range;
  range.tag = tag;
  range.upper = prefix_successor(prefix);
  range.seek = std::max(std::move(prefix), skip);
  range.skip = std::move(skip);
  range.limit = limit;
  return range;
}

}  // namespace

ScanRange scan_all_range(const std::optional<ActorKey>& start_after, std::size_t limit) {
  return prefix_range(kPrimaryTag, std::string(1, kPrimaryTag), start_after ? primary_key(*start_after) : std::string(),
                      limit);
}

ScanRange actor_type_range(std::string_view actor_type, const std::optional<ActorKey>& start_after,
                           std::size_t limit) {
  return prefix_range(kPrimaryTag, actor_type_prefix(actor_type),
                      start_after ? primary_key(*start_after) : std::string(), limit);
}

ScanRange node_range(std::string_view node_id, const std::optional<ActorKey>& start_after, std::size_t limit) {
  return prefix_range(kNodeIndexTag, node_index_prefix(node_id),
                      start_after ? node_index_key(node_id, *start_after) : std::string(), limit);
}

ScanRange expiring_range(SystemTime before, std::size_t limit) {
  ScanRange range;
  range.tag = kExpiryIndexTag;
  range.seek = std::string(1, kExpiryIndexTag);
  range.upper = expiry_index_bound(before);
  range.limit = limit;
  return range;
}

std::optional<ActorKey> decode_index_key(char tag, std::string_view key) {
  return tag == kNodeIndexTag ? decode_node_index_key(key) : decode_expiry_index_key(key);
}

}  // namespace orbit::codec
