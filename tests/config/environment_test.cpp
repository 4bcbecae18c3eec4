// Goal: every ORBIT_* variable of the seed (and ours) sets its key, booleans
// take every documented spelling, an empty variable counts as unset, origins
// say Environment, and every bad value is an error naming the variable, the
// value and what is accepted (exact texts asserted).
#include <gtest/gtest.h>

#include "orbit/config.hpp"
#include "src/config/config_keys.hpp"
#include "tests/config/config_test_support.hpp"

namespace orbit {
namespace {

using Environment = testing_support::ConfigTest;

Result<PersistenceConfig> from_env() { return config_from_environment(PersistenceConfig{}); }

TEST_F(Environment, NothingSetMeansDefaults) {
  auto config = from_env();
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->to_json(), PersistenceConfig{}.to_json());
  EXPECT_TRUE(config->origins.empty());
}

TEST_F(Environment, SeedVariables) {
  set_env("ORBIT_PERSISTENCE_BACKEND", "lsm");
  set_env("ORBIT_DATA_DIR", "/var/lib/orbit");
  set_env("ORBIT_COW_MAX_KEYS", "128");
  set_env("ORBIT_COW_WAL_BUFFER_SIZE", "2097152");
  set_env("ORBIT_LSM_MEMTABLE_SIZE_MB", "128");
  set_env("ORBIT_LSM_MAX_LEVELS", "6");
  set_env("ORBIT_LSM_ENABLE_BLOOM_FILTERS", "false");
  set_env("ORBIT_LSM_COMPACTION_THRESHOLD", "8");
  set_env("ORBIT_ROCKSDB_COMPRESSION", "false");
  set_env("ORBIT_ROCKSDB_BLOCK_CACHE_MB", "512");
  auto config = from_env();
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  const auto& c = config.value();
  EXPECT_EQ(c.backend, PersistenceBackend::LsmTree);
  EXPECT_EQ(c.data_dir, "/var/lib/orbit");
  EXPECT_EQ(c.cow_config.max_keys_per_node, 128u);
  EXPECT_EQ(c.cow_config.wal_buffer_size, 2097152u);
  EXPECT_EQ(c.lsm_config.memtable_size_mb, 128u);
  EXPECT_EQ(c.lsm_config.max_levels, 6u);
  EXPECT_FALSE(c.lsm_config.enable_bloom_filters);
  EXPECT_EQ(c.lsm_config.compaction_threshold, 8u);
  EXPECT_FALSE(c.rocksdb_config.compression);
  EXPECT_EQ(c.rocksdb_config.block_cache_mb, 512u);
  EXPECT_EQ(c.origins.size(), 10u);
  for (const auto& [key, source] : c.origins) EXPECT_EQ(source, ConfigSource::Environment) << key;
}

TEST_F(Environment, OurVariables) {
  set_env("ORBIT_DURABILITY", "buffered");
  set_env("ORBIT_SYNC_INTERVAL_MS", "250");
  set_env("ORBIT_IO_BACKEND", "asio");
  set_env("ORBIT_COW_ENABLE_SNAPSHOTS", "off");
  set_env("ORBIT_COW_SNAPSHOT_INTERVAL", "5000");
  set_env("ORBIT_LSM_LEVEL_SIZE_MULTIPLIER", "8");
  set_env("ORBIT_LSM_SSTABLE_BLOCK_SIZE_KB", "16");
  set_env("ORBIT_LSM_BLOOM_FILTER_BITS_PER_KEY", "15");
  set_env("ORBIT_LSM_ENABLE_COMPRESSION", "no");
  set_env("ORBIT_LSM_WRITE_BUFFER_MB", "48");
  set_env("ORBIT_LSM_BLOCK_CACHE_MB", "0");
  set_env("ORBIT_ROCKSDB_WRITE_BUFFER_MB", "128");
  set_env("ORBIT_ROCKSDB_MAX_BACKGROUND_JOBS", "16");
  auto config = from_env();
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  const auto& c = config.value();
  EXPECT_EQ(c.durability, DurabilityMode::Buffered);
  EXPECT_EQ(c.sync_interval_ms, 250u);
  EXPECT_EQ(c.io_backend, IoBackend::Asio);
  EXPECT_FALSE(c.cow_config.enable_snapshots);
  EXPECT_EQ(c.cow_config.snapshot_interval, 5000u);
  EXPECT_EQ(c.lsm_config.level_size_multiplier, 8u);
  EXPECT_EQ(c.lsm_config.sstable_block_size_kb, 16u);
  EXPECT_EQ(c.lsm_config.bloom_filter_bits_per_key, 15u);
  EXPECT_FALSE(c.lsm_config.enable_compression);
  EXPECT_EQ(c.lsm_config.write_buffer_mb, 48u);
  EXPECT_EQ(c.lsm_config.block_cache_mb, 0u);
  EXPECT_EQ(c.rocksdb_config.write_buffer_mb, 128u);
  EXPECT_EQ(c.rocksdb_config.max_background_jobs, 16u);
  EXPECT_EQ(c.origins.size(), 13u);
}

// The table has exactly the names the seed and the brief promise, one per JSON key.
TEST_F(Environment, EveryJsonKeyHasItsVariable) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"backend", "ORBIT_PERSISTENCE_BACKEND"},
      {"data_dir", "ORBIT_DATA_DIR"},
      {"durability", "ORBIT_DURABILITY"},
      {"sync_interval_ms", "ORBIT_SYNC_INTERVAL_MS"},
      {"io_backend", "ORBIT_IO_BACKEND"},
      {"cow_config.max_keys_per_node", "ORBIT_COW_MAX_KEYS"},
      {"cow_config.wal_buffer_size", "ORBIT_COW_WAL_BUFFER_SIZE"},
      {"cow_config.enable_snapshots", "ORBIT_COW_ENABLE_SNAPSHOTS"},
      {"cow_config.snapshot_interval", "ORBIT_COW_SNAPSHOT_INTERVAL"},
      {"lsm_config.memtable_size_mb", "ORBIT_LSM_MEMTABLE_SIZE_MB"},
      {"lsm_config.max_levels", "ORBIT_LSM_MAX_LEVELS"},
      {"lsm_config.level_size_multiplier", "ORBIT_LSM_LEVEL_SIZE_MULTIPLIER"},
      {"lsm_config.compaction_threshold", "ORBIT_LSM_COMPACTION_THRESHOLD"},
      {"lsm_config.sstable_block_size_kb", "ORBIT_LSM_SSTABLE_BLOCK_SIZE_KB"},
      {"lsm_config.enable_bloom_filters", "ORBIT_LSM_ENABLE_BLOOM_FILTERS"},
      {"lsm_config.bloom_filter_bits_per_key", "ORBIT_LSM_BLOOM_FILTER_BITS_PER_KEY"},
      {"lsm_config.enable_compression", "ORBIT_LSM_ENABLE_COMPRESSION"},
      {"lsm_config.write_buffer_mb", "ORBIT_LSM_WRITE_BUFFER_MB"},
      {"lsm_config.block_cache_mb", "ORBIT_LSM_BLOCK_CACHE_MB"},
      {"rocksdb_config.compression", "ORBIT_ROCKSDB_COMPRESSION"},
      {"rocksdb_config.block_cache_mb", "ORBIT_ROCKSDB_BLOCK_CACHE_MB"},
      {"rocksdb_config.write_buffer_mb", "ORBIT_ROCKSDB_WRITE_BUFFER_MB"},
      {"rocksdb_config.max_background_jobs", "ORBIT_ROCKSDB_MAX_BACKGROUND_JOBS"},
  };
  auto keys = config_detail::all_keys();
  ASSERT_EQ(keys.size(), expected.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(keys[i].path, expected[i].first);
    EXPECT_EQ(keys[i].env, expected[i].second);
  }
}

TEST_F(Environment, EachVariableAloneSetsOnlyItsKey) {
  // A value inside every key's range and different from its default.
  for (const auto& key : config_detail::all_keys()) {
    clear_orbit_environment();
    std::string value;
    switch (key.kind) {
      case config_detail::ValueKind::Backend:
        value = "rocksdb";
        break;
      case config_detail::ValueKind::Path:
        value = "/env/dir";
        break;
      case config_detail::ValueKind::Durability:
        value = "none";
        break;
      case config_detail::ValueKind::IoBackend:
        value = "io_uring";
        break;
      case config_detail::ValueKind::Bool:
        value = "0";
        break;
      default:
        value = std::to_string(key.max);
        break;
    }
    set_env(std::string(key.env).c_str(), value);
    auto config = from_env();
    ASSERT_TRUE(config.ok()) << key.env << ": " << config.error().to_string();
    EXPECT_EQ(config->origins.size(), 1u) << key.env;
    EXPECT_EQ(config->origins.at(std::string(key.path)), ConfigSource::Environment) << key.env;
    EXPECT_NE(config->to_json(), PersistenceConfig{}.to_json()) << key.env << " changed nothing";
  }
}

TEST_F(Environment, BooleanSpellings) {
  for (const char* yes : {"true", "TRUE", "True", "1", "yes", "YES", "on", "On"}) {
    set_env("ORBIT_LSM_ENABLE_BLOOM_FILTERS", "false");
    set_env("ORBIT_ROCKSDB_COMPRESSION", yes);
    auto config = from_env();
    ASSERT_TRUE(config.ok()) << yes;
    EXPECT_TRUE(config->rocksdb_config.compression) << yes;
  }
  for (const char* no : {"false", "FALSE", "0", "no", "No", "off", "OFF"}) {
    set_env("ORBIT_ROCKSDB_COMPRESSION", no);
    auto config = from_env();
    ASSERT_TRUE(config.ok()) << no;
    EXPECT_FALSE(config->rocksdb_config.compression) << no;
  }
}

TEST_F(Environment, BackendSpellings) {
  struct Case {
    const char* text;
    PersistenceBackend expected;
  };
  for (auto [text, expected] :
       {Case{"cow", PersistenceBackend::CowBTree}, Case{"CowBTree", PersistenceBackend::CowBTree},
        Case{"COWBTREE", PersistenceBackend::CowBTree}, Case{"lsm", PersistenceBackend::LsmTree},
        Case{"LsmTree", PersistenceBackend::LsmTree}, Case{"Lsm", PersistenceBackend::LsmTree},
        Case{"rocksdb", PersistenceBackend::RocksDb}, Case{"RocksDb", PersistenceBackend::RocksDb},
        Case{"ROCKSDB", PersistenceBackend::RocksDb}}) {
    set_env("ORBIT_PERSISTENCE_BACKEND", text);
    auto config = from_env();
    ASSERT_TRUE(config.ok()) << text;
    EXPECT_EQ(config->backend, expected) << text;
  }
}

TEST_F(Environment, EmptyVariableCountsAsUnset) {
  set_env("ORBIT_LSM_MAX_LEVELS", "");
  set_env("ORBIT_DATA_DIR", "");
  set_env("ORBIT_PERSISTENCE_BACKEND", "");
  PersistenceConfig base;
  base.lsm_config.max_levels = 5;
  auto config = config_from_environment(base);
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->lsm_config.max_levels, 5u);
  EXPECT_EQ(config->data_dir, "./orbit-data");
  EXPECT_TRUE(config->origins.empty());
}

TEST_F(Environment, UnrelatedOrbitVariablesAreIgnored) {
  set_env("ORBIT_REPLICATION_MODE", "master");  // in the seed's compose file, not ours
  auto config = from_env();
  EXPECT_TRUE(config.ok());
}

// ---- Bad values: exact messages. ----

void expect_env_error(const std::string& message) {
  auto config = from_env();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(config.error().message, message);
}

TEST_F(Environment, NotAWholeNumber) {
  set_env("ORBIT_LSM_MAX_LEVELS", "abc");
  expect_env_error(R"(ORBIT_LSM_MAX_LEVELS="abc" is not a whole number; accepted: 2..16)");
}

TEST_F(Environment, DecimalIsNotAWholeNumber) {
  set_env("ORBIT_COW_WAL_BUFFER_SIZE", "1e6");
  expect_env_error(R"(ORBIT_COW_WAL_BUFFER_SIZE="1e6" is not a whole number; accepted: 4096..1073741824)");
}

TEST_F(Environment, WhitespaceIsNotAWholeNumber) {
  set_env("ORBIT_LSM_MAX_LEVELS", " 7");
  expect_env_error(R"(ORBIT_LSM_MAX_LEVELS=" 7" is not a whole number; accepted: 2..16)");
}

TEST_F(Environment, OutOfRange) {
  set_env("ORBIT_LSM_MAX_LEVELS", "17");
  expect_env_error(R"(ORBIT_LSM_MAX_LEVELS="17" is out of range; accepted: 2..16)");
}

TEST_F(Environment, Negative) {
  set_env("ORBIT_COW_MAX_KEYS", "-64");
  expect_env_error(R"(ORBIT_COW_MAX_KEYS="-64" is out of range; accepted: 4..4096)");
}

TEST_F(Environment, OverflowsSixtyFourBits) {
  set_env("ORBIT_COW_SNAPSHOT_INTERVAL", "99999999999999999999999");
  expect_env_error(
      R"(ORBIT_COW_SNAPSHOT_INTERVAL="99999999999999999999999" is out of range; accepted: 1..1000000000)");
}

TEST_F(Environment, TooLargeForU32) {
  set_env("ORBIT_ROCKSDB_BLOCK_CACHE_MB", "4294967296");
  expect_env_error(R"(ORBIT_ROCKSDB_BLOCK_CACHE_MB="4294967296" is out of range; accepted: 0..1048576)");
}

TEST_F(Environment, BadBoolean) {
  set_env("ORBIT_LSM_ENABLE_BLOOM_FILTERS", "maybe");
  expect_env_error(
      R"(ORBIT_LSM_ENABLE_BLOOM_FILTERS="maybe" is not a boolean; accepted: true, false, 1, 0, yes, no, on, off (any case))");
}

TEST_F(Environment, BadBackend) {
  set_env("ORBIT_PERSISTENCE_BACKEND", "btree");
  expect_env_error(
      R"(ORBIT_PERSISTENCE_BACKEND="btree" is not recognised; accepted: cow, lsm, rocksdb (or CowBTree, LsmTree, RocksDb; any case))");
}

TEST_F(Environment, BadDurability) {
  set_env("ORBIT_DURABILITY", "sync");
  expect_env_error(
      R"(ORBIT_DURABILITY="sync" is not recognised; accepted: durable, buffered, none (any case))");
}

TEST_F(Environment, BadIoBackend) {
  set_env("ORBIT_IO_BACKEND", "uring");
  expect_env_error(
      R"(ORBIT_IO_BACKEND="uring" is not recognised; accepted: auto, io_uring, asio (any case))");
}

TEST_F(Environment, ControlCharactersAreEscapedInMessages) {
  set_env("ORBIT_SYNC_INTERVAL_MS", "10\n");
  expect_env_error(R"(ORBIT_SYNC_INTERVAL_MS="10\u000a" is not a whole number; accepted: 1..60000)");
}

}  // namespace
}  // namespace orbit
