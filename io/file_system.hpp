// FileSystem and File: every byte an engine reads or writes goes through here.
//
// Three implementations: io_uring (io/uring), Asio with blocking calls on the
// runtime's worker pool (io/asio), and a fault-injecting wrapper for tests
// (io/testing) that can drop unsynced data, tear writes, fail calls and flip
// bits. Engines hold a FileSystem& and never call the kernel themselves.
//
// Threading: a FileSystem belongs to one Runtime; its coroutines must be
// awaited from that runtime's loop thread. The synchronous helpers
// (list_dir, exists, create_dirs, file_size) may be called from any thread.
//
// Writes are whole: pwrite/pwritev retry short writes until every byte is
// written or an error occurs. Reads return the bytes read (fewer only at EOF).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/io_result.hpp"
#include "orbit/task.hpp"

namespace orbit::io {

struct OpenOptions {
  bool read = true;
  bool write = false;
  bool create = false;     // O_CREAT
  bool exclusive = false;  // O_EXCL (with create)
  bool truncate = false;   // O_TRUNC
  bool append = false;     // O_APPEND
  bool direct = false;     // O_DIRECT: buffers, offsets and sizes aligned to 4096
  bool dsync = false;      // O_DSYNC: each write returns once the data is durable

  static OpenOptions read_only() { return {}; }
  static OpenOptions read_write_create() {
    OpenOptions o;
    o.write = true;
    o.create = true;
    return o;
  }
};

class File {
 public:
  virtual ~File() = default;

  virtual const std::string& path() const noexcept = 0;

  // Reads up to buffer.size() bytes at offset; fewer only at end of file.
  virtual Task<IoResult<std::size_t>> read_at(std::span<std::byte> buffer, std::uint64_t offset) = 0;
  // Writes every byte of data at offset (short writes are retried).
  virtual Task<IoResult<void>> write_at(std::span<const std::byte> data, std::uint64_t offset) = 0;
  // Gathers several buffers into one write at offset.
  virtual Task<IoResult<void>> writev_at(std::span<const iovec> buffers, std::uint64_t offset) = 0;
  // The same from the calling thread (pwritev into the page cache), with no
  // hop to an I/O worker: for small writes nobody waits to be durable, where
  // the hop (two thread wake-ups) costs ten times the write. It can block the
  // caller (page-cache pressure): never for a file opened with dsync.
  virtual IoResult<void> writev_now(std::span<const iovec> buffers, std::uint64_t offset) = 0;
  virtual Task<IoResult<void>> datasync() = 0;  // fdatasync
  virtual Task<IoResult<void>> sync() = 0;      // fsync
  // Write then fdatasync as one submission (IOSQE_IO_LINK on io_uring): the
  // sync runs only if the whole write succeeded.
  virtual Task<IoResult<void>> write_and_datasync(std::span<const iovec> buffers, std::uint64_t offset) = 0;
  virtual Task<IoResult<void>> allocate(std::uint64_t offset, std::uint64_t length) = 0;  // fallocate, keeps size
  virtual Task<IoResult<void>> truncate(std::uint64_t length) = 0;
  virtual IoResult<std::uint64_t> size() = 0;  // fstat
  virtual Task<IoResult<void>> close() = 0;    // also happens in the destructor, synchronously
};

// An exclusive advisory lock (flock(2)) on a file, held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates `path` if missing and takes an exclusive flock on it without
  // waiting: EWOULDBLOCK when another holder has it (another process, or
  // another open of the same file in this one). Released when the FileLock
  // is destroyed or the process dies. Blocking (a metadata call); the
  // default implementation is plain POSIX for every file system.
  virtual IoResult<std::unique_ptr<FileLock>> lock_file(const std::string& path);

  virtual Task<IoResult<std::unique_ptr<File>>> open(std::string path, OpenOptions options) = 0;
  // rename(2); durable only after sync_dir of the parent.
  virtual Task<IoResult<void>> rename(std::string from, std::string to) = 0;
  virtual Task<IoResult<void>> remove(std::string path) = 0;
  // fsync of a directory: makes creates, renames and removes in it durable.
  virtual Task<IoResult<void>> sync_dir(std::string path) = 0;

  virtual IoResult<void> create_dirs(const std::string& path) = 0;  // mkdir -p
  virtual IoResult<std::vector<std::string>> list_dir(const std::string& path) = 0;  // names, sorted
  virtual bool exists(const std::string& path) = 0;
  virtual IoResult<std::uint64_t> file_size(const std::string& path) = 0;
};

}  // namespace orbit::io
