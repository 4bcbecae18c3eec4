// Goal: what only the RocksDB engine promises, beyond the conformance suite:
// it refuses another backend's directory and a directory whose LOCK another
// store holds (clearly, naming both), reports RocksDB's own statistics,
// honours the buffered and no-sync durability modes, keeps its indexes
// consistent when one write group touches a key many times, and closes
// itself (releasing the LOCK) when destroyed without close().
#include "engines/rocksdb/rocksdb_store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <thread>

#include "orbit/persistence.hpp"
#include "src/factory/engine_registry.hpp"

namespace orbit::rocksdb_engine {
namespace {

using std::chrono::seconds;

std::string temp_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  const char* root = std::getenv("ORBIT_TEST_TMPDIR");
  std::filesystem::path dir = std::filesystem::path(root && *root ? root : "/tmp") /
                              ("rocksdb-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

PersistenceConfig config_for(const std::string& dir, DurabilityMode durability = DurabilityMode::Durable) {
  PersistenceConfig config;
  config.backend = PersistenceBackend::RocksDb;
  config.data_dir = dir;
  config.durability = durability;
  config.sync_interval_ms = 5;
  config.rocksdb_config.block_cache_mb = 8;
  config.rocksdb_config.write_buffer_mb = 4;
  config.rocksdb_config.max_background_jobs = 2;
  return config;
}

// The engine directly, bypassing the factory (which adds only validation).
OpenedStore open_direct(const PersistenceConfig& config) {
  io::RuntimeOptions options;
  options.backend = io::BackendChoice::Asio;
  auto runtime = io::Runtime::create(options);
  if (!runtime.ok()) return make_error(ErrorCode::Unavailable, "runtime: errno " + std::to_string(runtime.error()));
  return sync_wait(open_rocksdb_store(config, std::move(runtime).value()));
}

Lease lease_of(std::uint64_t n, const std::string& node = "node-1") {
  Lease lease;
  lease.key = ActorKey{Uuid::from_u64(n), "Player"};
  lease.node_id = node;
  lease.expires_at = SystemTime(seconds(1'900'000'000 + n));
  lease.lease_duration = Millis(30000);
  return lease;
}

class RocksDbStoreTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& dir : dirs_) std::filesystem::remove_all(dir);
  }
  std::string dir(const std::string& name) {
    dirs_.push_back(temp_dir(name));
    return dirs_.back();
  }
  std::vector<std::string> dirs_;
};

TEST_F(RocksDbStoreTest, RefusesAnotherBackendsDirectory) {
  std::string cow = dir("cow");
  std::ofstream(cow + "/orbit.wal") << "not rocksdb";
  std::ofstream(cow + "/metadata.json") << "{}";
  auto opened = open_direct(config_for(cow));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.code(), ErrorCode::InvalidArgument);
  const std::string& message = opened.error().message;
  EXPECT_NE(message.find(cow), std::string::npos) << message;
  EXPECT_NE(message.find("orbit.wal"), std::string::npos) << message;
  EXPECT_NE(message.find("metadata.json"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(cow + "/CURRENT")) << "nothing of RocksDB's may be created there";

  std::string lsm = dir("lsm");
  std::filesystem::create_directories(lsm + "/sstables");
  std::ofstream(lsm + "/manifest.json") << "{}";
  auto refused = open_direct(config_for(lsm));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), ErrorCode::InvalidArgument);
  EXPECT_NE(refused.error().message.find("sstables"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("LsmTree"), std::string::npos) << refused.error().message;
}

TEST_F(RocksDbStoreTest, DamagedDatabaseIsCorruptionNamingTheDirectory) {
  std::string d = dir("damaged");
  {
    auto opened = open_direct(config_for(d));
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE(sync_wait((*opened)->store_lease(lease_of(1))).ok());
    ASSERT_TRUE(sync_wait((*opened)->close()).ok());
  }
  std::ofstream(d + "/CURRENT", std::ios::trunc) << "garbage";  // no newline, no such MANIFEST
  auto reopened = open_direct(config_for(d));
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.code(), ErrorCode::Corruption) << reopened.error().to_string();
  EXPECT_NE(reopened.error().message.find(d), std::string::npos) << reopened.error().message;
  EXPECT_NE(reopened.error().message.find("CURRENT"), std::string::npos) << reopened.error().message;
}

TEST_F(RocksDbStoreTest, SecondOpenOfALockedDirectoryIsUnavailable) {
  std::string d = dir("lock");
  auto first = open_direct(config_for(d));
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  auto second = open_direct(config_for(d));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), ErrorCode::Unavailable);
  EXPECT_NE(second.error().message.find("data_dir '" + d + "' is in use by another process (RocksDB LOCK held)"),
            std::string::npos)
      << second.error().message;

  ASSERT_TRUE(sync_wait((*first)->store_lease(lease_of(1))).ok());
  ASSERT_TRUE(sync_wait((*first)->close()).ok());
  auto third = open_direct(config_for(d));
  ASSERT_TRUE(third.ok()) << "close must release the LOCK: " << third.error().to_string();
  EXPECT_TRUE(sync_wait((*third)->get_lease(lease_of(1).key)).ok());
  ASSERT_TRUE(sync_wait((*third)->close()).ok());
}

TEST_F(RocksDbStoreTest, StatsComeFromRocksDb) {
  std::string d = dir("stats");
  auto opened = open_direct(config_for(d));
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  auto& store = *opened.value();
  EXPECT_EQ(store.backend(), PersistenceBackend::RocksDb);
  for (std::uint64_t n = 0; n < 50; ++n) ASSERT_TRUE(sync_wait(store.store_lease(lease_of(n))).ok());
  ASSERT_TRUE(sync_wait(store.remove_lease(lease_of(0).key)).ok());

  auto stats = sync_wait(store.stats());
  ASSERT_TRUE(stats.ok()) << stats.error().to_string();
  EXPECT_EQ(stats->total_keys, 49u);
  EXPECT_GT(stats->total_size_bytes, 0u);
  EXPECT_GT(stats->average_key_size, 16u);
  EXPECT_GT(stats->average_value_size, 0u);
  EXPECT_GT(stats->memory_usage_bytes, 0u);
  EXPECT_GT(stats->disk_usage_bytes, 0u);
  EXPECT_GE(stats->wal_syncs, 1u);
  EXPECT_EQ(stats->wal_records, 51u);
  EXPECT_GT(stats->writes_per_sync, 0.0);
  EXPECT_GT(stats->disk_bytes_written, 0u);

  auto checkpoint = sync_wait(store.checkpoint());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.error().to_string();
  auto after = sync_wait(store.stats());
  ASSERT_TRUE(after.ok());
  EXPECT_GE(after->flushes, 1u);
  EXPECT_EQ(after->checkpoints, 1u);
  EXPECT_GT(after->disk_bytes_written, stats->disk_bytes_written) << "the flush wrote an SST";
  bool has_sst = false;
  for (const auto& entry : std::filesystem::directory_iterator(d)) has_sst |= entry.path().extension() == ".sst";
  EXPECT_TRUE(has_sst);

  // Reads from the SST are measured per operation.
  auto got = sync_wait(store.get_lease(lease_of(7).key));
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(sync_wait(store.close()).ok());

  // The live-key count is rebuilt on open.
  auto reopened = open_direct(config_for(d));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  auto again = sync_wait((*reopened)->stats());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->total_keys, 49u);
  EXPECT_EQ(again->total_size_bytes, stats->total_size_bytes);
  ASSERT_TRUE(sync_wait((*reopened)->close()).ok());
}

TEST_F(RocksDbStoreTest, WriteMetricsCarryTheGroupAndTheBatchSize) {
  auto opened = open_direct(config_for(dir("metrics")));
  ASSERT_TRUE(opened.ok());
  auto& store = *opened.value();
  auto stored = sync_wait(store.store_lease(lease_of(1)));
  ASSERT_TRUE(stored.ok());
  EXPECT_GT(stored.metrics().disk_bytes_written, 60u) << "primary + two index entries";
  EXPECT_GE(stored.metrics().batch_records, 1u);
  EXPECT_GT(stored.metrics().lsn, 0u);
  auto second = sync_wait(store.store_lease(lease_of(2)));
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second.metrics().lsn, stored.metrics().lsn);
  ASSERT_TRUE(sync_wait(store.close()).ok());
}

TEST_F(RocksDbStoreTest, BufferedModeSyncsInTheBackground) {
  std::string d = dir("buffered");
  auto opened = open_direct(config_for(d, DurabilityMode::Buffered));
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  auto& store = *opened.value();
  auto before = sync_wait(store.stats());
  ASSERT_TRUE(before.ok());
  for (std::uint64_t n = 0; n < 20; ++n) {
    auto r = sync_wait(store.store_lease(lease_of(n)));
    ASSERT_TRUE(r.ok());
    EXPECT_GT(r.metrics().disk_bytes_written, 0u) << "buffered writes still go to the WAL";
  }
  // The writes themselves do not sync; the flusher (every 5 ms) does.
  std::uint64_t syncs = 0;
  for (int i = 0; i < 200 && syncs == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto stats = sync_wait(store.stats());
    ASSERT_TRUE(stats.ok());
    syncs = stats->wal_syncs - before->wal_syncs;
  }
  EXPECT_GT(syncs, 0u) << "the background flusher never synced the WAL";
  auto flushed = sync_wait(store.flush());
  EXPECT_TRUE(flushed.ok());
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(sync_wait(store.close()).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(2)) << "close must stop the flusher promptly";

  auto reopened = open_direct(config_for(d, DurabilityMode::Buffered));
  ASSERT_TRUE(reopened.ok());
  auto all = sync_wait((*reopened)->scan_by_actor_type("Player"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 20u);
}

TEST_F(RocksDbStoreTest, NoSyncModeWritesWithoutSyncing) {
  auto opened = open_direct(config_for(dir("none"), DurabilityMode::None));
  ASSERT_TRUE(opened.ok());
  auto& store = *opened.value();
  auto before = sync_wait(store.stats());
  for (std::uint64_t n = 0; n < 20; ++n) ASSERT_TRUE(sync_wait(store.store_lease(lease_of(n))).ok());
  auto after = sync_wait(store.stats());
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(after->wal_syncs, before->wal_syncs);
  EXPECT_EQ(after->total_keys, 20u);
}

TEST_F(RocksDbStoreTest, ManyWritersOfOneKeyInOneGroupKeepOneIndexEntry) {
  auto opened = open_direct(config_for(dir("group")));
  ASSERT_TRUE(opened.ok());
  auto& store = *opened.value();
  // 8 threads x 40 stores of the same key, each from another node and with
  // another expiry: groups will hold several writes of the key at once.
  std::vector<std::thread> threads;
  std::atomic<std::uint32_t> largest_group{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&store, &largest_group, t] {
      for (int i = 0; i < 40; ++i) {
        Lease lease = lease_of(1, "node-" + std::to_string(t));
        lease.expires_at += seconds(i * 8 + t);
        auto r = sync_wait(store.store_lease(lease));
        EXPECT_TRUE(r.ok()) << r.error().to_string();
        std::uint32_t seen = largest_group.load();
        while (r.metrics().batch_records > seen && !largest_group.compare_exchange_weak(seen, r.metrics().batch_records)) {
        }
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_GT(largest_group.load(), 1u) << "no write group held more than one writer: the overlay went untested";
  auto current = sync_wait(store.get_lease(lease_of(1).key));
  ASSERT_TRUE(current.ok());
  std::size_t by_node = 0;
  for (int t = 0; t < 8; ++t) by_node += sync_wait(store.list_by_node("node-" + std::to_string(t)))->size();
  EXPECT_EQ(by_node, 1u);
  auto expiring = sync_wait(store.list_expiring_before(SystemTime::max()));
  ASSERT_TRUE(expiring.ok());
  ASSERT_EQ(expiring->size(), 1u);
  EXPECT_EQ(expiring->front(), current.value());
  auto stats = sync_wait(store.stats());
  EXPECT_EQ(stats->total_keys, 1u);
}

TEST_F(RocksDbStoreTest, DestroyingWithoutCloseClosesAndReleasesTheLock) {
  std::string d = dir("destroy");
  {
    auto opened = open_direct(config_for(d, DurabilityMode::Buffered));
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE(sync_wait((*opened)->store_lease(lease_of(5))).ok());
  }
  auto reopened = open_direct(config_for(d));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  auto got = sync_wait((*reopened)->get_lease(lease_of(5).key));
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got.value(), lease_of(5));
}

}  // namespace
}  // namespace orbit::rocksdb_engine
