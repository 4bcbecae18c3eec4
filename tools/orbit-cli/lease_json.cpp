#include "tools/orbit-cli/lease_json.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <limits>

#include <nlohmann/json.hpp>

namespace orbit::cli {
namespace {

using nlohmann::json;

std::int64_t to_ns(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
SystemTime from_ns(std::int64_t ns) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(ns)));
}

void append_bytes(std::string_view bytes, std::string& out) {
  if (is_valid_utf8(bytes)) {
    append_json_string(bytes, out);
  } else {
    out += "{\"base64\":\"";
    out += base64_encode(bytes);
    out += "\"}";
  }
}

void append_int(std::int64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}
void append_uint(std::uint64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

Error bad(std::string what) { return make_error(ErrorCode::InvalidArgument, std::move(what)); }

// Field readers: each names the field and what is accepted.
Result<std::string> read_bytes(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return bad(std::string("missing field \"") + name + "\"");
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->size() == 1 && it->contains("base64") && (*it)["base64"].is_string()) {
    auto decoded = base64_decode((*it)["base64"].get_ref<const std::string&>());
    if (!decoded) return bad(std::string("field \"") + name + "\": invalid base64");
    return std::move(*decoded);
  }
  return bad(std::string("field \"") + name + "\" must be a string or {\"base64\": \"...\"}");
}

Result<std::int64_t> read_int(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return bad(std::string("missing field \"") + name + "\"");
  if (it->is_number_integer() && !it->is_number_unsigned()) return it->get<std::int64_t>();
  if (it->is_number_unsigned()) {
    auto v = it->get<std::uint64_t>();
    if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return static_cast<std::int64_t>(v);
  }
  return bad(std::string("field \"") + name + "\" must be an integer in the signed 64-bit range");
}

Result<std::uint64_t> read_uint(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return bad(std::string("missing field \"") + name + "\"");
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(it->get<std::int64_t>());
  return bad(std::string("field \"") + name + "\" must be a non-negative integer");
}

constexpr std::array<std::string_view, 10> kLeaseFields{
    "actor_type", "actor_id", "node_id", "expires_at", "lease_duration_ms",
    "version",    "created_at", "last_renewed", "renewal_count", "custom_data"};

Result<json> parse_object(std::string_view line) {
  json parsed = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    // Parse again with exceptions for nlohmann's message (it names the byte position).
    try {
      json again = json::parse(line.begin(), line.end());
      return bad("malformed JSON");
    } catch (const json::exception& e) {
      std::string what = e.what();
      if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
      // The input is one line: nlohmann's "line 1, column N" is just the column.
      if (auto pos = what.find("at line 1, column "); pos != std::string::npos) what.replace(pos, 18, "at column ");
      return bad("malformed JSON: " + what);
    }
    return bad("malformed JSON");
  }
  if (!parsed.is_object()) return bad("expected a JSON object");
  return parsed;
}

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

void append_json_string(std::string_view utf8, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : utf8) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                            (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) | std::uint8_t(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    if (rest == 2) v |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[k] = value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const std::uint32_t bits = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                               (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
    out += static_cast<char>(bits >> 16);
    if (pad < 2) out += static_cast<char>((bits >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(bits & 0xFF);
  }
  return out;
}

void append_lease_json(const Lease& lease, std::string& out) {
  out += "{\"actor_type\":";
  append_bytes(lease.key.actor_type, out);
  out += ",\"actor_id\":\"";
  out += lease.key.actor_id.to_string();
  out += "\",\"node_id\":";
  append_bytes(lease.node_id, out);
  out += ",\"expires_at\":";
  append_int(to_ns(lease.expires_at), out);
  out += ",\"lease_duration_ms\":";
  append_int(lease.lease_duration.count(), out);
  out += ",\"version\":";
  append_uint(lease.version, out);
  out += ",\"created_at\":";
  append_int(to_ns(lease.metadata.created_at), out);
  out += ",\"last_renewed\":";
  append_int(to_ns(lease.metadata.last_renewed), out);
  out += ",\"renewal_count\":";
  append_uint(lease.metadata.renewal_count, out);
  out += ",\"custom_data\":";
  append_bytes(lease.metadata.custom_data, out);
  out += '}';
}

Result<Lease> parse_lease_json(std::string_view line) {
  auto parsed = parse_object(line);
  if (!parsed) return std::move(parsed).error();
  const json& object = parsed.value();
  for (const auto& item : object.items()) {
    bool known = false;
    for (auto field : kLeaseFields) known = known || item.key() == field;
    if (!known) return bad("unknown field \"" + item.key() + "\" (a lease line has: actor_type, actor_id, node_id, "
                                                            "expires_at, lease_duration_ms, version, created_at, "
                                                            "last_renewed, renewal_count, custom_data)");
  }
  Lease lease;
  auto type = read_bytes(object, "actor_type");
  if (!type) return std::move(type).error();
  auto id_it = object.find("actor_id");
  if (id_it == object.end() || !id_it->is_string()) return bad("missing field \"actor_id\" (a UUID string)");
  auto id = Uuid::parse(id_it->get_ref<const std::string&>());
  if (!id) return bad("field \"actor_id\": '" + id_it->get<std::string>() + "' is not a UUID (8-4-4-4-12 hex)");
  lease.key = ActorKey(*id, std::move(type).value());
  auto node = read_bytes(object, "node_id");
  if (!node) return std::move(node).error();
  lease.node_id = std::move(node).value();
  auto expires = read_int(object, "expires_at");
  if (!expires) return std::move(expires).error();
  lease.expires_at = from_ns(*expires);
  auto duration = read_int(object, "lease_duration_ms");
  if (!duration) return std::move(duration).error();
  lease.lease_duration = Millis(*duration);
  auto version = read_uint(object, "version");
  if (!version) return std::move(version).error();
  lease.version = *version;
  auto created = read_int(object, "created_at");
  if (!created) return std::move(created).error();
  lease.metadata.created_at = from_ns(*created);
  auto renewed = read_int(object, "last_renewed");
  if (!renewed) return std::move(renewed).error();
  lease.metadata.last_renewed = from_ns(*renewed);
  auto count = read_uint(object, "renewal_count");
  if (!count) return std::move(count).error();
  lease.metadata.renewal_count = *count;
  auto custom = read_bytes(object, "custom_data");
  if (!custom) return std::move(custom).error();
  lease.metadata.custom_data = std::move(custom).value();
  return lease;
}

std::string header_json(const ExportHeader& header) {
  std::string out = "{\"format\":\"";
  out += kJsonFormatName;
  out += "\",\"version\":";
  append_uint(kJsonFormatVersion, out);
  out += ",\"source_backend\":";
  append_json_string(header.source_backend, out);
  if (header.count) {
    out += ",\"count\":";
    append_uint(*header.count, out);
  }
  out += '}';
  return out;
}

Result<ExportHeader> parse_header_json(std::string_view line) {
  auto parsed = parse_object(line);
  if (!parsed) return bad("not an orbit-cli export header: " + parsed.error().message);
  const json& object = parsed.value();
  auto format = object.find("format");
  if (format == object.end() || !format->is_string() || format->get<std::string>() != kJsonFormatName)
    return bad("not an orbit-cli export: the first line must be a header with \"format\": \"orbit-leases\"");
  auto version = object.find("version");
  if (version == object.end() || !version->is_number_unsigned() || version->get<std::uint64_t>() != kJsonFormatVersion)
    return bad("unsupported export version " + (version == object.end() ? std::string("(none)") : version->dump()) +
               " (this orbit-cli reads version 1)");
  ExportHeader header;
  if (auto it = object.find("source_backend"); it != object.end() && it->is_string()) header.source_backend = *it;
  if (auto it = object.find("count"); it != object.end() && it->is_number_unsigned())
    header.count = it->get<std::uint64_t>();
  return header;
}

std::string trailer_json(std::uint64_t count) {
  std::string out = "{\"end\":true,\"count\":";
  append_uint(count, out);
  out += '}';
  return out;
}

std::optional<Result<std::uint64_t>> parse_trailer_json(std::string_view line) {
  // Cheap test first: lease lines start with {"actor_type".
  if (line.find("\"end\"") == std::string_view::npos) return std::nullopt;
  auto parsed = parse_object(line);
  if (!parsed) return std::nullopt;
  const json& object = parsed.value();
  auto end = object.find("end");
  if (end == object.end()) return std::nullopt;
  auto count = object.find("count");
  if (!end->is_boolean() || !end->get<bool>() || count == object.end() || !count->is_number_unsigned())
    return Result<std::uint64_t>(bad("malformed end line (expected {\"end\": true, \"count\": N})"));
  return Result<std::uint64_t>(count->get<std::uint64_t>());
}

}  // namespace orbit::cli
