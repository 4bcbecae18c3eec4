// The small-file helpers of metadata.hpp: whole-file read, atomic replace.
#include <cerrno>
#include <cstring>

#include "engines/cow_btree/metadata.hpp"

namespace orbit::cow_btree {
namespace {

Error io_failure(const std::string& path, const char* what, int err) {
  return make_error(err == ENOSPC ? ErrorCode::NoSpace : ErrorCode::IOError,
                    "cow_btree " + path + ": " + what + ": " + std::strerror(err));
}

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

}  // namespace

Task<Result<std::string>> read_small_file(io::FileSystem& fs, std::string path) {
  auto opened = co_await fs.open(path, io::OpenOptions::read_only());
  if (!opened.ok()) {
    if (opened.error() == ENOENT) co_return make_error(ErrorCode::NotFound, "cow_btree " + path + " does not exist");
    co_return io_failure(path, "open", opened.error());
  }
  auto size = opened.value()->size();
  if (!size.ok()) co_return io_failure(path, "fstat", size.error());
  std::string bytes(size.value(), '\0');
  auto read = co_await opened.value()->read_at(std::as_writable_bytes(std::span(bytes.data(), bytes.size())), 0);
  if (!read.ok()) co_return io_failure(path, "read", read.error());
  bytes.resize(read.value());
  co_return bytes;
}

Task<Result<void>> write_file_atomically(io::FileSystem& fs, std::string path, std::string bytes) {
  const std::string temp = path + ".tmp";
  io::OpenOptions options = io::OpenOptions::read_write_create();
  options.truncate = true;
  auto opened = co_await fs.open(temp, options);
  if (!opened.ok()) co_return io_failure(temp, "create", opened.error());
  std::unique_ptr<io::File> file = std::move(opened.value());
  auto wrote = co_await file->write_at(std::as_bytes(std::span(bytes.data(), bytes.size())), 0);
  if (!wrote.ok()) co_return io_failure(temp, "write", wrote.error());
  auto synced = co_await file->datasync();
  if (!synced.ok()) co_return io_failure(temp, "datasync", synced.error());
  auto closed = co_await file->close();
  if (!closed.ok()) co_return io_failure(temp, "close", closed.error());
  file.reset();
  auto renamed = co_await fs.rename(temp, path);
  if (!renamed.ok()) co_return io_failure(path, "rename from .tmp", renamed.error());
  auto dir_synced = co_await fs.sync_dir(parent_of(path));
  if (!dir_synced.ok()) co_return io_failure(parent_of(path), "sync_dir", dir_synced.error());
  co_return Result<void>::success();
}

}  // namespace orbit::cow_btree
