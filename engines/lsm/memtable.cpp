#include "engines/lsm/memtable.hpp"

#include <cassert>
#include <cstring>

namespace orbit::lsm {

Memtable::Memtable(std::size_t expected_keys) {
  if (expected_keys == 0) return;
  newest_.reserve(expected_keys);
  memory_usage_ += newest_.bucket_count() * sizeof(void*);
}

void Memtable::add(SequenceNumber sequence, ValueType type, std::string_view user_key,
                   std::string_view value) {
  const std::size_t key_size = user_key.size() + kInternalKeyTagSize;
  const std::size_t value_size = type == ValueType::Put ? value.size() : 0;
  char* bytes = static_cast<char*>(arena_.allocate(key_size + value_size, 1));
  encode_internal_key(bytes, user_key, sequence, type);
  if (value_size != 0) std::memcpy(bytes + key_size, value.data(), value_size);
  const std::string_view key(bytes, key_size);
  const std::string_view stored(bytes + key_size, value_size);
  data_bytes_ += key_size + value_size;
  memory_usage_ += kNodeOverhead + key_size + value_size;
  auto [newest, first] = newest_.try_emplace(std::string_view(bytes, user_key.size()), map_.end());
  if (first) {
    memory_usage_ += kNewestOverhead;
    newest->second = map_.emplace(key, stored).first;
    return;
  }
  // (key, sequence) sorts right before the key's newest entry when it is
  // newer (sequences grow in a store), else somewhere after it.
  ParsedInternalKey current;
  [[maybe_unused]] const bool parsed = parse_internal_key(newest->second->first, current);
  assert(parsed);
  if (sequence > current.sequence) {
    [[maybe_unused]] const std::size_t before = map_.size();
    newest->second = map_.emplace_hint(newest->second, key, stored);
    assert(map_.size() == before + 1);
  } else {
    [[maybe_unused]] auto [it, inserted] = map_.emplace(key, stored);
    assert(inserted);
  }
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
  const auto newest = newest_.find(user_key);
  if (newest == newest_.end()) return result;  // no version at all
  Map::const_iterator it = newest->second;
  ParsedInternalKey parsed;
  if (!parse_internal_key(it->first, parsed)) return result;
  if (parsed.sequence > snapshot) {
    // An older snapshot: seek (user_key, snapshot).
    const SeekKey seek_key(user_key, snapshot);
    it = map_.lower_bound(seek_key.view());
    if (it == map_.end() || !parse_internal_key(it->first, parsed) || parsed.user_key != user_key) return result;
  }
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
