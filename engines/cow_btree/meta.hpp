// Meta page: the commit record of the page file. Two slots (pages 0 and 1);
// commit txn N writes slot N & 1 after every page it references is durable,
// so the other slot still names the previous, intact tree (LMDB's design).
// Open reads both slots and takes the valid one with the larger txn_id; a
// slot that fails its checksum is simply not a candidate (it may be a torn
// meta write). FORMAT.md gives the byte layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engines/cow_btree/node.hpp"

namespace orbit::cow_btree {

inline constexpr std::uint64_t kMetaMagic = 0x4154454D5442524FULL;  // "ORBTMETA" little-endian
inline constexpr std::uint32_t kPageFileFormatVersion = 1;
inline constexpr std::size_t kMetaSize = 88;  // bytes used at the start of the meta page

struct Meta {
  std::uint32_t format_version = kPageFileFormatVersion;
  std::uint32_t page_size = 4096;
  std::uint64_t txn_id = 0;          // commit counter; slot = txn_id & 1
  std::uint64_t lsn = 0;             // last WAL record the tree includes
  PageRef root;                      // the tree's root node
  PageRef free_list;                 // page_id 0: no free-list node
  std::uint64_t page_count = 2;      // pages in use or free (file high-water mark)
  std::uint64_t entry_count = 0;     // entries in the tree
  std::uint32_t max_keys_per_node = 64;
  friend bool operator==(const Meta&, const Meta&) = default;
};

// Exactly page_size bytes (kMetaSize used, zero after).
std::string encode_meta(const Meta& meta);

// The meta in `bytes` (at least kMetaSize), or nullopt with `why` set when the
// magic, version or checksum is wrong.
std::optional<Meta> decode_meta(std::string_view bytes, std::string* why = nullptr);

// The newer valid one of two slots' decodings, or nullopt if neither is valid.
std::optional<Meta> pick_newest(const std::optional<Meta>& slot0, const std::optional<Meta>& slot1);

}  // namespace orbit::cow_btree
