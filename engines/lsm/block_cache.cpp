#include "engines/lsm/block_cache.hpp"

namespace orbit::lsm {
namespace {
// What an entry costs beyond its block's bytes (list node, map node, Block).
constexpr std::size_t kEntryOverhead = 128;
}  // namespace

std::shared_ptr<const Block> BlockCache::lookup(std::uint64_t file_number, std::uint64_t offset,
                                                bool count_miss) {
  const std::shared_ptr<const Block>* block = lru_.find(Key{file_number, offset}, count_miss);
  return block == nullptr ? nullptr : *block;
}

const Block* BlockCache::peek(std::uint64_t file_number, std::uint64_t offset, bool count_miss) {
  const std::shared_ptr<const Block>* block = lru_.find(Key{file_number, offset}, count_miss);
  return block == nullptr ? nullptr : block->get();
}

void BlockCache::insert(std::uint64_t file_number, std::uint64_t offset, std::shared_ptr<const Block> block) {
  if (!block) return;
  const std::size_t charge = block->size() + kEntryOverhead;
  lru_.insert(Key{file_number, offset}, std::move(block), charge);
}

void BlockCache::erase_file(std::uint64_t file_number) {
  lru_.erase_if([file_number](const Key& key) { return key.file == file_number; });
}

}  // namespace orbit::lsm
