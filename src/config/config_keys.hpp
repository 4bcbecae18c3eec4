// The table of every configuration key: its JSON path, environment variable,
// builder method, type and accepted range. The JSON reader, the environment
// reader, validate(), to_json() and CONFIG.md all follow this one table, so a
// key cannot be readable from one source and missing from another.
//
// Internal to src/config (and its tests). Immutable; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "orbit/config.hpp"

namespace orbit::config_detail {

enum class ValueKind : std::uint8_t { Backend, Path, Durability, IoBackend, U32, U64, Bool };

struct ConfigKey {
  std::string_view path;     // JSON path: "lsm_config.max_levels"
  std::string_view section;  // "lsm_config", or "" at the top level
  std::string_view name;     // "max_levels"
  std::string_view env;      // "ORBIT_LSM_MAX_LEVELS"
  std::string_view builder;  // "lsm_max_levels"
  ValueKind kind;
  std::uint64_t min = 0;  // U32 / U64 only, inclusive
  std::uint64_t max = 0;
  void* (*field)(PersistenceConfig&) = nullptr;  // the member, typed by `kind`
};

// In to_json() order: top level first, then each section's keys.
std::span<const ConfigKey> all_keys() noexcept;
const ConfigKey* find_key(std::string_view path) noexcept;
// "cow_config", "lsm_config", "rocksdb_config".
std::span<const std::string_view> sections() noexcept;
// The names accepted inside `section` ("" = top level, which includes the
// section names), comma-separated: "memtable_size_mb, max_levels, ...".
std::string accepted_keys(std::string_view section);

template <typename T>
T& field(const ConfigKey& key, PersistenceConfig& config) {
  return *static_cast<T*>(key.field(config));
}
template <typename T>
const T& field(const ConfigKey& key, const PersistenceConfig& config) {
  return *static_cast<const T*>(key.field(const_cast<PersistenceConfig&>(config)));
}

// What a value of this key may be, for messages: "2..16", "durable, buffered, none".
// `env` selects the spelling of booleans (true/false only in JSON).
std::string accepted_values(const ConfigKey& key, bool env);

// Case-insensitive names; nullopt when not recognised.
std::optional<PersistenceBackend> parse_backend(std::string_view text) noexcept;
std::optional<DurabilityMode> parse_durability(std::string_view text) noexcept;
std::optional<IoBackend> parse_io_backend(std::string_view text) noexcept;
// true/false/1/0/yes/no/on/off, any case.
std::optional<bool> parse_env_bool(std::string_view text) noexcept;

// Range check of the value in effect: nullopt when accepted, else the
// problem, "value 0 is out of range" (used by validate()).
std::optional<std::string> check_value(const ConfigKey& key, const PersistenceConfig& config);

// Defaults < the JSON file (`path`, else ORBIT_CONFIG_FILE when
// `use_environment`) < environment (when `use_environment`); not validated.
Result<PersistenceConfig> load_layers(std::string_view path, bool use_environment);

// JSON-style quoting for messages: "a\"b" (control bytes as \u00XX).
std::string quoted(std::string_view text);

}  // namespace orbit::config_detail
