// Goal: validate() accepts the defaults and every range end, rejects each
// key just outside its range with a message naming the key, the value, the
// accepted range and (when known) where the value came from; to_json() writes
// the seed's format with every key and loads back to the same config.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "orbit/config.hpp"
#include "src/config/config_keys.hpp"
#include "tests/config/config_test_support.hpp"

namespace orbit {
namespace {

using Validate = testing_support::ConfigTest;
using config_detail::ValueKind;

TEST_F(Validate, DefaultsAreValid) { EXPECT_TRUE(PersistenceConfig{}.validate().ok()); }

TEST_F(Validate, EveryNumericKeyAtBothEndsAndJustOutside) {
  for (const auto& key : config_detail::all_keys()) {
    if (key.kind != ValueKind::U32 && key.kind != ValueKind::U64) continue;
    auto set = [&](PersistenceConfig& c, std::uint64_t v) {
      if (key.kind == ValueKind::U32)
        config_detail::field<std::uint32_t>(key, c) = static_cast<std::uint32_t>(v);
      else
        config_detail::field<std::uint64_t>(key, c) = v;
    };
    for (std::uint64_t ok : {key.min, key.max}) {
      PersistenceConfig c;
      set(c, ok);
      EXPECT_TRUE(c.validate().ok()) << key.path << " = " << ok;
    }
    std::vector<std::uint64_t> bad = {key.max + 1};
    if (key.min > 0) bad.push_back(key.min - 1);
    for (std::uint64_t v : bad) {
      PersistenceConfig c;
      set(c, v);
      auto r = c.validate();
      ASSERT_FALSE(r.ok()) << key.path << " = " << v;
      EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
      EXPECT_EQ(r.error().message, "config key \"" + std::string(key.path) + "\": value " +
                                       std::to_string(v) + " is out of range; accepted: " +
                                       std::to_string(key.min) + ".." + std::to_string(key.max));
    }
  }
}

TEST_F(Validate, MessageNamesTheOrigin) {
  PersistenceConfig c;
  c.lsm_config.max_levels = 0;
  c.origins["lsm_config.max_levels"] = ConfigSource::Environment;
  EXPECT_EQ(
      c.validate().error().message,
      R"(config key "lsm_config.max_levels": value 0 is out of range; accepted: 2..16 (set by environment variable ORBIT_LSM_MAX_LEVELS))");
  c.origins["lsm_config.max_levels"] = ConfigSource::File;
  EXPECT_EQ(
      c.validate().error().message,
      R"(config key "lsm_config.max_levels": value 0 is out of range; accepted: 2..16 (set by the config file))");
  c.origins["lsm_config.max_levels"] = ConfigSource::Default;
  EXPECT_EQ(c.validate().error().message,
            R"(config key "lsm_config.max_levels": value 0 is out of range; accepted: 2..16 (the default))");
}

TEST_F(Validate, EmptyDataDir) {
  PersistenceConfig c;
  c.data_dir.clear();
  EXPECT_EQ(c.validate().error().message,
            R"(config key "data_dir": value "" is empty; accepted: a non-empty path)");
}

TEST_F(Validate, EnumOutsideItsValues) {
  PersistenceConfig c;
  c.backend = static_cast<PersistenceBackend>(9);
  EXPECT_EQ(
      c.validate().error().message,
      R"(config key "backend": value 9 is not a backend; accepted: CowBTree, LsmTree, RocksDb (or cow, lsm, rocksdb; any case))");
  c = PersistenceConfig{};
  c.durability = static_cast<DurabilityMode>(7);
  EXPECT_EQ(
      c.validate().error().message,
      R"(config key "durability": value 7 is not a durability mode; accepted: durable, buffered, none (any case))");
  c = PersistenceConfig{};
  c.io_backend = static_cast<IoBackend>(5);
  EXPECT_EQ(
      c.validate().error().message,
      R"(config key "io_backend": value 5 is not an I/O backend; accepted: auto, io_uring, asio (any case))");
}

TEST_F(Validate, ToJsonHasTheSeedShapeAndEveryKey) {
  auto json = nlohmann::json::parse(PersistenceConfig{}.to_json());
  EXPECT_EQ(json["backend"], "CowBTree");
  EXPECT_EQ(json["data_dir"], "./orbit-data");
  EXPECT_EQ(json["durability"], "durable");
  EXPECT_EQ(json["sync_interval_ms"], 10);
  EXPECT_EQ(json["io_backend"], "auto");
  EXPECT_EQ(json["cow_config"]["max_keys_per_node"], 64);
  EXPECT_EQ(json["cow_config"]["wal_buffer_size"], 1048576);
  EXPECT_EQ(json["cow_config"]["enable_snapshots"], true);
  EXPECT_EQ(json["cow_config"]["snapshot_interval"], 1000);
  EXPECT_EQ(json["lsm_config"]["memtable_size_mb"], 64);
  EXPECT_EQ(json["lsm_config"]["max_levels"], 7);
  EXPECT_EQ(json["lsm_config"]["level_size_multiplier"], 10);
  EXPECT_EQ(json["lsm_config"]["compaction_threshold"], 4);
  EXPECT_EQ(json["lsm_config"]["sstable_block_size_kb"], 4);
  EXPECT_EQ(json["lsm_config"]["enable_bloom_filters"], true);
  EXPECT_EQ(json["lsm_config"]["bloom_filter_bits_per_key"], 10);
  EXPECT_EQ(json["lsm_config"]["enable_compression"], true);
  EXPECT_EQ(json["lsm_config"]["write_buffer_mb"], 32);
  EXPECT_EQ(json["lsm_config"]["block_cache_mb"], 256);
  EXPECT_EQ(json["rocksdb_config"]["compression"], true);
  EXPECT_EQ(json["rocksdb_config"]["block_cache_mb"], 256);
  EXPECT_EQ(json["rocksdb_config"]["write_buffer_mb"], 64);
  EXPECT_EQ(json["rocksdb_config"]["max_background_jobs"], 4);
  EXPECT_EQ(json.size(), 8u);
  EXPECT_EQ(json["cow_config"].size(), 4u);
  EXPECT_EQ(json["lsm_config"].size(), 10u);
  EXPECT_EQ(json["rocksdb_config"].size(), 4u);
}

TEST_F(Validate, ToJsonKeepsTheSeedOrder) {
  std::string text = PersistenceConfig{}.to_json();
  EXPECT_LT(text.find("\"backend\""), text.find("\"data_dir\""));
  EXPECT_LT(text.find("\"data_dir\""), text.find("\"cow_config\""));
  EXPECT_LT(text.find("\"cow_config\""), text.find("\"lsm_config\""));
  EXPECT_LT(text.find("\"lsm_config\""), text.find("\"rocksdb_config\""));
}

TEST_F(Validate, ToJsonRoundTrips) {
  PersistenceConfig original;
  original.backend = PersistenceBackend::RocksDb;
  original.data_dir = "/tmp/with \"quotes\" and \\ backslash/ünïcode";
  original.durability = DurabilityMode::None;
  original.io_backend = IoBackend::IoUring;
  original.sync_interval_ms = 60000;
  original.cow_config = {4096, 1073741824, false, 1000000000};
  original.lsm_config = {4096, 16, 1000, 1000, 1024, false, 64, false, 4096, 0};
  original.rocksdb_config = {false, 1048576, 4096, 64};
  ASSERT_TRUE(original.validate().ok());
  auto loaded = config_from_json_text(original.to_json(), PersistenceConfig{});
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->to_json(), original.to_json());
  EXPECT_EQ(loaded->data_dir, original.data_dir);
  EXPECT_EQ(loaded->lsm_config.block_cache_mb, 0u);
  EXPECT_EQ(loaded->cow_config.max_keys_per_node, 4096u);
  EXPECT_EQ(loaded->origins.size(), 23u);
  // And through a file, for every backend.
  for (auto backend :
       {PersistenceBackend::CowBTree, PersistenceBackend::LsmTree, PersistenceBackend::RocksDb}) {
    PersistenceConfig c;
    c.backend = backend;
    auto from_file = config_from_json_file(write_file("round.json", c.to_json()), PersistenceConfig{});
    ASSERT_TRUE(from_file.ok()) << from_file.error().to_string();
    EXPECT_EQ(from_file->backend, backend);
  }
}

// CONFIG.md is what users read: it must show the real defaults and every name.
TEST_F(Validate, ConfigDocumentMatchesTheCode) {
  std::ifstream in(std::string(ORBIT_SOURCE_DIR) + "/src/config/CONFIG.md");
  ASSERT_TRUE(in) << "src/config/CONFIG.md missing";
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string doc = buffer.str();
  EXPECT_NE(doc.find(PersistenceConfig{}.to_json()), std::string::npos) << "default JSON block out of date";
  for (const auto& key : config_detail::all_keys()) {
    std::string row = "| `" + std::string(key.path) + "` | `" + std::string(key.env) + "`";
    EXPECT_NE(doc.find(row), std::string::npos) << row;
    EXPECT_NE(doc.find("`" + std::string(key.builder) + "()`"), std::string::npos) << key.builder;
    if (key.kind == ValueKind::U32 || key.kind == ValueKind::U64) {
      std::string range = " | " + std::to_string(key.min) + ".." + std::to_string(key.max) + " | ";
      EXPECT_NE(doc.find(range), std::string::npos) << key.path;
    }
  }
}

TEST_F(Validate, ConfigSourceNames) {
  EXPECT_EQ(to_string(ConfigSource::Default), "default");
  EXPECT_EQ(to_string(ConfigSource::File), "file");
  EXPECT_EQ(to_string(ConfigSource::Environment), "env");
  EXPECT_EQ(to_string(ConfigSource::Builder), "builder");
}

}  // namespace
}  // namespace orbit
