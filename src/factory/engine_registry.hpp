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
#include "orbit/provider.hpp"

namespace orbit {

using OpenedStore = Result<std::unique_ptr<PersistenceProvider>>;
using EngineOpenFn = Task<OpenedStore> (*)(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime);

Task<OpenedStore> open_cow_btree_store(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime);
Task<OpenedStore> open_lsm_store(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime);
Task<OpenedStore> open_rocksdb_store(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime);

}  // namespace orbit
