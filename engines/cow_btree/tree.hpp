// Tree: an immutable (persistent) B+ tree of byte-string keys to byte-string
// values, ordered by bytewise key comparison (the order of src/codec/key_layout).
//
// Every update returns a new Tree and leaves the old one unchanged: the
// leaf-to-root path is copied and every other node is shared (the in-place
// variants below copy only the nodes another Tree can still reach). A Tree is a
// value (a root pointer, the fan-out bound and the entry count): copying it is
// O(1), and a copy held by a reader is a consistent snapshot that no later
// update can change. Trees may be read from any number of threads at once;
// making new versions is the single writer's job (nodes are not locked).
//
// Fan-out: a node holds at most max_keys_per_node keys (4..4096); every node
// but the root holds at least max_keys_per_node / 2. All leaves are at the
// same depth. check_invariants() verifies all of this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engines/cow_btree/node.hpp"

namespace orbit::cow_btree {

inline constexpr std::size_t kMinKeysPerNodeBound = 4;
inline constexpr std::size_t kMaxKeysPerNodeBound = 4096;
inline constexpr std::size_t kDefaultMaxKeysPerNode = 64;

// Forward iteration in key order over one version. Holds the root, so the
// version it walks stays alive and unchanged however the tree moves on.
class TreeIterator {
 public:
  bool valid() const noexcept { return !path_.empty(); }
  // REQUIRES: valid()
  // Views into the node, valid while the iterator (which holds its version) lives.
  std::string_view key() const;
  std::string_view value() const;
  void next();

 private:
  friend class Tree;
  struct Step {
    const Node* node;
    std::size_t index;
  };
  NodePtr root_;
  std::vector<Step> path_;  // root .. leaf; empty when exhausted
  void descend_leftmost();
};

class Tree {
 public:
  // REQUIRES: kMinKeysPerNodeBound <= max_keys_per_node <= kMaxKeysPerNodeBound
  explicit Tree(std::size_t max_keys_per_node = kDefaultMaxKeysPerNode);
  // A tree over an existing root (the pager's open); `size` is its entry count.
  Tree(NodePtr root, std::size_t max_keys_per_node, std::size_t size);

  std::optional<std::string_view> get(std::string_view key) const;
  // Inserts or replaces. `inserted`, when given, says whether the key was new.
  Tree upsert(std::string key, std::string value, bool* inserted = nullptr) const;
  // Removes the key if present; `erased`, when given, says whether it was.
  Tree erase(std::string_view key, bool* erased = nullptr) const;

  // The same two updates applied to this Tree itself: nodes no other Tree
  // (reader, iterator, the pager's committed tree) can reach are changed in
  // place, shared ones are copied as upsert()/erase() copy them. Every other
  // Tree value keeps seeing exactly what it saw. The single writer's fast
  // path: a run of updates between two snapshots copies each node once.
  void insert_or_assign(std::string_view key, std::string_view value, bool* inserted = nullptr);
  bool remove(std::string_view key);  // true if the key was present

  TreeIterator begin() const;
  // First entry with key >= `key`.
  TreeIterator seek(std::string_view key) const;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t max_keys_per_node() const noexcept { return max_keys_; }
  std::size_t min_keys_per_node() const noexcept { return max_keys_ / 2; }
  const NodePtr& root() const noexcept { return root_; }
  std::size_t height() const;  // 1 for a lone leaf

  // Empty string when every invariant holds, else the first violation found.
  std::string check_invariants() const;

 private:
  NodePtr root_;
  std::size_t max_keys_;
  std::size_t size_ = 0;
};

}  // namespace orbit::cow_btree
