#include "perf/load/workload.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "perf/load/process_stats.hpp"
#include "src/util/tick_clock.hpp"

namespace orbit::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kActorType = "Actor";
constexpr const char* kNode = "node-1";
constexpr std::uint32_t kFixedLeaseBytes = 80;  // uuid, type, node, times, counters

ActorKey key_of(std::uint64_t index) { return {Uuid::from_u64(index), kActorType}; }

// State shared by the workers of one run; all of them run on the store's loop.
struct Run {
  PersistenceProvider* store;
  const WorkloadOptions* options;
  std::uint32_t concurrency;
  Clock::time_point deadline;
  RunResult* result;
  std::atomic<std::uint64_t>* progress;
  std::vector<std::uint64_t> versions;  // version each owned lease is at
  const std::function<void()>* after_write;
};

void note_error(RunResult& result, const Error& error) {
  if (result.errors++ == 0) result.first_error = error.to_string();
}

template <typename R>
bool timed(Run& run, metrics::LatencyHistogram& into, Clock::time_point start, const R& r) {
  into.record(static_cast<std::uint64_t>((Clock::now() - start).count()));
  if (!r.ok()) note_error(*run.result, r.error());
  return r.ok();
}

template <typename R>
bool timed_write(Run& run, Clock::time_point start, const R& r) {
  const bool ok = timed(run, run.result->writes, start, r);
  if (*run.after_write) (*run.after_write)();
  return ok;
}

Task<void> worker(Run* run, std::uint32_t id) {
  const auto& o = *run->options;
  std::mt19937_64 rng(o.seed * 1000003 + id);
  const std::uint64_t owned = (o.leases - id + run->concurrency - 1) / run->concurrency;
  while (Clock::now() < run->deadline) {
    const int roll = static_cast<int>(rng() % 100);
    const std::uint64_t mine = id + (rng() % owned) * run->concurrency;
    auto start = Clock::now();
    if (roll < o.mix.renew) {
      auto r = co_await run->store->renew_lease({key_of(mine), kNode, run->versions[mine], 30s});
      if (timed_write(*run, start, r)) {
        run->versions[mine] = r->version;
        run->result->user_bytes_written += lease_user_bytes(r.value());
      }
    } else if (roll < o.mix.renew + o.mix.get) {
      auto r = co_await run->store->get_lease(key_of(rng() % o.leases));
      // Another worker may be between release and acquire of this lease:
      // NotFound is then the right answer, not an error.
      if (r.code() == ErrorCode::NotFound) run->result->reads.record(static_cast<std::uint64_t>((Clock::now() - start).count()));
      else timed(*run, run->result->reads, start, r);
    } else if (roll < o.mix.renew + o.mix.get + o.mix.acquire) {
      auto released = co_await run->store->release_lease({key_of(mine), kNode, run->versions[mine]});
      timed_write(*run, start, released);
      start = Clock::now();
      AcquireRequest request{key_of(mine), kNode, 30s, make_lease(mine, o.record_bytes).metadata.custom_data};
      auto acquired = co_await run->store->acquire_lease(std::move(request));
      if (timed_write(*run, start, acquired)) {
        run->versions[mine] = acquired->version;
        run->result->user_bytes_written += lease_user_bytes(acquired.value());
      }
      ++run->result->ops;
    } else {
      ScanOptions scan;
      scan.limit = 10;
      scan.start_after = key_of(rng() % o.leases);
      auto r = co_await run->store->scan_by_actor_type(kActorType, scan);
      timed(*run, run->result->reads, start, r);
    }
    ++run->result->ops;
    run->progress->fetch_add(1, std::memory_order_relaxed);
  }
}

Task<void> hot_reader(PersistenceProvider* store, std::uint64_t leases, Clock::duration length, RunResult* result,
                      std::atomic<std::uint64_t>* progress) {
  std::vector<ActorKey> hot;
  const std::uint64_t count = std::min(kHotLeases, leases);
  for (std::uint64_t i = 0; i < count; ++i) hot.push_back(key_of(i * (leases / count)));
  (void)co_await store->get_lease(hot[0]);  // hops onto the loop: the timed reads run there
  const auto deadline = Clock::now() + length;
  // Timed with the API's own operation clock (src/util/tick_clock.hpp): a
  // steady_clock read costs 24 ns on these machines, a tenth of the read
  // being measured; the TSC costs 10.
  for (std::size_t i = 0, n = 0;; i = (i + 1) % hot.size()) {
    const tick_clock::Ticks start = tick_clock::now();
    auto r = co_await store->get_lease(hot[i]);
    const tick_clock::Ticks end = tick_clock::now();
    result->reads.record(static_cast<std::uint64_t>(tick_clock::elapsed(start, end).count()));
    if (!r.ok()) note_error(*result, r.error());
    ++result->ops;
    if (++n % 1024 == 0) {
      progress->fetch_add(1024, std::memory_order_relaxed);
      if (Clock::now() >= deadline) break;
    }
  }
}

// Starts a task and counts it down when it ends, wherever it ends.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};
Detached start(Task<void> task, std::atomic<std::uint32_t>* running) {
  co_await std::move(task);
  running->fetch_sub(1, std::memory_order_acq_rel);
  running->notify_all();
}

}  // namespace

Mix Mix::parse(const std::string& text, std::string* error) {
  if (text == "renew-heavy") return Mix{};
  if (text == "write-only") return Mix{100, 0, 0, 0};
  if (text == "read-heavy") return Mix{10, 89, 0, 1};
  Mix mix{0, 0, 0, 0};
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    auto eq = part.find('=');
    int* slot = nullptr;
    std::string name = part.substr(0, eq);
    if (name == "renew") slot = &mix.renew;
    if (name == "get") slot = &mix.get;
    if (name == "acquire") slot = &mix.acquire;
    if (name == "scan") slot = &mix.scan;
    if (!slot || eq == std::string::npos) {
      *error = "--mix '" + text + "': unknown part '" + part +
               "'; accepted: renew-heavy, write-only, read-heavy or renew=N,get=N,acquire=N,scan=N";
      return Mix{};
    }
    try {
      *slot = std::stoi(part.substr(eq + 1));
    } catch (...) {
      *error = "--mix '" + text + "': '" + part + "' is not name=number";
      return Mix{};
    }
  }
  if (mix.renew + mix.get + mix.acquire + mix.scan != 100 || mix.renew < 0 || mix.get < 0 || mix.acquire < 0 ||
      mix.scan < 0)
    *error = "--mix '" + text + "': the parts must be >= 0 and add up to 100";
  return mix;
}

std::string Mix::to_string() const {
  return "renew=" + std::to_string(renew) + ",get=" + std::to_string(get) + ",acquire=" + std::to_string(acquire) +
         ",scan=" + std::to_string(scan);
}

Lease make_lease(std::uint64_t index, std::uint32_t record_bytes) {
  auto lease = Lease::create(key_of(index), kNode, 30s);
  const std::uint32_t pad = record_bytes > kFixedLeaseBytes + 10 ? record_bytes - kFixedLeaseBytes - 10 : 0;
  lease.metadata.custom_data = "{\"pad\":\"" + std::string(pad, 'x') + "\"}";
  return lease;
}

std::uint64_t lease_user_bytes(const Lease& lease) {
  return kFixedLeaseBytes + lease.key.actor_type.size() + lease.node_id.size() + lease.metadata.custom_data.size();
}

Result<void> preload(PersistenceProvider& store, const WorkloadOptions& options) {
  constexpr std::uint64_t kBatch = 500;
  for (std::uint64_t first = 0; first < options.leases; first += kBatch) {
    WriteBatch batch;
    for (std::uint64_t i = first; i < std::min(options.leases, first + kBatch); ++i)
      batch.put(make_lease(i, options.record_bytes));
    auto r = sync_wait(store.apply_batch(std::move(batch)));
    if (!r) return r;
  }
  return {};
}

RunResult run_workload(PersistenceProvider& store, const WorkloadOptions& options, std::uint32_t concurrency,
                       std::atomic<std::uint64_t>& progress, const std::function<void()>& after_write) {
  RunResult result;
  result.target = std::string(to_string(store.backend()));
  result.concurrency = concurrency;
  auto before = sync_wait(store.stats());

  Run run{&store,
          &options,
          concurrency,
          {},
          &result,
          &progress,
          std::vector<std::uint64_t>(options.leases, 1),
          &after_write};
  // Learn the version each lease is at (earlier runs renewed them).
  for (std::uint64_t i = 0; i < options.leases; ++i) {
    auto got = sync_wait(store.get_lease(key_of(i)));
    if (got) run.versions[i] = got->version;
  }

  reset_peak_rss();
  const double cpu_before = cpu_seconds();
  const auto started = Clock::now();
  run.deadline = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  std::atomic<std::uint32_t> running{concurrency};
  for (std::uint32_t w = 0; w < concurrency; ++w) start(worker(&run, w), &running);
  for (auto n = running.load(); n != 0; n = running.load()) running.wait(n);
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.cpu_seconds = cpu_seconds() - cpu_before;
  result.peak_rss_bytes = peak_rss_bytes();

  auto after = sync_wait(store.stats());
  if (before && after) {
    result.disk_bytes_written = after->disk_bytes_written - before->disk_bytes_written;
    const auto syncs = after->wal_syncs - before->wal_syncs;
    const auto writes = result.writes.count();
    result.fsyncs_per_write = writes ? static_cast<double>(syncs) / static_cast<double>(writes) : 0;
    result.flushes = after->flushes - before->flushes;
    result.compactions = after->compactions - before->compactions;
    result.checkpoints = after->checkpoints - before->checkpoints;
    result.write_stalls = after->write_stalls - before->write_stalls;
    result.write_stall_time = after->write_stall_time - before->write_stall_time;
  }
  return result;
}

RunResult run_hot_reads(PersistenceProvider& store, const WorkloadOptions& options,
                        std::atomic<std::uint64_t>& progress) {
  RunResult result;
  result.target = std::string(to_string(store.backend()));
  result.workload = "hot-get";
  result.concurrency = 1;
  reset_peak_rss();
  const double cpu_before = cpu_seconds();
  const auto started = Clock::now();
  sync_wait(hot_reader(&store, options.leases,
                       std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.hot_read_seconds)),
                       &result, &progress));
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.cpu_seconds = cpu_seconds() - cpu_before;
  result.peak_rss_bytes = peak_rss_bytes();
  return result;
}

}  // namespace orbit::bench
