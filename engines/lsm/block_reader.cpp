#include "engines/lsm/block_reader.hpp"

#include <cassert>
#include <cstring>

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

Block::Iterator::Iterator(std::shared_ptr<const Block> block) : Iterator(*block) { owner_ = std::move(block); }

Block::Iterator::Iterator(const Block& block) : block_(&block) {
  const std::string& c = block_->contents_;
  data_ = std::string_view(c).substr(0, c.size() - (block_->restart_count_ + 1) * sizeof(std::uint32_t));
}

std::uint32_t Block::Iterator::restart_offset(std::uint32_t index) const {
  return coding::decode_fixed32(data_.data() + data_.size() + index * sizeof(std::uint32_t));
}

void Block::Iterator::KeyBuffer::append(const char* p, std::size_t n) {
  if (heap_.empty() && size_ + n <= sizeof inline_) {
    std::memcpy(inline_ + size_, p, n);
  } else {
    if (heap_.empty()) heap_.assign(inline_, size_);
    heap_.resize(size_);
    heap_.append(p, n);
  }
  size_ += n;
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

// The three varints of the entry at `offset` (each a single byte in
// nearly every entry: the fast path) and where its key delta starts.
// False when they are malformed or the delta and value run past the end.
bool Block::Iterator::decode_entry(std::size_t offset, Entry& entry) const noexcept {
  const char* p = data_.data() + offset;
  const std::size_t left = data_.size() - offset;
  if (left >= 3) {
    const auto a = static_cast<std::uint8_t>(p[0]), b = static_cast<std::uint8_t>(p[1]),
               c = static_cast<std::uint8_t>(p[2]);
    if ((a | b | c) < 0x80) {
      entry = {a, b, c, offset + 3};
      return entry.non_shared + entry.value_size <= left - 3;
    }
  }
  coding::Reader reader(data_.substr(offset));
  std::uint64_t shared = 0, non_shared = 0, value_size = 0;
  if (!reader.get_varint64(shared) || !reader.get_varint64(non_shared) || !reader.get_varint64(value_size) ||
      non_shared > reader.remaining() || value_size > reader.remaining() - non_shared)
    return false;
  entry = {shared, non_shared, value_size, offset + reader.consumed_from(data_.substr(offset))};
  return true;
}

bool Block::Iterator::parse_next() {
  if (!status_.ok()) return false;
  current_ = next_offset_;
  if (current_ >= data_.size()) {
    valid_ = false;
    return false;
  }
  Entry entry;
  if (!decode_entry(current_, entry) || entry.shared > key_.size()) {
    corrupt("bad entry at block offset " + std::to_string(current_));
    return false;
  }
  key_.truncate(static_cast<std::size_t>(entry.shared));
  key_.append(data_.data() + entry.delta, static_cast<std::size_t>(entry.non_shared));
  value_ = data_.substr(entry.delta + entry.non_shared, static_cast<std::size_t>(entry.value_size));
  next_offset_ = entry.delta + entry.non_shared + entry.value_size;
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
  // A restart entry stores its whole key (shared 0), compared where it lies.
  std::uint32_t left = 0;
  std::uint32_t right = block_->restart_count_ - 1;
  while (left < right) {
    std::uint32_t mid = left + (right - left + 1) / 2;
    const std::uint32_t offset = restart_offset(mid);
    Entry entry;
    if (offset >= data_.size() || !decode_entry(offset, entry) || entry.shared != 0) {
      corrupt("restart point " + std::to_string(mid) + " at block offset " + std::to_string(offset) +
              " is not an entry with a whole key");
      return;
    }
    const std::string_view key(data_.data() + entry.delta, static_cast<std::size_t>(entry.non_shared));
    if (block_->compare_(key, target) < 0) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  seek_to_restart(left);
  while (parse_next()) {
    if (block_->compare_(key_.view(), target) >= 0) return;
  }
}

}  // namespace orbit::lsm
