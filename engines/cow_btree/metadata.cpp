// One "key": value per line keeps both the writer and this small parser
// obvious; the checksum line comes last so it covers everything else.
// (No coroutines here: the fuzz target compiles this file; the file helpers
// are in metadata_files.cpp.)
#include "engines/cow_btree/metadata.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "src/util/crc32c.hpp"

namespace orbit::cow_btree {
namespace {

constexpr std::string_view kCrcLine = "  \"crc32c\": ";

}  // namespace

std::string encode_metadata(const TreeMetadata& m) {
  std::string out = "{\n";
  auto number = [&out](const char* key, std::uint64_t v) {
    out += "  \"";
    out += key;
    out += "\": " + std::to_string(v) + ",\n";
  };
  out += "  \"backend\": \"CowBTree\",\n";
  number("format_version", m.format_version);
  out += "  \"page_file\": \"" + m.page_file + "\",\n";
  number("page_size", m.page_size);
  number("max_keys_per_node", m.max_keys_per_node);
  number("txn_id", m.txn_id);
  number("lsn", m.lsn);
  number("root_page", m.root_page);
  number("page_count", m.page_count);
  number("entry_count", m.entry_count);
  number("lease_count", m.lease_count);
  number("lease_bytes", m.lease_bytes);
  number("created_unix_ms", m.created_unix_ms);
  const std::uint32_t crc = crc32c::mask(crc32c::value(out));
  out += std::string(kCrcLine) + std::to_string(crc) + "\n}\n";
  return out;
}

Result<TreeMetadata> decode_metadata(std::string_view text, const std::string& file) {
  auto bad = [&file](std::size_t offset, const std::string& why) {
    return make_error(ErrorCode::Corruption, "cow_btree " + file + " offset " + std::to_string(offset) + ": " + why);
  };
  const std::size_t crc_at = text.rfind(std::string("\n") + std::string(kCrcLine));
  if (crc_at == std::string_view::npos) return bad(0, "no \"crc32c\" line (not a COW metadata file, or truncated)");
  const std::string_view body = text.substr(0, crc_at + 1);
  std::string_view rest = text.substr(crc_at + 1 + kCrcLine.size());
  std::uint32_t stored = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), stored);
  if (ec != std::errc() || rest.substr(static_cast<std::size_t>(end - rest.data())) != "\n}\n")
    return bad(crc_at + 1, "malformed \"crc32c\" line or trailing bytes");
  if (crc32c::mask(crc32c::value(body)) != stored) return bad(crc_at + 1, "checksum mismatch");

  TreeMetadata m;
  std::size_t seen = 0;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t eol = body.find('\n', pos);
    std::string_view line = body.substr(pos, eol - pos);
    const std::size_t line_at = pos;
    pos = eol + 1;
    if (line == "{") continue;
    if (line.size() < 6 || line.substr(0, 3) != "  \"" || line.back() != ',')
      return bad(line_at, "malformed line '" + std::string(line) + "'");
    const std::size_t close = line.find("\": ", 3);
    if (close == std::string_view::npos) return bad(line_at, "malformed line '" + std::string(line) + "'");
    const std::string key(line.substr(3, close - 3));
    std::string_view value = line.substr(close + 3, line.size() - close - 4);
    if (!value.empty() && value.front() == '"') {
      if (value.size() < 2 || value.back() != '"') return bad(line_at, "unterminated string for '" + key + "'");
      std::string s(value.substr(1, value.size() - 2));
      if (key == "backend") {
        if (s != "CowBTree") return bad(line_at, "backend '" + s + "', expected 'CowBTree'");
      } else if (key == "page_file") {
        m.page_file = s;
        ++seen;
      }
      continue;
    }
    std::uint64_t v = 0;
    auto [vend, vec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (vec != std::errc() || vend != value.data() + value.size())
      return bad(line_at, "'" + key + "' is not a number: '" + std::string(value) + "'");
    struct Field {
      const char* name;
      std::uint64_t* u64;
      std::uint32_t* u32;
    };
    const Field fields[] = {{"format_version", nullptr, &m.format_version},
                            {"page_size", nullptr, &m.page_size},
                            {"max_keys_per_node", nullptr, &m.max_keys_per_node},
                            {"txn_id", &m.txn_id, nullptr},
                            {"lsn", &m.lsn, nullptr},
                            {"root_page", &m.root_page, nullptr},
                            {"page_count", &m.page_count, nullptr},
                            {"entry_count", &m.entry_count, nullptr},
                            {"lease_count", &m.lease_count, nullptr},
                            {"lease_bytes", &m.lease_bytes, nullptr},
                            {"created_unix_ms", &m.created_unix_ms, nullptr}};
    for (const Field& f : fields) {
      if (key != f.name) continue;
      if (f.u64 != nullptr) *f.u64 = v;
      if (f.u32 != nullptr) *f.u32 = static_cast<std::uint32_t>(v);
      ++seen;
    }
  }
  if (seen < 12) return bad(0, "missing fields (" + std::to_string(seen) + " of 12 present)");
  return m;
}

}  // namespace orbit::cow_btree
