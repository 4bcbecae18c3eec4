// Goal: the JSON source reads every key of the seed's format (and ours),
// leaves absent keys at the layer below, records File as their origin, and
// rejects every bad input with an InvalidArgument error naming the file, the
// key path, the value and what is accepted (exact texts asserted).
#include <gtest/gtest.h>

#include "orbit/config.hpp"
#include "tests/config/config_test_support.hpp"

namespace orbit {
namespace {

using JsonConfig = testing_support::ConfigTest;

// The seed's example, verbatim, plus our three top-level keys.
constexpr const char* kSeedJson = R"({
  "backend": "LsmTree",
  "data_dir": "/var/lib/orbit",
  "durability": "buffered",
  "sync_interval_ms": 25,
  "io_backend": "asio",
  "cow_config": {
    "max_keys_per_node": 64,
    "wal_buffer_size": 1048576,
    "enable_snapshots": true,
    "snapshot_interval": 1000
  },
  "lsm_config": {
    "memtable_size_mb": 64,
    "max_levels": 7,
    "level_size_multiplier": 10,
    "compaction_threshold": 4,
    "sstable_block_size_kb": 4,
    "enable_bloom_filters": true,
    "bloom_filter_bits_per_key": 10,
    "enable_compression": true,
    "write_buffer_mb": 32,
    "block_cache_mb": 256
  },
  "rocksdb_config": {
    "compression": true,
    "block_cache_mb": 256,
    "write_buffer_mb": 64,
    "max_background_jobs": 4
  }
})";

// Every key set to a value different from its default.
constexpr const char* kNonDefaultJson = R"({
  "backend": "RocksDb",
  "data_dir": "/srv/leases",
  "durability": "none",
  "sync_interval_ms": 60000,
  "io_backend": "io_uring",
  "cow_config": {"max_keys_per_node": 128, "wal_buffer_size": 2097152, "enable_snapshots": false,
                 "snapshot_interval": 500},
  "lsm_config": {"memtable_size_mb": 128, "max_levels": 8, "level_size_multiplier": 8,
                 "compaction_threshold": 10, "sstable_block_size_kb": 16, "enable_bloom_filters": false,
                 "bloom_filter_bits_per_key": 15, "enable_compression": false, "write_buffer_mb": 48,
                 "block_cache_mb": 0},
  "rocksdb_config": {"compression": false, "block_cache_mb": 512, "write_buffer_mb": 128,
                     "max_background_jobs": 16}
})";

TEST_F(JsonConfig, ReadsTheSeedExample) {
  auto config = config_from_json_file(write_file("seed.json", kSeedJson), PersistenceConfig{});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->backend, PersistenceBackend::LsmTree);
  EXPECT_EQ(config->data_dir, "/var/lib/orbit");
  EXPECT_EQ(config->durability, DurabilityMode::Buffered);
  EXPECT_EQ(config->sync_interval_ms, 25u);
  EXPECT_EQ(config->io_backend, IoBackend::Asio);
  EXPECT_EQ(config->cow_config.max_keys_per_node, 64u);
  EXPECT_EQ(config->lsm_config.max_levels, 7u);
  EXPECT_EQ(config->rocksdb_config.max_background_jobs, 4u);
  EXPECT_TRUE(config->validate().ok());
  EXPECT_EQ(config->origins.size(), 23u);  // every key came from the file
  for (const auto& [key, source] : config->origins) EXPECT_EQ(source, ConfigSource::File) << key;
}

TEST_F(JsonConfig, ReadsEveryKey) {
  auto config = config_from_json_text(kNonDefaultJson, PersistenceConfig{});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  const auto& c = config.value();
  EXPECT_EQ(c.backend, PersistenceBackend::RocksDb);
  EXPECT_EQ(c.data_dir, "/srv/leases");
  EXPECT_EQ(c.durability, DurabilityMode::None);
  EXPECT_EQ(c.sync_interval_ms, 60000u);
  EXPECT_EQ(c.io_backend, IoBackend::IoUring);
  EXPECT_EQ(c.cow_config.max_keys_per_node, 128u);
  EXPECT_EQ(c.cow_config.wal_buffer_size, 2097152u);
  EXPECT_FALSE(c.cow_config.enable_snapshots);
  EXPECT_EQ(c.cow_config.snapshot_interval, 500u);
  EXPECT_EQ(c.lsm_config.memtable_size_mb, 128u);
  EXPECT_EQ(c.lsm_config.max_levels, 8u);
  EXPECT_EQ(c.lsm_config.level_size_multiplier, 8u);
  EXPECT_EQ(c.lsm_config.compaction_threshold, 10u);
  EXPECT_EQ(c.lsm_config.sstable_block_size_kb, 16u);
  EXPECT_FALSE(c.lsm_config.enable_bloom_filters);
  EXPECT_EQ(c.lsm_config.bloom_filter_bits_per_key, 15u);
  EXPECT_FALSE(c.lsm_config.enable_compression);
  EXPECT_EQ(c.lsm_config.write_buffer_mb, 48u);
  EXPECT_EQ(c.lsm_config.block_cache_mb, 0u);
  EXPECT_FALSE(c.rocksdb_config.compression);
  EXPECT_EQ(c.rocksdb_config.block_cache_mb, 512u);
  EXPECT_EQ(c.rocksdb_config.write_buffer_mb, 128u);
  EXPECT_EQ(c.rocksdb_config.max_background_jobs, 16u);
  EXPECT_TRUE(c.validate().ok());
}

TEST_F(JsonConfig, PartialFileKeepsLowerLayer) {
  PersistenceConfig base;
  base.data_dir = "/from/base";
  base.lsm_config.max_levels = 9;
  base.origins["data_dir"] = ConfigSource::Environment;
  auto config = config_from_json_text(R"({"lsm_config": {"memtable_size_mb": 16}})", base);
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->lsm_config.memtable_size_mb, 16u);
  EXPECT_EQ(config->lsm_config.max_levels, 9u);
  EXPECT_EQ(config->data_dir, "/from/base");
  EXPECT_EQ(config->origins.at("data_dir"), ConfigSource::Environment);
  EXPECT_EQ(config->origins.at("lsm_config.memtable_size_mb"), ConfigSource::File);
  EXPECT_EQ(config->origins.count("lsm_config.max_levels"), 0u);
}

TEST_F(JsonConfig, EmptyObjectAndEmptySectionsChangeNothing) {
  auto config = config_from_json_text(R"({"cow_config": {}, "lsm_config": {}})", PersistenceConfig{});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->to_json(), PersistenceConfig{}.to_json());
  EXPECT_TRUE(config->origins.empty());
}

TEST_F(JsonConfig, BackendSpellings) {
  struct Case {
    const char* text;
    PersistenceBackend expected;
  };
  for (auto [text, expected] :
       {Case{"CowBTree", PersistenceBackend::CowBTree}, Case{"cow", PersistenceBackend::CowBTree},
        Case{"COW", PersistenceBackend::CowBTree}, Case{"cowbtree", PersistenceBackend::CowBTree},
        Case{"LsmTree", PersistenceBackend::LsmTree}, Case{"lsm", PersistenceBackend::LsmTree},
        Case{"LSM", PersistenceBackend::LsmTree}, Case{"RocksDb", PersistenceBackend::RocksDb},
        Case{"rocksdb", PersistenceBackend::RocksDb}, Case{"ROCKSDB", PersistenceBackend::RocksDb}}) {
    auto config = config_from_json_text(std::string(R"({"backend": ")") + text + "\"}", PersistenceConfig{});
    ASSERT_TRUE(config.ok()) << text;
    EXPECT_EQ(config->backend, expected) << text;
  }
}

TEST_F(JsonConfig, DurabilityAndIoBackendSpellings) {
  auto c = config_from_json_text(R"({"durability": "Durable", "io_backend": "AUTO"})", PersistenceConfig{});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->durability, DurabilityMode::Durable);
  EXPECT_EQ(c->io_backend, IoBackend::Auto);
  c = config_from_json_text(R"({"durability": "BUFFERED", "io_backend": "IO_URING"})", PersistenceConfig{});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->durability, DurabilityMode::Buffered);
  EXPECT_EQ(c->io_backend, IoBackend::IoUring);
}

TEST_F(JsonConfig, RangeEndsAreAccepted) {
  auto c = config_from_json_text(
      R"({"cow_config": {"wal_buffer_size": 1073741824, "snapshot_interval": 1000000000},
          "lsm_config": {"max_levels": 16, "block_cache_mb": 1048576}, "sync_interval_ms": 1})",
      PersistenceConfig{});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->cow_config.wal_buffer_size, 1073741824u);
  EXPECT_EQ(c->lsm_config.max_levels, 16u);
  EXPECT_EQ(c->lsm_config.block_cache_mb, 1048576u);
  EXPECT_EQ(c->sync_interval_ms, 1u);
}

// ---- Bad inputs: each asserts the exact message. ----

class JsonConfigErrors : public JsonConfig {
 protected:
  // Loads `text` from a file named c.json and expects this message after the file prefix.
  void expect_file_error(const std::string& text, const std::string& tail) {
    std::string path = write_file("c.json", text);
    auto config = config_from_json_file(path, PersistenceConfig{});
    ASSERT_FALSE(config.ok()) << "accepted: " << text;
    EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
    EXPECT_EQ(config.error().message, "config file " + path + ": " + tail);
  }
};

TEST_F(JsonConfigErrors, OutOfRangeNumber) {
  expect_file_error(R"({"lsm_config": {"max_levels": 0}})",
                    R"(key "lsm_config.max_levels": value 0 is out of range; accepted: 2..16)");
}

TEST_F(JsonConfigErrors, NegativeNumber) {
  expect_file_error(R"({"cow_config": {"max_keys_per_node": -64}})",
                    R"(key "cow_config.max_keys_per_node": value -64 is out of range; accepted: 4..4096)");
}

TEST_F(JsonConfigErrors, NumberTooLargeForU32) {
  expect_file_error(
      R"({"lsm_config": {"block_cache_mb": 4294967296}})",
      R"(key "lsm_config.block_cache_mb": value 4294967296 is out of range; accepted: 0..1048576)");
}

TEST_F(JsonConfigErrors, NumberTooLargeForU64) {
  expect_file_error(
      R"({"cow_config": {"wal_buffer_size": 18446744073709551616}})",
      R"(key "cow_config.wal_buffer_size": value 1.8446744073709552e+19 is out of range; accepted: 4096..1073741824)");
}

TEST_F(JsonConfigErrors, FloatForInteger) {
  expect_file_error(
      R"({"lsm_config": {"memtable_size_mb": 64.5}})",
      R"(key "lsm_config.memtable_size_mb": value 64.5 is not a whole number; accepted: 1..4096)");
}

TEST_F(JsonConfigErrors, StringForNumber) {
  expect_file_error(R"({"sync_interval_ms": "10"})",
                    R"(key "sync_interval_ms": value "10" is not a whole number; accepted: 1..60000)");
}

TEST_F(JsonConfigErrors, StringForBoolean) {
  expect_file_error(
      R"({"lsm_config": {"enable_bloom_filters": "yes"}})",
      R"(key "lsm_config.enable_bloom_filters": value "yes" is not a boolean; accepted: true, false)");
}

TEST_F(JsonConfigErrors, NumberForBoolean) {
  expect_file_error(R"({"rocksdb_config": {"compression": 1}})",
                    R"(key "rocksdb_config.compression": value 1 is not a boolean; accepted: true, false)");
}

TEST_F(JsonConfigErrors, UnknownBackend) {
  expect_file_error(
      R"({"backend": "btree"})",
      R"(key "backend": value "btree" is not recognised; accepted: CowBTree, LsmTree, RocksDb (or cow, lsm, rocksdb; any case))");
}

TEST_F(JsonConfigErrors, BackendNotAString) {
  expect_file_error(
      R"({"backend": 1})",
      R"(key "backend": value 1 is not a string; accepted: CowBTree, LsmTree, RocksDb (or cow, lsm, rocksdb; any case))");
}

TEST_F(JsonConfigErrors, UnknownDurability) {
  expect_file_error(
      R"({"durability": "fsync"})",
      R"(key "durability": value "fsync" is not recognised; accepted: durable, buffered, none (any case))");
}

TEST_F(JsonConfigErrors, UnknownIoBackend) {
  expect_file_error(
      R"({"io_backend": "epoll"})",
      R"(key "io_backend": value "epoll" is not recognised; accepted: auto, io_uring, asio (any case))");
}

TEST_F(JsonConfigErrors, EmptyDataDir) {
  expect_file_error(R"({"data_dir": ""})",
                    R"(key "data_dir": value "" is empty; accepted: a non-empty path)");
}

TEST_F(JsonConfigErrors, DataDirNotAString) {
  expect_file_error(R"({"data_dir": null})",
                    R"(key "data_dir": value null is not a string; accepted: a non-empty path)");
}

TEST_F(JsonConfigErrors, UnknownTopLevelKey) {
  expect_file_error(
      R"({"backend": "cow", "data_directory": "/x"})",
      "unknown key \"data_directory\"; accepted keys: backend, data_dir, durability, sync_interval_ms, "
      "io_backend, cow_config, lsm_config, rocksdb_config");
}

TEST_F(JsonConfigErrors, UnknownNestedKey) {
  expect_file_error(
      R"({"lsm_config": {"max_level": 7}})",
      "unknown key \"lsm_config.max_level\"; accepted keys of \"lsm_config\": memtable_size_mb, "
      "max_levels, level_size_multiplier, compaction_threshold, sstable_block_size_kb, "
      "enable_bloom_filters, bloom_filter_bits_per_key, enable_compression, write_buffer_mb, "
      "block_cache_mb");
}

TEST_F(JsonConfigErrors, KeyInTheWrongSection) {
  expect_file_error(
      R"({"cow_config": {"max_levels": 7}})",
      "unknown key \"cow_config.max_levels\"; accepted keys of \"cow_config\": max_keys_per_node, "
      "wal_buffer_size, enable_snapshots, snapshot_interval");
}

TEST_F(JsonConfigErrors, NestedKeyAtTopLevel) {
  expect_file_error(
      R"({"max_levels": 7})",
      "unknown key \"max_levels\"; accepted keys: backend, data_dir, durability, sync_interval_ms, "
      "io_backend, cow_config, lsm_config, rocksdb_config");
}

TEST_F(JsonConfigErrors, SectionNotAnObject) {
  expect_file_error(
      R"({"rocksdb_config": true})",
      "key \"rocksdb_config\": value true is not an object; accepted keys of \"rocksdb_config\": "
      "compression, block_cache_mb, write_buffer_mb, max_background_jobs");
}

TEST_F(JsonConfigErrors, TopLevelNotAnObject) {
  expect_file_error(
      R"([1, 2])",
      "the top level is an array, not a JSON object; accepted keys: backend, data_dir, durability, "
      "sync_interval_ms, io_backend, cow_config, lsm_config, rocksdb_config");
}

TEST_F(JsonConfigErrors, MalformedJsonNamesLineAndColumn) {
  expect_file_error(
      "{\n  \"backend\": \"cow\",\n  \"data_dir\" \"/x\"\n}\n",
      "malformed JSON: parse error at line 3, column 17: syntax error while parsing object separator - "
      "unexpected string literal; expected ':'");
}

TEST_F(JsonConfigErrors, TrailingCommaIsMalformed) {
  expect_file_error(
      "{\"backend\": \"cow\",}",
      "malformed JSON: parse error at line 1, column 19: syntax error while parsing object key - "
      "unexpected '}'; expected string literal");
}

// Found by tests/config/json_config_fuzz.cpp: nlohmann reports this one with
// out_of_range, not parse_error.
TEST_F(JsonConfigErrors, NumberTooLargeForADouble) {
  expect_file_error(R"({"sync_interval_ms": 1e400})", "malformed JSON: number overflow parsing '1e400'");
}

TEST_F(JsonConfigErrors, EmptyFileIsMalformed) {
  expect_file_error(
      "",
      "malformed JSON: parse error at line 1, column 1: syntax error while parsing value - unexpected "
      "end of input; expected '[', '{', or a literal");
}

TEST_F(JsonConfigErrors, DuplicateTopLevelKey) {
  expect_file_error(R"({"backend": "cow", "data_dir": "/a", "backend": "lsm"})",
                    R"(key "backend" appears more than once; accepted: each key once)");
}

TEST_F(JsonConfigErrors, DuplicateNestedKey) {
  expect_file_error(
      R"({"cow_config": {"max_keys_per_node": 64}, "lsm_config": {"max_levels": 3, "max_levels": 4}})",
      R"(key "lsm_config.max_levels" appears more than once; accepted: each key once)");
}

TEST_F(JsonConfigErrors, SameNameInDifferentSectionsIsNoDuplicate) {
  auto config = config_from_json_text(R"({"lsm_config": {"block_cache_mb": 1, "write_buffer_mb": 2},
                                          "rocksdb_config": {"block_cache_mb": 3, "write_buffer_mb": 4}})",
                                      PersistenceConfig{});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->lsm_config.block_cache_mb, 1u);
  EXPECT_EQ(config->rocksdb_config.block_cache_mb, 3u);
}

TEST_F(JsonConfigErrors, MissingFile) {
  std::string path = (dir_ / "absent.json").string();
  auto config = config_from_json_file(path, PersistenceConfig{});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(config.error().message, "config file " + path + ": cannot open: No such file or directory");
}

TEST_F(JsonConfigErrors, DirectoryInsteadOfFile) {
  auto config = config_from_json_file(dir_.string(), PersistenceConfig{});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "config file " + dir_.string() + ": cannot read: Is a directory");
}

TEST_F(JsonConfigErrors, TextSourceUsesItsOwnPrefix) {
  auto config = config_from_json_text(R"({"lsm_config": {"max_levels": 99}})", PersistenceConfig{});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            R"(config JSON: key "lsm_config.max_levels": value 99 is out of range; accepted: 2..16)");
}

TEST_F(JsonConfigErrors, FailedLoadLeavesNothingHalfApplied) {
  // The Result carries no config on failure; the caller's base is untouched (passed by value).
  PersistenceConfig base;
  auto config = config_from_json_text(R"({"data_dir": "/new", "lsm_config": {"max_levels": 1}})", base);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(base.data_dir, "./orbit-data");
}

}  // namespace
}  // namespace orbit
