// PersistenceFactory and PersistenceConfigBuilder::create_provider.
#include "orbit/factory.hpp"

#include <filesystem>
#include <system_error>

#include "src/factory/engine_registry.hpp"

namespace orbit {
namespace {

// What this build has of each backend: its open and verify functions.
struct Engine {
  EngineOpenFn open = nullptr;
  EngineVerifyFn verify = nullptr;
};

Engine engine(PersistenceBackend backend) {
  switch (backend) {
#ifdef ORBIT_WITH_COW_BTREE
    case PersistenceBackend::CowBTree: return {&open_cow_btree_store, &verify_cow_btree_files};
#endif
#ifdef ORBIT_WITH_LSM
    case PersistenceBackend::LsmTree: return {&open_lsm_store, &verify_lsm_files};
#endif
#ifdef ORBIT_WITH_ROCKSDB
    case PersistenceBackend::RocksDb: return {&open_rocksdb_store, &verify_rocksdb_files};
#endif
    default: return {};
  }
}

io::BackendChoice io_choice(IoBackend backend) {
  switch (backend) {
    case IoBackend::IoUring: return io::BackendChoice::IoUring;
    case IoBackend::Asio: return io::BackendChoice::Asio;
    case IoBackend::Auto: break;
  }
  return io::BackendChoice::Auto;
}

std::string available_list() {
  std::string out;
  for (auto b : PersistenceFactory::available_backends()) {
    if (!out.empty()) out += ", ";
    out += to_string(b);
  }
  return out.empty() ? std::string("none") : out;
}

}  // namespace

EngineOpenFn engine_open_function(PersistenceBackend backend) { return engine(backend).open; }

std::vector<PersistenceBackend> PersistenceFactory::available_backends() {
  std::vector<PersistenceBackend> out;
  for (auto b : {PersistenceBackend::CowBTree, PersistenceBackend::LsmTree, PersistenceBackend::RocksDb})
    if (engine_open_function(b)) out.push_back(b);
  return out;
}

bool PersistenceFactory::is_available(PersistenceBackend backend) { return engine_open_function(backend) != nullptr; }

Task<Result<std::unique_ptr<PersistenceProvider>>> PersistenceFactory::create_provider(PersistenceConfig config) {
  using Out = Result<std::unique_ptr<PersistenceProvider>>;
  if (auto valid = config.validate(); !valid) co_return Out(std::move(valid).error());
  EngineOpenFn open = engine_open_function(config.backend);
  if (!open)
    co_return Out(make_error(ErrorCode::Unavailable, "backend '" + std::string(to_string(config.backend)) +
                                                         "' is not available in this build (available: " +
                                                         available_list() + ")"));
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec)
    co_return Out(make_error(ErrorCode::InvalidArgument,
                             "data_dir '" + config.data_dir + "' cannot be created: " + ec.message()));

  io::RuntimeOptions options;
  options.backend = io_choice(config.io_backend);
  std::string why;
  auto runtime = io::Runtime::create(options, &why);
  if (!runtime)
    co_return Out(make_error(ErrorCode::Unavailable, "io_backend '" + std::string(to_string(config.io_backend)) +
                                                         "' cannot start: " + why +
                                                         " (accepted: auto, io_uring, asio)"));
  co_return co_await open(std::move(config), std::move(runtime).value());
}

Task<Result<VerifyReport>> PersistenceFactory::verify_store(PersistenceConfig config) {
  using Out = Result<VerifyReport>;
  if (auto valid = config.validate(); !valid) co_return Out(std::move(valid).error());
  EngineVerifyFn verify = engine(config.backend).verify;
  if (!verify)
    co_return Out(make_error(ErrorCode::Unavailable, "backend '" + std::string(to_string(config.backend)) +
                                                         "' is not available in this build (available: " +
                                                         available_list() + ")"));
  // Verification never creates anything: a missing directory is the caller's mistake.
  std::error_code ec;
  const bool is_dir = std::filesystem::is_directory(config.data_dir, ec);
  if (!is_dir)
    co_return Out(make_error(ErrorCode::NotFound,
                             "data_dir '" + config.data_dir + "' " +
                                 (std::filesystem::exists(config.data_dir, ec) ? "is not a directory"
                                                                               : "does not exist") +
                                 "; nothing to verify"));

  io::RuntimeOptions options;
  options.backend = io_choice(config.io_backend);
  options.name = "orbit-verify";
  std::string why;
  auto runtime = io::Runtime::create(options, &why);
  if (!runtime)
    co_return Out(make_error(ErrorCode::Unavailable, "io_backend '" + std::string(to_string(config.io_backend)) +
                                                         "' cannot start: " + why +
                                                         " (accepted: auto, io_uring, asio)"));
  std::unique_ptr<io::Runtime> owned = std::move(runtime).value();
  Out report = co_await verify(std::move(config), *owned);
  // The verify function may have resumed us on the runtime's loop thread;
  // destroying the runtime there is allowed (io/runtime.hpp).
  owned.reset();
  co_return report;
}

Task<Result<std::unique_ptr<PersistenceProvider>>> PersistenceFactory::create_default(PersistenceBackend backend,
                                                                                      std::string data_dir) {
  PersistenceConfig config;
  config.backend = backend;
  config.data_dir = std::move(data_dir);
  return create_provider(std::move(config));
}

Task<Result<std::unique_ptr<PersistenceProvider>>> PersistenceConfigBuilder::create_provider() const {
  auto config = build();
  if (!config) return [](Error e) -> Task<Result<std::unique_ptr<PersistenceProvider>>> {
    co_return std::move(e);
  }(std::move(config).error());
  return PersistenceFactory::create_provider(std::move(config).value());
}

}  // namespace orbit
