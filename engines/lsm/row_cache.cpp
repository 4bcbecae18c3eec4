#include "engines/lsm/row_cache.hpp"

namespace orbit::lsm {

void RowCache::insert(std::string_view key, std::string_view value) {
  if (!key.empty()) first_bytes_.set(static_cast<unsigned char>(key.front()));
  lru_.insert(key, std::string(value), charge(key, value));
}

void RowCache::write_through(std::string_view key, bool erased, std::string_view value) {
  if (lru_.empty() || (!key.empty() && !first_bytes_.test(static_cast<unsigned char>(key.front())))) return;
  lru_.update(key, [&](std::string& cached) -> std::size_t {
    if (erased) return 0;
    cached.assign(value);
    return charge(key, value);
  });
}

}  // namespace orbit::lsm
