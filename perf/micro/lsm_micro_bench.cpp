// Micro-benchmarks of the LSM engine's hot paths: memtable insert and
// lookup, bloom filter probes, data block parse and seek. Keys are primary
// keys of the shared layout (what the store really writes), values encoded
// 128-byte-class leases.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engines/lsm/block_builder.hpp"
#include "engines/lsm/block_reader.hpp"
#include "engines/lsm/bloom.hpp"
#include "engines/lsm/format.hpp"
#include "engines/lsm/memtable.hpp"
#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"

namespace {

using namespace orbit;

std::vector<std::string> primary_keys(std::size_t n) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) keys.push_back(codec::primary_key(ActorKey(Uuid::from_u64(i * 2654435761u + 1), "Player")));
  return keys;
}

std::string lease_value(std::size_t i) {
  Lease lease;
  lease.key = ActorKey(Uuid::from_u64(i), "Player");
  lease.node_id = "node-" + std::to_string(i % 16);
  lease.metadata.custom_data = std::string(40, 'x');
  return codec::encode_lease(lease);
}

void BM_MemtableInsert(benchmark::State& state) {
  const auto keys = primary_keys(1 << 16);
  const std::string value = lease_value(1);
  std::size_t i = 0;
  lsm::SequenceNumber seq = 1;
  auto table = std::make_unique<lsm::Memtable>();
  for (auto _ : state) {
    table->add(seq++, lsm::ValueType::Put, keys[i], value);
    if (++i == keys.size()) {
      i = 0;
      state.PauseTiming();
      table = std::make_unique<lsm::Memtable>();  // a memtable fills and is flushed
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MemtableInsert);

void BM_MemtableGetHit(benchmark::State& state) {
  const auto keys = primary_keys(static_cast<std::size_t>(state.range(0)));
  const std::string value = lease_value(1);
  lsm::Memtable table;
  lsm::SequenceNumber seq = 1;
  for (const auto& k : keys) table.add(seq++, lsm::ValueType::Put, k, value);
  std::size_t i = 0;
  for (auto _ : state) {
    auto found = table.get(keys[i]);
    benchmark::DoNotOptimize(found);
    i = (i + 7919) % keys.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MemtableGetHit)->Arg(1 << 10)->Arg(1 << 17);

void BM_BloomProbe(benchmark::State& state) {
  const bool present = state.range(0) != 0;
  const auto keys = primary_keys(100'000);
  const auto absent = primary_keys(200'000);  // the second half is not in the filter
  lsm::BloomFilterBuilder builder(10);
  for (const auto& k : keys) builder.add_key(k);
  const std::string filter = builder.finish();
  std::size_t i = 0;
  std::size_t hits = 0;
  for (auto _ : state) {
    const std::string& key = present ? keys[i % keys.size()] : absent[100'000 + i % 100'000];
    hits += lsm::bloom_may_contain(filter, key);
    ++i;
  }
  benchmark::DoNotOptimize(hits);
  state.counters["may_contain_rate"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_BloomProbe)->Arg(1)->Arg(0)->ArgNames({"present"});

// A 4 KiB-class data block of internal keys, as the SSTable builder makes them.
std::string make_block(std::vector<std::string>& internal_keys) {
  auto keys = primary_keys(64);
  std::sort(keys.begin(), keys.end());
  lsm::BlockBuilder builder;
  const std::string value = lease_value(3);
  lsm::SequenceNumber seq = 100;
  for (const auto& k : keys) {
    internal_keys.push_back(lsm::make_internal_key(k, seq, lsm::ValueType::Put));
    builder.add(internal_keys.back(), value);
  }
  return std::string(builder.finish());
}

void BM_BlockParse(benchmark::State& state) {
  std::vector<std::string> internal_keys;
  const std::string contents = make_block(internal_keys);
  for (auto _ : state) {
    auto block = lsm::Block::parse(contents, lsm::BlockLocation{"bench.sst", 0});
    benchmark::DoNotOptimize(block);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(contents.size()));
  state.counters["block_bytes"] = static_cast<double>(contents.size());
}
BENCHMARK(BM_BlockParse);

void BM_BlockSeek(benchmark::State& state) {
  std::vector<std::string> internal_keys;
  const std::string contents = make_block(internal_keys);
  auto block = lsm::Block::parse(contents, lsm::BlockLocation{"bench.sst", 0});
  if (!block) {
    state.SkipWithError("block does not parse");
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    lsm::Block::Iterator it(block.value());
    it.seek(internal_keys[i]);
    benchmark::DoNotOptimize(it.valid());
    i = (i + 17) % internal_keys.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BlockSeek);

}  // namespace
