#include "engines/lsm/row_cache.hpp"

namespace orbit::lsm {

const std::string* RowCache::lookup(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->value;
}

void RowCache::insert(std::string_view key, std::string_view value) {
  auto it = map_.find(key);
  if (!fits(key, value)) {
    // Kept, it would push out everything else and then itself.
    if (it != map_.end()) erase(it->second);
    return;
  }
  if (it != map_.end()) {
    replace_value(*it->second, value);
    lru_.splice(lru_.begin(), lru_, it->second);
  } else {
    if (!key.empty()) first_bytes_.set(static_cast<unsigned char>(key.front()));
    lru_.push_front(Entry{std::string(key), std::string(value)});
    map_.emplace(lru_.front().key, lru_.begin());
    usage_ += charge(lru_.front());
  }
  evict_to(capacity_);
}

void RowCache::write_through(std::string_view key, bool erased, std::string_view value) {
  if (map_.empty() || (!key.empty() && !first_bytes_.test(static_cast<unsigned char>(key.front())))) return;
  auto it = map_.find(key);
  if (it == map_.end()) return;
  if (erased || !fits(key, value)) {
    erase(it->second);
    return;
  }
  replace_value(*it->second, value);
  evict_to(capacity_);
}

void RowCache::replace_value(Entry& e, std::string_view value) {
  usage_ = usage_ - e.value.size() + value.size();
  e.value.assign(value);
}

void RowCache::erase(List::iterator it) {
  usage_ -= charge(*it);
  map_.erase(std::string_view(it->key));
  lru_.erase(it);
}

void RowCache::evict_to(std::size_t limit) {
  while (usage_ > limit && !lru_.empty()) erase(std::prev(lru_.end()));
}

}  // namespace orbit::lsm
