// Micro-benchmark of the hot point read through the public API: get_lease of
// a small hot set of stored leases, awaited on the store's own loop thread
// (where an actor system's coroutines run), per backend. Everything the API
// adds is included: the loop-hop check, timing and metrics, the primary key,
// the engine lookup and decoding the lease.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "orbit/persistence.hpp"

namespace {

using namespace orbit;

constexpr std::uint64_t kLeases = 10000;
constexpr std::uint64_t kHot = 64;

ActorKey key_of(std::uint64_t i) { return ActorKey(Uuid::from_u64(i), "Actor"); }

Task<void> read_hot(PersistenceProvider* store, benchmark::State* state) {
  std::vector<ActorKey> hot;
  for (std::uint64_t i = 0; i < kHot; ++i) hot.push_back(key_of(i * (kLeases / kHot)));
  (void)co_await store->get_lease(hot[0]);  // hops onto the loop: the timed reads run there
  std::size_t i = 0;
  for (auto _ : *state) {
    auto got = co_await store->get_lease(hot[i]);
    if (!got.ok()) {
      state->SkipWithError(got.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(got);
    i = (i + 1) % hot.size();
  }
}

// Arg: the PersistenceBackend.
void BM_ApiGetHot(benchmark::State& state) {
  const auto backend = static_cast<PersistenceBackend>(state.range(0));
  state.SetLabel(std::string(to_string(backend)));
  if (!PersistenceFactory::is_available(backend)) {
    state.SkipWithError("backend not built");
    return;
  }
  char dir_template[] = "/tmp/orbit-api-bench-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  PersistenceConfig config;
  config.backend = backend;
  config.data_dir = dir_template;
  config.durability = DurabilityMode::None;
  {
    auto store = sync_wait(PersistenceFactory::create_provider(config));
    if (!store) {
      state.SkipWithError(store.error().to_string().c_str());
      return;
    }
    PersistenceProvider& s = **store;
    for (std::uint64_t first = 0; first < kLeases; first += 500) {
      WriteBatch batch;
      for (std::uint64_t i = first; i < first + 500; ++i) {
        Lease lease = Lease::create(key_of(i), "node-1", Millis{30000});
        lease.metadata.custom_data = "{\"pad\":\"" + std::string(40, 'x') + "\"}";
        batch.put(std::move(lease));
      }
      if (auto r = sync_wait(s.apply_batch(std::move(batch))); !r) {
        state.SkipWithError(r.error().to_string().c_str());
        return;
      }
    }
    sync_wait(read_hot(&s, &state));
    (void)sync_wait(s.close());
  }
  std::filesystem::remove_all(config.data_dir);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApiGetHot)
    ->Arg(static_cast<int>(PersistenceBackend::CowBTree))
    ->Arg(static_cast<int>(PersistenceBackend::LsmTree))
    ->Arg(static_cast<int>(PersistenceBackend::RocksDb));

}  // namespace
