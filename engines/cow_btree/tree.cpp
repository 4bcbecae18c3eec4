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
  out->keys = node.keys;
  out->values = node.values;
  out->children = node.children;
  return out;  // `disk` stays unset: the copy is a new, unwritten node
}

// Index of the child of a branch that may hold `key`.
std::size_t child_index(const Node& branch, std::string_view key) {
  auto it = std::upper_bound(branch.keys.begin(), branch.keys.end(), key,
                             [](std::string_view k, const std::string& s) { return k < std::string_view(s); });
  return static_cast<std::size_t>(it - branch.keys.begin());
}

std::size_t leaf_lower_bound(const Node& leaf, std::string_view key) {
  auto it = std::lower_bound(leaf.keys.begin(), leaf.keys.end(), key,
                             [](const std::string& s, std::string_view k) { return std::string_view(s) < k; });
  return static_cast<std::size_t>(it - leaf.keys.begin());
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
  if (node->keys.size() <= max_keys) return {std::move(node), std::nullopt, nullptr};
  auto right = std::make_shared<Node>();
  right->leaf = node->leaf;
  std::string separator;
  if (node->leaf) {
    std::size_t mid = node->keys.size() / 2;
    right->keys = tail(node->keys, mid);
    right->values = tail(node->values, mid);
    separator = right->keys.front();
  } else {
    std::size_t mid = node->keys.size() / 2;
    right->keys = tail(node->keys, mid + 1);
    separator = std::move(node->keys[mid]);
    node->keys.resize(mid);
    right->children = tail(node->children, mid + 1);
  }
  return {std::move(node), std::move(separator), std::move(right)};
}

InsertOutcome insert_into(const Node& node, std::string& key, std::string& value, std::size_t max_keys,
                          bool& inserted) {
  if (node.leaf) {
    std::size_t i = leaf_lower_bound(node, key);
    auto copy = copy_of(node);
    if (i < copy->keys.size() && copy->keys[i] == key) {
      copy->values[i] = std::move(value);
      inserted = false;
    } else {
      copy->keys.insert(copy->keys.begin() + static_cast<std::ptrdiff_t>(i), std::move(key));
      copy->values.insert(copy->values.begin() + static_cast<std::ptrdiff_t>(i), std::move(value));
      inserted = true;
    }
    return split_if_needed(std::move(copy), max_keys);
  }
  std::size_t i = child_index(node, key);
  InsertOutcome below = insert_into(*node.children[i], key, value, max_keys, inserted);
  auto copy = copy_of(node);
  copy->children[i] = std::move(below.left);
  if (below.separator) {
    copy->keys.insert(copy->keys.begin() + static_cast<std::ptrdiff_t>(i), std::move(*below.separator));
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
  merged->keys = left.keys;
  if (left.leaf) {
    merged->values = left.values;
    merged->keys.insert(merged->keys.end(), right.keys.begin(), right.keys.end());
    merged->values.insert(merged->values.end(), right.values.begin(), right.values.end());
  } else {
    merged->children = left.children;
    merged->keys.push_back(parent.keys[left_index]);
    merged->keys.insert(merged->keys.end(), right.keys.begin(), right.keys.end());
    merged->children.insert(merged->children.end(), right.children.begin(), right.children.end());
  }
  auto at = [](std::size_t n) { return static_cast<std::ptrdiff_t>(n); };
  if (merged->keys.size() <= max_keys) {
    parent.children[left_index] = std::move(merged);
    parent.keys.erase(parent.keys.begin() + at(left_index));
    parent.children.erase(parent.children.begin() + at(left_index) + 1);
    return;
  }
  // Too many for one node: split the combined run evenly (both halves then
  // hold at least max_keys / 2, see split_if_needed's arithmetic).
  auto right_half = std::make_shared<Node>();
  right_half->leaf = merged->leaf;
  std::size_t mid = merged->keys.size() / 2;
  if (merged->leaf) {
    right_half->keys = tail(merged->keys, mid);
    right_half->values = tail(merged->values, mid);
    parent.keys[left_index] = right_half->keys.front();
  } else {
    right_half->keys = tail(merged->keys, mid + 1);
    parent.keys[left_index] = std::move(merged->keys[mid]);
    merged->keys.resize(mid);
    right_half->children = tail(merged->children, mid + 1);
  }
  parent.children[left_index] = std::move(merged);
  parent.children[left_index + 1] = std::move(right_half);
}

// The new version of `node` without `key`, or null if the key is absent.
NodePtr erase_from(const Node& node, std::string_view key, std::size_t max_keys) {
  if (node.leaf) {
    std::size_t i = leaf_lower_bound(node, key);
    if (i >= node.keys.size() || node.keys[i] != key) return nullptr;
    auto copy = copy_of(node);
    copy->keys.erase(copy->keys.begin() + static_cast<std::ptrdiff_t>(i));
    copy->values.erase(copy->values.begin() + static_cast<std::ptrdiff_t>(i));
    return copy;
  }
  std::size_t i = child_index(node, key);
  NodePtr child = erase_from(*node.children[i], key, max_keys);
  if (!child) return nullptr;
  auto copy = copy_of(node);
  bool deficient = child->keys.size() < max_keys / 2;
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
  if (node.keys.size() <= max_keys) return {};
  auto right = std::make_shared<Node>();
  right->leaf = node.leaf;
  Split out;
  std::size_t mid = node.keys.size() / 2;
  if (node.leaf) {
    right->keys = tail(node.keys, mid);
    right->values = tail(node.values, mid);
    out.separator = right->keys.front();
  } else {
    right->keys = tail(node.keys, mid + 1);
    out.separator = std::move(node.keys[mid]);
    node.keys.resize(mid);
    right->children = tail(node.children, mid + 1);
  }
  out.right = std::move(right);
  return out;
}

Split insert_in_place(NodePtr& slot, std::string& key, std::string& value, std::size_t max_keys, bool& inserted) {
  MutableNode node = own(slot);
  if (node->leaf) {
    std::size_t i = leaf_lower_bound(*node, key);
    if (i < node->keys.size() && node->keys[i] == key) {
      node->values[i] = std::move(value);
      inserted = false;
    } else {
      node->keys.insert(node->keys.begin() + static_cast<std::ptrdiff_t>(i), std::move(key));
      node->values.insert(node->values.begin() + static_cast<std::ptrdiff_t>(i), std::move(value));
      inserted = true;
    }
  } else {
    std::size_t i = child_index(*node, key);
    Split below = insert_in_place(node->children[i], key, value, max_keys, inserted);
    if (below.separator) {
      node->keys.insert(node->keys.begin() + static_cast<std::ptrdiff_t>(i), std::move(*below.separator));
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
  return i < node->keys.size() && node->keys[i] == key;
}

// REQUIRES: the key is present below `slot`.
void erase_in_place(NodePtr& slot, std::string_view key, std::size_t max_keys) {
  MutableNode node = own(slot);
  if (node->leaf) {
    std::size_t i = leaf_lower_bound(*node, key);
    node->keys.erase(node->keys.begin() + static_cast<std::ptrdiff_t>(i));
    node->values.erase(node->values.begin() + static_cast<std::ptrdiff_t>(i));
  } else {
    std::size_t i = child_index(*node, key);
    erase_in_place(node->children[i], key, max_keys);
    if (node->children[i]->keys.size() < max_keys / 2) rebalance_child(*node, i, max_keys);
  }
  slot = std::move(node);
}

}  // namespace

// ---- TreeIterator -----------------------------------------------------------

const std::string& TreeIterator::key() const {
  assert(valid());
  return path_.back().node->keys[path_.back().index];
}
const std::string& TreeIterator::value() const {
  assert(valid());
  return path_.back().node->values[path_.back().index];
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
    std::size_t limit = top.node->leaf ? top.node->keys.size() : top.node->children.size();
    if (top.index < limit) break;
    path_.pop_back();
    if (!path_.empty()) ++path_.back().index;
  }
  if (!path_.empty()) descend_leftmost();
  if (!path_.empty() && path_.back().index >= path_.back().node->keys.size()) next();  // empty leaf
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
  if (i < node->keys.size() && node->keys[i] == key) return std::string_view(node->values[i]);
  return std::nullopt;
}

Tree Tree::upsert(std::string key, std::string value, bool* inserted) const {
  bool was_new = false;
  InsertOutcome out = insert_into(*root_, key, value, max_keys_, was_new);
  NodePtr root = std::move(out.left);
  if (out.separator) {
    auto grown = std::make_shared<Node>();
    grown->leaf = false;
    grown->keys.push_back(std::move(*out.separator));
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
  while (!root->leaf && root->keys.empty()) root = root->children.front();
  return Tree(std::move(root), max_keys_, size_ - 1);
}

void Tree::insert_or_assign(std::string key, std::string value, bool* inserted) {
  bool was_new = false;
  Split out = insert_in_place(root_, key, value, max_keys_, was_new);
  if (out.separator) {
    auto grown = std::make_shared<Node>();
    grown->leaf = false;
    grown->keys.push_back(std::move(*out.separator));
    grown->children = {std::move(root_), std::move(out.right)};
    root_ = std::move(grown);
  }
  if (was_new) ++size_;
  if (inserted != nullptr) *inserted = was_new;
}

bool Tree::remove(std::string_view key) {
  if (!contains(root_.get(), key)) return false;
  erase_in_place(root_, key, max_keys_);
  while (!root_->leaf && root_->keys.empty()) {
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
  if (it.path_.back().node->keys.empty()) it.path_.clear();  // only an empty root leaf can be empty
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
  if (it.path_.back().index >= node->keys.size()) {
    // Past this leaf's last key: step to the next leaf's first entry.
    it.path_.back().index = node->keys.empty() ? 0 : node->keys.size() - 1;
    if (node->keys.empty()) {
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
  void check(const Node& node, std::size_t depth, bool is_root, const std::string* low, const std::string* high) {
    if (!error.empty()) return;
    std::size_t n = node.keys.size();
    if (n > max_keys) fail("node with " + std::to_string(n) + " keys > max " + std::to_string(max_keys));
    if (!is_root && n < max_keys / 2) fail("non-root node with " + std::to_string(n) + " keys < min");
    if (is_root && !node.leaf && n == 0) fail("branch root without keys");
    for (std::size_t i = 1; i < n; ++i) {
      if (!(node.keys[i - 1] < node.keys[i])) fail("keys out of order at index " + std::to_string(i));
    }
    if (n > 0 && low != nullptr && node.keys.front() < *low) fail("key below its subtree's lower bound");
    if (n > 0 && high != nullptr && !(node.keys.back() < *high)) fail("key not below its subtree's upper bound");
    if (node.leaf) {
      if (node.values.size() != n) fail("leaf with keys and values of different counts");
      if (!node.children.empty()) fail("leaf with children");
      if (leaf_depth == 0) leaf_depth = depth;
      if (depth != leaf_depth) fail("leaves at depths " + std::to_string(leaf_depth) + " and " + std::to_string(depth));
      entries += n;
      return;
    }
    if (node.children.size() != n + 1) fail("branch with " + std::to_string(n) + " keys and " +
                                            std::to_string(node.children.size()) + " children");
    if (!node.values.empty()) fail("branch with values");
    if (!error.empty()) return;
    for (std::size_t i = 0; i <= n; ++i) {
      const std::string* lo = i == 0 ? low : &node.keys[i - 1];
      const std::string* hi = i == n ? high : &node.keys[i];
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
