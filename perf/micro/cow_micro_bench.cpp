// Micro-benchmarks of the COW B+ tree's hot paths: point lookup, in-place
// update (the single writer's path between snapshots), and a persistent
// upsert (path copy, what a write costs while a reader holds the old root).
// Keys are primary keys of the shared layout, values encoded leases.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engines/cow_btree/tree.hpp"
#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"

namespace {

using namespace orbit;

std::vector<std::string> keys_for(std::size_t n) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    keys.push_back(codec::primary_key(ActorKey(Uuid::from_u64(i * 2654435761u + 1), "Player")));
  return keys;
}

std::string value() {
  Lease lease;
  lease.key = ActorKey(Uuid::from_u64(1), "Player");
  lease.node_id = "node-7";
  lease.metadata.custom_data = std::string(40, 'x');
  return codec::encode_lease(lease);
}

cow_btree::Tree filled(const std::vector<std::string>& keys, std::size_t fanout) {
  cow_btree::Tree tree(fanout);
  const std::string v = value();
  for (const auto& k : keys) tree.insert_or_assign(k, v);
  return tree;
}

// Args: entries, max_keys_per_node.
void BM_TreeGet(benchmark::State& state) {
  const auto keys = keys_for(static_cast<std::size_t>(state.range(0)));
  const cow_btree::Tree tree = filled(keys, static_cast<std::size_t>(state.range(1)));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(tree.get(keys[i]));
    i = (i + 7919) % keys.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TreeGet)->Args({1 << 10, 64})->Args({1 << 20, 64})->Args({1 << 20, 16})->Args({1 << 20, 256});

void BM_TreeUpdateInPlace(benchmark::State& state) {
  const auto keys = keys_for(static_cast<std::size_t>(state.range(0)));
  cow_btree::Tree tree = filled(keys, static_cast<std::size_t>(state.range(1)));
  const std::string v = value();
  std::size_t i = 0;
  for (auto _ : state) {
    tree.insert_or_assign(keys[i], v);
    i = (i + 7919) % keys.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TreeUpdateInPlace)->Args({1 << 20, 64});

void BM_TreeUpsertPathCopy(benchmark::State& state) {
  const auto keys = keys_for(static_cast<std::size_t>(state.range(0)));
  cow_btree::Tree tree = filled(keys, static_cast<std::size_t>(state.range(1)));
  const std::string v = value();
  std::size_t i = 0;
  for (auto _ : state) {
    cow_btree::Tree next = tree.upsert(keys[i], v);  // `tree` stays: every node on the path is copied
    benchmark::DoNotOptimize(next);
    i = (i + 7919) % keys.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TreeUpsertPathCopy)->Args({1 << 20, 64})->Args({1 << 20, 16});

}  // namespace
