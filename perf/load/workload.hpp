// The actor-lease workload: many actors renewing small leases concurrently,
// with reads of hot leases mixed in. One RunResult per (target, concurrency).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "orbit/persistence.hpp"
#include "src/metrics/histogram.hpp"

namespace orbit::bench {

// Operation mix in percent; the four add up to 100.
struct Mix {
  int renew = 70;    // renew_lease on a lease the worker owns (a durable write)
  int get = 25;      // get_lease of a random lease
  int acquire = 4;   // release + acquire of an owned lease (two durable writes)
  int scan = 1;      // scan_by_actor_type, 10 leases from a random start

  // "renew-heavy", "write-only", "read-heavy" or "renew=70,get=25,acquire=4,scan=1".
  static Mix parse(const std::string& text, std::string* error);
  std::string to_string() const;
  double write_fraction() const { return (renew + acquire) / 100.0; }
};

struct WorkloadOptions {
  std::uint64_t leases = 20000;
  std::uint32_t record_bytes = 128;  // approximate encoded size of one lease
  double seconds = 4.0;               // per (target, concurrency)
  std::uint64_t seed = 1;
  Mix mix;
  double hot_read_seconds = 1.0;  // per backend, the hot-get phase (0: none)
};

struct RunResult {
  std::string target;  // "CowBTree", "RocksDb", "rocksdb-direct", "device-fdatasync"
  // "mix" (the operation mix), "hot-get" (run_hot_reads), or "compaction":
  // the mix again on a store whose memtable is memtable_mb, so that it
  // flushes and compacts throughout.
  std::string workload = "mix";
  std::uint32_t memtable_mb = 0;  // "compaction" rows only
  std::uint32_t concurrency = 0;
  double seconds = 0;
  std::uint64_t ops = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  metrics::LatencyHistogram writes;
  metrics::LatencyHistogram reads;
  std::uint64_t user_bytes_written = 0;
  std::uint64_t disk_bytes_written = 0;  // 0 when the target cannot tell
  std::uint64_t peak_rss_bytes = 0;
  double cpu_seconds = 0;
  double fsyncs_per_write = 0;            // from StorageStats where reported
  // The store's background work during the run (StorageStats deltas).
  std::uint64_t flushes = 0;
  std::uint64_t compactions = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t write_stalls = 0;
  std::chrono::microseconds write_stall_time{0};

  double throughput() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
};

// The leases of the workload, deterministic from the seed.
Lease make_lease(std::uint64_t index, std::uint32_t record_bytes);
std::uint64_t lease_user_bytes(const Lease& lease);

// Stores `leases` leases into a fresh store (untimed).
Result<void> preload(PersistenceProvider& store, const WorkloadOptions& options);

// Runs `concurrency` coroutines against the store for options.seconds.
// `progress` is bumped per operation (read by the progress printer).
// `after_write`, if set, runs on the store's loop after every timed write,
// outside its time (the device comparison: one device write per write).
RunResult run_workload(PersistenceProvider& store, const WorkloadOptions& options, std::uint32_t concurrency,
                       std::atomic<std::uint64_t>& progress, const std::function<void()>& after_write = {});

// The hot point read through the public API: one coroutine on the store's
// loop reads kHotLeases stored leases with get_lease in turn, back to back,
// for options.hot_read_seconds; every read's latency goes into `reads`.
inline constexpr std::uint64_t kHotLeases = 64;
RunResult run_hot_reads(PersistenceProvider& store, const WorkloadOptions& options,
                        std::atomic<std::uint64_t>& progress);

}  // namespace orbit::bench
