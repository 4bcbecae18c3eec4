#include "engines/lsm/merging_iterator.hpp"

#include <algorithm>

namespace orbit::lsm {
namespace {

class MemtableIterator final : public InternalIterator {
 public:
  explicit MemtableIterator(std::shared_ptr<const Memtable> table) : table_(std::move(table)), it_(*table_) {}
  bool valid() const noexcept override { return it_.valid(); }
  Task<Status> seek_to_first() override {
    it_.seek_to_first();
    co_return Status{};
  }
  Task<Status> seek(std::string target) override {
    it_.seek(target);
    co_return Status{};
  }
  Task<Status> next() override {
    it_.next();
    co_return Status{};
  }
  std::string_view key() const noexcept override { return it_.key(); }
  std::string_view value() const noexcept override { return it_.value(); }

 private:
  std::shared_ptr<const Memtable> table_;
  Memtable::Iterator it_;
};

class TableIterator final : public InternalIterator {
 public:
  explicit TableIterator(TablePtr table) : table_(std::move(table)), it_(*table_->reader) {}
  bool valid() const noexcept override { return it_.valid(); }
  Task<Status> seek_to_first() override { return it_.seek_to_first(); }
  Task<Status> seek(std::string target) override { return it_.seek(std::move(target)); }
  Task<Status> next() override { return it_.next(); }
  std::string_view key() const noexcept override { return it_.key(); }
  std::string_view value() const noexcept override { return it_.value(); }

 private:
  TablePtr table_;
  SstableReader::Iterator it_;
};

class LevelIterator final : public InternalIterator {
 public:
  explicit LevelIterator(std::vector<TablePtr> files) : files_(std::move(files)) {}
  bool valid() const noexcept override { return it_ != nullptr && it_->valid(); }
  Task<Status> seek_to_first() override {
    index_ = 0;
    co_return co_await open_from(nullptr);
  }
  Task<Status> seek(std::string target) override {
    // First file whose largest internal key >= target.
    auto pos = std::lower_bound(files_.begin(), files_.end(), target, [](const TablePtr& t, const std::string& k) {
      return internal_key_compare(t->meta.largest, k) < 0;
    });
    index_ = static_cast<std::size_t>(pos - files_.begin());
    co_return co_await open_from(&target);
  }
  Task<Status> next() override {
    Status s = co_await it_->next();
    if (!s.ok()) {
      it_.reset();
      co_return s;
    }
    if (it_->valid()) co_return Status{};
    ++index_;
    co_return co_await open_from(nullptr);
  }
  std::string_view key() const noexcept override { return it_->key(); }
  std::string_view value() const noexcept override { return it_->value(); }

 private:
  // Positions at the first entry (>= *target if given) of files_[index_..].
  Task<Status> open_from(const std::string* target) {
    it_.reset();
    while (index_ < files_.size()) {
      it_ = std::make_unique<TableIterator>(files_[index_]);
      Status s;
      if (target != nullptr) {
        s = co_await it_->seek(*target);
      } else {
        s = co_await it_->seek_to_first();
      }
      if (!s.ok()) {
        it_.reset();
        co_return s;
      }
      if (it_->valid()) co_return Status{};
      ++index_;
      target = nullptr;
    }
    it_.reset();
    co_return Status{};
  }

  std::vector<TablePtr> files_;
  std::size_t index_ = 0;
  std::unique_ptr<TableIterator> it_;
};

}  // namespace

std::unique_ptr<InternalIterator> make_memtable_iterator(std::shared_ptr<const Memtable> table) {
  return std::make_unique<MemtableIterator>(std::move(table));
}
std::unique_ptr<InternalIterator> make_table_iterator(TablePtr table) {
  return std::make_unique<TableIterator>(std::move(table));
}
std::unique_ptr<InternalIterator> make_level_iterator(std::vector<TablePtr> files) {
  return std::make_unique<LevelIterator>(std::move(files));
}

MergingIterator::MergingIterator(std::vector<std::unique_ptr<InternalIterator>> children)
    : children_(std::move(children)) {}

void MergingIterator::find_smallest() {
  current_ = nullptr;
  for (auto& child : children_) {
    if (!child->valid()) continue;
    if (current_ == nullptr || internal_key_compare(child->key(), current_->key()) < 0) current_ = child.get();
  }
}

Task<Status> MergingIterator::seek_to_first() {
  current_ = nullptr;
  for (auto& child : children_) {
    Status s = co_await child->seek_to_first();
    if (!s.ok()) co_return s;
  }
  find_smallest();
  co_return Status{};
}

Task<Status> MergingIterator::seek(std::string target) {
  current_ = nullptr;
  for (auto& child : children_) {
    Status s = co_await child->seek(target);
    if (!s.ok()) co_return s;
  }
  find_smallest();
  co_return Status{};
}

Task<Status> MergingIterator::next() {
  InternalIterator* advancing = current_;
  current_ = nullptr;
  Status s = co_await advancing->next();
  if (!s.ok()) co_return s;
  find_smallest();
  co_return Status{};
}

}  // namespace orbit::lsm
