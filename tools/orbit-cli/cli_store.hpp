// What every orbit-cli verb shares: backend names, the configuration from
// defaults < file < environment < flags, and the checks on the data
// directory before a store is opened.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "orbit/config.hpp"
#include "orbit/provider.hpp"
#include "orbit/result.hpp"

namespace orbit::cli {

// Flags common to every verb; empty = not given.
struct CommonOptions {
  std::string backend;
  std::string data_dir;
  std::string config_file;
  std::string durability;
  std::string io_backend;
};

// The seed's short names (cow, lsm, rocksdb) and the config names
// (CowBTree, LsmTree, RocksDb), any case. The error names the value and
// the accepted list.
Result<PersistenceBackend> parse_backend_name(const std::string& text);
std::string accepted_backend_names();
std::string short_name(PersistenceBackend backend);  // "cow", "lsm", "rocksdb"

// Flags are applied through PersistenceConfigBuilder (origin "flag").
Result<PersistenceConfig> build_config(const CommonOptions& options);

// Refuses a missing data_dir (unless `may_create`), one that is not a
// directory, one holding another backend's store, and a backend not built in.
Result<void> check_store_dir(const PersistenceConfig& config, bool may_create);

// create_provider after check_store_dir.
Result<std::unique_ptr<PersistenceProvider>> open_store(const PersistenceConfig& config, bool may_create);

}  // namespace orbit::cli
