// Micro-benchmarks of the hot paths: see README.md for the command and numbers.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "orbit/lease.hpp"
#include "orbit/sync_wait.hpp"
#include "orbit/task.hpp"
#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"
#include "src/metrics/histogram.hpp"
#include "src/util/crc32c.hpp"
#include "src/wal/record_encoder.hpp"

namespace {

using namespace orbit;

// A lease whose encoding is about `target` bytes (custom_data pads it out).
Lease make_lease(std::size_t target) {
  const SystemTime now{std::chrono::nanoseconds{1'700'000'000'000'000'000}};
  Lease lease = Lease::create(ActorKey(Uuid::from_u64(42), "orbit.bench.Actor"), "node-7.cluster.local",
                              Millis{30'000}, now);
  lease.metadata.custom_data = "{}";
  const std::size_t base = codec::encoded_lease_size(lease);
  if (target > base) lease.metadata.custom_data = "{\"k\":\"" + std::string(target - base - 4, 'x') + "\"}";
  // Land on `target` exactly if the length prefix did not grow.
  while (codec::encoded_lease_size(lease) > target && lease.metadata.custom_data.size() > 8)
    lease.metadata.custom_data.erase(6, 1);
  return lease;
}

std::uint64_t next_rand(std::uint64_t& s) {  // xorshift64*
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 2685821657736338717ULL;
}

// ---- Lease codec -------------------------------------------------------------

void BM_LeaseEncode(benchmark::State& state) {
  const Lease lease = make_lease(static_cast<std::size_t>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    codec::encode_lease(lease, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["encoded_B"] = static_cast<double>(out.size());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_LeaseEncode)->Arg(128)->Arg(1024);

void BM_LeaseDecode(benchmark::State& state) {
  const std::string bytes = codec::encode_lease(make_lease(static_cast<std::size_t>(state.range(0))));
  for (auto _ : state) {
    auto lease = codec::decode_lease(bytes);
    if (!lease.ok()) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(lease);
  }
  state.counters["encoded_B"] = static_cast<double>(bytes.size());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_LeaseDecode)->Arg(128)->Arg(1024);

// ---- Key layout ----------------------------------------------------------------

const ActorKey& bench_key() {
  static const ActorKey key(Uuid::from_u64(0x1234'5678'9abc'def0ULL), "orbit.bench.Actor");
  return key;
}

void BM_PrimaryKey(benchmark::State& state) {
  const ActorKey& key = bench_key();
  for (auto _ : state) {
    std::string k = codec::primary_key(key);
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_PrimaryKey);

void BM_NodeIndexKey(benchmark::State& state) {
  const ActorKey& key = bench_key();
  const std::string node = "node-7.cluster.local";
  for (auto _ : state) {
    std::string k = codec::node_index_key(node, key);
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_NodeIndexKey);

void BM_ExpiryIndexKey(benchmark::State& state) {
  const ActorKey& key = bench_key();
  const SystemTime t{std::chrono::nanoseconds{1'700'000'000'123'456'789}};
  for (auto _ : state) {
    std::string k = codec::expiry_index_key(t, key);
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_ExpiryIndexKey);

// ---- CRC32C ----------------------------------------------------------------------

std::string crc_buffer(std::size_t n) {
  std::string buf(n, '\0');
  std::uint64_t s = 0x9e3779b97f4a7c15ULL;
  for (auto& c : buf) c = static_cast<char>(next_rand(s));
  return buf;
}

void BM_Crc32cValue(benchmark::State& state) {
  const std::string buf = crc_buffer(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    std::uint32_t c = crc32c::value(buf);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_Crc32cValue)->Arg(64)->Arg(4 << 10)->Arg(64 << 10);

void BM_Crc32cPortable(benchmark::State& state) {
  const std::string buf = crc_buffer(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    std::uint32_t c = crc32c::extend_portable(0, buf.data(), buf.size());
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_Crc32cPortable)->Arg(64)->Arg(4 << 10)->Arg(64 << 10);

void BM_Crc32cHardware(benchmark::State& state) {
  if (!crc32c::hardware_available()) {
    state.SkipWithError("no SSE4.2 crc32 on this CPU");
    return;
  }
  const std::string buf = crc_buffer(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    std::uint32_t c = crc32c::extend_hardware(0, buf.data(), buf.size());
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_Crc32cHardware)->Arg(64)->Arg(4 << 10)->Arg(64 << 10);

// ---- Latency histogram -----------------------------------------------------------

std::vector<std::uint64_t> latency_samples(std::size_t n) {
  // Roughly 1 us .. 8 ms, log-spread, like real operation latencies.
  std::vector<std::uint64_t> v(n);
  std::uint64_t s = 0x2545f4914f6cdd1dULL;
  for (auto& x : v) {
    const std::uint64_t r = next_rand(s);
    x = (1000ULL << (r % 14)) + (r >> 40) % 1000;
  }
  return v;
}

void BM_HistogramRecord(benchmark::State& state) {
  const auto samples = latency_samples(4096);
  metrics::LatencyHistogram h;
  std::size_t i = 0;
  for (auto _ : state) {
    h.record(samples[i]);
    i = (i + 1) & 4095;
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramPercentile(benchmark::State& state) {
  metrics::LatencyHistogram h;
  for (std::uint64_t x : latency_samples(1 << 20)) h.record(x);
  for (auto _ : state) {
    std::uint64_t p = h.percentile(99.9);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_HistogramPercentile);

// ---- Task / sync_wait --------------------------------------------------------------

Task<int> ready_value(int x) { co_return x + 1; }

Task<long> await_ready_values(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await ready_value(i);
  co_return sum;
}

// One co_await of a Task that completes without suspending (frame allocation,
// symmetric transfer in and out, value hand-off), amortized over 1024 awaits.
void BM_TaskAwaitReady(benchmark::State& state) {
  constexpr int kAwaits = 1024;
  for (auto _ : state) {
    long sum = sync_wait(await_ready_values(kAwaits));
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kAwaits);
}
BENCHMARK(BM_TaskAwaitReady);

// sync_wait of a trivial Task: driver frame, task frame, latch (mutex + condvar).
void BM_SyncWaitRoundTrip(benchmark::State& state) {
  int i = 0;
  for (auto _ : state) {
    int v = sync_wait(ready_value(i++));
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_SyncWaitRoundTrip);

// ---- WAL record encoder ------------------------------------------------------------

// The file offset advances across iterations (wrapping at 1 GiB), so block
// boundaries, fragmentation and padding occur at their natural rate.
void BM_WalEncodeRecord(benchmark::State& state) {
  const std::string payload = crc_buffer(128);
  std::string out;
  out.reserve(wal::RecordEncoder::max_encoded_size(payload.size()));
  std::uint64_t offset = 0;
  std::uint64_t lsn = 1;
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    wal::RecordEncoder enc(out, offset);
    enc.add_record(lsn++, payload);
    offset = enc.offset() & ((1ULL << 30) - 1);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WalEncodeRecord);

void BM_WalEncodeBatch16(benchmark::State& state) {
  std::vector<std::string> entries;
  for (int i = 0; i < 16; ++i) entries.push_back(crc_buffer(128));
  std::string out;
  out.reserve(wal::RecordEncoder::max_encoded_size(wal::RecordEncoder::batch_payload_size(entries)));
  std::uint64_t offset = 0;
  std::uint64_t lsn = 1;
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    wal::RecordEncoder enc(out, offset);
    enc.add_batch(lsn, entries);
    lsn += entries.size();
    offset = enc.offset() & ((1ULL << 30) - 1);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(entries.size()));
}
BENCHMARK(BM_WalEncodeBatch16);

}  // namespace

BENCHMARK_MAIN();
