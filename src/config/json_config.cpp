// The JSON source (the seed's format) and to_json(). The only user of
// nlohmann::json in the library.
//
// Reading is strict: an unknown key, a value of the wrong type or out of
// range is an error naming the source, the key path, the value and what is
// accepted. A key that is absent keeps the value of the layer below.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "orbit/config.hpp"
#include "src/config/config_keys.hpp"

namespace orbit {
namespace {

using config_detail::ConfigKey;
using config_detail::ValueKind;
using nlohmann::json;

// Watches the parser's events for a key repeated within one object and
// remembers the first such key's path ("lsm_config.max_levels").
struct DuplicateKeyFinder {
  struct Object {
    std::string path;
    std::set<std::string> keys;
  };
  std::vector<Object> open;
  std::string last_key;
  std::optional<std::string> first;

  void see(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open.push_back(
            {open.empty() || open.back().path.empty() ? last_key : open.back().path + "." + last_key, {}});
        break;
      case json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key: {
        last_key = parsed.get<std::string>();
        if (open.empty()) break;
        if (!open.back().keys.insert(last_key).second && !first)
          first = open.back().path.empty() ? last_key : open.back().path + "." + last_key;
        break;
      }
      default:
        break;
    }
  }
};

// `where` is the message prefix: "config file /etc/orbit.json" or "config JSON".
class JsonReader {
 public:
  explicit JsonReader(std::string where) : where_(std::move(where)) {}

  Result<PersistenceConfig> read(std::string_view text, PersistenceConfig config) {
    json root;
    DuplicateKeyFinder duplicates;
    try {
      root =
          json::parse(text.begin(), text.end(), [&duplicates](int, json::parse_event_t event, json& parsed) {
            duplicates.see(event, parsed);
            return true;
          });
    } catch (const json::exception& e) {
      // parse_error (syntax, with line and column) or out_of_range (a number
      // too large even for a double, e.g. 1e400).
      return fail("malformed JSON: " + strip_exception_id(e.what()));
    }
    if (!root.is_object())
      return fail("the top level is " + describe(root) +
                  ", not a JSON object; accepted keys: " + config_detail::accepted_keys(""));
    // nlohmann keeps the last of two equal keys; a file saying two things is an error.
    if (duplicates.first)
      return fail("key \"" + *duplicates.first + "\" appears more than once; accepted: each key once");
    for (const auto& [name, value] : root.items()) {
      if (is_section(name)) {
        if (!value.is_object())
          return fail("key \"" + name + "\": value " + value.dump() +
                      " is not an object; accepted keys of \"" + name +
                      "\": " + config_detail::accepted_keys(name));
        for (const auto& [inner, inner_value] : value.items()) {
          std::string path = name + "." + inner;
          const ConfigKey* key = config_detail::find_key(path);
          if (!key)
            return fail("unknown key \"" + path + "\"; accepted keys of \"" + name +
                        "\": " + config_detail::accepted_keys(name));
          if (auto r = apply(*key, inner_value, config); !r) return std::move(r).error();
        }
        continue;
      }
      const ConfigKey* key = config_detail::find_key(name);
      if (!key || !key->section.empty())
        return fail("unknown key \"" + name + "\"; accepted keys: " + config_detail::accepted_keys(""));
      if (auto r = apply(*key, value, config); !r) return std::move(r).error();
    }
    return config;
  }

  Error fail(const std::string& what) const {
    return make_error(ErrorCode::InvalidArgument, where_ + ": " + what);
  }

 private:
  static bool is_section(std::string_view name) {
    for (auto s : config_detail::sections())
      if (s == name) return true;
    return false;
  }

  // "[json.exception.parse_error.101] parse error at line 1, ..." -> "parse error at line 1, ..."
  static std::string strip_exception_id(std::string_view what) {
    if (!what.empty() && what.front() == '[') {
      auto close = what.find("] ");
      if (close != std::string_view::npos) what.remove_prefix(close + 2);
    }
    return std::string(what);
  }

  static std::string describe(const json& value) {
    switch (value.type()) {
      case json::value_t::array:
        return "an array";
      case json::value_t::string:
        return "a string";
      case json::value_t::boolean:
        return "a boolean";
      case json::value_t::null:
        return "null";
      default:
        return "a number";
    }
  }

  Error bad_value(const ConfigKey& key, const json& value, std::string_view problem) const {
    return fail("key \"" + std::string(key.path) + "\": value " + value.dump() + " " + std::string(problem) +
                "; accepted: " + config_detail::accepted_values(key, false));
  }

  Result<void> apply(const ConfigKey& key, const json& value, PersistenceConfig& config) const {
    switch (key.kind) {
      case ValueKind::Backend:
      case ValueKind::Durability:
      case ValueKind::IoBackend: {
        if (!value.is_string()) return bad_value(key, value, "is not a string");
        const auto& text = value.get_ref<const std::string&>();
        if (key.kind == ValueKind::Backend) {
          auto v = config_detail::parse_backend(text);
          if (!v) return bad_value(key, value, "is not recognised");
          config_detail::field<PersistenceBackend>(key, config) = *v;
        } else if (key.kind == ValueKind::Durability) {
          auto v = config_detail::parse_durability(text);
          if (!v) return bad_value(key, value, "is not recognised");
          config_detail::field<DurabilityMode>(key, config) = *v;
        } else {
          auto v = config_detail::parse_io_backend(text);
          if (!v) return bad_value(key, value, "is not recognised");
          config_detail::field<IoBackend>(key, config) = *v;
        }
        break;
      }
      case ValueKind::Path: {
        if (!value.is_string()) return bad_value(key, value, "is not a string");
        const auto& text = value.get_ref<const std::string&>();
        if (text.empty()) return bad_value(key, value, "is empty");
        config_detail::field<std::string>(key, config) = text;
        break;
      }
      case ValueKind::Bool:
        if (!value.is_boolean()) return bad_value(key, value, "is not a boolean");
        config_detail::field<bool>(key, config) = value.get<bool>();
        break;
      case ValueKind::U32:
      case ValueKind::U64: {
        // Integers beyond 64 bits arrive as floats: those are out of range, not fractional.
        if (value.is_number_float() && std::fabs(value.get<double>()) >= 9223372036854775808.0)
          return bad_value(key, value, "is out of range");
        if (!value.is_number_integer()) return bad_value(key, value, "is not a whole number");
        if (value.is_number_unsigned()) {
          auto v = value.get<std::uint64_t>();
          if (v < key.min || v > key.max) return bad_value(key, value, "is out of range");
          if (key.kind == ValueKind::U32)
            config_detail::field<std::uint32_t>(key, config) = static_cast<std::uint32_t>(v);
          else
            config_detail::field<std::uint64_t>(key, config) = v;
        } else {
          // nlohmann stores non-negative integers as unsigned: this one is negative.
          if (value.get<std::int64_t>() >= 0) return bad_value(key, value, "is not a whole number");
          return bad_value(key, value, "is out of range");
        }
        break;
      }
    }
    config.origins[std::string(key.path)] = ConfigSource::File;
    return {};
  }

  std::string where_;
};

Result<std::string> read_whole_file(std::string_view path, const JsonReader& reader) {
  std::string name(path);
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return reader.fail(std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      return reader.fail(std::string("cannot read: ") + std::strerror(saved));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    // A configuration file is small; refuse to slurp something that is not one.
    if (text.size() > (1u << 20)) {
      ::close(fd);
      return reader.fail("cannot read: larger than 1 MiB, not a configuration file");
    }
  }
  ::close(fd);
  return text;
}

}  // namespace

Result<PersistenceConfig> config_from_json_text(std::string_view text, PersistenceConfig base) {
  return JsonReader("config JSON").read(text, std::move(base));
}

Result<PersistenceConfig> config_from_json_file(std::string_view path, PersistenceConfig base) {
  JsonReader reader("config file " + std::string(path));
  auto text = read_whole_file(path, reader);
  if (!text) return std::move(text).error();
  return reader.read(text.value(), std::move(base));
}

std::string PersistenceConfig::to_json() const {
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  for (const auto& key : config_detail::all_keys()) {
    auto& target = key.section.empty() ? root : root[std::string(key.section)];
    const std::string name(key.name);
    switch (key.kind) {
      case ValueKind::Backend:
        target[name] = to_string(backend);
        break;
      case ValueKind::Durability:
        target[name] = to_string(durability);
        break;
      case ValueKind::IoBackend:
        target[name] = to_string(io_backend);
        break;
      case ValueKind::Path:
        target[name] = config_detail::field<std::string>(key, *this);
        break;
      case ValueKind::Bool:
        target[name] = config_detail::field<bool>(key, *this);
        break;
      case ValueKind::U32:
        target[name] = config_detail::field<std::uint32_t>(key, *this);
        break;
      case ValueKind::U64:
        target[name] = config_detail::field<std::uint64_t>(key, *this);
        break;
    }
  }
  // A data_dir that is not UTF-8 cannot be JSON text; it is written with
  // U+FFFD in place of the bad bytes rather than throwing.
  return root.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace orbit
