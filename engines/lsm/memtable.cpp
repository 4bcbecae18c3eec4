#include "engines/lsm/memtable.hpp"

#include <cassert>
#include <cstring>


namespace orbit::lsm {

void Memtable::add(SequenceNumber sequence, ValueType type, std::string_view user_key,
                   std::string_view value) {
  const std::size_t key_size = user_key.size() + kInternalKeyTagSize;
  const std::size_t value_size = type == ValueType::Put ? value.size() : 0;
  char* bytes = static_cast<char*>(arena_.allocate(key_size + value_size, 1));
  encode_internal_key(bytes, user_key, sequence, type);
  if (value_size != 0) std::memcpy(bytes + key_size, value.data(), value_size);
  [[maybe_unused]] auto [it, inserted] =
      map_.emplace(std::string_view(bytes, key_size), std::string_view(bytes + key_size, value_size));
  assert(inserted);
  data_bytes_ += key_size + value_size;
  memory_usage_ += kNodeOverhead + key_size + value_size;
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
    encode_internal_key(stack, user_key, snapshot, kValueTypeForSeek);
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
