// Goal: metadata.json round-trips, and any changed byte, missing field or
// foreign file is Corruption naming the file and offset.
#include "engines/cow_btree/metadata.hpp"

#include <gtest/gtest.h>

#include "engines/cow_btree/snapshot.hpp"

namespace orbit::cow_btree {
namespace {

TreeMetadata sample() {
  TreeMetadata m;
  m.format_version = 1;
  m.page_file = "orbit.pages";
  m.page_size = 4096;
  m.max_keys_per_node = 64;
  m.txn_id = 9;
  m.lsn = 12345;
  m.root_page = 77;
  m.page_count = 100;
  m.entry_count = 3000;
  m.lease_count = 1000;
  m.lease_bytes = 170000;
  m.created_unix_ms = 1700000000000;
  return m;
}

TEST(MetadataTest, RoundTrips) {
  const std::string text = encode_metadata(sample());
  auto decoded = decode_metadata(text, "metadata.json");
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(decoded.value(), sample());
  EXPECT_NE(text.find("\"lsn\": 12345,"), std::string::npos) << text;
}

TEST(MetadataTest, EveryChangedByteIsCorruption) {
  const std::string text = encode_metadata(sample());
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string bad = text;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto decoded = decode_metadata(bad, "metadata.json");
    EXPECT_FALSE(decoded.ok()) << "byte " << i;
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.code(), ErrorCode::Corruption);
      EXPECT_NE(decoded.error().message.find("metadata.json offset "), std::string::npos);
    }
  }
  EXPECT_FALSE(decode_metadata(text.substr(0, text.size() / 2), "metadata.json").ok());
  EXPECT_FALSE(decode_metadata("{\"backend\": \"LsmTree\"}", "metadata.json").ok());
}

TEST(MetadataTest, SnapshotNamesSortByLsnAndRejectPaths) {
  EXPECT_EQ(snapshot_name(42), "snapshot_00000000000000000042");
  EXPECT_LT(snapshot_name(9), snapshot_name(10));
  EXPECT_TRUE(check_snapshot_name(snapshot_name(7)).ok());
  EXPECT_FALSE(check_snapshot_name("../metadata").ok());
  EXPECT_FALSE(check_snapshot_name("snapshot_1/../../x").ok());
}

}  // namespace
}  // namespace orbit::cow_btree
