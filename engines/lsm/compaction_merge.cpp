#include "engines/lsm/compaction_merge.hpp"

#include "engines/lsm/block_trailer.hpp"
#include "io/background.hpp"

namespace orbit::lsm {

CompactionInput::CompactionInput(std::vector<TablePtr> files, std::size_t run_bytes)
    : files_(std::move(files)), run_bytes_(run_bytes) {
  if (!files_.empty()) {
    index_.emplace(files_.front()->reader->index_block());
    index_->seek_to_first();
  }
}

Status CompactionInput::fail(Status status) {
  block_.reset();
  blocks_.clear();
  status_ = status;
  return status;
}

Task<Status> CompactionInput::fill() {
  while (!index_->valid()) {
    if (!index_->status().ok()) co_return fail(index_->status());
    if (++file_ == files_.size()) co_return Status{};
    index_.emplace(files_[file_]->reader->index_block());
    index_->seek_to_first();
  }
  SstableReader& reader = *files_[file_]->reader;
  const std::uint64_t index_offset = reader.footer().index.offset;
  // Data blocks lie back to back: take the blocks that fit in run_bytes
  // (at least one) and read them at once.
  std::uint64_t end = 0;
  while (index_->valid()) {
    auto handle = reader.data_handle(index_->value(), index_offset);
    if (!handle) co_return fail(std::move(handle).error());
    const std::uint64_t block_end = handle->offset + handle->size + kBlockTrailerSize;
    if (!blocks_.empty() && (handle->offset != end || block_end - blocks_.front().offset > run_bytes_)) break;
    blocks_.push_back(handle.value());
    end = block_end;
    index_->next();
  }
  if (!index_->status().ok()) co_return fail(index_->status());
  run_offset_ = blocks_.front().offset;
  auto run = co_await reader.read_exact(run_offset_, end - run_offset_);
  if (!run) co_return fail(std::move(run).error());
  run_ = std::move(run).value();
  co_return settle();
}

Status CompactionInput::next() {
  block_->next();
  return settle();
}

Status CompactionInput::settle() {
  while (!valid()) {
    if (block_ && !block_->status().ok()) return fail(block_->status());
    block_.reset();
    if (blocks_.empty()) return Status{};
    const BlockHandle handle = blocks_.front();
    blocks_.pop_front();
    BlockLocation where{files_[file_]->reader->path(), handle.offset};
    auto contents = decode_block(
        std::string_view(run_).substr(handle.offset - run_offset_, handle.size + kBlockTrailerSize), where);
    if (!contents) return fail(std::move(contents).error());
    auto block = Block::parse(std::move(contents).value(), std::move(where), internal_key_compare);
    if (!block) return fail(std::move(block).error());
    block_.emplace(std::move(block).value());
    block_->seek_to_first();
  }
  return Status{};
}

// ---- CompactionMerge ---------------------------------------------------------

CompactionMerge::CompactionMerge(std::vector<std::unique_ptr<CompactionInput>> inputs, VersionPtr base,
                                 std::size_t output_level, std::uint64_t target_file_bytes)
    : inputs_(std::move(inputs)),
      base_(std::move(base)),
      output_level_(output_level),
      target_file_bytes_(target_file_bytes) {}

CompactionInput* CompactionMerge::smallest() const {
  CompactionInput* out = nullptr;
  for (const auto& input : inputs_)
    if (input->valid() && (out == nullptr || internal_key_compare(input->key(), out->key()) < 0)) out = input.get();
  return out;
}

bool CompactionMerge::deeper_levels_may_hold(std::string_view user_key) const {
  for (std::size_t level = output_level_ + 1; level < base_->levels.size(); ++level)
    if (base_->find_in_level(level, user_key) != nullptr) return true;
  return false;
}

bool CompactionMerge::keep(const ParsedInternalKey& entry) {
  if (!newest_.is_newest(entry.user_key)) {
    ++versions_dropped_;  // shadowed by the newer version just taken
    return false;
  }
  const bool bottom = !deeper_levels_may_hold(entry.user_key);
  if (entry.type == ValueType::Delete && bottom) {
    ++tombstones_dropped_;  // nothing below to hide
    return false;
  }
  // The only version left of a key nothing below holds: its sequence orders
  // it against nothing any more (every other version, above, is newer; views
  // older than it read the files they pinned), so it is written as 0, which
  // compresses (RocksDB does the same at its bottommost level).
  zero_sequence_ = bottom && entry.sequence != 0;
  return true;
}

std::string_view CompactionMerge::output_key(std::string_view key) {
  if (!zero_sequence_) return key;
  zeroed_key_.clear();
  append_internal_key(zeroed_key_, extract_user_key(key), 0, ValueType::Put);
  return zeroed_key_;
}

Result<CompactionMerge::Stop> CompactionMerge::step(SstableBuilder* output) {
  for (std::uint32_t n = 1;; ++n) {
    // The output gives way between the blocks it writes; dropped entries
    // write none, so the merge also does every 256 entries.
    if (n % 256 == 0) io::background_checkpoint();
    CompactionInput* input = kept_;
    bool add = input != nullptr;
    if (!add) {
      input = smallest();
      if (input == nullptr) return Stop::Done;
      ParsedInternalKey entry;
      if (!parse_internal_key(input->key(), entry))
        return make_error(ErrorCode::Corruption, "compaction met an entry whose key is not an internal key");
      add = keep(entry);
    }
    if (add) {
      if (output == nullptr) {
        kept_ = input;
        return Stop::NeedOutput;
      }
      kept_ = nullptr;
      Status added = output->add(output_key(input->key()), input->value());
      if (!added.ok()) return std::move(added).error();
    }
    Status moved = input->next();
    if (!moved.ok()) return std::move(moved).error();
    if (add && output->should_flush()) return Stop::FlushOutput;
    if (add && output->file_size_estimate() >= target_file_bytes_) return Stop::OutputFull;
    if (input->needs_fill()) return Stop::NeedFill;
  }
}

}  // namespace orbit::lsm
