#include "tools/orbit-cli/cli_store.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "orbit/factory.hpp"
#include "orbit/sync_wait.hpp"
#include "src/layout/data_dir.hpp"

namespace orbit::cli {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error usage(std::string message) { return make_error(ErrorCode::InvalidArgument, std::move(message)); }

}  // namespace

std::string short_name(PersistenceBackend backend) {
  switch (backend) {
    case PersistenceBackend::CowBTree: return "cow";
    case PersistenceBackend::LsmTree: return "lsm";
    case PersistenceBackend::RocksDb: return "rocksdb";
  }
  return "unknown";
}

std::string accepted_backend_names() { return "cow, lsm, rocksdb, CowBTree, LsmTree, RocksDb"; }

Result<PersistenceBackend> parse_backend_name(const std::string& text) {
  const std::string name = lower(text);
  for (auto b : {PersistenceBackend::CowBTree, PersistenceBackend::LsmTree, PersistenceBackend::RocksDb})
    if (name == short_name(b) || name == lower(to_string(b))) return b;
  return usage("unknown backend '" + text + "' (accepted: " + accepted_backend_names() + ")");
}

Result<PersistenceConfig> build_config(const CommonOptions& options) {
  PersistenceConfigBuilder builder;
  if (!options.config_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.config_file, ec))
      return usage("config file '" + options.config_file + "' does not exist");
    builder.config_file(options.config_file);
  }
  if (!options.backend.empty()) {
    auto backend = parse_backend_name(options.backend);
    if (!backend) return std::move(backend).error();
    builder.backend(*backend);
  }
  if (!options.data_dir.empty()) builder.data_dir(options.data_dir);
  if (!options.durability.empty()) {
    const std::string d = lower(options.durability);
    if (d == "durable") builder.durability(DurabilityMode::Durable);
    else if (d == "buffered") builder.durability(DurabilityMode::Buffered);
    else if (d == "none") builder.durability(DurabilityMode::None);
    else return usage("unknown durability '" + options.durability + "' (accepted: durable, buffered, none)");
  }
  if (!options.io_backend.empty()) {
    const std::string io = lower(options.io_backend);
    if (io == "auto") builder.io_backend(IoBackend::Auto);
    else if (io == "io_uring") builder.io_backend(IoBackend::IoUring);
    else if (io == "asio") builder.io_backend(IoBackend::Asio);
    else return usage("unknown io backend '" + options.io_backend + "' (accepted: auto, io_uring, asio)");
  }
  return builder.build();
}

Result<void> check_store_dir(const PersistenceConfig& config, bool may_create) {
  namespace fs = std::filesystem;
  const std::string& dir = config.data_dir;
  if (!PersistenceFactory::is_available(config.backend)) {
    std::string available;
    for (auto b : PersistenceFactory::available_backends()) {
      if (!available.empty()) available += ", ";
      available += short_name(b);
    }
    return make_error(ErrorCode::Unavailable, "backend '" + short_name(config.backend) + "' (" +
                                                  std::string(to_string(config.backend)) +
                                                  ") is not available in this build (available: " +
                                                  (available.empty() ? std::string("none") : available) + ")");
  }
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (may_create) return {};
    return make_error(ErrorCode::NotFound, "data dir '" + dir + "' does not exist");
  }
  if (!fs::is_directory(dir, ec)) return make_error(ErrorCode::InvalidArgument, "data dir '" + dir + "' is not a directory");
  for (const std::string& name : layout::list_names(dir)) {
    auto owner = layout::owner_of(name);
    if (!owner || *owner == config.backend) continue;
    return make_error(ErrorCode::InvalidArgument,
                      "data dir '" + dir + "' holds a " + std::string(to_string(*owner)) + " store (found " + name +
                          "), not " + std::string(to_string(config.backend)) + "; use --backend=" + short_name(*owner));
  }
  return {};
}

Result<std::unique_ptr<PersistenceProvider>> open_store(const PersistenceConfig& config, bool may_create) {
  if (auto ok = check_store_dir(config, may_create); !ok) return std::move(ok).error();
  return sync_wait(PersistenceFactory::create_provider(config));
}

}  // namespace orbit::cli
