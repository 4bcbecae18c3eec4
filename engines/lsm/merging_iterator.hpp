// Iterators over internal keys (user key, sequence, type) that scans and
// compactions read through: one per memtable, one per SSTable, one per
// level >= 1 (its non-overlapping files one after another), and the
// MergingIterator that yields the union of its children in internal-key
// order (so the newest version of each user key comes first).
//
// Positioning calls are coroutines because SSTable children read blocks;
// memtable children answer at once. On an error a call returns it and the
// iterator becomes invalid. Children are given newest source first; equal
// internal keys (which a consistent store never holds twice) come from the
// earlier child first.
// Threading: the owning loop thread. Memtable iterators stay valid across
// inserts (std::map); SSTable iterators need their reader alive (the
// Version holds it).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engines/lsm/memtable.hpp"
#include "engines/lsm/sstable_reader.hpp"
#include "engines/lsm/version.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::lsm {

class InternalIterator {
 public:
  virtual ~InternalIterator() = default;
  virtual bool valid() const noexcept = 0;
  virtual Task<Status> seek_to_first() = 0;
  // First entry with internal key >= target.
  virtual Task<Status> seek(std::string target) = 0;
  // REQUIRES: valid()
  virtual Task<Status> next() = 0;
  virtual std::string_view key() const noexcept = 0;
  virtual std::string_view value() const noexcept = 0;
};

// Keeps its memtable alive.
std::unique_ptr<InternalIterator> make_memtable_iterator(std::shared_ptr<const Memtable> table);
// Keeps its table alive.
std::unique_ptr<InternalIterator> make_table_iterator(TablePtr table);
// The files of one level >= 1 (sorted, non-overlapping), kept alive.
std::unique_ptr<InternalIterator> make_level_iterator(std::vector<TablePtr> files);

class MergingIterator final : public InternalIterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<InternalIterator>> children);
  bool valid() const noexcept override { return current_ != nullptr; }
  Task<Status> seek_to_first() override;
  Task<Status> seek(std::string target) override;
  Task<Status> next() override;
  std::string_view key() const noexcept override { return current_->key(); }
  std::string_view value() const noexcept override { return current_->value(); }

 private:
  void find_smallest();
  std::vector<std::unique_ptr<InternalIterator>> children_;
  InternalIterator* current_ = nullptr;
};

}  // namespace orbit::lsm
