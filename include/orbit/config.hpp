// PersistenceConfig: everything a store is opened with, and where it comes from.
//
// Three sources, in rising precedence: built-in defaults < a JSON file (the
// seed's format; path from ORBIT_CONFIG_FILE or the builder) < environment
// variables (ORBIT_*) < builder calls. Every value is validated after the
// sources are merged; a bad one is an InvalidArgument error naming the key,
// the value and what is accepted. Nothing falls back silently.
//
// The JSON keys, environment variables and builder methods are the seed's
// (shared/seed/persistence-architecture.md); the table of all of them with
// defaults and ranges is src/config/CONFIG.md (linked from README.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "orbit/provider.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit {

// When a write's Result is delivered.
enum class DurabilityMode : std::uint8_t {
  Durable,   // after fdatasync (group commit); the default
  Buffered,  // after write(2); a background fdatasync every sync_interval_ms
  None,      // no fdatasync at all: for benchmarks only, loses data on power loss
};

// Which I/O backend the store's runtime uses.
enum class IoBackend : std::uint8_t {
  Auto,     // io_uring if the kernel allows it, else Asio (logged once, with the reason)
  IoUring,  // io_uring or an Unavailable error saying why not
  Asio,     // standalone Asio, blocking file calls on worker threads
};

struct CowConfig {
  std::uint32_t max_keys_per_node = 64;       // 4..4096
  std::uint64_t wal_buffer_size = 1048576;    // bytes, 4096..1073741824
  bool enable_snapshots = true;
  std::uint64_t snapshot_interval = 1000;     // checkpoints between snapshots, 1..1000000000
};

struct LsmConfig {
  std::uint32_t memtable_size_mb = 64;        // 1..4096
  std::uint32_t max_levels = 7;               // 2..16
  std::uint32_t level_size_multiplier = 10;   // 2..1000
  std::uint32_t compaction_threshold = 4;     // L0 files, 1..1000
  std::uint32_t sstable_block_size_kb = 4;    // 1..1024
  bool enable_bloom_filters = true;
  std::uint32_t bloom_filter_bits_per_key = 10;  // 1..64
  bool enable_compression = true;
  std::uint32_t write_buffer_mb = 32;         // 1..4096
  std::uint32_t block_cache_mb = 256;         // 0..1048576 (0 = no cache)
};

struct RocksDbConfig {
  bool compression = true;
  std::uint32_t block_cache_mb = 256;         // 0..1048576
  std::uint32_t write_buffer_mb = 64;         // 1..4096
  std::uint32_t max_background_jobs = 4;      // 1..64
};

// Where a value came from, for `orbit-cli config`.
enum class ConfigSource : std::uint8_t { Default, File, Environment, Builder };
std::string_view to_string(ConfigSource source) noexcept;

struct PersistenceConfig {
  PersistenceBackend backend = PersistenceBackend::CowBTree;
  std::string data_dir = "./orbit-data";
  CowConfig cow_config;
  LsmConfig lsm_config;
  RocksDbConfig rocksdb_config;

  DurabilityMode durability = DurabilityMode::Durable;
  std::uint32_t sync_interval_ms = 10;        // Buffered mode, 1..60000
  IoBackend io_backend = IoBackend::Auto;

  // Key (JSON path, e.g. "lsm_config.max_levels") -> where its value came from.
  // Keys absent here hold their default.
  std::map<std::string, ConfigSource> origins;

  // Checks every field against its accepted range.
  Result<void> validate() const;

  // The seed's JSON format, every key present.
  std::string to_json() const;
};

// Defaults < the JSON file at `path` (if not empty; else ORBIT_CONFIG_FILE
// when `use_environment`) < environment (if `use_environment`). Validated.
Result<PersistenceConfig> load_config(std::string_view path, bool use_environment);
// One source on top of `base`, not validated (validate() after merging).
Result<PersistenceConfig> config_from_json_file(std::string_view path, PersistenceConfig base);
Result<PersistenceConfig> config_from_json_text(std::string_view text, PersistenceConfig base);
Result<PersistenceConfig> config_from_environment(PersistenceConfig base);

std::string_view to_string(DurabilityMode mode) noexcept;  // "durable", "buffered", "none"
std::string_view to_string(IoBackend backend) noexcept;    // "auto", "io_uring", "asio"

// Builds a config from the three sources; builder calls win. Methods named
// as in the seed. build() and create_provider() validate.
class PersistenceConfigBuilder {
 public:
  PersistenceConfigBuilder() = default;

  // Sources below the builder's own calls.
  PersistenceConfigBuilder& config_file(std::string path);  // overrides ORBIT_CONFIG_FILE
  PersistenceConfigBuilder& use_environment(bool enabled);  // default true

  PersistenceConfigBuilder& backend(PersistenceBackend backend);
  PersistenceConfigBuilder& data_dir(std::string path);
  PersistenceConfigBuilder& durability(DurabilityMode mode);
  PersistenceConfigBuilder& sync_interval_ms(std::uint32_t ms);
  PersistenceConfigBuilder& io_backend(IoBackend backend);

  PersistenceConfigBuilder& cow_max_keys(std::uint32_t keys);
  PersistenceConfigBuilder& cow_wal_buffer_size(std::uint64_t bytes);
  PersistenceConfigBuilder& cow_enable_snapshots(bool enabled);
  PersistenceConfigBuilder& cow_snapshot_interval(std::uint64_t interval);

  PersistenceConfigBuilder& lsm_memtable_size(std::uint32_t mb);
  PersistenceConfigBuilder& lsm_max_levels(std::uint32_t levels);
  PersistenceConfigBuilder& lsm_level_size_multiplier(std::uint32_t multiplier);
  PersistenceConfigBuilder& lsm_compaction_threshold(std::uint32_t files);
  PersistenceConfigBuilder& lsm_sstable_block_size_kb(std::uint32_t kb);
  PersistenceConfigBuilder& lsm_enable_bloom_filters(bool enabled);
  PersistenceConfigBuilder& lsm_bloom_filter_bits_per_key(std::uint32_t bits);
  PersistenceConfigBuilder& lsm_enable_compression(bool enabled);
  PersistenceConfigBuilder& lsm_write_buffer_mb(std::uint32_t mb);
  PersistenceConfigBuilder& lsm_block_cache_mb(std::uint32_t mb);

  PersistenceConfigBuilder& rocksdb_compression(bool enabled);
  PersistenceConfigBuilder& rocksdb_block_cache_mb(std::uint32_t mb);
  PersistenceConfigBuilder& rocksdb_write_buffer_mb(std::uint32_t mb);
  PersistenceConfigBuilder& rocksdb_max_background_jobs(std::uint32_t jobs);

  Result<PersistenceConfig> build() const;
  Task<Result<std::unique_ptr<PersistenceProvider>>> create_provider() const;

 private:
  PersistenceConfigBuilder& set(std::string key, std::function<void(PersistenceConfig&)> apply);

  std::string config_file_;
  bool use_environment_ = true;
  std::vector<std::pair<std::string, std::function<void(PersistenceConfig&)>>> overrides_;
};

}  // namespace orbit
