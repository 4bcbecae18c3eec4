// Goal: every builder method sets its key; build() layers defaults < config
// file < environment < builder calls (each layer shown to beat the one below
// and to lose to the one above), records where each value came from, and
// validates; load_config() does the same without the builder layer.
#include <gtest/gtest.h>

#include "orbit/config.hpp"
#include "tests/config/config_test_support.hpp"

namespace orbit {
namespace {

using Builder = testing_support::ConfigTest;

TEST_F(Builder, DefaultsWhenNothingElse) {
  auto config = PersistenceConfigBuilder().build();
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->backend, PersistenceBackend::CowBTree);
  EXPECT_EQ(config->data_dir, "./orbit-data");
  EXPECT_EQ(config->durability, DurabilityMode::Durable);
  EXPECT_EQ(config->sync_interval_ms, 10u);
  EXPECT_EQ(config->io_backend, IoBackend::Auto);
  EXPECT_EQ(config->cow_config.max_keys_per_node, 64u);
  EXPECT_EQ(config->lsm_config.max_levels, 7u);
  EXPECT_EQ(config->rocksdb_config.write_buffer_mb, 64u);
  EXPECT_TRUE(config->origins.empty());
}

TEST_F(Builder, EveryMethodSetsItsKey) {
  auto config = PersistenceConfigBuilder()
                    .backend(PersistenceBackend::LsmTree)
                    .data_dir("/var/lib/orbit")
                    .durability(DurabilityMode::Buffered)
                    .sync_interval_ms(20)
                    .io_backend(IoBackend::Asio)
                    .cow_max_keys(128)
                    .cow_wal_buffer_size(2 * 1024 * 1024)
                    .cow_enable_snapshots(false)
                    .cow_snapshot_interval(500)
                    .lsm_memtable_size(128)
                    .lsm_max_levels(6)
                    .lsm_level_size_multiplier(8)
                    .lsm_compaction_threshold(8)
                    .lsm_sstable_block_size_kb(16)
                    .lsm_enable_bloom_filters(false)
                    .lsm_bloom_filter_bits_per_key(15)
                    .lsm_enable_compression(false)
                    .lsm_write_buffer_mb(48)
                    .lsm_block_cache_mb(512)
                    .rocksdb_compression(false)
                    .rocksdb_block_cache_mb(1024)
                    .rocksdb_write_buffer_mb(96)
                    .rocksdb_max_background_jobs(8)
                    .build();
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  const auto& c = config.value();
  EXPECT_EQ(c.backend, PersistenceBackend::LsmTree);
  EXPECT_EQ(c.data_dir, "/var/lib/orbit");
  EXPECT_EQ(c.durability, DurabilityMode::Buffered);
  EXPECT_EQ(c.sync_interval_ms, 20u);
  EXPECT_EQ(c.io_backend, IoBackend::Asio);
  EXPECT_EQ(c.cow_config.max_keys_per_node, 128u);
  EXPECT_EQ(c.cow_config.wal_buffer_size, 2u * 1024 * 1024);
  EXPECT_FALSE(c.cow_config.enable_snapshots);
  EXPECT_EQ(c.cow_config.snapshot_interval, 500u);
  EXPECT_EQ(c.lsm_config.memtable_size_mb, 128u);
  EXPECT_EQ(c.lsm_config.max_levels, 6u);
  EXPECT_EQ(c.lsm_config.level_size_multiplier, 8u);
  EXPECT_EQ(c.lsm_config.compaction_threshold, 8u);
  EXPECT_EQ(c.lsm_config.sstable_block_size_kb, 16u);
  EXPECT_FALSE(c.lsm_config.enable_bloom_filters);
  EXPECT_EQ(c.lsm_config.bloom_filter_bits_per_key, 15u);
  EXPECT_FALSE(c.lsm_config.enable_compression);
  EXPECT_EQ(c.lsm_config.write_buffer_mb, 48u);
  EXPECT_EQ(c.lsm_config.block_cache_mb, 512u);
  EXPECT_FALSE(c.rocksdb_config.compression);
  EXPECT_EQ(c.rocksdb_config.block_cache_mb, 1024u);
  EXPECT_EQ(c.rocksdb_config.write_buffer_mb, 96u);
  EXPECT_EQ(c.rocksdb_config.max_background_jobs, 8u);
  EXPECT_EQ(c.origins.size(), 23u);
  for (const auto& [key, source] : c.origins) EXPECT_EQ(source, ConfigSource::Builder) << key;
}

TEST_F(Builder, LastCallWins) {
  auto config = PersistenceConfigBuilder().lsm_max_levels(3).lsm_max_levels(9).build();
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->lsm_config.max_levels, 9u);
}

// Four layers, four keys: each key is set by every layer up to a different
// height, so each comparison "layer N beats layer N-1" is observed.
TEST_F(Builder, PrecedenceDefaultsFileEnvironmentBuilder) {
  std::string path = write_file("layers.json", R"({
    "lsm_config": {"max_levels": 3, "memtable_size_mb": 16, "compaction_threshold": 5}
  })");
  set_env("ORBIT_CONFIG_FILE", path);
  set_env("ORBIT_LSM_MEMTABLE_SIZE_MB", "32");
  set_env("ORBIT_LSM_COMPACTION_THRESHOLD", "6");
  auto config = PersistenceConfigBuilder().lsm_compaction_threshold(7).build();
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  const auto& c = config.value();
  EXPECT_EQ(c.lsm_config.level_size_multiplier, 10u);  // default only
  EXPECT_EQ(c.lsm_config.max_levels, 3u);              // file beats default
  EXPECT_EQ(c.lsm_config.memtable_size_mb, 32u);       // environment beats file
  EXPECT_EQ(c.lsm_config.compaction_threshold, 7u);    // builder beats environment
  EXPECT_EQ(c.origins.count("lsm_config.level_size_multiplier"), 0u);
  EXPECT_EQ(c.origins.at("lsm_config.max_levels"), ConfigSource::File);
  EXPECT_EQ(c.origins.at("lsm_config.memtable_size_mb"), ConfigSource::Environment);
  EXPECT_EQ(c.origins.at("lsm_config.compaction_threshold"), ConfigSource::Builder);
  EXPECT_EQ(c.origins.size(), 3u);
}

// One key set by all four layers: peel them off from the top.
TEST_F(Builder, OneKeyThroughAllFourLayers) {
  std::string path = write_file("one.json", R"({"sync_interval_ms": 200})");
  set_env("ORBIT_SYNC_INTERVAL_MS", "300");
  auto all = PersistenceConfigBuilder().config_file(path).sync_interval_ms(400).build();
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  EXPECT_EQ(all->sync_interval_ms, 400u);
  EXPECT_EQ(all->origins.at("sync_interval_ms"), ConfigSource::Builder);

  auto no_builder = PersistenceConfigBuilder().config_file(path).build();
  ASSERT_TRUE(no_builder.ok());
  EXPECT_EQ(no_builder->sync_interval_ms, 300u);
  EXPECT_EQ(no_builder->origins.at("sync_interval_ms"), ConfigSource::Environment);

  ::unsetenv("ORBIT_SYNC_INTERVAL_MS");
  auto file_only = PersistenceConfigBuilder().config_file(path).build();
  ASSERT_TRUE(file_only.ok());
  EXPECT_EQ(file_only->sync_interval_ms, 200u);
  EXPECT_EQ(file_only->origins.at("sync_interval_ms"), ConfigSource::File);

  auto defaults = PersistenceConfigBuilder().build();
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->sync_interval_ms, 10u);
  EXPECT_EQ(defaults->origins.count("sync_interval_ms"), 0u);
}

TEST_F(Builder, ConfigFileMethodOverridesTheVariable) {
  std::string from_env = write_file("env.json", R"({"data_dir": "/from/env/file"})");
  std::string from_builder = write_file("builder.json", R"({"data_dir": "/from/builder/file"})");
  set_env("ORBIT_CONFIG_FILE", from_env);
  auto config = PersistenceConfigBuilder().config_file(from_builder).build();
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->data_dir, "/from/builder/file");
  EXPECT_EQ(config->origins.at("data_dir"), ConfigSource::File);
}

TEST_F(Builder, UseEnvironmentFalseIgnoresVariablesAndTheirFile) {
  set_env("ORBIT_CONFIG_FILE", write_file("env.json", R"({"data_dir": "/from/env/file"})"));
  set_env("ORBIT_LSM_MAX_LEVELS", "12");
  set_env("ORBIT_COW_MAX_KEYS", "not even a number");
  auto config = PersistenceConfigBuilder().use_environment(false).build();
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->data_dir, "./orbit-data");
  EXPECT_EQ(config->lsm_config.max_levels, 7u);
  // An explicit file is still read.
  auto with_file = PersistenceConfigBuilder()
                       .use_environment(false)
                       .config_file(write_file("explicit.json", R"({"lsm_config": {"max_levels": 4}})"))
                       .build();
  ASSERT_TRUE(with_file.ok()) << with_file.error().to_string();
  EXPECT_EQ(with_file->lsm_config.max_levels, 4u);
}

TEST_F(Builder, BadEnvironmentFailsEvenWhenBuilderOverrides) {
  // A bad value in a lower layer is an error even if the builder overrides it:
  // nothing falls back silently.
  set_env("ORBIT_LSM_MAX_LEVELS", "zero");
  auto config = PersistenceConfigBuilder().lsm_max_levels(5).build();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, R"(ORBIT_LSM_MAX_LEVELS="zero" is not a whole number; accepted: 2..16)");
}

TEST_F(Builder, MissingConfigFileFromVariable) {
  std::string path = (dir_ / "nope.json").string();
  set_env("ORBIT_CONFIG_FILE", path);
  auto config = PersistenceConfigBuilder().build();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(config.error().message, "config file " + path + ": cannot open: No such file or directory");
}

TEST_F(Builder, BuildValidatesAndNamesTheBuilderMethod) {
  auto config = PersistenceConfigBuilder().lsm_max_levels(1).build();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(
      config.error().message,
      R"(config key "lsm_config.max_levels": value 1 is out of range; accepted: 2..16 (set by builder method lsm_max_levels()))");
}

TEST_F(Builder, EmptyDataDirFromBuilder) {
  auto config = PersistenceConfigBuilder().data_dir("").build();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(
      config.error().message,
      R"(config key "data_dir": value "" is empty; accepted: a non-empty path (set by builder method data_dir()))");
}

TEST_F(Builder, BuilderIsReusable) {
  PersistenceConfigBuilder builder;
  builder.data_dir("/a");
  auto first = builder.build();
  set_env("ORBIT_LSM_MAX_LEVELS", "11");
  auto second = builder.build();  // reads the environment again
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->lsm_config.max_levels, 7u);
  EXPECT_EQ(second->lsm_config.max_levels, 11u);
  EXPECT_EQ(second->data_dir, "/a");
}

// ---- load_config ----

TEST_F(Builder, LoadConfigPathArgumentThenEnvironment) {
  std::string path = write_file("load.json", R"({"backend": "lsm", "lsm_config": {"max_levels": 5}})");
  set_env("ORBIT_LSM_MAX_LEVELS", "6");
  auto config = load_config(path, true);
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->backend, PersistenceBackend::LsmTree);
  EXPECT_EQ(config->lsm_config.max_levels, 6u);  // environment beats the file
  EXPECT_EQ(config->origins.at("backend"), ConfigSource::File);
  EXPECT_EQ(config->origins.at("lsm_config.max_levels"), ConfigSource::Environment);
  auto without_env = load_config(path, false);
  ASSERT_TRUE(without_env.ok());
  EXPECT_EQ(without_env->lsm_config.max_levels, 5u);
}

TEST_F(Builder, LoadConfigFileFromVariable) {
  set_env("ORBIT_CONFIG_FILE", write_file("var.json", R"({"io_backend": "asio"})"));
  auto config = load_config("", true);
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->io_backend, IoBackend::Asio);
  auto ignored = load_config("", false);
  ASSERT_TRUE(ignored.ok());
  EXPECT_EQ(ignored->io_backend, IoBackend::Auto);
}

TEST_F(Builder, LoadConfigArgumentBeatsVariable) {
  set_env("ORBIT_CONFIG_FILE", write_file("var.json", R"({"io_backend": "asio"})"));
  auto config = load_config(write_file("arg.json", R"({"io_backend": "io_uring"})"), true);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->io_backend, IoBackend::IoUring);
}

TEST_F(Builder, LoadConfigValidates) {
  set_env("ORBIT_SYNC_INTERVAL_MS", "60001");
  auto config = load_config("", true);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, R"(ORBIT_SYNC_INTERVAL_MS="60001" is out of range; accepted: 1..60000)");
}

}  // namespace
}  // namespace orbit
