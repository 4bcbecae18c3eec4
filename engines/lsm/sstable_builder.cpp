#include "engines/lsm/sstable_builder.hpp"

#include <cassert>

#include "engines/lsm/sstable_footer.hpp"
#include "io/background.hpp"

namespace orbit::lsm {

SstableOptions SstableOptions::from_config(const LsmConfig& config) {
  SstableOptions options;
  options.block_size_bytes = config.sstable_block_size_kb * 1024;
  options.bloom_bits_per_key = config.enable_bloom_filters ? config.bloom_filter_bits_per_key : 0;
  options.compression = config.enable_compression ? CompressionType::Lz4 : CompressionType::None;
  return options;
}

Task<Result<std::unique_ptr<SstableBuilder>>> SstableBuilder::create(io::FileSystem& fs, std::string path,
                                                                     SstableOptions options) {
  io::OpenOptions open_options = io::OpenOptions::read_write_create();
  open_options.exclusive = true;
  auto file = co_await fs.open(path, open_options);
  if (!file) {
    co_return make_error(ErrorCode::IOError, "sstable " + path + ": create: " + file.message());
  }
  std::unique_ptr<SstableBuilder> builder(
      new SstableBuilder(fs, std::move(file.value()), std::move(path), options));
  co_return std::move(builder);
}

SstableBuilder::SstableBuilder(io::FileSystem& fs, std::unique_ptr<io::File> file, std::string path,
                               SstableOptions options)
    : fs_(fs),
      file_(std::move(file)),
      path_(std::move(path)),
      options_(options),
      data_block_(options.restart_interval, internal_key_compare),
      index_block_(1, internal_key_compare),
      filter_(options.bloom_bits_per_key == 0 ? 1 : options.bloom_bits_per_key) {
  info_.path = path_;
  pending_ = encode_sstable_header();
}

SstableBuilder::~SstableBuilder() = default;

Error SstableBuilder::io_error(std::string_view op, std::uint64_t offset, int error) const {
  return make_error(ErrorCode::IOError, "sstable " + path_ + " offset " + std::to_string(offset) + ": " +
                                            std::string(op) + ": " + io::Errno{error}.message());
}

Status SstableBuilder::add(std::string_view internal_key, std::string_view value) {
  if (!failed_.ok()) return failed_;
  ParsedInternalKey parsed;
  if (!parse_internal_key(internal_key, parsed)) {
    return make_error(ErrorCode::InvalidArgument, "sstable " + path_ + ": entry key is not an internal key");
  }
  if (info_.entry_count > 0 && internal_key_compare(internal_key, info_.largest_key) <= 0) {
    return make_error(ErrorCode::InvalidArgument,
                      "sstable " + path_ + ": keys must be added in increasing order");
  }
  if (options_.bloom_bits_per_key != 0 && (info_.entry_count == 0 || parsed.user_key != last_user_key_)) {
    filter_.add_key(parsed.user_key);
    last_user_key_.assign(parsed.user_key);
  }
  if (info_.entry_count == 0) info_.smallest_key.assign(internal_key);
  info_.largest_key.assign(internal_key);
  ++info_.entry_count;
  data_block_.add(internal_key, value);
  if (data_block_.size_estimate() >= options_.block_size_bytes) finish_data_block();
  return {};
}

BlockHandle SstableBuilder::append_block(std::string_view contents, CompressionType compression) {
  std::string stored = encode_block(contents, compression);
  BlockHandle handle{written_ + pending_.size(), stored.size() - kBlockTrailerSize};
  pending_.append(stored);
  return handle;
}

void SstableBuilder::finish_data_block() {
  if (data_block_.empty()) return;
  std::string last_key(data_block_.last_key());
  std::string_view contents = data_block_.finish();
  BlockHandle handle = append_block(contents, options_.compression);
  if (observer_) observer_(handle.offset, contents);
  data_block_.reset();
  std::string encoded_handle;
  append_block_handle(encoded_handle, handle);
  index_block_.add(last_key, encoded_handle);
  ++info_.data_block_count;
  io::background_checkpoint();  // a flush or compaction on a background worker gives way here
}

Task<Status> SstableBuilder::write_pending() {
  if (!failed_.ok()) co_return failed_;
  if (pending_.empty()) co_return Status{};
  auto wrote = co_await file_->write_at(std::as_bytes(std::span(pending_.data(), pending_.size())), written_);
  if (!wrote) {
    failed_ = io_error("write", written_, wrote.error());
    co_return failed_;
  }
  written_ += pending_.size();
  pending_.clear();
  co_return Status{};
}

Task<Status> SstableBuilder::flush() { co_return co_await write_pending(); }

void SstableBuilder::seal() {
  assert(!sealed_);
  sealed_ = true;
  finish_data_block();
  SstableFooter footer;
  footer.entry_count = info_.entry_count;
  if (options_.bloom_bits_per_key != 0) {
    footer.filter = append_block(filter_.finish(), CompressionType::None);
  }
  footer.index = append_block(index_block_.finish(), CompressionType::None);
  pending_.append(encode_sstable_footer(footer));
}

Task<Result<SstableInfo>> SstableBuilder::finish() {
  if (!failed_.ok()) co_return failed_.error();
  if (!sealed_) seal();
  Status wrote = co_await write_pending();
  if (!wrote.ok()) co_return std::move(wrote).error();
  auto synced = co_await file_->datasync();
  if (!synced) {
    failed_ = io_error("datasync", 0, synced.error());
    co_return failed_.error();
  }
  auto closed = co_await file_->close();
  if (!closed) {
    failed_ = io_error("close", 0, closed.error());
    co_return failed_.error();
  }
  info_.file_size = written_;
  co_return info_;
}

Task<Status> SstableBuilder::abandon() {
  if (failed_.ok()) failed_ = make_error(ErrorCode::Unavailable, "sstable " + path_ + ": abandoned");
  auto closed = co_await file_->close();
  auto removed = co_await fs_.remove(path_);
  if (!removed) co_return io_error("remove", 0, removed.error());
  if (!closed) co_return io_error("close", 0, closed.error());
  co_return Status{};
}

}  // namespace orbit::lsm
