#include "engines/lsm/block_builder.hpp"

#include <algorithm>
#include <cassert>

#include "src/util/coding.hpp"

namespace orbit::lsm {

BlockBuilder::BlockBuilder(std::uint32_t restart_interval, KeyCompare compare)
    : restart_interval_(restart_interval), compare_(compare) {
  assert(restart_interval >= 1);
  restarts_.push_back(0);
}

void BlockBuilder::reset() {
  buffer_.clear();
  restarts_.assign(1, 0);
  since_restart_ = 0;
  entries_ = 0;
  finished_ = false;
  last_key_.clear();
}

std::size_t BlockBuilder::size_estimate() const noexcept {
  return buffer_.size() + restarts_.size() * sizeof(std::uint32_t) + sizeof(std::uint32_t);
}

void BlockBuilder::add(std::string_view key, std::string_view value) {
  assert(!finished_);
  assert(entries_ == 0 || compare_(key, last_key_) > 0);
  std::size_t shared = 0;
  if (since_restart_ < restart_interval_) {
    std::size_t limit = std::min(last_key_.size(), key.size());
    while (shared < limit && last_key_[shared] == key[shared]) ++shared;
  } else {
    restarts_.push_back(static_cast<std::uint32_t>(buffer_.size()));
    since_restart_ = 0;
  }
  std::size_t non_shared = key.size() - shared;
  coding::put_varint64(buffer_, shared);
  coding::put_varint64(buffer_, non_shared);
  coding::put_varint64(buffer_, value.size());
  buffer_.append(key.substr(shared));
  buffer_.append(value);
  last_key_.assign(key);
  ++since_restart_;
  ++entries_;
}

std::string_view BlockBuilder::finish() {
  if (!finished_) {
    for (std::uint32_t restart : restarts_) coding::put_fixed32(buffer_, restart);
    coding::put_fixed32(buffer_, static_cast<std::uint32_t>(restarts_.size()));
    finished_ = true;
  }
  return buffer_;
}

}  // namespace orbit::lsm
