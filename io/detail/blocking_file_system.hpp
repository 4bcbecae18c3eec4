// BlockingFileSystem: the File/FileSystem contract with plain blocking
// syscalls, each run on the runtime's worker pool and resumed on its loop.
//
// This is the Asio backend's file system (Asio's own file support is
// synchronous, so an fsync on the loop thread would stall every coroutine).
// It needs only a Runtime, so it works on any backend.
#pragma once

#include "io/file_system.hpp"

namespace orbit::io {
class Runtime;
}

namespace orbit::io::detail {

class BlockingFileSystem final : public FileSystem {
 public:
  explicit BlockingFileSystem(Runtime& runtime) : runtime_(runtime) {}

  Task<IoResult<std::unique_ptr<File>>> open(std::string path, OpenOptions options) override;
  Task<IoResult<void>> rename(std::string from, std::string to) override;
  Task<IoResult<void>> remove(std::string path) override;
  Task<IoResult<void>> sync_dir(std::string path) override;
  IoResult<void> create_dirs(const std::string& path) override;
  IoResult<std::vector<std::string>> list_dir(const std::string& path) override;
  bool exists(const std::string& path) override;
  IoResult<std::uint64_t> file_size(const std::string& path) override;

 private:
  Runtime& runtime_;
};

}  // namespace orbit::io::detail
