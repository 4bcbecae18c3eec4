// PersistenceConfig::validate() and load_config(): the layers merged in
// order (defaults < JSON file < environment), then every value checked.
#include "orbit/config.hpp"

#include <cstdlib>

#include "src/config/config_keys.hpp"

namespace orbit {
namespace {

std::string origin_note(const config_detail::ConfigKey& key, const PersistenceConfig& config) {
  auto it = config.origins.find(std::string(key.path));
  if (it == config.origins.end()) return "";
  switch (it->second) {
    case ConfigSource::Default:
      return " (the default)";
    case ConfigSource::File:
      return " (set by the config file)";
    case ConfigSource::Environment:
      return " (set by environment variable " + std::string(key.env) + ")";
    case ConfigSource::Builder:
      return " (set by builder method " + std::string(key.builder) + "())";
  }
  return "";
}

}  // namespace

Result<void> PersistenceConfig::validate() const {
  for (const auto& key : config_detail::all_keys()) {
    if (auto problem = config_detail::check_value(key, *this)) {
      return make_error(ErrorCode::InvalidArgument,
                        "config key \"" + std::string(key.path) + "\": " + *problem + "; accepted: " +
                            config_detail::accepted_values(key, false) + origin_note(key, *this));
    }
  }
  return {};
}

namespace config_detail {
Result<PersistenceConfig> load_layers(std::string_view path, bool use_environment) {
  PersistenceConfig config;
  std::string file(path);
  if (file.empty() && use_environment) {
    const char* from_env = std::getenv("ORBIT_CONFIG_FILE");
    if (from_env != nullptr) file = from_env;
  }
  if (!file.empty()) {
    auto loaded = config_from_json_file(file, std::move(config));
    if (!loaded) return std::move(loaded).error();
    config = std::move(loaded).value();
  }
  if (use_environment) return config_from_environment(std::move(config));
  return config;
}
}  // namespace config_detail

Result<PersistenceConfig> load_config(std::string_view path, bool use_environment) {
  auto config = config_detail::load_layers(path, use_environment);
  if (!config) return config;
  if (auto valid = config->validate(); !valid) return std::move(valid).error();
  return config;
}

}  // namespace orbit
