// Node: one node of the copy-on-write B+ tree.
//
// A node is never changed while more than one Tree can reach it: updates
// build new nodes and share the untouched ones (structural sharing), so any
// root a reader holds stays a consistent tree without locks. (The writer's
// Tree::insert_or_assign/remove change in place only nodes reachable from
// its own root alone: see tree.cpp.)
//
// Leaf:   entries (key[i] -> value[i]), keys strictly increasing.
// Branch: children.size() == entries.size() + 1, entries hold the separator
//         keys (values empty); every key in children[i] is >= key[i-1] and
//         < key[i] (separators are copies of leaf keys).
//
// Entries are packed into one buffer per node (Entries below) rather than a
// std::string per key and per value: a lease is three tree entries, and
// per-string object and heap-block overhead would otherwise cost more than
// the lease itself (the memory target of issue 6).
//
// The one mutable field, `disk`, records where the pager wrote the node. It is
// set only by the single writer, on nodes reachable from a root not yet
// published to readers, and never changed afterwards.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engines/cow_btree/node_buffer.hpp"

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

// An ordered run of (key, value) entries in one buffer: entry i is a 2-byte
// key length, the key, then the value; ends_[i] is where entry i ends.
// Keys are at most 65535 bytes (key_layout keys are a few hundred at most).
class Entries {
 public:
  std::size_t size() const noexcept { return ends_.size(); }
  bool empty() const noexcept { return ends_.empty(); }
  std::string_view key(std::size_t i) const noexcept {
    const char* p = data_.data() + begin(i);
    return {p + 2, key_length(p)};
  }
  std::string_view value(std::size_t i) const noexcept {
    const std::size_t b = begin(i);
    const std::size_t k = key_length(data_.data() + b);
    return {data_.data() + b + 2 + k, ends_[i] - b - 2 - k};
  }
  std::string_view front() const noexcept { return key(0); }
  std::string_view back() const noexcept { return key(size() - 1); }
  // Bytes of keys and values plus framing (for memory estimates).
  std::size_t bytes() const noexcept { return data_.size(); }

  void insert(std::size_t i, std::string_view key, std::string_view value) {
    assert(key.size() <= 0xFFFF);
    const std::size_t at = begin(i);
    const std::size_t n = 2 + key.size() + value.size();
    data_.insert(at, n, '\0');
    const auto k = static_cast<std::uint16_t>(key.size());
    char* p = data_.data() + at;
    p[0] = static_cast<char>(k & 0xFF);
    p[1] = static_cast<char>(k >> 8);
    if (!key.empty()) std::memcpy(p + 2, key.data(), key.size());
    if (!value.empty()) std::memcpy(p + 2 + key.size(), value.data(), value.size());
    ends_.insert(ends_.begin() + static_cast<std::ptrdiff_t>(i), static_cast<std::uint32_t>(at + n));
    shift(i + 1, static_cast<std::int64_t>(n));
  }
  void push_back(std::string_view key, std::string_view value) { insert(size(), key, value); }
  void erase(std::size_t i) {
    const std::size_t b = begin(i);
    const std::size_t n = ends_[i] - b;
    data_.erase(b, n);
    ends_.erase(ends_.begin() + static_cast<std::ptrdiff_t>(i));
    shift(i, -static_cast<std::int64_t>(n));
  }
  void set_value(std::size_t i, std::string_view value) {
    const std::size_t b = begin(i);
    const std::size_t start = b + 2 + key_length(data_.data() + b);
    const std::size_t old = ends_[i] - start;
    data_.replace(start, old, value);
    shift(i, static_cast<std::int64_t>(value.size()) - static_cast<std::int64_t>(old));
  }
  void set_key(std::size_t i, std::string_view key) {
    const std::string value(this->value(i));
    erase(i);
    insert(i, key, value);
  }
  // Moves entries [from, size()) out into the returned run.
  Entries split_off(std::size_t from) {
    Entries out;
    const std::size_t b = begin(from);
    out.data_.assign(data_, b, std::string::npos);
    out.ends_.reserve(size() - from);
    for (std::size_t i = from; i < size(); ++i) out.ends_.push_back(static_cast<std::uint32_t>(ends_[i] - b));
    truncate(from);
    return out;
  }
  // Keeps the first n entries.
  void truncate(std::size_t n) {
    data_.resize(begin(n));
    ends_.resize(n);
    data_.shrink_to_fit();
    ends_.shrink_to_fit();
  }
  void append(const Entries& other) {
    const auto base = static_cast<std::uint32_t>(data_.size());
    data_ += other.data_;
    ends_.reserve(ends_.size() + other.ends_.size());
    for (std::uint32_t e : other.ends_) ends_.push_back(base + e);
  }
  void reserve(std::size_t entries, std::size_t key_value_bytes) {
    ends_.reserve(entries);
    data_.reserve(key_value_bytes + 2 * entries);
  }

 private:
  std::size_t begin(std::size_t i) const noexcept { return i == 0 ? 0 : ends_[i - 1]; }
  static std::size_t key_length(const char* p) noexcept {
    return static_cast<std::size_t>(static_cast<unsigned char>(p[0])) |
           (static_cast<std::size_t>(static_cast<unsigned char>(p[1])) << 8);
  }
  void shift(std::size_t from, std::int64_t delta) {
    for (std::size_t j = from; j < ends_.size(); ++j)
      ends_[j] = static_cast<std::uint32_t>(static_cast<std::int64_t>(ends_[j]) + delta);
  }

  // Its bytes come from node_buffer's size classes, not malloc (why: there).
  std::basic_string<char, std::char_traits<char>, node_buffer::Allocator<char>> data_;
  std::vector<std::uint32_t> ends_;
};

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Node {
  bool leaf = true;
  Entries entries;                // leaves: keys and values; branches: separator keys
  std::vector<NodePtr> children;  // branches only
  mutable PageRef disk;           // see the header comment
  // The pager's commit that last walked this node (pager.cpp); the single
  // writer's bookkeeping, like `disk`.
  mutable std::uint64_t commit_mark = 0;
};

}  // namespace orbit::cow_btree
