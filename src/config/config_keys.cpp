// The configuration key table (see config_keys.hpp) and the value spellings
// shared by the JSON and environment readers.
#include "src/config/config_keys.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace orbit::config_detail {
namespace {

#define ORBIT_CONFIG_FIELD(member) [](PersistenceConfig& c) -> void* { return &c.member; }

const ConfigKey kKeys[] = {
    {"backend", "", "backend", "ORBIT_PERSISTENCE_BACKEND", "backend", ValueKind::Backend, 0, 0,
     ORBIT_CONFIG_FIELD(backend)},
    {"data_dir", "", "data_dir", "ORBIT_DATA_DIR", "data_dir", ValueKind::Path, 0, 0,
     ORBIT_CONFIG_FIELD(data_dir)},
    {"durability", "", "durability", "ORBIT_DURABILITY", "durability", ValueKind::Durability, 0, 0,
     ORBIT_CONFIG_FIELD(durability)},
    {"sync_interval_ms", "", "sync_interval_ms", "ORBIT_SYNC_INTERVAL_MS", "sync_interval_ms", ValueKind::U32,
     1, 60000, ORBIT_CONFIG_FIELD(sync_interval_ms)},
    {"io_backend", "", "io_backend", "ORBIT_IO_BACKEND", "io_backend", ValueKind::IoBackend, 0, 0,
     ORBIT_CONFIG_FIELD(io_backend)},

    {"cow_config.max_keys_per_node", "cow_config", "max_keys_per_node", "ORBIT_COW_MAX_KEYS", "cow_max_keys",
     ValueKind::U32, 4, 4096, ORBIT_CONFIG_FIELD(cow_config.max_keys_per_node)},
    {"cow_config.wal_buffer_size", "cow_config", "wal_buffer_size", "ORBIT_COW_WAL_BUFFER_SIZE",
     "cow_wal_buffer_size", ValueKind::U64, 4096, 1073741824, ORBIT_CONFIG_FIELD(cow_config.wal_buffer_size)},
    {"cow_config.enable_snapshots", "cow_config", "enable_snapshots", "ORBIT_COW_ENABLE_SNAPSHOTS",
     "cow_enable_snapshots", ValueKind::Bool, 0, 0, ORBIT_CONFIG_FIELD(cow_config.enable_snapshots)},
    {"cow_config.snapshot_interval", "cow_config", "snapshot_interval", "ORBIT_COW_SNAPSHOT_INTERVAL",
     "cow_snapshot_interval", ValueKind::U64, 1, 1000000000,
     ORBIT_CONFIG_FIELD(cow_config.snapshot_interval)},

    {"lsm_config.memtable_size_mb", "lsm_config", "memtable_size_mb", "ORBIT_LSM_MEMTABLE_SIZE_MB",
     "lsm_memtable_size", ValueKind::U32, 1, 4096, ORBIT_CONFIG_FIELD(lsm_config.memtable_size_mb)},
    {"lsm_config.max_levels", "lsm_config", "max_levels", "ORBIT_LSM_MAX_LEVELS", "lsm_max_levels",
     ValueKind::U32, 2, 16, ORBIT_CONFIG_FIELD(lsm_config.max_levels)},
    {"lsm_config.level_size_multiplier", "lsm_config", "level_size_multiplier",
     "ORBIT_LSM_LEVEL_SIZE_MULTIPLIER", "lsm_level_size_multiplier", ValueKind::U32, 2, 1000,
     ORBIT_CONFIG_FIELD(lsm_config.level_size_multiplier)},
    {"lsm_config.compaction_threshold", "lsm_config", "compaction_threshold",
     "ORBIT_LSM_COMPACTION_THRESHOLD", "lsm_compaction_threshold", ValueKind::U32, 1, 1000,
     ORBIT_CONFIG_FIELD(lsm_config.compaction_threshold)},
    {"lsm_config.sstable_block_size_kb", "lsm_config", "sstable_block_size_kb",
     "ORBIT_LSM_SSTABLE_BLOCK_SIZE_KB", "lsm_sstable_block_size_kb", ValueKind::U32, 1, 1024,
     ORBIT_CONFIG_FIELD(lsm_config.sstable_block_size_kb)},
    {"lsm_config.enable_bloom_filters", "lsm_config", "enable_bloom_filters",
     "ORBIT_LSM_ENABLE_BLOOM_FILTERS", "lsm_enable_bloom_filters", ValueKind::Bool, 0, 0,
     ORBIT_CONFIG_FIELD(lsm_config.enable_bloom_filters)},
    {"lsm_config.bloom_filter_bits_per_key", "lsm_config", "bloom_filter_bits_per_key",
     "ORBIT_LSM_BLOOM_FILTER_BITS_PER_KEY", "lsm_bloom_filter_bits_per_key", ValueKind::U32, 1, 64,
     ORBIT_CONFIG_FIELD(lsm_config.bloom_filter_bits_per_key)},
    {"lsm_config.enable_compression", "lsm_config", "enable_compression", "ORBIT_LSM_ENABLE_COMPRESSION",
     "lsm_enable_compression", ValueKind::Bool, 0, 0, ORBIT_CONFIG_FIELD(lsm_config.enable_compression)},
    {"lsm_config.write_buffer_mb", "lsm_config", "write_buffer_mb", "ORBIT_LSM_WRITE_BUFFER_MB",
     "lsm_write_buffer_mb", ValueKind::U32, 1, 4096, ORBIT_CONFIG_FIELD(lsm_config.write_buffer_mb)},
    {"lsm_config.block_cache_mb", "lsm_config", "block_cache_mb", "ORBIT_LSM_BLOCK_CACHE_MB",
     "lsm_block_cache_mb", ValueKind::U32, 0, 1048576, ORBIT_CONFIG_FIELD(lsm_config.block_cache_mb)},

    {"rocksdb_config.compression", "rocksdb_config", "compression", "ORBIT_ROCKSDB_COMPRESSION",
     "rocksdb_compression", ValueKind::Bool, 0, 0, ORBIT_CONFIG_FIELD(rocksdb_config.compression)},
    {"rocksdb_config.block_cache_mb", "rocksdb_config", "block_cache_mb", "ORBIT_ROCKSDB_BLOCK_CACHE_MB",
     "rocksdb_block_cache_mb", ValueKind::U32, 0, 1048576, ORBIT_CONFIG_FIELD(rocksdb_config.block_cache_mb)},
    {"rocksdb_config.write_buffer_mb", "rocksdb_config", "write_buffer_mb", "ORBIT_ROCKSDB_WRITE_BUFFER_MB",
     "rocksdb_write_buffer_mb", ValueKind::U32, 1, 4096, ORBIT_CONFIG_FIELD(rocksdb_config.write_buffer_mb)},
    {"rocksdb_config.max_background_jobs", "rocksdb_config", "max_background_jobs",
     "ORBIT_ROCKSDB_MAX_BACKGROUND_JOBS", "rocksdb_max_background_jobs", ValueKind::U32, 1, 64,
     ORBIT_CONFIG_FIELD(rocksdb_config.max_background_jobs)},
};

#undef ORBIT_CONFIG_FIELD

constexpr std::array<std::string_view, 3> kSections = {"cow_config", "lsm_config", "rocksdb_config"};

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::span<const ConfigKey> all_keys() noexcept { return kKeys; }

const ConfigKey* find_key(std::string_view path) noexcept {
  for (const auto& key : kKeys)
    if (key.path == path) return &key;
  return nullptr;
}

std::span<const std::string_view> sections() noexcept { return kSections; }

std::string accepted_keys(std::string_view section) {
  std::string out;
  for (const auto& key : kKeys) {
    if (key.section != section) continue;
    if (!out.empty()) out += ", ";
    out += key.name;
  }
  if (section.empty())
    for (auto s : kSections) (out += ", ") += s;
  return out;
}

std::string accepted_values(const ConfigKey& key, bool env) {
  switch (key.kind) {
    case ValueKind::Backend:
      return env ? "cow, lsm, rocksdb (or CowBTree, LsmTree, RocksDb; any case)"
                 : "CowBTree, LsmTree, RocksDb (or cow, lsm, rocksdb; any case)";
    case ValueKind::Path:
      return "a non-empty path";
    case ValueKind::Durability:
      return "durable, buffered, none (any case)";
    case ValueKind::IoBackend:
      return "auto, io_uring, asio (any case)";
    case ValueKind::Bool:
      return env ? "true, false, 1, 0, yes, no, on, off (any case)" : "true, false";
    case ValueKind::U32:
    case ValueKind::U64:
      return std::to_string(key.min) + ".." + std::to_string(key.max);
  }
  return "";
}

std::optional<PersistenceBackend> parse_backend(std::string_view text) noexcept {
  if (iequals(text, "cow") || iequals(text, "CowBTree")) return PersistenceBackend::CowBTree;
  if (iequals(text, "lsm") || iequals(text, "LsmTree")) return PersistenceBackend::LsmTree;
  if (iequals(text, "rocksdb")) return PersistenceBackend::RocksDb;
  return std::nullopt;
}

std::optional<DurabilityMode> parse_durability(std::string_view text) noexcept {
  for (auto mode : {DurabilityMode::Durable, DurabilityMode::Buffered, DurabilityMode::None})
    if (iequals(text, to_string(mode))) return mode;
  return std::nullopt;
}

std::optional<IoBackend> parse_io_backend(std::string_view text) noexcept {
  for (auto backend : {IoBackend::Auto, IoBackend::IoUring, IoBackend::Asio})
    if (iequals(text, to_string(backend))) return backend;
  return std::nullopt;
}

std::optional<bool> parse_env_bool(std::string_view text) noexcept {
  for (auto yes : {"true", "1", "yes", "on"})
    if (iequals(text, yes)) return true;
  for (auto no : {"false", "0", "no", "off"})
    if (iequals(text, no)) return false;
  return std::nullopt;
}

std::optional<std::string> check_value(const ConfigKey& key, const PersistenceConfig& config) {
  switch (key.kind) {
    case ValueKind::Backend: {
      auto v = field<PersistenceBackend>(key, config);
      if (v == PersistenceBackend::CowBTree || v == PersistenceBackend::LsmTree ||
          v == PersistenceBackend::RocksDb)
        return std::nullopt;
      return "value " + std::to_string(static_cast<int>(v)) + " is not a backend";
    }
    case ValueKind::Durability: {
      auto v = field<DurabilityMode>(key, config);
      if (v == DurabilityMode::Durable || v == DurabilityMode::Buffered || v == DurabilityMode::None)
        return std::nullopt;
      return "value " + std::to_string(static_cast<int>(v)) + " is not a durability mode";
    }
    case ValueKind::IoBackend: {
      auto v = field<IoBackend>(key, config);
      if (v == IoBackend::Auto || v == IoBackend::IoUring || v == IoBackend::Asio) return std::nullopt;
      return "value " + std::to_string(static_cast<int>(v)) + " is not an I/O backend";
    }
    case ValueKind::Path:
      if (field<std::string>(key, config).empty()) return std::string("value \"\" is empty");
      return std::nullopt;
    case ValueKind::Bool:
      return std::nullopt;
    case ValueKind::U32:
    case ValueKind::U64: {
      std::uint64_t v =
          key.kind == ValueKind::U32 ? field<std::uint32_t>(key, config) : field<std::uint64_t>(key, config);
      if (v >= key.min && v <= key.max) return std::nullopt;
      return "value " + std::to_string(v) + " is out of range";
    }
  }
  return std::nullopt;
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", u);
      out += buffer;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace orbit::config_detail
