#include "engines/lsm/block_reader.hpp"

#include <cassert>

#include "src/util/coding.hpp"

namespace orbit::lsm {

namespace {
Error block_corruption(const BlockLocation& where, std::string_view what) {
  return make_error(ErrorCode::Corruption, "sstable " + where.file + " block at offset " +
                                               std::to_string(where.offset) + ": " + std::string(what));
}
}  // namespace

Result<std::shared_ptr<const Block>> Block::parse(std::string contents, BlockLocation where,
                                                  KeyCompare compare) {
  constexpr std::size_t kWord = sizeof(std::uint32_t);
  if (contents.size() < kWord) return block_corruption(where, "block shorter than its restart count");
  std::uint32_t restarts = coding::decode_fixed32(contents.data() + contents.size() - kWord);
  std::size_t max_restarts = (contents.size() - kWord) / kWord;
  if (restarts == 0 || restarts > max_restarts) {
    return block_corruption(where, "restart count " + std::to_string(restarts) + " does not fit a block of " +
                                       std::to_string(contents.size()) + " bytes");
  }
  std::shared_ptr<const Block> block(new Block(std::move(contents), std::move(where), compare, restarts));
  return block;
}

Block::Iterator::Iterator(std::shared_ptr<const Block> block) : block_(std::move(block)) {
  const std::string& c = block_->contents_;
  data_ = std::string_view(c).substr(0, c.size() - (block_->restart_count_ + 1) * sizeof(std::uint32_t));
}

std::uint32_t Block::Iterator::restart_offset(std::uint32_t index) const {
  return coding::decode_fixed32(data_.data() + data_.size() + index * sizeof(std::uint32_t));
}

void Block::Iterator::corrupt(std::string_view what) {
  valid_ = false;
  if (status_.ok()) status_ = Status(block_corruption(block_->where_, what));
}

void Block::Iterator::seek_to_restart(std::uint32_t index) {
  key_.clear();
  std::uint32_t offset = restart_offset(index);
  next_offset_ = offset;
  if (offset > data_.size()) {
    next_offset_ = data_.size();
    corrupt("restart point " + std::to_string(index) + " beyond the entries");
  }
}

bool Block::Iterator::parse_next() {
  if (!status_.ok()) return false;
  current_ = next_offset_;
  if (current_ >= data_.size()) {
    valid_ = false;
    return false;
  }
  coding::Reader reader(data_.substr(current_));
  std::uint64_t shared = 0, non_shared = 0, value_size = 0;
  std::string_view delta, value;
  if (!reader.get_varint64(shared) || !reader.get_varint64(non_shared) || !reader.get_varint64(value_size) ||
      shared > key_.size() || !reader.get_bytes(static_cast<std::size_t>(non_shared), delta) ||
      !reader.get_bytes(static_cast<std::size_t>(value_size), value)) {
    corrupt("bad entry at block offset " + std::to_string(current_));
    return false;
  }
  key_.resize(static_cast<std::size_t>(shared));
  key_.append(delta);
  value_ = value;
  next_offset_ = current_ + reader.consumed_from(data_.substr(current_));
  valid_ = true;
  return true;
}

void Block::Iterator::seek_to_first() {
  if (!status_.ok()) return;
  seek_to_restart(0);
  parse_next();
}

void Block::Iterator::next() {
  assert(valid_);
  parse_next();
}

void Block::Iterator::seek(std::string_view target) {
  if (!status_.ok()) return;
  // Last restart whose key < target: every entry before it is < target too.
  std::uint32_t left = 0;
  std::uint32_t right = block_->restart_count_ - 1;
  while (left < right) {
    std::uint32_t mid = left + (right - left + 1) / 2;
    seek_to_restart(mid);
    if (!parse_next()) {
      if (status_.ok()) corrupt("restart point " + std::to_string(mid) + " has no entry");
      return;
    }
    if (block_->compare_(key_, target) < 0) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  seek_to_restart(left);
  while (parse_next()) {
    if (block_->compare_(key_, target) >= 0) return;
  }
}

}  // namespace orbit::lsm
