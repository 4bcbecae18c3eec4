#include "engines/rocksdb/rocksdb_options.hpp"

#include <algorithm>
#include <vector>

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>

namespace orbit::rocksdb_engine {
namespace {

bool supported(rocksdb::CompressionType type) {
  static const std::vector<rocksdb::CompressionType> available = rocksdb::GetSupportedCompressions();
  return std::find(available.begin(), available.end(), type) != available.end();
}

}  // namespace

RocksDbSetup make_rocksdb_setup(const RocksDbConfig& config) {
  RocksDbSetup setup;
  rocksdb::Options& options = setup.options;
  options.create_if_missing = true;
  options.write_buffer_size = static_cast<std::size_t>(config.write_buffer_mb) << 20;
  options.max_background_jobs = static_cast<int>(config.max_background_jobs);
  options.keep_log_file_num = 4;  // RocksDB's info LOG files, not the WAL

  options.compression = rocksdb::kNoCompression;
  setup.compression_name = "none";
  if (config.compression) {
    // LZ4 first: leases are small and read often; its decode is the cheapest.
    if (supported(rocksdb::kLZ4Compression)) {
      options.compression = rocksdb::kLZ4Compression;
      setup.compression_name = "lz4";
    } else if (supported(rocksdb::kZSTD)) {
      options.compression = rocksdb::kZSTD;
      setup.compression_name = "zstd";
    }
  }

  rocksdb::BlockBasedTableOptions table;
  if (config.block_cache_mb > 0) {
    setup.block_cache = rocksdb::NewLRUCache(static_cast<std::size_t>(config.block_cache_mb) << 20);
    table.block_cache = setup.block_cache;
  } else {
    table.no_block_cache = true;
  }
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  options.statistics = rocksdb::CreateDBStatistics();
  setup.counters = std::make_shared<BackgroundCounters>();
  options.listeners.push_back(setup.counters);
  return setup;
}

}  // namespace orbit::rocksdb_engine
