#include "engines/rocksdb/data_dir_check.hpp"

#include <array>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace orbit::rocksdb_engine {
namespace {

struct ForeignName {
  std::string_view name;
  std::string_view backend;
};

// The seed's on-disk layouts of the other two backends.
constexpr std::array<ForeignName, 6> kForeignNames{{
    {"orbit.wal", "CowBTree"},
    {"metadata.json", "CowBTree"},
    {"snapshots", "CowBTree"},
    {"wal.log", "LsmTree"},
    {"manifest.json", "LsmTree"},
    {"sstables", "LsmTree"},
}};

}  // namespace

std::vector<std::string> foreign_backend_files(const std::string& data_dir) {
  std::vector<std::string> found;
  for (const auto& foreign : kForeignNames) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(data_dir) / foreign.name, ec))
      found.push_back(std::string(foreign.name) + " (" + std::string(foreign.backend) + ")");
  }
  return found;
}

Result<void> check_data_dir_is_ours(const std::string& data_dir) {
  auto found = foreign_backend_files(data_dir);
  if (found.empty()) return {};
  std::string list;
  for (const auto& name : found) {
    if (!list.empty()) list += ", ";
    list += name;
  }
  return make_error(ErrorCode::InvalidArgument,
                    "data_dir '" + data_dir + "' holds another backend's files (" + list +
                        "); the RocksDb backend needs an empty directory or one of its own "
                        "(CURRENT, MANIFEST-*, *.log, *.sst)");
}

}  // namespace orbit::rocksdb_engine
