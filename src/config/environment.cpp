// The environment source: one ORBIT_* variable per key (config_keys.cpp).
// An unset or empty variable leaves the value of the layer below; a set one
// must parse completely, or the error names the variable, the value and what
// is accepted.
#include <cstdlib>

#include "orbit/config.hpp"
#include "src/config/config_keys.hpp"

namespace orbit {
namespace {

using config_detail::ConfigKey;
using config_detail::ValueKind;

Error bad_env(const ConfigKey& key, std::string_view text, std::string_view problem) {
  return make_error(ErrorCode::InvalidArgument,
                    std::string(key.env) + "=" + config_detail::quoted(text) + " " + std::string(problem) +
                        "; accepted: " + config_detail::accepted_values(key, true));
}

// Digits only ("+5", " 5", "5.0" and "0x5" are not whole numbers); a leading
// '-' with digits is a whole number, but out of every range here.
Result<void> parse_whole_number(const ConfigKey& key, std::string_view text, std::uint64_t& out) {
  bool negative = !text.empty() && text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty()) return bad_env(key, text, "is not a whole number");
  std::uint64_t value = 0;
  bool overflow = false;
  for (char c : digits) {
    if (c < '0' || c > '9') return bad_env(key, text, "is not a whole number");
    auto d = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - d) / 10)
      overflow = true;
    else
      value = value * 10 + d;
  }
  if (overflow || (negative && value != 0) || value < key.min || value > key.max)
    return bad_env(key, text, "is out of range");
  out = value;
  return {};
}

Result<void> apply_env(const ConfigKey& key, std::string_view text, PersistenceConfig& config) {
  switch (key.kind) {
    case ValueKind::Backend: {
      auto v = config_detail::parse_backend(text);
      if (!v) return bad_env(key, text, "is not recognised");
      config_detail::field<PersistenceBackend>(key, config) = *v;
      break;
    }
    case ValueKind::Durability: {
      auto v = config_detail::parse_durability(text);
      if (!v) return bad_env(key, text, "is not recognised");
      config_detail::field<DurabilityMode>(key, config) = *v;
      break;
    }
    case ValueKind::IoBackend: {
      auto v = config_detail::parse_io_backend(text);
      if (!v) return bad_env(key, text, "is not recognised");
      config_detail::field<IoBackend>(key, config) = *v;
      break;
    }
    case ValueKind::Path:
      config_detail::field<std::string>(key, config) = std::string(text);
      break;
    case ValueKind::Bool: {
      auto v = config_detail::parse_env_bool(text);
      if (!v) return bad_env(key, text, "is not a boolean");
      config_detail::field<bool>(key, config) = *v;
      break;
    }
    case ValueKind::U32:
    case ValueKind::U64: {
      std::uint64_t v = 0;
      if (auto r = parse_whole_number(key, text, v); !r) return r;
      if (key.kind == ValueKind::U32)
        config_detail::field<std::uint32_t>(key, config) = static_cast<std::uint32_t>(v);
      else
        config_detail::field<std::uint64_t>(key, config) = v;
      break;
    }
  }
  config.origins[std::string(key.path)] = ConfigSource::Environment;
  return {};
}

}  // namespace

Result<PersistenceConfig> config_from_environment(PersistenceConfig base) {
  for (const auto& key : config_detail::all_keys()) {
    const char* value = std::getenv(std::string(key.env).c_str());
    if (value == nullptr || *value == '\0') continue;  // empty counts as unset
    if (auto r = apply_env(key, value, base); !r) return std::move(r).error();
  }
  return base;
}

}  // namespace orbit
