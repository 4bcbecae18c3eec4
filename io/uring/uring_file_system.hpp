// FileSystem over io_uring: every call is one (or, for write_and_datasync,
// two linked) SQEs whose Op lives in the awaiting coroutine's frame.
// truncate runs ftruncate on the worker pool: liburing 2.3 has no
// IORING_OP_FTRUNCATE (kernel 6.9). Internal to io/uring.
#pragma once

#include "io/file_system.hpp"

namespace orbit::io {
class Runtime;
}

namespace orbit::io::uring_backend {

class Core;

class UringFileSystem final : public FileSystem {
 public:
  UringFileSystem(Core& core, Runtime& runtime) : core_(core), runtime_(runtime) {}

  Task<IoResult<std::unique_ptr<File>>> open(std::string path, OpenOptions options) override;
  Task<IoResult<void>> rename(std::string from, std::string to) override;
  Task<IoResult<void>> remove(std::string path) override;
  Task<IoResult<void>> sync_dir(std::string path) override;
  IoResult<void> create_dirs(const std::string& path) override;
  IoResult<std::vector<std::string>> list_dir(const std::string& path) override;
  bool exists(const std::string& path) override;
  IoResult<std::uint64_t> file_size(const std::string& path) override;

 private:
  Core& core_;
  Runtime& runtime_;
};

}  // namespace orbit::io::uring_backend
