#include "io/detail/blocking_file_system.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "io/detail/posix_fs.hpp"
#include "io/runtime.hpp"

namespace orbit::io::detail {
namespace {

IoResult<void> errno_result(int rc) {
  if (rc != 0) return Errno{errno};
  return {};
}

class BlockingFile final : public File {
 public:
  BlockingFile(Runtime& runtime, int fd, std::string path) : runtime_(runtime), fd_(fd), path_(std::move(path)) {}
  ~BlockingFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  const std::string& path() const noexcept override { return path_; }

  Task<IoResult<std::size_t>> read_at(std::span<std::byte> buffer, std::uint64_t offset) override {
    int fd = fd_;
    co_return co_await runtime_.offload([fd, buffer, offset] { return pread_full(fd, buffer, offset); });
  }
  Task<IoResult<void>> write_at(std::span<const std::byte> data, std::uint64_t offset) override {
    iovec one{const_cast<std::byte*>(data.data()), data.size()};
    co_return co_await writev_at(std::span<const iovec>(&one, 1), offset);
  }
  Task<IoResult<void>> writev_at(std::span<const iovec> buffers, std::uint64_t offset) override {
    int fd = fd_;
    co_return co_await runtime_.offload([fd, buffers, offset] { return pwritev_full(fd, buffers, offset); });
  }
  Task<IoResult<void>> datasync() override {
    int fd = fd_;
    co_return co_await runtime_.offload([fd] { return errno_result(::fdatasync(fd)); });
  }
  Task<IoResult<void>> sync() override {
    int fd = fd_;
    co_return co_await runtime_.offload([fd] { return errno_result(::fsync(fd)); });
  }
  Task<IoResult<void>> write_and_datasync(std::span<const iovec> buffers, std::uint64_t offset) override {
    int fd = fd_;
    // One worker hop for both calls: the sync runs only if the write succeeded.
    co_return co_await runtime_.offload([fd, buffers, offset]() -> IoResult<void> {
      auto written = pwritev_full(fd, buffers, offset);
      if (!written) return written;
      return errno_result(::fdatasync(fd));
    });
  }
  Task<IoResult<void>> allocate(std::uint64_t offset, std::uint64_t length) override {
    int fd = fd_;
    co_return co_await runtime_.offload([fd, offset, length] {
      return errno_result(::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(length)));
    });
  }
  Task<IoResult<void>> truncate(std::uint64_t length) override {
    int fd = fd_;
    co_return co_await runtime_.offload([fd, length] { return errno_result(::ftruncate(fd, static_cast<off_t>(length))); });
  }
  IoResult<std::uint64_t> size() override { return fd_size(fd_); }
  IoResult<void> writev_now(std::span<const iovec> buffers, std::uint64_t offset) override {
    return pwritev_full(fd_, buffers, offset);
  }
  Task<IoResult<void>> close() override {
    int fd = std::exchange(fd_, -1);
    if (fd < 0) co_return Errno{EBADF};
    co_return co_await runtime_.offload([fd] { return errno_result(::close(fd)); });
  }

 private:
  Runtime& runtime_;
  int fd_;
  std::string path_;
};

}  // namespace

Task<IoResult<std::unique_ptr<File>>> BlockingFileSystem::open(std::string path, OpenOptions options) {
  int flags = open_flags(options);
  auto opened = co_await runtime_.offload([&path, flags]() -> IoResult<int> {
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return Errno{errno};
    return fd;
  });
  if (!opened) co_return Errno{opened.error()};
  co_return std::unique_ptr<File>(std::make_unique<BlockingFile>(runtime_, *opened, std::move(path)));
}

Task<IoResult<void>> BlockingFileSystem::rename(std::string from, std::string to) {
  co_return co_await runtime_.offload([&] { return errno_result(::rename(from.c_str(), to.c_str())); });
}

Task<IoResult<void>> BlockingFileSystem::remove(std::string path) {
  co_return co_await runtime_.offload([&] { return errno_result(::unlink(path.c_str())); });
}

Task<IoResult<void>> BlockingFileSystem::sync_dir(std::string path) {
  co_return co_await runtime_.offload([&] { return fsync_dir(path); });
}

IoResult<void> BlockingFileSystem::create_dirs(const std::string& path) { return detail::create_dirs(path); }
IoResult<std::vector<std::string>> BlockingFileSystem::list_dir(const std::string& path) {
  return detail::list_dir(path);
}
bool BlockingFileSystem::exists(const std::string& path) { return detail::exists(path); }
IoResult<std::uint64_t> BlockingFileSystem::file_size(const std::string& path) { return detail::file_size(path); }

}  // namespace orbit::io::detail
