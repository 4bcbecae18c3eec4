// PersistenceFactory: config in, an open store of the chosen backend out.
//
// create_provider validates the config, creates the data directory, starts
// the store's I/O runtime (io_uring or Asio, per config.io_backend) and opens
// the backend on it, recovering whatever a previous run left. A backend not
// compiled into this build is an Unavailable error naming it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "orbit/config.hpp"
#include "orbit/provider.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit {

class PersistenceFactory {
 public:
  static Task<Result<std::unique_ptr<PersistenceProvider>>> create_provider(PersistenceConfig config);
  // Defaults for everything but the backend and the directory.
  static Task<Result<std::unique_ptr<PersistenceProvider>>> create_default(PersistenceBackend backend,
                                                                           std::string data_dir);
  // The backends compiled into this build.
  static std::vector<PersistenceBackend> available_backends();
  static bool is_available(PersistenceBackend backend);
};

}  // namespace orbit
