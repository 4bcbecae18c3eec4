// Copy-on-write insert and erase: each recursive step returns the new version
// of the node it was given (or a split pair), and the caller copies itself to
// point at it. Nodes not on the key's path are shared, never copied.
#include "engines/cow_btree/tree.hpp"

#include <algorithm>
#include <cassert>
#include <memory>

namespace orbit::cow_btree {
namespace {

using MutableNode = std::shared_ptr<Node>;

MutableNode copy_of(const Node& node) {
  auto out = std::make_shared<Node>();
  out->leaf = node.leaf;
  out->entries = node.entries;
  out->children = node.children;
  return out;  // `disk` stays unset: the copy is a new, unwritten node
}

// Index of the child of a branch that may hold `key`.
std::size_t child_index(const Node& branch, std::string_view key) {
  // upper_bound: the first separator greater than `key`.
  std::size_t lo = 0, hi = branch.entries.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (key < branch.entries.key(mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

std::size_t leaf_lower_bound(const Node& leaf, std::string_view key) {
  std::size_t lo = 0, hi = leaf.entries.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (leaf.entries.key(mid) < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

struct InsertOutcome {
  NodePtr left;
  std::optional<std::string> separator;  // set when the node split
  NodePtr right;
};

template <typename T>
std::vector<T> tail(std::vector<T>& v, std::size_t from) {
  std::vector<T> out(std::make_move_iterator(v.begin() + static_cast<std::ptrdiff_t>(from)),
                     std::make_move_iterator(v.end()));
  v.resize(from);
  return out;
}

InsertOutcome split_if_needed(MutableNode node, std::size_t max_keys) {
  if (node->entries.size() <= max_keys) return {std::move(node), std::nullopt, nullptr};
  auto right = std::make_shared<Node>();
  right->leaf = node->leaf;
  std::string separator;
  std::size_t mid = node->entries.size() / 2;
  if (node->leaf) {
    right->entries = node->entries.split_off(mid);
    separator = std::string(right->entries.front());
  } else {
    right->entries = node->entries.split_off(mid + 1);
    separator = std::string(node->entries.key(mid));
    node->entries.truncate(mid);
    right->children = tail(node->children, mid + 1);
  }
  return {std::move(node), std::move(separator), std::move(right)};
}

InsertOutcome insert_into(const Node& node, std::string_view key, std::string_view value, std::size_t max_keys,
                          bool& inserted) {
  if (node.leaf) {
    std::size_t i = leaf_lower_bound(node, key);
    auto copy = copy_of(node);
    if (i < copy->entries.size() && copy->entries.key(i) == key) {
      copy->entries.set_value(i, value);
      inserted = false;
    } else {
      copy->entries.insert(i, key, value);
      inserted = true;
    }
    return split_if_needed(std::move(copy), max_keys);
  }
  std::size_t i = child_index(node, key);
  InsertOutcome below = insert_into(*node.children[i], key, value, max_keys, inserted);
  auto copy = copy_of(node);
  copy->children[i] = std::move(below.left);
  if (below.separator) {
    copy->entries.insert(i, *below.separator, {});
    copy->children.insert(copy->children.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(below.right));
  }
  return split_if_needed(std::move(copy), max_keys);
}

// Fixes parent->children[i], which fell below the minimum, by borrowing from
// or merging with a neighbour. The neighbour is copied, never changed.
void rebalance_child(Node& parent, std::size_t i, std::size_t max_keys) {
  std::size_t left_index = i > 0 ? i - 1 : i;
  const Node& left = *parent.children[left_index];
  const Node& right = *parent.children[left_index + 1];
  auto merged = std::make_shared<Node>();
  merged->leaf = left.leaf;
  merged->entries.reserve(left.entries.size() + right.entries.size() + 1,
                          left.entries.bytes() + right.entries.bytes() + parent.entries.key(left_index).size());
  merged->entries.append(left.entries);
  if (left.leaf) {
    merged->entries.append(right.entries);
  } else {
    merged->children = left.children;
    merged->entries.push_back(parent.entries.key(left_index), {});
    merged->entries.append(right.entries);
    merged->children.insert(merged->children.end(), right.children.begin(), right.children.end());
  }
  auto at = [](std::size_t n) { return static_cast<std::ptrdiff_t>(n); };
  if (merged->entries.size() <= max_keys) {
    parent.children[left_index] = std::move(merged);
    parent.entries.erase(left_index);
    parent.children.erase(parent.children.begin() + at(left_index) + 1);
    return;
  }
  // Too many for one node: split the combined run evenly (both halves then
  // hold at least max_keys / 2, see split_if_needed's arithmetic).
  auto right_half = std::make_shared<Node>();
  right_half->leaf = merged->leaf;
  std::size_t mid = merged->entries.size() / 2;
  if (merged->leaf) {
    right_half->entries = merged->entries.split_off(mid);
    parent.entries.set_key(left_index, right_half->entries.front());
  } else {
    right_half->entries = merged->entries.split_off(mid + 1);
    parent.entries.set_key(left_index, merged->entries.key(mid));
    merged->entries.truncate(mid);
    right_half->children = tail(merged->children, mid + 1);
  }
  parent.children[left_index] = std::move(merged);
  parent.children[left_index + 1] = std::move(right_half);
}

// The new version of `node` without `key`, or null if the key is absent.
NodePtr erase_from(const Node& node, std::string_view key, std::size_t max_keys) {
  if (node.leaf) {
    std::size_t i = leaf_lower_bound(node, key);
    if (i >= node.entries.size() || node.entries.key(i) != key) return nullptr;
    auto copy = copy_of(node);
    copy->entries.erase(i);
    return copy;
  }
  std::size_t i = child_index(node, key);
  NodePtr child = erase_from(*node.children[i], key, max_keys);
  if (!child) return nullptr;
  auto copy = copy_of(node);
  bool deficient = child->entries.size() < max_keys / 2;
  copy->children[i] = std::move(child);
  if (deficient) rebalance_child(*copy, i, max_keys);
  return copy;
}

// ---- In-place updates --------------------------------------------------------
//
// A node may be changed in place only when no other Tree can reach it: its
// pointer is held once (use_count 1), by a parent that is itself held once,
// up to a root held only by the Tree being updated. Any reader's Tree, an
// iterator, the pager's committed tree or a checkpoint in progress holds an
// extra reference somewhere on the path, and from that node down the update
// copies instead. A node written to disk is always shared with the
// committed tree, and is never changed in place either way (checked too).

MutableNode own(const NodePtr& node) {
  if (node.use_count() == 1 && !node->disk.on_disk()) return std::const_pointer_cast<Node>(node);
  return copy_of(*node);
}

struct Split {
  std::optional<std::string> separator;
  NodePtr right;
};

Split split_in_place(Node& node, std::size_t max_keys) {
  if (node.entries.size() <= max_keys) return {};
  auto right = std::make_shared<Node>();
  right->leaf = node.leaf;
  Split out;
  std::size_t mid = node.entries.size() / 2;
  if (node.leaf) {
    right->entries = node.entries.split_off(mid);
    out.separator = std::string(right->entries.front());
  } else {
    right->entries = node.entries.split_off(mid + 1);
    out.separator = std::string(node.entries.key(mid));
    node.entries.truncate(mid);
    right->children = tail(node.children, mid + 1);
  }
  out.right = std::move(right);
  return out;
}

Split insert_in_place(NodePtr& slot, std::string_view key, std::string_view value, std::size_t max_keys,
                      bool& inserted) {
  MutableNode node = own(slot);
  if (node->leaf) {
    std::size_t i = leaf_lower_bound(*node, key);
    if (i < node->entries.size() && node->entries.key(i) == key) {
      node->entries.set_value(i, value);
      inserted = false;
    } else {
      node->entries.insert(i, key, value);
      inserted = true;
    }
  } else {
    std::size_t i = child_index(*node, key);
    Split below = insert_in_place(node->children[i], key, value, max_keys, inserted);
    if (below.separator) {
      node->entries.insert(i, *below.separator, {});
      node->children.insert(node->children.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(below.right));
    }
  }
  Split out = split_in_place(*node, max_keys);
  slot = std::move(node);
  return out;
}

bool contains(const Node* node, std::string_view key) {
  while (!node->leaf) node = node->children[child_index(*node, key)].get();
  std::size_t i = leaf_lower_bound(*node, key);
  return i < node->entries.size() && node->entries.key(i) == key;
}

// REQUIRES: the key is present below `slot`.
void erase_in_place(NodePtr& slot, std::string_view key, std::size_t max_keys) {
  MutableNode node = own(slot);
  if (node->leaf) {
    std::size_t i = leaf_lower_bound(*node, key);
    node->entries.erase(i);
  } else {
    std::size_t i = child_index(*node, key);
    erase_in_place(node->children[i], key, max_keys);
    if (node->children[i]->entries.size() < max_keys / 2) rebalance_child(*node, i, max_keys);
  }
  slot = std::move(node);
}

}  // namespace

// ---- TreeIterator -----------------------------------------------------------

std::string_view TreeIterator::key() const {
  assert(valid());
  return path_.back().node->entries.key(path_.back().index);
}
std::string_view TreeIterator::value() const {
  assert(valid());
  return path_.back().node->entries.value(path_.back().index);
}

void TreeIterator::descend_leftmost() {
  while (!path_.back().node->leaf) {
    const Node* child = path_.back().node->children[path_.back().index].get();
    path_.push_back({child, 0});
  }
}

void TreeIterator::next() {
  assert(valid());
  ++path_.back().index;
  // Climb while the current node is exhausted, then go down the next subtree.
  while (!path_.empty()) {
    Step& top = path_.back();
    std::size_t limit = top.node->leaf ? top.node->entries.size() : top.node->children.size();
    if (top.index < limit) break;
    path_.pop_back();
    if (!path_.empty()) ++path_.back().index;
  }
  if (!path_.empty()) descend_leftmost();
  if (!path_.empty() && path_.back().index >= path_.back().node->entries.size()) next();  // empty leaf
}

// ---- Tree -------------------------------------------------------------------

Tree::Tree(std::size_t max_keys_per_node) : root_(std::make_shared<Node>()), max_keys_(max_keys_per_node) {
  assert(max_keys_ >= kMinKeysPerNodeBound && max_keys_ <= kMaxKeysPerNodeBound);
}

Tree::Tree(NodePtr root, std::size_t max_keys_per_node, std::size_t size)
    : root_(std::move(root)), max_keys_(max_keys_per_node), size_(size) {
  assert(root_ != nullptr);
}

std::optional<std::string_view> Tree::get(std::string_view key) const {
  const Node* node = root_.get();
  while (!node->leaf) node = node->children[child_index(*node, key)].get();
  std::size_t i = leaf_lower_bound(*node, key);
  if (i < node->entries.size() && node->entries.key(i) == key) return node->entries.value(i);
  return std::nullopt;
}

Tree Tree::upsert(std::string key, std::string value, bool* inserted) const {
  bool was_new = false;
  InsertOutcome out = insert_into(*root_, key, value, max_keys_, was_new);
  NodePtr root = std::move(out.left);
  if (out.separator) {
    auto grown = std::make_shared<Node>();
    grown->leaf = false;
    grown->entries.push_back(*out.separator, {});
    grown->children = {std::move(root), std::move(out.right)};
    root = std::move(grown);
  }
  if (inserted != nullptr) *inserted = was_new;
  return Tree(std::move(root), max_keys_, size_ + (was_new ? 1 : 0));
}

Tree Tree::erase(std::string_view key, bool* erased) const {
  NodePtr root = erase_from(*root_, key, max_keys_);
  if (erased != nullptr) *erased = root != nullptr;
  if (!root) return *this;
  // A branch root left with one child hands the root to that child.
  while (!root->leaf && root->entries.empty()) root = root->children.front();
  return Tree(std::move(root), max_keys_, size_ - 1);
}

void Tree::insert_or_assign(std::string_view key, std::string_view value, bool* inserted) {
  bool was_new = false;
  Split out = insert_in_place(root_, key, value, max_keys_, was_new);
  if (out.separator) {
    auto grown = std::make_shared<Node>();
    grown->leaf = false;
    grown->entries.push_back(*out.separator, {});
    grown->children = {std::move(root_), std::move(out.right)};
    root_ = std::move(grown);
  }
  if (was_new) ++size_;
  if (inserted != nullptr) *inserted = was_new;
}

bool Tree::remove(std::string_view key) {
  if (!contains(root_.get(), key)) return false;
  erase_in_place(root_, key, max_keys_);
  while (!root_->leaf && root_->entries.empty()) {
    NodePtr only = root_->children.front();
    root_ = std::move(only);
  }
  --size_;
  return true;
}

TreeIterator Tree::begin() const {
  TreeIterator it;
  it.root_ = root_;
  it.path_.push_back({root_.get(), 0});
  it.descend_leftmost();
  if (it.path_.back().node->entries.empty()) it.path_.clear();  // only an empty root leaf can be empty
  return it;
}

TreeIterator Tree::seek(std::string_view key) const {
  TreeIterator it;
  it.root_ = root_;
  const Node* node = root_.get();
  while (!node->leaf) {
    std::size_t i = child_index(*node, key);
    it.path_.push_back({node, i});
    node = node->children[i].get();
  }
  it.path_.push_back({node, leaf_lower_bound(*node, key)});
  if (it.path_.back().index >= node->entries.size()) {
    // Past this leaf's last key: step to the next leaf's first entry.
    it.path_.back().index = node->entries.empty() ? 0 : node->entries.size() - 1;
    if (node->entries.empty()) {
      it.path_.clear();
    } else {
      it.next();
    }
  }
  return it;
}

std::size_t Tree::height() const {
  std::size_t h = 1;
  for (const Node* n = root_.get(); !n->leaf; n = n->children.front().get()) ++h;
  return h;
}

namespace {

struct Checker {
  std::size_t max_keys = 0;
  std::size_t leaf_depth = 0;
  std::size_t entries = 0;
  std::string error;

  void fail(std::string why) {
    if (error.empty()) error = std::move(why);
  }

  // Keys of `node` must lie in [low, high) where given.
  void check(const Node& node, std::size_t depth, bool is_root, const std::string_view* low,
             const std::string_view* high) {
    if (!error.empty()) return;
    std::size_t n = node.entries.size();
    if (n > max_keys) fail("node with " + std::to_string(n) + " keys > max " + std::to_string(max_keys));
    if (!is_root && n < max_keys / 2) fail("non-root node with " + std::to_string(n) + " keys < min");
    if (is_root && !node.leaf && n == 0) fail("branch root without keys");
    for (std::size_t i = 1; i < n; ++i) {
      if (!(node.entries.key(i - 1) < node.entries.key(i))) fail("keys out of order at index " + std::to_string(i));
    }
    if (n > 0 && low != nullptr && node.entries.front() < *low) fail("key below its subtree's lower bound");
    if (n > 0 && high != nullptr && !(node.entries.back() < *high)) fail("key not below its subtree's upper bound");
    if (node.leaf) {
      if (!node.children.empty()) fail("leaf with children");
      if (leaf_depth == 0) leaf_depth = depth;
      if (depth != leaf_depth) fail("leaves at depths " + std::to_string(leaf_depth) + " and " + std::to_string(depth));
      entries += n;
      return;
    }
    if (node.children.size() != n + 1) fail("branch with " + std::to_string(n) + " keys and " +
                                            std::to_string(node.children.size()) + " children");
    for (std::size_t i = 0; i < n; ++i) {
      if (!node.entries.value(i).empty()) fail("branch with values");
    }
    if (!error.empty()) return;
    for (std::size_t i = 0; i <= n; ++i) {
      const std::string_view lo_key = i == 0 ? std::string_view() : node.entries.key(i - 1);
      const std::string_view hi_key = i == n ? std::string_view() : node.entries.key(i);
      const std::string_view* lo = i == 0 ? low : &lo_key;
      const std::string_view* hi = i == n ? high : &hi_key;
      if (!node.children[i]) {
        fail("null child");
        return;
      }
      check(*node.children[i], depth + 1, false, lo, hi);
    }
  }
};

}  // namespace

std::string Tree::check_invariants() const {
  if (!root_) return "null root";
  Checker checker;
  checker.max_keys = max_keys_;
  checker.check(*root_, 1, true, nullptr, nullptr);
  if (checker.error.empty() && checker.entries != size_) {
    checker.fail("tree holds " + std::to_string(checker.entries) + " entries but size() says " +
                 std::to_string(size_));
  }
  return checker.error;
}

}  // namespace orbit::cow_btree
