// PersistenceConfigBuilder (create_provider() is in src/factory/factory.cpp).
//
// Each call records a (key, setter) pair; build() replays them, in call
// order, on top of defaults < config file < environment, so a builder call
// always wins and the last call for a key wins among builder calls.
#include <cstdlib>

#include "orbit/config.hpp"
#include "src/config/config_keys.hpp"

namespace orbit {

PersistenceConfigBuilder& PersistenceConfigBuilder::set(std::string key,
                                                        std::function<void(PersistenceConfig&)> apply) {
  overrides_.emplace_back(std::move(key), std::move(apply));
  return *this;
}

PersistenceConfigBuilder& PersistenceConfigBuilder::config_file(std::string path) {
  config_file_ = std::move(path);
  return *this;
}
PersistenceConfigBuilder& PersistenceConfigBuilder::use_environment(bool enabled) {
  use_environment_ = enabled;
  return *this;
}

PersistenceConfigBuilder& PersistenceConfigBuilder::backend(PersistenceBackend v) {
  return set("backend", [v](PersistenceConfig& c) { c.backend = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::data_dir(std::string v) {
  return set("data_dir", [v = std::move(v)](PersistenceConfig& c) { c.data_dir = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::durability(DurabilityMode v) {
  return set("durability", [v](PersistenceConfig& c) { c.durability = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::sync_interval_ms(std::uint32_t v) {
  return set("sync_interval_ms", [v](PersistenceConfig& c) { c.sync_interval_ms = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::io_backend(IoBackend v) {
  return set("io_backend", [v](PersistenceConfig& c) { c.io_backend = v; });
}

PersistenceConfigBuilder& PersistenceConfigBuilder::cow_max_keys(std::uint32_t v) {
  return set("cow_config.max_keys_per_node",
             [v](PersistenceConfig& c) { c.cow_config.max_keys_per_node = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::cow_wal_buffer_size(std::uint64_t v) {
  return set("cow_config.wal_buffer_size", [v](PersistenceConfig& c) { c.cow_config.wal_buffer_size = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::cow_enable_snapshots(bool v) {
  return set("cow_config.enable_snapshots", [v](PersistenceConfig& c) { c.cow_config.enable_snapshots = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::cow_snapshot_interval(std::uint64_t v) {
  return set("cow_config.snapshot_interval",
             [v](PersistenceConfig& c) { c.cow_config.snapshot_interval = v; });
}

PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_memtable_size(std::uint32_t v) {
  return set("lsm_config.memtable_size_mb", [v](PersistenceConfig& c) { c.lsm_config.memtable_size_mb = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_max_levels(std::uint32_t v) {
  return set("lsm_config.max_levels", [v](PersistenceConfig& c) { c.lsm_config.max_levels = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_level_size_multiplier(std::uint32_t v) {
  return set("lsm_config.level_size_multiplier",
             [v](PersistenceConfig& c) { c.lsm_config.level_size_multiplier = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_compaction_threshold(std::uint32_t v) {
  return set("lsm_config.compaction_threshold",
             [v](PersistenceConfig& c) { c.lsm_config.compaction_threshold = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_sstable_block_size_kb(std::uint32_t v) {
  return set("lsm_config.sstable_block_size_kb",
             [v](PersistenceConfig& c) { c.lsm_config.sstable_block_size_kb = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_enable_bloom_filters(bool v) {
  return set("lsm_config.enable_bloom_filters",
             [v](PersistenceConfig& c) { c.lsm_config.enable_bloom_filters = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_bloom_filter_bits_per_key(std::uint32_t v) {
  return set("lsm_config.bloom_filter_bits_per_key",
             [v](PersistenceConfig& c) { c.lsm_config.bloom_filter_bits_per_key = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_enable_compression(bool v) {
  return set("lsm_config.enable_compression",
             [v](PersistenceConfig& c) { c.lsm_config.enable_compression = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_write_buffer_mb(std::uint32_t v) {
  return set("lsm_config.write_buffer_mb", [v](PersistenceConfig& c) { c.lsm_config.write_buffer_mb = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::lsm_block_cache_mb(std::uint32_t v) {
  return set("lsm_config.block_cache_mb", [v](PersistenceConfig& c) { c.lsm_config.block_cache_mb = v; });
}

PersistenceConfigBuilder& PersistenceConfigBuilder::rocksdb_compression(bool v) {
  return set("rocksdb_config.compression", [v](PersistenceConfig& c) { c.rocksdb_config.compression = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::rocksdb_block_cache_mb(std::uint32_t v) {
  return set("rocksdb_config.block_cache_mb",
             [v](PersistenceConfig& c) { c.rocksdb_config.block_cache_mb = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::rocksdb_write_buffer_mb(std::uint32_t v) {
  return set("rocksdb_config.write_buffer_mb",
             [v](PersistenceConfig& c) { c.rocksdb_config.write_buffer_mb = v; });
}
PersistenceConfigBuilder& PersistenceConfigBuilder::rocksdb_max_background_jobs(std::uint32_t v) {
  return set("rocksdb_config.max_background_jobs",
             [v](PersistenceConfig& c) { c.rocksdb_config.max_background_jobs = v; });
}

Result<PersistenceConfig> PersistenceConfigBuilder::build() const {
  auto loaded = config_detail::load_layers(config_file_, use_environment_);
  if (!loaded) return loaded;
  PersistenceConfig config = std::move(loaded).value();
  for (const auto& [key, apply] : overrides_) {
    apply(config);
    config.origins[key] = ConfigSource::Builder;
  }
  if (auto valid = config.validate(); !valid) return std::move(valid).error();
  return config;
}

}  // namespace orbit
