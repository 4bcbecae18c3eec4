#include "engines/lsm/sstable_reader.hpp"

#include "engines/lsm/block_trailer.hpp"
#include "engines/lsm/bloom.hpp"

namespace orbit::lsm {

SstableReader::SstableReader(std::unique_ptr<io::File> file, std::string path, std::uint64_t file_size)
    : file_(std::move(file)), path_(std::move(path)), file_size_(file_size) {}

SstableReader::~SstableReader() = default;

Error SstableReader::corruption(std::uint64_t offset, std::string_view what) const {
  return make_error(ErrorCode::Corruption,
                    "sstable " + path_ + " offset " + std::to_string(offset) + ": " + std::string(what));
}

Task<Result<std::unique_ptr<SstableReader>>> SstableReader::open(io::FileSystem& fs, std::string path) {
  auto file = co_await fs.open(path, io::OpenOptions::read_only());
  if (!file) co_return make_error(ErrorCode::IOError, "sstable " + path + ": open: " + file.message());
  auto size = file.value()->size();
  if (!size) co_return make_error(ErrorCode::IOError, "sstable " + path + ": fstat: " + size.message());
  std::unique_ptr<SstableReader> reader(
      new SstableReader(std::move(file.value()), std::move(path), size.value()));
  if (reader->file_size_ < kSstableHeaderSize + kSstableFooterSize) {
    co_return reader->corruption(
        0, "file of " + std::to_string(reader->file_size_) + " bytes is too short for a header and footer");
  }

  std::uint64_t footer_offset = reader->file_size_ - kSstableFooterSize;
  auto footer_bytes = co_await reader->read_exact(footer_offset, kSstableFooterSize);
  if (!footer_bytes) co_return std::move(footer_bytes).error();
  auto footer = decode_sstable_footer(footer_bytes.value(), reader->path_, footer_offset);
  if (!footer) co_return std::move(footer).error();
  reader->footer_ = footer.value();

  auto header = co_await reader->read_exact(0, kSstableHeaderSize);
  if (!header) co_return std::move(header).error();
  Status header_ok = check_sstable_header(header.value(), reader->path_);
  if (!header_ok.ok()) co_return std::move(header_ok).error();

  auto index = co_await reader->read_block(reader->footer_.index);
  if (!index) co_return std::move(index).error();
  reader->index_ = std::move(index.value());

  if (reader->footer_.filter.size != 0) {
    BlockHandle handle = reader->footer_.filter;
    auto stored = co_await reader->read_exact(handle.offset, handle.size + kBlockTrailerSize);
    if (!stored) co_return std::move(stored).error();
    auto filter = decode_block(stored.value(), {reader->path_, handle.offset});
    if (!filter) co_return std::move(filter).error();
    reader->filter_ = std::move(filter.value());
  }
  co_return std::move(reader);
}

Task<Result<std::string>> SstableReader::read_exact(std::uint64_t offset, std::uint64_t size) {
  std::string buffer(static_cast<std::size_t>(size), '\0');
  auto read =
      co_await file_->read_at(std::as_writable_bytes(std::span(buffer.data(), buffer.size())), offset);
  if (!read) {
    co_return make_error(
        ErrorCode::IOError,
        "sstable " + path_ + " offset " + std::to_string(offset) + ": read: " + read.message(),
        /*retryable=*/true);
  }
  if (read.value() != size) {
    co_return corruption(offset, "truncated: wanted " + std::to_string(size) + " bytes, file ends after " +
                                     std::to_string(read.value()));
  }
  co_return buffer;
}

Task<Result<std::shared_ptr<const Block>>> SstableReader::read_block(BlockHandle handle, bool data_block) {
  if (data_block && cache_ != nullptr) {
    if (auto cached = cache_->lookup(file_number_, handle.offset)) co_return cached;
  }
  if (handle.size > kMaxBlockContentsSize) co_return corruption(handle.offset, "block size out of range");
  auto stored = co_await read_exact(handle.offset, handle.size + kBlockTrailerSize);
  if (!stored) co_return std::move(stored).error();
  BlockLocation where{path_, handle.offset};
  auto contents = decode_block(stored.value(), where);
  if (!contents) co_return std::move(contents).error();
  auto block = Block::parse(std::move(contents.value()), std::move(where), internal_key_compare);
  if (block && data_block) {
    ++data_blocks_read_;
    if (cache_ != nullptr) cache_->insert(file_number_, handle.offset, block.value());
  }
  co_return block;
}

bool SstableReader::may_contain(std::string_view user_key) const noexcept {
  return filter_.empty() || bloom_may_contain(filter_, user_key);
}

Status SstableReader::lookup_in_block(const Block& block, std::uint64_t block_offset,
                                      std::string_view user_key, std::string_view target,
                                      LookupResult& result) const {
  Block::Iterator it(block);
  it.seek(target);
  if (!it.valid()) return it.status();
  ParsedInternalKey parsed;
  if (!parse_internal_key(it.key(), parsed)) return corruption(block_offset, "entry key is not an internal key");
  if (parsed.user_key != user_key) return Status{};
  result.sequence = parsed.sequence;
  if (parsed.type == ValueType::Delete) {
    result.state = LookupState::Deleted;
  } else {
    result.state = LookupState::Found;
    result.value.assign(it.value());
  }
  return Status{};
}

bool SstableReader::get_without_io(std::string_view user_key, SequenceNumber snapshot, LookupResult& out) {
  out.state = LookupState::NotFound;  // out.value keeps its buffer for the next Found
  out.sequence = 0;
  if (!filter_.empty() && !bloom_may_contain(filter_, user_key)) {
    ++filter_negatives_;
    return true;
  }
  if (cache_ == nullptr) return false;
  const SeekKey seek(user_key, snapshot);
  const std::string_view target = seek.view();
  Block::Iterator index(*index_);
  index.seek(target);
  if (!index.valid()) return index.status().ok();  // every key < target: NotFound
  auto handle = data_handle(index.value(), footer_.index.offset);
  if (!handle) return false;  // get() reports it
  const Block* block = cache_->peek(file_number_, handle->offset, /*count_miss=*/false);
  if (block == nullptr) return false;
  return lookup_in_block(*block, handle->offset, user_key, target, out).ok();
}

Result<BlockHandle> SstableReader::data_handle(std::string_view encoded,
                                               std::uint64_t index_entry_offset) const {
  BlockHandle handle;
  // Data blocks lie between the header and the first meta block.
  std::uint64_t end = footer_.filter.size != 0 ? footer_.filter.offset : footer_.index.offset;
  if (!decode_block_handle(encoded, handle) || handle.offset < kSstableHeaderSize || handle.offset > end ||
      handle.size > end - handle.offset || handle.size + kBlockTrailerSize > end - handle.offset) {
    return corruption(index_entry_offset, "index entry points outside the data blocks");
  }
  return handle;
}

Task<Result<LookupResult>> SstableReader::get(std::string user_key, SequenceNumber snapshot) {
  LookupResult result;
  if (!filter_.empty() && !bloom_may_contain(filter_, user_key)) {
    ++filter_negatives_;
    co_return result;
  }
  const SeekKey seek(user_key, snapshot);  // in the frame: the view stays valid across reads
  const std::string_view target = seek.view();
  Block::Iterator index(*index_);
  index.seek(target);
  if (!index.valid()) {
    if (!index.status().ok()) co_return index.status().error();
    co_return result;  // every key in the file is < target
  }
  auto handle = data_handle(index.value(), footer_.index.offset);
  if (!handle) co_return std::move(handle).error();
  auto block = co_await read_block(handle.value(), /*data_block=*/true);
  if (!block) co_return std::move(block).error();
  Status found = lookup_in_block(*block.value(), handle->offset, user_key, target, result);
  if (!found.ok()) co_return std::move(found).error();
  co_return result;
}

Task<Status> SstableReader::close() {
  auto closed = co_await file_->close();
  if (!closed) co_return make_error(ErrorCode::IOError, "sstable " + path_ + ": close: " + closed.message());
  co_return Status{};
}

// ---- Iterator ----------------------------------------------------------------

SstableReader::Iterator::Iterator(SstableReader& reader) : reader_(reader), index_(reader.index_) {}

Status SstableReader::Iterator::fail(Status status) {
  data_.reset();
  status_ = status;
  return status;
}

Task<Status> SstableReader::Iterator::load_block_at_index(const std::string* target) {
  while (index_.valid()) {
    auto handle = reader_.data_handle(index_.value(), reader_.footer_.index.offset);
    if (!handle) co_return fail(std::move(handle).error());
    auto block = co_await reader_.read_block(handle.value(), /*data_block=*/true);
    if (!block) co_return fail(std::move(block).error());
    data_ = std::make_unique<Block::Iterator>(block.value());
    if (target != nullptr) {
      data_->seek(*target);
    } else {
      data_->seek_to_first();
    }
    if (!data_->status().ok()) co_return fail(data_->status());
    if (data_->valid()) co_return Status{};
    index_.next();
    target = nullptr;  // later blocks hold only keys > target
  }
  data_.reset();
  if (!index_.status().ok()) co_return fail(index_.status());
  co_return Status{};
}

Task<Status> SstableReader::Iterator::seek_to_first() {
  if (!status_.ok()) co_return status_;
  index_.seek_to_first();
  co_return co_await load_block_at_index(nullptr);
}

Task<Status> SstableReader::Iterator::seek(std::string target) {
  if (!status_.ok()) co_return status_;
  index_.seek(target);
  co_return co_await load_block_at_index(&target);
}

Task<Status> SstableReader::Iterator::next() {
  if (!status_.ok()) co_return status_;
  data_->next();
  if (data_->valid()) co_return Status{};
  if (!data_->status().ok()) co_return fail(data_->status());
  index_.next();
  co_return co_await load_block_at_index(nullptr);
}

}  // namespace orbit::lsm
