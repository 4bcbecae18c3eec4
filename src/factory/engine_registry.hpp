// How the factory reaches each backend: one open function per engine, each
// declared in its engine's folder and compiled in when the engine is built
// (ORBIT_WITH_COW_BTREE / ORBIT_WITH_LSM / ORBIT_WITH_ROCKSDB).
//
// An open function takes a validated config whose data_dir exists and a
// started runtime (which the store then owns), hops onto the runtime's loop,
// recovers what is on disk and returns the open store.
#pragma once

#include <memory>

#include "io/runtime.hpp"
#include "orbit/config.hpp"
#include "orbit/factory.hpp"
#include "orbit/provider.hpp"

namespace orbit {

using OpenedStore = Result<std::unique_ptr<PersistenceProvider>>;
using EngineOpenFn = Task<OpenedStore> (*)(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime);

// A verify function reads the store's files in config.data_dir (which
// exists) on `runtime`, never writing to them; see PersistenceFactory::verify_store.
using EngineVerifyFn = Task<Result<VerifyReport>> (*)(PersistenceConfig config, io::Runtime& runtime);

// The open function of `backend` if this build has it, else null (tests
// drive engines directly through it, e.g. on a fault-injecting runtime).
EngineOpenFn engine_open_function(PersistenceBackend backend);

Task<OpenedStore> open_cow_btree_store(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime);
Task<OpenedStore> open_lsm_store(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime);
Task<OpenedStore> open_rocksdb_store(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime);

Task<Result<VerifyReport>> verify_cow_btree_files(PersistenceConfig config, io::Runtime& runtime);
Task<Result<VerifyReport>> verify_lsm_files(PersistenceConfig config, io::Runtime& runtime);
Task<Result<VerifyReport>> verify_rocksdb_files(PersistenceConfig config, io::Runtime& runtime);

}  // namespace orbit
