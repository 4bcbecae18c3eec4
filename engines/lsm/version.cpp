#include "engines/lsm/version.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "src/util/crc32c.hpp"

namespace orbit::lsm {
namespace {

using nlohmann::json;

Error manifest_corruption(const std::string& path, std::string_view what) {
  return make_error(ErrorCode::Corruption, "manifest " + path + ": " + std::string(what));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool from_hex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

// The checksum covers the compact dump (keys sorted, as nlohmann::json
// keeps them) of the document with "crc32c" set to 0.
std::uint32_t document_crc(json document) {
  document["crc32c"] = 0;
  std::string canonical = document.dump();
  return crc32c::mask(crc32c::value(canonical));
}

json to_json(const ManifestState& state) {
  json document;
  document["format"] = kManifestFormat;
  document["format_version"] = kManifestFormatVersion;
  document["next_file_number"] = state.next_file_number;
  document["flushed_lsn"] = state.flushed_lsn;
  document["live_keys"] = state.live.keys;
  document["live_key_bytes"] = state.live.key_bytes;
  document["live_value_bytes"] = state.live.value_bytes;
  json levels = json::array();
  for (std::size_t level = 0; level < state.levels.size(); ++level) {
    json files = json::array();
    for (const FileMeta& f : state.levels[level]) {
      files.push_back(json{{"name", f.name},
                           {"number", f.number},
                           {"size", f.size},
                           {"entries", f.entries},
                           {"smallest", to_hex(f.smallest)},
                           {"largest", to_hex(f.largest)}});
    }
    levels.push_back(json{{"level", level}, {"files", std::move(files)}});
  }
  document["levels"] = std::move(levels);
  document["crc32c"] = 0;
  return document;
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::uint64_t Version::level_bytes(std::size_t level) const {
  std::uint64_t total = 0;
  for (const TablePtr& t : levels[level]) total += t->meta.size;
  return total;
}

std::size_t Version::file_count() const {
  std::size_t n = 0;
  for (const auto& level : levels) n += level.size();
  return n;
}

std::vector<TablePtr> Version::overlapping(std::size_t level, std::string_view smallest,
                                           std::string_view largest) const {
  std::vector<TablePtr> out;
  for (const TablePtr& t : levels[level])
    if (t->overlaps(smallest, largest)) out.push_back(t);
  return out;
}

const Table* Version::find_in_level(std::size_t level, std::string_view user_key) const {
  const auto& files = levels[level];
  // First file whose largest key >= user_key.
  auto it = std::lower_bound(files.begin(), files.end(), user_key,
                             [](const TablePtr& t, std::string_view key) { return t->largest_user < key; });
  if (it == files.end() || user_key < (*it)->smallest_user) return nullptr;
  return it->get();
}

std::string encode_manifest(const ManifestState& state) {
  json document = to_json(state);
  document["crc32c"] = document_crc(document);
  return document.dump(1) + "\n";
}

Result<ManifestState> decode_manifest(std::string_view text, const std::string& path, std::uint32_t max_levels) {
  json document;
  try {
    document = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return manifest_corruption(path, std::string("malformed JSON: ") + e.what());
  }
  try {
    if (!document.is_object()) return manifest_corruption(path, "not a JSON object");
    if (!document.contains("format") || document["format"] != kManifestFormat)
      return manifest_corruption(path, "\"format\" is not \"" + std::string(kManifestFormat) + "\"");
    if (!document.contains("format_version") || !document["format_version"].is_number_unsigned() ||
        document["format_version"].get<std::uint64_t>() != kManifestFormatVersion)
      return manifest_corruption(path, "\"format_version\" is not " + std::to_string(kManifestFormatVersion) +
                                           " (the only version this build reads)");
    if (!document.contains("crc32c") || !document["crc32c"].is_number_unsigned())
      return manifest_corruption(path, "no \"crc32c\" number");
    const auto stored = document["crc32c"].get<std::uint64_t>();
    const std::uint32_t computed = document_crc(document);
    if (stored != computed)
      return manifest_corruption(path, "checksum mismatch: stored crc32c " + std::to_string(stored) +
                                           ", computed " + std::to_string(computed));
    ManifestState state;
    auto number = [&](const json& object, const char* name, std::uint64_t& out) -> bool {
      if (!object.contains(name) || !object[name].is_number_unsigned()) return false;
      out = object[name].get<std::uint64_t>();
      return true;
    };
    for (const char* name : {"next_file_number", "flushed_lsn", "live_keys", "live_key_bytes", "live_value_bytes"}) {
      std::uint64_t ignored = 0;
      if (!number(document, name, ignored))
        return manifest_corruption(path, std::string("\"") + name + "\" is missing or not an unsigned number");
    }
    number(document, "next_file_number", state.next_file_number);
    number(document, "flushed_lsn", state.flushed_lsn);
    number(document, "live_keys", state.live.keys);
    number(document, "live_key_bytes", state.live.key_bytes);
    number(document, "live_value_bytes", state.live.value_bytes);
    state.levels.resize(max_levels);
    if (!document.contains("levels") || !document["levels"].is_array())
      return manifest_corruption(path, "\"levels\" is missing or not an array");
    for (const json& level : document["levels"]) {
      std::uint64_t index = 0;
      if (!level.is_object() || !number(level, "level", index) || !level.contains("files") ||
          !level["files"].is_array())
        return manifest_corruption(path, "a \"levels\" entry lacks \"level\" or \"files\"");
      if (index >= max_levels) {
        if (!level["files"].empty())
          return manifest_corruption(path, "files at level " + std::to_string(index) + ", but max_levels is " +
                                               std::to_string(max_levels) + " (accepted: levels 0.." +
                                               std::to_string(max_levels - 1) + ")");
        continue;
      }
      for (const json& file : level["files"]) {
        FileMeta meta;
        if (!file.is_object() || !file.contains("name") || !file["name"].is_string() ||
            !number(file, "number", meta.number) || !number(file, "size", meta.size) ||
            !number(file, "entries", meta.entries) || !file.contains("smallest") || !file["smallest"].is_string() ||
            !file.contains("largest") || !file["largest"].is_string())
          return manifest_corruption(path, "a file entry at level " + std::to_string(index) + " is malformed");
        meta.name = file["name"].get<std::string>();
        if (sstable_file_number(meta.name) != meta.number || meta.number == 0)
          return manifest_corruption(path, "file name '" + meta.name + "' does not match its number " +
                                               std::to_string(meta.number));
        if (meta.number >= state.next_file_number)
          return manifest_corruption(path, "file number " + std::to_string(meta.number) +
                                               " is not below next_file_number");
        if (!from_hex(file["smallest"].get<std::string>(), meta.smallest) ||
            !from_hex(file["largest"].get<std::string>(), meta.largest))
          return manifest_corruption(path, "file '" + meta.name + "': smallest/largest are not hex");
        state.levels[index].push_back(std::move(meta));
      }
    }
    return state;
  } catch (const json::exception& e) {
    return manifest_corruption(path, std::string("unexpected content: ") + e.what());
  }
}

Task<Result<std::uint64_t>> write_manifest(io::FileSystem& fs, std::string dir, const ManifestState& state) {
  const std::string text = encode_manifest(state);
  const std::string tmp = dir + "/manifest.json.tmp";
  const std::string final_path = dir + "/manifest.json";
  io::OpenOptions options = io::OpenOptions::read_write_create();
  options.truncate = true;
  auto file = co_await fs.open(tmp, options);
  if (!file) co_return make_error(ErrorCode::IOError, "manifest " + tmp + ": create: " + file.message());
  auto wrote = co_await file.value()->write_at(std::as_bytes(std::span(text.data(), text.size())), 0);
  if (!wrote) co_return make_error(ErrorCode::IOError, "manifest " + tmp + " offset 0: write: " + wrote.message());
  auto synced = co_await file.value()->datasync();
  if (!synced) co_return make_error(ErrorCode::IOError, "manifest " + tmp + ": datasync: " + synced.message());
  auto closed = co_await file.value()->close();
  if (!closed) co_return make_error(ErrorCode::IOError, "manifest " + tmp + ": close: " + closed.message());
  auto renamed = co_await fs.rename(tmp, final_path);
  if (!renamed)
    co_return make_error(ErrorCode::IOError, "manifest: rename " + tmp + " to " + final_path + ": " + renamed.message());
  auto dir_synced = co_await fs.sync_dir(dir);
  if (!dir_synced) co_return make_error(ErrorCode::IOError, "manifest: sync directory " + dir + ": " + dir_synced.message());
  co_return static_cast<std::uint64_t>(text.size());
}

Task<Result<std::optional<ManifestState>>> read_manifest(io::FileSystem& fs, std::string dir,
                                                         std::uint32_t max_levels) {
  const std::string path = dir + "/manifest.json";
  if (!fs.exists(path)) co_return std::optional<ManifestState>();
  auto file = co_await fs.open(path, io::OpenOptions::read_only());
  if (!file) co_return make_error(ErrorCode::IOError, "manifest " + path + ": open: " + file.message());
  auto size = file.value()->size();
  if (!size) co_return make_error(ErrorCode::IOError, "manifest " + path + ": fstat: " + size.message());
  if (size.value() > (64u << 20)) co_return manifest_corruption(path, "larger than 64 MiB");
  std::string text(static_cast<std::size_t>(size.value()), '\0');
  auto read = co_await file.value()->read_at(std::as_writable_bytes(std::span(text.data(), text.size())), 0);
  if (!read) co_return make_error(ErrorCode::IOError, "manifest " + path + " offset 0: read: " + read.message());
  text.resize(read.value());
  (void)co_await file.value()->close();
  auto state = decode_manifest(text, path, max_levels);
  if (!state) co_return std::move(state).error();
  co_return std::optional<ManifestState>(std::move(state).value());
}

std::string sstable_file_name(std::uint32_t level, std::uint64_t number) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  return "level_" + std::to_string(level) + "_" + std::to_string(seconds) + "_" + std::to_string(number) + ".sst";
}

std::uint64_t sstable_file_number(std::string_view name) {
  constexpr std::string_view kPrefix = "level_", kSuffix = ".sst";
  if (name.size() <= kPrefix.size() + kSuffix.size() || name.substr(0, kPrefix.size()) != kPrefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix)
    return 0;
  std::string_view middle = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  // <level>_<time>_<number>: exactly two underscores, digits between.
  int underscores = 0;
  for (char c : middle) {
    if (c == '_') {
      ++underscores;
    } else if (c < '0' || c > '9') {
      return 0;
    }
  }
  if (underscores != 2) return 0;
  std::string_view digits = middle.substr(middle.rfind('_') + 1);
  if (digits.empty() || digits.size() > 19) return 0;
  std::uint64_t number = 0;
  for (char c : digits) number = number * 10 + static_cast<std::uint64_t>(c - '0');
  return number;
}

}  // namespace orbit::lsm
