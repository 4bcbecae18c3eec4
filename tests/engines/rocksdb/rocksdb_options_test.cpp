// Goal: rocksdb_config maps onto rocksdb::Options as documented: sizes in
// MiB, the compression this librocksdb actually supports, no block cache
// for 0, statistics and the counting listener always on.
#include "engines/rocksdb/rocksdb_options.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <rocksdb/convenience.h>
#include <rocksdb/table.h>

namespace orbit::rocksdb_engine {
namespace {

bool supported(rocksdb::CompressionType type) {
  auto all = rocksdb::GetSupportedCompressions();
  return std::find(all.begin(), all.end(), type) != all.end();
}

TEST(RocksDbOptions, SizesAndJobsAreMapped) {
  RocksDbConfig config;
  config.block_cache_mb = 16;
  config.write_buffer_mb = 8;
  config.max_background_jobs = 3;
  RocksDbSetup setup = make_rocksdb_setup(config);
  EXPECT_TRUE(setup.options.create_if_missing);
  EXPECT_EQ(setup.options.write_buffer_size, 8u << 20);
  EXPECT_EQ(setup.options.max_background_jobs, 3);
  ASSERT_TRUE(setup.block_cache);
  EXPECT_EQ(setup.block_cache->GetCapacity(), 16u << 20);
  auto* table = setup.options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->block_cache, setup.block_cache);
  EXPECT_FALSE(table->no_block_cache);
  EXPECT_NE(table->filter_policy, nullptr);
  EXPECT_NE(setup.options.statistics, nullptr);
  ASSERT_EQ(setup.options.listeners.size(), 1u);
  EXPECT_EQ(setup.options.listeners.front(), setup.counters);
}

TEST(RocksDbOptions, ZeroBlockCacheMeansNoCache) {
  RocksDbConfig config;
  config.block_cache_mb = 0;
  RocksDbSetup setup = make_rocksdb_setup(config);
  EXPECT_FALSE(setup.block_cache);
  auto* table = setup.options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  ASSERT_NE(table, nullptr);
  EXPECT_TRUE(table->no_block_cache);
}

TEST(RocksDbOptions, CompressionIsTheBestSupportedOrNone) {
  RocksDbConfig config;
  config.compression = true;
  RocksDbSetup on = make_rocksdb_setup(config);
  if (supported(rocksdb::kLZ4Compression)) {
    EXPECT_EQ(on.options.compression, rocksdb::kLZ4Compression);
    EXPECT_EQ(on.compression_name, "lz4");
  } else if (supported(rocksdb::kZSTD)) {
    EXPECT_EQ(on.options.compression, rocksdb::kZSTD);
    EXPECT_EQ(on.compression_name, "zstd");
  } else {
    EXPECT_EQ(on.options.compression, rocksdb::kNoCompression);
    EXPECT_EQ(on.compression_name, "none");
  }

  config.compression = false;
  RocksDbSetup off = make_rocksdb_setup(config);
  EXPECT_EQ(off.options.compression, rocksdb::kNoCompression);
  EXPECT_EQ(off.compression_name, "none");
}

}  // namespace
}  // namespace orbit::rocksdb_engine
