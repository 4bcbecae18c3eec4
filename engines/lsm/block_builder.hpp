// BlockBuilder: lays out sorted key/value entries as one block (the unit an
// SSTable reads, checksums and compresses), LevelDB-style.
//
// Each entry stores only the suffix of its key that differs from the
// previous key; every `restart_interval` entries a full key is stored and
// its offset recorded in the restart array at the block's end, so a reader
// can binary-search the restarts and then scan at most restart_interval
// entries. Byte layout: FORMAT.md, "Block contents".
//
// Promises: finish() returns contents that BlockReader parses back to the
// same entries in the same order. The builder does not compress or
// checksum; block_trailer.hpp wraps the contents for disk.
// Threading: one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engines/lsm/format.hpp"

namespace orbit::lsm {

class BlockBuilder {
 public:
  // REQUIRES: restart_interval >= 1
  explicit BlockBuilder(std::uint32_t restart_interval = 16, KeyCompare compare = internal_key_compare);

  // REQUIRES: finish() not called since the last reset(); key > every key
  // added before (by `compare`; checked by assertion).
  void add(std::string_view key, std::string_view value);

  // The block's contents, valid until reset() or the builder dies.
  std::string_view finish();
  void reset();

  // Size the block would have if finished now.
  std::size_t size_estimate() const noexcept;
  bool empty() const noexcept { return entries_ == 0; }
  std::size_t entry_count() const noexcept { return entries_; }
  std::string_view last_key() const noexcept { return last_key_; }
  KeyCompare compare() const noexcept { return compare_; }  // the order add() requires

 private:
  std::uint32_t restart_interval_;
  KeyCompare compare_;
  std::string buffer_;
  std::vector<std::uint32_t> restarts_;
  std::uint32_t since_restart_ = 0;
  std::size_t entries_ = 0;
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace orbit::lsm
