// Page format: the bytes of one tree node on disk (a run of consecutive
// fixed-size pages; FORMAT.md gives the layout).
//
// encode_node() is pure: it needs the node's children already written (their
// PageRefs set) and returns a whole number of pages. decode_node() checks the
// run against the checksum its parent (or the meta page) recorded and every
// length against the bytes present; any mismatch is ErrorCode::Corruption
// naming the file and byte offset, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engines/cow_btree/node.hpp"
#include "orbit/result.hpp"

namespace orbit::cow_btree {

inline constexpr std::uint32_t kNodeMagic = 0x4E54424Fu;  // "OBTN" little-endian
inline constexpr std::uint8_t kNodeFormatVersion = 1;
inline constexpr std::size_t kNodeHeaderSize = 32;
inline constexpr std::uint8_t kLeafKind = 1;
inline constexpr std::uint8_t kBranchKind = 2;
inline constexpr std::size_t kChildRefSize = 16;

// Pages of `page_size` bytes the encoding of `node` occupies.
std::uint32_t pages_needed(const Node& node, std::size_t page_size);

// REQUIRES: every child of a branch has disk.on_disk(); page_id >= 2.
// Returns pages_needed(node, page_size) * page_size bytes; the checksum of the
// run (what the parent must record) is decode_fixed32 of its first 4 bytes.
std::string encode_node(const Node& node, std::uint64_t page_id, std::size_t page_size);
// The same with the children's references given (one per child, in order)
// instead of read from their `disk` fields: writes a tree into another file
// (snapshots) without touching the nodes.
std::string encode_node_with_children(const Node& node, std::span<const PageRef> children, std::uint64_t page_id,
                                      std::size_t page_size);

struct DecodedNode {
  Node node;                     // children left null: the pager loads them
  std::vector<PageRef> children;  // branches: one per child, in order
};

// `bytes` is the run read from `file` at `ref.page_id * page_size`.
Result<DecodedNode> decode_node(std::string_view bytes, const PageRef& ref, std::size_t page_size,
                                const std::string& file);

}  // namespace orbit::cow_btree
