// How RocksDB's Status becomes an orbit Error.
//
// Every RocksDB call the engine makes goes through to_error(): the code maps
// onto the nearest ErrorCode (NotFound, Corruption, IOError, NoSpace,
// InvalidArgument, NotSupported, Unavailable for busy/shutdown states) and
// the message names what the engine was doing and RocksDB's own reason.
// Only engines/rocksdb includes this (it sees RocksDB's headers).
#pragma once

#include <string>
#include <string_view>

#include <rocksdb/status.h>

#include "orbit/result.hpp"

namespace orbit::rocksdb_engine {

// REQUIRES: !status.ok()
// `what` says what was being done: "open data_dir '/x'", "write batch".
Error to_error(const rocksdb::Status& status, std::string_view what);

// True when `status` is RocksDB refusing to open because the LOCK file of
// the directory is held (by another process, or another store in this one).
bool is_lock_held(const rocksdb::Status& status);

}  // namespace orbit::rocksdb_engine
