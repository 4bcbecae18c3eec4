#include "engines/lsm/memtable.hpp"

#include <cassert>
#include <cstring>

#include "src/util/coding.hpp"

namespace orbit::lsm {

void Memtable::add(SequenceNumber sequence, ValueType type, std::string_view user_key,
                   std::string_view value) {
  std::string key = make_internal_key(user_key, sequence, type);
  std::string stored = type == ValueType::Put ? std::string(value) : std::string();
  // Heap bytes beyond the small-string buffer are what the strings cost.
  std::size_t cost = kNodeOverhead + key.capacity() + stored.capacity();
  data_bytes_ += key.size() + stored.size();
  [[maybe_unused]] auto [it, inserted] = map_.emplace(std::move(key), std::move(stored));
  assert(inserted);
  memory_usage_ += cost;
}

Memtable::LookupResult Memtable::get(std::string_view user_key, SequenceNumber snapshot) const {
  const Found found = find(user_key, snapshot);
  LookupResult result;
  result.state = found.state;
  result.sequence = found.sequence;
  result.value = found.value;
  return result;
}

Memtable::Found Memtable::find(std::string_view user_key, SequenceNumber snapshot) const {
  Found result;
  // The seek key on the stack when it fits: a hot read allocates nothing.
  char stack[128];
  std::string heap;
  std::string_view seek_key;
  if (user_key.size() + kInternalKeyTagSize <= sizeof stack) {
    std::memcpy(stack, user_key.data(), user_key.size());
    coding::encode_fixed64(stack + user_key.size(), (snapshot << 8) | static_cast<std::uint8_t>(kValueTypeForSeek));
    seek_key = std::string_view(stack, user_key.size() + kInternalKeyTagSize);
  } else {
    heap = make_internal_key(user_key, snapshot, kValueTypeForSeek);
    seek_key = heap;
  }
  auto it = map_.lower_bound(seek_key);
  if (it == map_.end()) return result;
  ParsedInternalKey parsed;
  if (!parse_internal_key(it->first, parsed) || parsed.user_key != user_key) return result;
  result.sequence = parsed.sequence;
  if (parsed.type == ValueType::Delete) {
    result.state = LookupState::Deleted;
  } else {
    result.state = LookupState::Found;
    result.value = it->second;
  }
  return result;
}

}  // namespace orbit::lsm
