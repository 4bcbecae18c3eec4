// PersistenceFactory: config in, an open store of the chosen backend out.
//
// create_provider validates the config, creates the data directory, starts
// the store's I/O runtime (io_uring or Asio, per config.io_backend) and opens
// the backend on it, recovering whatever a previous run left. A backend not
// compiled into this build is an Unavailable error naming it.
#pragma once

#include <memory>
#include <cstdint>
#include <string>
#include <vector>

#include "orbit/config.hpp"
#include "orbit/provider.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit {

// One thing verify_store found wrong, where it is on disk.
struct FileProblem {
  std::string file;          // path relative to data_dir ("" = the store as a whole)
  std::uint64_t offset = 0;  // byte offset in the file (0 when not about a place in a file)
  std::string what;          // one line: what is wrong
};

// What verify_store checked and found. ok() only when every check held.
struct VerifyReport {
  std::vector<FileProblem> problems;
  std::uint64_t files_checked = 0;
  std::uint64_t bytes_checked = 0;   // bytes read and checksum-verified
  std::uint64_t leases_checked = 0;  // live leases decoded and matched against the indexes
  bool ok() const noexcept { return problems.empty(); }
};

class PersistenceFactory {
 public:
  static Task<Result<std::unique_ptr<PersistenceProvider>>> create_provider(PersistenceConfig config);
  // Defaults for everything but the backend and the directory.
  static Task<Result<std::unique_ptr<PersistenceProvider>>> create_default(PersistenceBackend backend,
                                                                           std::string data_dir);
  // Reads every file of the store in config.data_dir without changing any of
  // them (no recovery is written, no WAL is cut): checks every checksum and
  // every structural invariant of the backend's files, then that every live
  // lease decodes, has exactly its by-node and by-expiry index entries, and
  // that no index entry is orphaned. Problems are reported, not returned as
  // errors; an error means verification could not run (no such directory,
  // another backend's files, the store open in another process).
  static Task<Result<VerifyReport>> verify_store(PersistenceConfig config);
  // The backends compiled into this build.
  static std::vector<PersistenceBackend> available_backends();
  static bool is_available(PersistenceBackend backend);
};

}  // namespace orbit
