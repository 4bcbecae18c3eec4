// Not a test: the measurements issue 6 asks for, printed, never asserted
// (timing belongs in perf/, and this one needs a million leases). Disabled;
// run by hand in a Release build:
//
//   ORBIT_MEASURE_LEASES=1000000 build/release/tests/engines/cow_btree/orbit_cow_store_tests
//       --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Measure*'
//
// Prints: preload time, open time of the store with N leases (page file
// load + WAL replay), resident memory of the open store against the raw
// lease bytes, and get_lease latency percentiles on the store's loop thread
// for one hot key and for random keys; then (MeasureCheckpointStall) how
// long checkpoints keep a writer on the same loop waiting.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engines/cow_btree/cow_store.hpp"
#include "orbit/sync_wait.hpp"
#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"
#include "tests/support/runtime_fixture.hpp"

namespace orbit::cow_btree {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

ActorKey key_of(std::uint64_t i) { return ActorKey(Uuid::from_u64(i + 1), "Player"); }

Lease lease_of(std::uint64_t i) {
  Lease lease = Lease::create(key_of(i), "node-" + std::to_string(i % 16), 30s);
  lease.metadata.custom_data = "{\"pad\":\"" + std::string(60, 'x') + "\"}";  // ~128 B encoded, as orbit-bench
  return lease;
}

std::unique_ptr<CowBTreeStore> open_store(const PersistenceConfig& config, CowStoreOptions store_options = {}) {
  io::RuntimeOptions options;
  std::string why;
  auto rt = io::Runtime::create(options, &why);
  if (!rt.ok()) return nullptr;
  auto opened = sync_wait(CowBTreeStore::open(config, std::move(rt.value()), store_options));
  if (!opened.ok()) {
    ADD_FAILURE() << opened.error().to_string();
    return nullptr;
  }
  return std::unique_ptr<CowBTreeStore>(static_cast<CowBTreeStore*>(opened.value().release()));
}

// Stores leases 0 .. leases-1, a thousand per batch.
void store_leases(CowBTreeStore& store, std::uint64_t leases) {
  for (std::uint64_t first = 0; first < leases; first += 1000) {
    WriteBatch batch;
    for (std::uint64_t i = first; i < std::min(leases, first + 1000); ++i) batch.put(lease_of(i));
    ASSERT_TRUE(sync_wait(store.apply_batch(std::move(batch))).ok());
  }
}

Task<std::vector<std::uint64_t>> timed_gets(CowBTreeStore* store, std::uint64_t leases, std::uint64_t count,
                                            bool hot) {
  std::vector<std::uint64_t> ns;
  ns.reserve(count);
  std::mt19937_64 rng(7);
  (void)co_await store->get_lease(key_of(0));  // hops onto the loop: the rest run there
  for (std::uint64_t i = 0; i < count; ++i) {
    const ActorKey key = key_of(hot ? 42 % leases : rng() % leases);
    const auto start = Clock::now();
    auto got = co_await store->get_lease(key);
    ns.push_back(static_cast<std::uint64_t>((Clock::now() - start).count()));
    if (!got.ok()) std::abort();
  }
  co_return ns;
}

// CPU time the calling thread has used, in nanoseconds.
std::uint64_t thread_cpu_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(t.tv_nsec);
}

struct Completion {
  Clock::time_point at;
  std::uint64_t loop_cpu_ns;  // the loop thread's CPU time then
};

// Renews (store_lease of a changed lease) in a loop on the store's loop
// thread until `stop`, recording when each write completed: a gap between
// two completions is how long the loop kept this writer waiting; the loop
// thread's CPU time in that gap is the part the loop itself spent, not the
// scheduler (the machine is shared).
Task<std::vector<Completion>> timed_writes(CowBTreeStore* store, std::uint64_t leases, std::atomic<bool>* stop) {
  std::vector<Completion> done;
  // Reserved: growing it runs on the loop, and copying 20-40 MB of
  // completions there showed up as 10-20 ms "gaps" in the measurement.
  done.reserve(std::size_t{1} << 23);
  std::mt19937_64 rng(11);
  (void)co_await store->get_lease(key_of(0));
  while (!stop->load()) {
    Lease lease = lease_of(rng() % leases);
    auto stored = co_await store->store_lease(std::move(lease));
    done.push_back({Clock::now(), thread_cpu_ns()});
    if (!stored.ok()) std::abort();
  }
  co_return done;
}

double percentile(std::vector<std::uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))]) / 1000.0;
}

TEST(CowMeasure, DISABLED_MeasureOneMillionLeases) {
  const char* n = std::getenv("ORBIT_MEASURE_LEASES");
  const std::uint64_t leases = n != nullptr ? std::strtoull(n, nullptr, 10) : 1000000;
  // ORBIT_MEASURE_DIR: keep the store there; a second run then measures
  // the open in a fresh process (RSS growth not hidden by freed memory).
  const char* keep = std::getenv("ORBIT_MEASURE_DIR");
  const std::string dir = keep != nullptr ? std::string(keep) : test_support::make_temp_dir("cow-measure");
  std::filesystem::create_directories(dir);
  const bool preload = !std::filesystem::exists(dir + "/orbit.pages");
  PersistenceConfig config;
  config.backend = PersistenceBackend::CowBTree;
  config.data_dir = dir;
  config.durability = DurabilityMode::None;  // preload speed; the page file is synced by the checkpoint anyway
  config.cow_config.enable_snapshots = false;

  std::uint64_t raw = 0;
  if (preload) {
    auto store = open_store(config);
    ASSERT_TRUE(store);
    const auto started = Clock::now();
    ASSERT_NO_FATAL_FAILURE(store_leases(*store, leases));
    const double preload_s = std::chrono::duration<double>(Clock::now() - started).count();
    auto stats = sync_wait(store->stats());
    ASSERT_TRUE(stats.ok());
    raw = stats->total_size_bytes + stats->average_key_size * stats->total_keys;
    std::printf("preload: %llu leases in %.2f s; raw lease bytes (primary key + encoded lease) %.1f MB\n",
                static_cast<unsigned long long>(leases), preload_s, static_cast<double>(raw) / 1e6);
    const auto closing = Clock::now();
    ASSERT_TRUE(sync_wait(store->close()).ok());
    std::printf("close (final checkpoint of the whole tree): %.2f s, page file %.1f MB\n",
                std::chrono::duration<double>(Clock::now() - closing).count(),
                static_cast<double>(std::filesystem::file_size(dir + "/orbit.pages")) / 1e6);
  }
  const std::uint64_t rss_before = rss_bytes();
  const auto opening = Clock::now();
  auto store = open_store(config);
  ASSERT_TRUE(store);
  const double open_s = std::chrono::duration<double>(Clock::now() - opening).count();
  const std::uint64_t rss_after = rss_bytes();
  const CowRecovery r = store->recovery();
  if (!preload) {
    auto stats = sync_wait(store->stats());
    ASSERT_TRUE(stats.ok());
    raw = stats->total_size_bytes + stats->average_key_size * stats->total_keys;
  }
  std::printf("open: %.3f s wall (page file load %.3f s for %llu entries, WAL replay %.3f s, %llu records)\n",
              open_s, static_cast<double>(r.load_time.count()) / 1e6,
              static_cast<unsigned long long>(r.loaded_entries), static_cast<double>(r.replay_time.count()) / 1e6,
              static_cast<unsigned long long>(r.replayed_records));
  std::printf("memory: RSS grew %.1f MB on open (process RSS %.1f MB) = %.2fx the raw lease bytes; "
              "estimate reported in stats %.1f MB\n",
              static_cast<double>(rss_after - rss_before) / 1e6, static_cast<double>(rss_after) / 1e6,
              static_cast<double>(rss_after - rss_before) / static_cast<double>(raw),
              static_cast<double>(store->memory_used()) / 1e6);
  for (bool hot : {true, false}) {
    auto ns = sync_wait(timed_gets(store.get(), leases, 200000, hot));
    std::printf("get_lease on the loop thread, %s: p50 %.3f us, p99 %.3f us, p99.9 %.3f us\n",
                hot ? "one hot key" : "random keys", percentile(ns, 0.5), percentile(ns, 0.99),
                percentile(ns, 0.999));
  }
  {
    // The engine alone (no API wrapper, metrics or coroutine frames): the
    // in-memory tree lookup plus decoding the lease, on the test thread
    // while the store is idle.
    const Tree tree = store->current_tree();
    const std::string key = codec::primary_key(key_of(42 % leases));
    std::vector<std::uint64_t> ns;
    for (int i = 0; i < 200000; ++i) {
      const auto start = Clock::now();
      auto value = tree.get(key);
      auto lease = codec::decode_lease(*value);
      ns.push_back(static_cast<std::uint64_t>((Clock::now() - start).count()));
      if (!lease.ok()) std::abort();
    }
    std::printf("engine only (Tree::get + decode_lease), one hot key: p50 %.3f us, p99 %.3f us\n",
                percentile(ns, 0.5), percentile(ns, 0.99));
  }
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  if (keep == nullptr) std::filesystem::remove_all(dir);
}

// How long a checkpoint keeps a writer on the same loop waiting (issue 6:
// never longer than swapping a root pointer). One coroutine renews random
// leases without fdatasync (durability none: the loop's own stalls show,
// not the device) while the test thread checkpoints every second; each
// checkpoint writes every leaf the renewals touched since the last one,
// with a million leases nearly all of them. Prints, per checkpoint, the
// gaps between consecutive completions that overlap it (wall time, and the
// loop thread's CPU time in the gap: the part the scheduler of a shared
// machine cannot inflate), and the gaps outside every checkpoint for
// comparison. Background checkpoints are off, so only the measured ones
// run. On tmpfs, so the device does not stall the loop either:
//
//   ORBIT_TEST_TMPDIR=/dev/shm ORBIT_MEASURE_LEASES=1000000
//       build/cowck/tests/engines/cow_btree/orbit_cow_store_tests
//       --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_MeasureCheckpointStall*'
TEST(CowMeasure, DISABLED_MeasureCheckpointStall) {
  const char* n = std::getenv("ORBIT_MEASURE_LEASES");
  const std::uint64_t leases = n != nullptr ? std::strtoull(n, nullptr, 10) : 1000000;
  constexpr int kCheckpoints = 5;
  const std::string dir = test_support::make_temp_dir("cow-stall");
  PersistenceConfig config;
  config.backend = PersistenceBackend::CowBTree;
  config.data_dir = dir;
  config.durability = DurabilityMode::None;
  config.cow_config.enable_snapshots = false;
  CowStoreOptions store_options;
  store_options.checkpoint_poll = std::chrono::milliseconds(0);
  auto store = open_store(config, store_options);
  ASSERT_TRUE(store);
  ASSERT_NO_FATAL_FAILURE(store_leases(*store, leases));
  const auto first = Clock::now();
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  std::printf("%llu leases; first checkpoint (whole tree, no writer) %.3f s\n",
              static_cast<unsigned long long>(leases), std::chrono::duration<double>(Clock::now() - first).count());

  std::atomic<bool> stop{false};
  std::vector<Completion> done;
  std::thread writer([&] { done = sync_wait(timed_writes(store.get(), leases, &stop)); });
  std::vector<std::pair<Clock::time_point, Clock::time_point>> checkpoints;
  for (int i = 0; i < kCheckpoints; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    const auto start = Clock::now();
    auto checkpointed = sync_wait(store->checkpoint());
    checkpoints.emplace_back(start, Clock::now());
    ASSERT_TRUE(checkpointed.ok()) << checkpointed.error().to_string();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  writer.join();

  // Gaps (wall, and the loop's CPU) per checkpoint they overlap; the last
  // pair collects the gaps outside every checkpoint.
  std::vector<std::pair<std::vector<std::uint64_t>, std::vector<std::uint64_t>>> gaps(checkpoints.size() + 1);
  for (std::size_t i = 1; i < done.size(); ++i) {
    std::vector<std::size_t> into;
    for (std::size_t c = 0; c < checkpoints.size(); ++c) {
      if (done[i].at > checkpoints[c].first && done[i - 1].at < checkpoints[c].second) into.push_back(c);
    }
    if (into.empty()) into.push_back(checkpoints.size());
    for (std::size_t c : into) {
      gaps[c].first.push_back(static_cast<std::uint64_t>((done[i].at - done[i - 1].at).count()));
      gaps[c].second.push_back(done[i].loop_cpu_ns - done[i - 1].loop_cpu_ns);
    }
  }
  for (std::size_t c = 0; c < gaps.size(); ++c) {
    const auto& [wall, cpu] = gaps[c];
    ASSERT_FALSE(wall.empty());
    if (c < checkpoints.size()) {
      std::printf("checkpoint %zu: %.1f ms, %zu writes; ", c + 1,
                  std::chrono::duration<double, std::milli>(checkpoints[c].second - checkpoints[c].first).count(),
                  wall.size());
    } else {
      std::printf("outside checkpoints: %zu writes; ", wall.size());
    }
    std::printf("gap between completions p50 %.1f us, p99.9 %.1f us, max %.1f us; loop CPU in a gap p99.9 %.1f us, "
                "max %.1f us\n",
                percentile(wall, 0.5), percentile(wall, 0.999), percentile(wall, 1.0), percentile(cpu, 0.999),
                percentile(cpu, 1.0));
  }
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace orbit::cow_btree
