// Node: one immutable node of the copy-on-write B+ tree.
//
// A node is never changed while more than one Tree can reach it: updates
// build new nodes and share the untouched ones (structural sharing), so any
// root a reader holds stays a consistent tree without locks. (The writer's
// Tree::insert_or_assign/remove change in place only nodes reachable from
// its own root alone: see tree.cpp.)
//
// Leaf:   keys[i] -> values[i], keys strictly increasing.
// Branch: children.size() == keys.size() + 1; every key in children[i] is
//         >= keys[i-1] and < keys[i] (separators are copies of leaf keys).
//
// The one mutable field, `disk`, records where the pager wrote the node. It is
// set only by the single writer, on nodes reachable from a root not yet
// published to readers, and never changed afterwards.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace orbit::cow_btree {

// Where a node lives in the page file and the checksum it had when written
// (the parent keeps it, as TigerBeetle does, so a stale or misdirected page
// is caught). page_id 0 means "not written yet": pages 0 and 1 are the metas.
struct PageRef {
  std::uint64_t page_id = 0;
  std::uint32_t page_count = 0;  // consecutive pages the node occupies
  std::uint32_t checksum = 0;    // masked CRC32C of the whole run (see FORMAT.md)
  bool on_disk() const noexcept { return page_id != 0; }
  friend bool operator==(const PageRef&, const PageRef&) = default;
};

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Node {
  bool leaf = true;
  std::vector<std::string> keys;
  std::vector<std::string> values;  // leaves only
  std::vector<NodePtr> children;    // branches only
  mutable PageRef disk;             // see the header comment
};

}  // namespace orbit::cow_btree
