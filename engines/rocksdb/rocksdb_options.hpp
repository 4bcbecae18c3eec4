// How PersistenceConfig's rocksdb_config becomes rocksdb::Options.
//
//   compression          true -> LZ4 for every level if this librocksdb has it,
//                        else ZSTD, else none (`compression_name` says which);
//                        false -> none
//   block_cache_mb       an LRU block cache of that size shared by all tables;
//                        0 -> no block cache
//   write_buffer_mb      memtable size before a flush
//   max_background_jobs  flush + compaction threads
// Always: create_if_missing, a 10-bit bloom filter per table (point reads of
// leases skip tables that cannot hold the key), rocksdb::Statistics (the
// tickers behind StorageStats), and a listener counting flushes and
// compactions. Durability is not here: it is per write (WriteOptions).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <rocksdb/cache.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>

#include "orbit/config.hpp"

namespace orbit::rocksdb_engine {

// Counts the background work StorageStats reports. Called on RocksDB's threads.
class BackgroundCounters : public rocksdb::EventListener {
 public:
  void OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo&) override { flushes.fetch_add(1); }
  void OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo&) override {
    compactions.fetch_add(1);
  }
  void OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) override {
    if (info.condition.cur != rocksdb::WriteStallCondition::kNormal) stalls.fetch_add(1);
  }

  std::atomic<std::uint64_t> flushes{0};
  std::atomic<std::uint64_t> compactions{0};
  std::atomic<std::uint64_t> stalls{0};
};

struct RocksDbSetup {
  rocksdb::Options options;
  std::shared_ptr<rocksdb::Cache> block_cache;  // null when block_cache_mb == 0
  std::shared_ptr<BackgroundCounters> counters;
  std::string compression_name;  // "lz4", "zstd" or "none"
};

RocksDbSetup make_rocksdb_setup(const RocksDbConfig& config);

}  // namespace orbit::rocksdb_engine
