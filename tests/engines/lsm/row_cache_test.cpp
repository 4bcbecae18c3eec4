// Goal: the RowCache holds for each key it has the value last inserted or
// written through (a delete drops the key), never takes in a key a write
// names unless it already holds it, counts hits and misses, and evicts the
// least recently used entries to stay within its bytes.
#include "engines/lsm/row_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace orbit::lsm {
namespace {

std::size_t charge(const std::string& key, const std::string& value) { return RowCache::charge(key, value); }

TEST(RowCacheTest, LookupFindsWhatWasInsertedAndCounts) {
  RowCache cache(1 << 20);
  EXPECT_EQ(cache.lookup("k1"), nullptr);
  cache.insert("k1", "v1");
  const std::string* got = cache.lookup("k1");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, "v1");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
  cache.insert("k1", "value two");  // replaces
  EXPECT_EQ(*cache.lookup("k1"), "value two");
  EXPECT_EQ(cache.entry_count(), 1u);
  EXPECT_EQ(cache.usage_bytes(), charge("k1", "value two"));
}

TEST(RowCacheTest, WritesKeepCachedKeysCurrentAndAddNone) {
  RowCache cache(1 << 20);
  cache.insert("p-lease-1", "old");
  cache.write_through("p-lease-1", /*erased=*/false, "new");
  EXPECT_EQ(*cache.lookup("p-lease-1"), "new");
  // Not cached: not taken in, whether its first byte is one the cache has
  // seen or not.
  cache.write_through("p-lease-2", false, "x");
  cache.write_through("i-index-entry", false, "");
  EXPECT_EQ(cache.lookup("p-lease-2"), nullptr);
  EXPECT_EQ(cache.lookup("i-index-entry"), nullptr);
  EXPECT_EQ(cache.entry_count(), 1u);
  // A delete drops the key.
  cache.write_through("p-lease-1", /*erased=*/true, "");
  EXPECT_EQ(cache.lookup("p-lease-1"), nullptr);
  EXPECT_EQ(cache.entry_count(), 0u);
  EXPECT_EQ(cache.usage_bytes(), 0u);
}

TEST(RowCacheTest, EvictsLeastRecentlyUsedPastCapacity) {
  const std::string value(100, 'v');
  // Room for exactly three entries of this size.
  RowCache cache(3 * charge("k1", value));
  cache.insert("k1", value);
  cache.insert("k2", value);
  cache.insert("k3", value);
  ASSERT_NE(cache.lookup("k1"), nullptr);  // k1 is now the most recent; k2 the least
  cache.insert("k4", value);
  EXPECT_EQ(cache.lookup("k2"), nullptr);
  EXPECT_NE(cache.lookup("k1"), nullptr);
  EXPECT_NE(cache.lookup("k3"), nullptr);
  EXPECT_NE(cache.lookup("k4"), nullptr);
  EXPECT_EQ(cache.usage_bytes(), 3 * charge("k1", value));
  // A value written through that grows past capacity evicts the oldest.
  cache.write_through("k4", false, value + value);
  EXPECT_LE(cache.usage_bytes(), cache.capacity_bytes());
  EXPECT_EQ(*cache.lookup("k4"), value + value);
  EXPECT_EQ(cache.lookup("k1"), nullptr);  // least recent after the lookups above
}

TEST(RowCacheTest, ZeroCapacityCachesNothing) {
  RowCache cache(0);
  cache.insert("k", "v");
  EXPECT_EQ(cache.lookup("k"), nullptr);
  EXPECT_EQ(cache.entry_count(), 0u);
}

// An entry larger than the whole cache is not kept, and does not push out
// the entries that fit; a cached key whose new value no longer fits leaves.
TEST(RowCacheTest, AnEntryLargerThanTheCacheIsNotKept) {
  const std::string value(100, 'v');
  RowCache cache(2 * charge("k1", value));
  cache.insert("k1", value);
  cache.insert("k2", value);
  cache.insert("big", std::string(400, 'v'));
  EXPECT_EQ(cache.lookup("big"), nullptr);
  EXPECT_NE(cache.lookup("k1"), nullptr);
  EXPECT_NE(cache.lookup("k2"), nullptr);
  cache.write_through("k1", false, std::string(400, 'v'));
  EXPECT_EQ(cache.lookup("k1"), nullptr);
  EXPECT_NE(cache.lookup("k2"), nullptr);
  cache.insert("k2", std::string(400, 'v'));
  EXPECT_EQ(cache.lookup("k2"), nullptr);
  EXPECT_EQ(cache.usage_bytes(), 0u);
  EXPECT_EQ(cache.entry_count(), 0u);
}

}  // namespace
}  // namespace orbit::lsm
