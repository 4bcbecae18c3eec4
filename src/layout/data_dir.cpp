#include "src/layout/data_dir.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace orbit::layout {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string_view own_files(PersistenceBackend backend) {
  switch (backend) {
    case PersistenceBackend::RocksDb: return "CURRENT, MANIFEST-*, OPTIONS-*, *.log, *.sst";
    case PersistenceBackend::LsmTree: return "manifest.json, sstables/, orbit.wal/";
    case PersistenceBackend::CowBTree: return "orbit.pages, metadata.json, snapshots/, orbit.wal/";
  }
  return "";
}

}  // namespace

std::optional<PersistenceBackend> owner_of(std::string_view name) noexcept {
  if (name == "CURRENT" || name == "IDENTITY" || starts_with(name, "OPTIONS-") || starts_with(name, "MANIFEST-"))
    return PersistenceBackend::RocksDb;
  if (name == "manifest.json" || name == "sstables") return PersistenceBackend::LsmTree;
  if (name == "metadata.json" || name == "orbit.pages" || name == "snapshots") return PersistenceBackend::CowBTree;
  return std::nullopt;
}

std::vector<std::string> foreign_files(const std::vector<std::string>& names, PersistenceBackend backend) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    if (auto owner = owner_of(name); owner && *owner != backend)
      out.push_back(name + " (" + std::string(to_string(*owner)) + ")");
    else if (!owner && backend == PersistenceBackend::RocksDb && (name == "orbit.wal" || name == "orbit.lock"))
      out.push_back(name + " (CowBTree or LsmTree)");  // theirs, though not telling whose
  }
  return out;
}

Result<void> check_owned_by(const std::string& dir, const std::vector<std::string>& names,
                            PersistenceBackend backend) {
  const auto found = foreign_files(names, backend);
  if (found.empty()) return {};
  std::string list;
  for (const auto& name : found) list += (list.empty() ? "" : ", ") + name;
  return make_error(ErrorCode::InvalidArgument,
                    "data_dir '" + dir + "' holds another backend's files (" + list + "); the " +
                        std::string(to_string(backend)) + " backend needs an empty directory or one of its own (" +
                        std::string(own_files(backend)) + ")");
}

std::vector<std::string> list_names(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace orbit::layout
