#include "io/uring/uring_file_system.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "io/detail/posix_fs.hpp"
#include "io/uring/uring_core.hpp"

namespace orbit::io::uring_backend {
namespace {

IoResult<void> status(int res) {
  if (res < 0) return Errno{-res};
  return {};
}

bool retryable(int res) { return res == -EINTR || res == -EAGAIN; }

class UringFile final : public File {
 public:
  UringFile(Core& core, Runtime& runtime, int fd, std::string path)
      : core_(&core), runtime_(runtime), fd_(fd), path_(std::move(path)) {}
  ~UringFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  const std::string& path() const noexcept override { return path_; }

  Task<IoResult<std::size_t>> read_at(std::span<std::byte> buffer, std::uint64_t offset) override {
    std::size_t done = 0;
    while (done < buffer.size()) {
      unsigned chunk = static_cast<unsigned>(std::min(buffer.size() - done, kMaxChunk));
      int res = co_await uring_op(core_, [&](io_uring_sqe** s) {
        io_uring_prep_read(s[0], fd_, buffer.data() + done, chunk, offset + done);
      });
      if (retryable(res)) continue;
      if (res < 0) co_return Errno{-res};
      if (res == 0) break;  // end of file
      done += static_cast<std::size_t>(res);
    }
    co_return done;
  }

  Task<IoResult<void>> write_at(std::span<const std::byte> data, std::uint64_t offset) override {
    std::size_t done = 0;
    while (done < data.size()) {
      unsigned chunk = static_cast<unsigned>(std::min(data.size() - done, kMaxChunk));
      int res = co_await uring_op(core_, [&](io_uring_sqe** s) {
        io_uring_prep_write(s[0], fd_, data.data() + done, chunk, offset + done);
      });
      if (retryable(res)) continue;
      if (res < 0) co_return Errno{-res};
      if (res == 0) co_return Errno{EIO};  // no progress: never spin
      done += static_cast<std::size_t>(res);
    }
    co_return IoResult<void>{};
  }

  Task<IoResult<void>> writev_at(std::span<const iovec> buffers, std::uint64_t offset) override {
    std::vector<iovec> rest(buffers.begin(), buffers.end());
    std::size_t left = detail::total_size(buffers);
    while (left > 0) {
      unsigned count = static_cast<unsigned>(std::min<std::size_t>(rest.size(), IOV_MAX));
      int res = co_await uring_op(core_, [&](io_uring_sqe** s) {
        io_uring_prep_writev(s[0], fd_, rest.data(), count, offset);
      });
      if (retryable(res)) continue;
      if (res < 0) co_return Errno{-res};
      if (res == 0) co_return Errno{EIO};
      offset += static_cast<std::uint64_t>(res);
      left -= static_cast<std::size_t>(res);
      rest = detail::advance_iovecs(rest, static_cast<std::size_t>(res));
    }
    co_return IoResult<void>{};
  }

  Task<IoResult<void>> datasync() override {
    int res = co_await uring_op(core_, [&](io_uring_sqe** s) { io_uring_prep_fsync(s[0], fd_, IORING_FSYNC_DATASYNC); });
    co_return status(res);
  }

  Task<IoResult<void>> sync() override {
    int res = co_await uring_op(core_, [&](io_uring_sqe** s) { io_uring_prep_fsync(s[0], fd_, 0); });
    co_return status(res);
  }

  // writev linked (IOSQE_IO_LINK) to fdatasync: one submission, and the sync
  // runs only if the write completed in full. A short write breaks the chain
  // (the sync completes -ECANCELED); then the rest is written and synced.
  Task<IoResult<void>> write_and_datasync(std::span<const iovec> buffers, std::uint64_t offset) override {
    std::size_t total = detail::total_size(buffers);
    if (total == 0) co_return co_await datasync();
    if (buffers.size() > IOV_MAX) {
      auto written = co_await writev_at(buffers, offset);
      if (!written) co_return written;
      co_return co_await datasync();
    }
    auto op = uring_op(
        core_,
        [&](io_uring_sqe** s) {
          io_uring_prep_writev(s[0], fd_, buffers.data(), static_cast<unsigned>(buffers.size()), offset);
          s[0]->flags |= IOSQE_IO_LINK;
          io_uring_prep_fsync(s[1], fd_, IORING_FSYNC_DATASYNC);
        },
        2);
    co_await op;
    if (op.res < 0 && !retryable(op.res)) co_return Errno{-op.res};
    std::size_t written = op.res < 0 ? 0 : static_cast<std::size_t>(op.res);
    if (written == total) co_return status(op.res2);
    auto rest = detail::advance_iovecs(buffers, written);
    auto finished = co_await writev_at(rest, offset + written);
    if (!finished) co_return finished;
    co_return co_await datasync();
  }

  // FALLOC_FL_KEEP_SIZE: reserve blocks without moving end-of-file, so a
  // reader of the file size still sees only written data (the WAL relies on
  // that). Writes into the range still update the size, so fdatasync then
  // flushes that metadata too.
  Task<IoResult<void>> allocate(std::uint64_t offset, std::uint64_t length) override {
    int res = co_await uring_op(core_, [&](io_uring_sqe** s) {
      io_uring_prep_fallocate(s[0], fd_, FALLOC_FL_KEEP_SIZE, offset, length);
    });
    co_return status(res);
  }

  Task<IoResult<void>> truncate(std::uint64_t length) override {
    int fd = fd_;
    co_return co_await runtime_.offload([fd, length]() -> IoResult<void> {
      if (::ftruncate(fd, static_cast<off_t>(length)) != 0) return Errno{errno};
      return {};
    });
  }

  IoResult<std::uint64_t> size() override { return detail::fd_size(fd_); }

  IoResult<void> writev_now(std::span<const iovec> buffers, std::uint64_t offset) override {
    return detail::pwritev_full(fd_, buffers, offset);
  }

  Task<IoResult<void>> close() override {
    int fd = std::exchange(fd_, -1);
    if (fd < 0) co_return Errno{EBADF};
    int res = co_await uring_op(core_, [fd](io_uring_sqe** s) { io_uring_prep_close(s[0], fd); });
    co_return status(res);
  }

 private:
  Core* core_;
  Runtime& runtime_;
  int fd_;
  std::string path_;
};

}  // namespace

Task<IoResult<std::unique_ptr<File>>> UringFileSystem::open(std::string path, OpenOptions options) {
  int flags = detail::open_flags(options);
  int res = co_await uring_op(&core_, [&](io_uring_sqe** s) {
    io_uring_prep_openat(s[0], AT_FDCWD, path.c_str(), flags, 0644);
  });
  if (res < 0) co_return Errno{-res};
  co_return std::unique_ptr<File>(std::make_unique<UringFile>(core_, runtime_, res, std::move(path)));
}

Task<IoResult<void>> UringFileSystem::rename(std::string from, std::string to) {
  int res = co_await uring_op(&core_, [&](io_uring_sqe** s) {
    io_uring_prep_renameat(s[0], AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 0);
  });
  co_return status(res);
}

Task<IoResult<void>> UringFileSystem::remove(std::string path) {
  int res = co_await uring_op(&core_, [&](io_uring_sqe** s) { io_uring_prep_unlinkat(s[0], AT_FDCWD, path.c_str(), 0); });
  co_return status(res);
}

Task<IoResult<void>> UringFileSystem::sync_dir(std::string path) {
  int fd = co_await uring_op(&core_, [&](io_uring_sqe** s) {
    io_uring_prep_openat(s[0], AT_FDCWD, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  });
  if (fd < 0) co_return Errno{-fd};
  int res = co_await uring_op(&core_, [fd](io_uring_sqe** s) { io_uring_prep_fsync(s[0], fd, 0); });
  co_await uring_op(&core_, [fd](io_uring_sqe** s) { io_uring_prep_close(s[0], fd); });
  co_return status(res);
}

IoResult<void> UringFileSystem::create_dirs(const std::string& path) { return detail::create_dirs(path); }
IoResult<std::vector<std::string>> UringFileSystem::list_dir(const std::string& path) {
  return detail::list_dir(path);
}
bool UringFileSystem::exists(const std::string& path) { return detail::exists(path); }
IoResult<std::uint64_t> UringFileSystem::file_size(const std::string& path) { return detail::file_size(path); }

}  // namespace orbit::io::uring_backend
