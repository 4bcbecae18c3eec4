#include "engines/lsm/block_cache.hpp"

namespace orbit::lsm {
namespace {
// What an entry costs beyond its block's bytes (list node, map node, Block).
constexpr std::size_t kEntryOverhead = 128;
}  // namespace

std::shared_ptr<const Block> BlockCache::lookup(std::uint64_t file_number, std::uint64_t offset, bool count_miss) {
  const Block* block = peek(file_number, offset, count_miss);
  return block == nullptr ? nullptr : lru_.front().block;  // peek moved it to the front
}

const Block* BlockCache::peek(std::uint64_t file_number, std::uint64_t offset, bool count_miss) {
  auto it = map_.find(Key{file_number, offset});
  if (it == map_.end()) {
    if (count_miss) ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->block.get();
}

void BlockCache::insert(std::uint64_t file_number, std::uint64_t offset, std::shared_ptr<const Block> block) {
  if (capacity_ == 0 || !block) return;
  const Key key{file_number, offset};
  const std::size_t charge = block->size() + kEntryOverhead;
  if (charge > capacity_) return;
  if (auto it = map_.find(key); it != map_.end()) {
    usage_ -= it->second->charge;
    lru_.erase(it->second);
    map_.erase(it);
  }
  evict_to(capacity_ - charge);
  lru_.push_front(Entry{key, std::move(block), charge});
  map_.emplace(key, lru_.begin());
  usage_ += charge;
}

void BlockCache::erase_file(std::uint64_t file_number) {
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->key.file == file_number) {
      usage_ -= it->charge;
      map_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

void BlockCache::evict_to(std::size_t limit) {
  while (usage_ > limit && !lru_.empty()) {
    Entry& last = lru_.back();
    usage_ -= last.charge;
    map_.erase(last.key);
    lru_.pop_back();
  }
}

}  // namespace orbit::lsm
