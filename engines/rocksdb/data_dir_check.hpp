// Refuses a data directory that holds another backend's files.
//
// RocksDB would happily create its files beside a COW tree's orbit.wal or an
// LSM tree's manifest.json, and the user would silently see an empty store.
// check_data_dir_is_ours() looks for those backends' well-known names
// (src/layout/data_dir.hpp) and returns an InvalidArgument error naming the
// directory and what it found.
#pragma once

#include <string>

#include "orbit/result.hpp"

namespace orbit::rocksdb_engine {

Result<void> check_data_dir_is_ours(const std::string& data_dir);

}  // namespace orbit::rocksdb_engine
