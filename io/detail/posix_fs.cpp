#include "io/detail/posix_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace orbit::io::detail {

int open_flags(const OpenOptions& o) noexcept {
  int flags = O_CLOEXEC;
  if (o.read && o.write) flags |= O_RDWR;
  else if (o.write) flags |= O_WRONLY;
  else flags |= O_RDONLY;
  if (o.create) flags |= O_CREAT;
  if (o.create && o.exclusive) flags |= O_EXCL;
  if (o.truncate) flags |= O_TRUNC;
  if (o.append) flags |= O_APPEND;
  if (o.direct) flags |= O_DIRECT;
  if (o.dsync) flags |= O_DSYNC;
  return flags;
}

IoResult<void> create_dirs(const std::string& path) {
  if (path.empty()) return Errno{EINVAL};
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) return Errno{errno};
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Errno{errno};
  if (!S_ISDIR(st.st_mode)) return Errno{ENOTDIR};
  return {};
}

IoResult<std::vector<std::string>> list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return Errno{errno};
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

IoResult<std::uint64_t> file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Errno{errno};
  return static_cast<std::uint64_t>(st.st_size);
}

IoResult<std::uint64_t> fd_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Errno{errno};
  return static_cast<std::uint64_t>(st.st_size);
}

IoResult<std::size_t> pread_full(int fd, std::span<std::byte> buffer, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = ::pread(fd, buffer.data() + done, buffer.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno{errno};
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

std::size_t total_size(std::span<const iovec> buffers) noexcept {
  std::size_t total = 0;
  for (const auto& b : buffers) total += b.iov_len;
  return total;
}

std::vector<iovec> advance_iovecs(std::span<const iovec> buffers, std::size_t done) {
  std::vector<iovec> rest;
  for (const auto& b : buffers) {
    if (done >= b.iov_len) {
      done -= b.iov_len;
      continue;
    }
    rest.push_back(iovec{static_cast<char*>(b.iov_base) + done, b.iov_len - done});
    done = 0;
  }
  return rest;
}

IoResult<void> pwritev_full(int fd, std::span<const iovec> buffers, std::uint64_t offset) {
  std::vector<iovec> rest(buffers.begin(), buffers.end());
  std::size_t left = total_size(buffers);
  while (left > 0) {
    int count = static_cast<int>(std::min<std::size_t>(rest.size(), IOV_MAX));
    ssize_t n = ::pwritev(fd, rest.data(), count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno{errno};
    }
    if (n == 0) return Errno{EIO};  // no progress: never spin
    offset += static_cast<std::uint64_t>(n);
    left -= static_cast<std::size_t>(n);
    rest = advance_iovecs(rest, static_cast<std::size_t>(n));
  }
  return {};
}

IoResult<void> fsync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno{errno};
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Errno{err};
  return {};
}

}  // namespace orbit::io::detail

namespace orbit::io {
namespace {

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // closing the last fd drops the flock
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

IoResult<std::unique_ptr<FileLock>> FileSystem::lock_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno{errno};
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return Errno{err};
  }
  return std::unique_ptr<FileLock>(new PosixFileLock(fd));
}

}  // namespace orbit::io
