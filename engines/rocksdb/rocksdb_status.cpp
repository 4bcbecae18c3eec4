#include "engines/rocksdb/rocksdb_status.hpp"

namespace orbit::rocksdb_engine {

Error to_error(const rocksdb::Status& status, std::string_view what) {
  std::string message = std::string(what) + ": rocksdb: " + status.ToString();
  switch (status.code()) {
    case rocksdb::Status::kOk:
      return make_error(ErrorCode::IOError, message + " (reported as an error by mistake)");
    case rocksdb::Status::kNotFound:
      return make_error(ErrorCode::NotFound, std::move(message));
    case rocksdb::Status::kCorruption:
      return make_error(ErrorCode::Corruption, std::move(message));
    case rocksdb::Status::kNotSupported:
      return make_error(ErrorCode::NotSupported, std::move(message));
    case rocksdb::Status::kInvalidArgument:
      return make_error(ErrorCode::InvalidArgument, std::move(message));
    case rocksdb::Status::kIOError:
      if (status.IsNoSpace()) return make_error(ErrorCode::NoSpace, std::move(message), true);
      return make_error(ErrorCode::IOError, std::move(message));
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kIncomplete:
      return make_error(ErrorCode::Unavailable, std::move(message), true);
    case rocksdb::Status::kShutdownInProgress:
    case rocksdb::Status::kColumnFamilyDropped:
      return make_error(ErrorCode::Unavailable, std::move(message));
    case rocksdb::Status::kAborted:
      if (status.IsLockLimit()) return make_error(ErrorCode::Unavailable, std::move(message), true);
      return make_error(ErrorCode::IOError, std::move(message));
    case rocksdb::Status::kMergeInProgress:
    case rocksdb::Status::kExpired:
    case rocksdb::Status::kCompactionTooLarge:
    case rocksdb::Status::kMaxCode:
      break;
  }
  return make_error(ErrorCode::IOError, std::move(message));
}

bool is_lock_held(const rocksdb::Status& status) {
  if (!status.IsIOError()) return false;
  // RocksDB words it "While lock file: <dir>/LOCK: Resource temporarily
  // unavailable" (another process) or "lock hold by current process ...
  // <dir>/LOCK: No locks available" (this process); both name the LOCK file.
  const std::string text = status.ToString();
  return text.find("/LOCK") != std::string::npos &&
         (text.find("lock file") != std::string::npos || text.find("lock hold") != std::string::npos ||
          text.find("unavailable") != std::string::npos);
}

}  // namespace orbit::rocksdb_engine
