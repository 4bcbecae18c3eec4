// Goal: RocksDB's Status codes map onto the nearest orbit ErrorCode with a
// message that says what was being done and RocksDB's reason, and a held
// LOCK is recognised in both of RocksDB's wordings.
#include "engines/rocksdb/rocksdb_status.hpp"

#include <gtest/gtest.h>

namespace orbit::rocksdb_engine {
namespace {

TEST(RocksDbStatus, CodesMapToTheNearestErrorCode) {
  EXPECT_EQ(to_error(rocksdb::Status::NotFound("x"), "get").code, ErrorCode::NotFound);
  EXPECT_EQ(to_error(rocksdb::Status::Corruption("bad block"), "get").code, ErrorCode::Corruption);
  EXPECT_EQ(to_error(rocksdb::Status::IOError("EIO"), "write").code, ErrorCode::IOError);
  EXPECT_EQ(to_error(rocksdb::Status::NoSpace("disk full"), "write").code, ErrorCode::NoSpace);
  EXPECT_EQ(to_error(rocksdb::Status::InvalidArgument("opt"), "open").code, ErrorCode::InvalidArgument);
  EXPECT_EQ(to_error(rocksdb::Status::NotSupported("zstd"), "open").code, ErrorCode::NotSupported);
  EXPECT_EQ(to_error(rocksdb::Status::Busy(), "write").code, ErrorCode::Unavailable);
  EXPECT_TRUE(to_error(rocksdb::Status::Busy(), "write").retryable);
  EXPECT_EQ(to_error(rocksdb::Status::ShutdownInProgress(), "write").code, ErrorCode::Unavailable);
  EXPECT_EQ(to_error(rocksdb::Status::Aborted("x"), "write").code, ErrorCode::IOError);
}

TEST(RocksDbStatus, MessageNamesTheStepAndTheCause) {
  Error e = to_error(rocksdb::Status::Corruption("block checksum mismatch", "000012.sst offset 4096"),
                     "read lease Player/x");
  EXPECT_NE(e.message.find("read lease Player/x"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("block checksum mismatch"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("000012.sst offset 4096"), std::string::npos) << e.message;
}

TEST(RocksDbStatus, LockHeldIsRecognised) {
  EXPECT_TRUE(is_lock_held(rocksdb::Status::IOError("While lock file: /d/LOCK", "Resource temporarily unavailable")));
  EXPECT_TRUE(is_lock_held(rocksdb::Status::IOError(
      "lock hold by current process, acquire time 1 acquiring thread 2: /d/LOCK", "No locks available")));
  EXPECT_FALSE(is_lock_held(rocksdb::Status::IOError("While open a file for appending: /d/000003.log",
                                                     "No space left on device")));
  EXPECT_FALSE(is_lock_held(rocksdb::Status::Corruption("/d/LOCK")));
}

}  // namespace
}  // namespace orbit::rocksdb_engine
