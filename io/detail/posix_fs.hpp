// Plain-syscall helpers shared by every FileSystem backend: open flags, the
// synchronous directory helpers, and the blocking versions of file calls that
// the Asio backend runs on its worker pool. All return IoResults, never throw.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io/file_system.hpp"
#include "io/io_result.hpp"

namespace orbit::io::detail {

int open_flags(const OpenOptions& options) noexcept;

IoResult<void> create_dirs(const std::string& path);
IoResult<std::vector<std::string>> list_dir(const std::string& path);
bool exists(const std::string& path);
IoResult<std::uint64_t> file_size(const std::string& path);
IoResult<std::uint64_t> fd_size(int fd);

// Blocking file calls with the File contract (whole writes, EINTR retried).
IoResult<std::size_t> pread_full(int fd, std::span<std::byte> buffer, std::uint64_t offset);
IoResult<void> pwritev_full(int fd, std::span<const iovec> buffers, std::uint64_t offset);
IoResult<void> fsync_dir(const std::string& path);

// Copies `buffers` and drops the first `done` bytes: what is left to write
// after a short write.
std::vector<iovec> advance_iovecs(std::span<const iovec> buffers, std::size_t done);
std::size_t total_size(std::span<const iovec> buffers) noexcept;

}  // namespace orbit::io::detail
