// The one table of which backend's files a data directory holds.
#include <gtest/gtest.h>

#include "src/layout/data_dir.hpp"

namespace orbit::layout {
namespace {

TEST(DataDirLayout, NamesThatIdentifyABackend) {
  EXPECT_EQ(owner_of("CURRENT"), PersistenceBackend::RocksDb);
  EXPECT_EQ(owner_of("MANIFEST-000005"), PersistenceBackend::RocksDb);
  EXPECT_EQ(owner_of("OPTIONS-000007"), PersistenceBackend::RocksDb);
  EXPECT_EQ(owner_of("manifest.json"), PersistenceBackend::LsmTree);
  EXPECT_EQ(owner_of("sstables"), PersistenceBackend::LsmTree);
  EXPECT_EQ(owner_of("metadata.json"), PersistenceBackend::CowBTree);
  EXPECT_EQ(owner_of("orbit.pages"), PersistenceBackend::CowBTree);
  EXPECT_EQ(owner_of("snapshots"), PersistenceBackend::CowBTree);
  // Shared by the COW and LSM stores, or nobody's.
  EXPECT_FALSE(owner_of("orbit.wal"));
  EXPECT_FALSE(owner_of("orbit.lock"));
  EXPECT_FALSE(owner_of("000012.log"));
  EXPECT_FALSE(owner_of("notes.txt"));
}

TEST(DataDirLayout, EachBackendRefusesTheOthersFilesAndNamesThem) {
  const std::vector<std::string> lsm{"manifest.json", "orbit.lock", "orbit.wal", "sstables"};
  EXPECT_TRUE(check_owned_by("/d", lsm, PersistenceBackend::LsmTree));
  auto cow = check_owned_by("/d", lsm, PersistenceBackend::CowBTree);
  ASSERT_FALSE(cow);
  EXPECT_EQ(cow.code(), ErrorCode::InvalidArgument);
  EXPECT_NE(cow.error().message.find("manifest.json (LsmTree)"), std::string::npos) << cow.error().message;
  EXPECT_NE(cow.error().message.find("data_dir '/d'"), std::string::npos) << cow.error().message;
  // RocksDB also refuses the files the COW and LSM stores share.
  auto rocks = check_owned_by("/d", {"orbit.wal"}, PersistenceBackend::RocksDb);
  ASSERT_FALSE(rocks);
  EXPECT_NE(rocks.error().message.find("orbit.wal (CowBTree or LsmTree)"), std::string::npos);
  EXPECT_TRUE(check_owned_by("/d", {"orbit.wal"}, PersistenceBackend::CowBTree));
  EXPECT_TRUE(check_owned_by("/d", {}, PersistenceBackend::RocksDb));
}

}  // namespace
}  // namespace orbit::layout
