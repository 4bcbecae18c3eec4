// orbit-bench: the actor-lease load benchmark, every backend side by side
// with RocksDB used directly and the device's own fdatasync, in one run.
//
//   orbit-bench [--backends cow,lsm,rocksdb] [--concurrency 1,64,256]
//               [--leases N] [--seconds S] [--mix renew-heavy] [--record-bytes B]
//               [--durability durable|buffered|none] [--io-backend auto|io_uring|asio]
//               [--data-dir DIR] [--json FILE] [--svg FILE] [--seed N] [--no-baselines]
//               [--hot-read-seconds S] [--device-rounds N] [--compaction-memtable-mb MB]
//
// Each backend first runs the hot-get phase (get_lease of a few hot leases
// through the public API, one reader on the store's loop: the point-read
// latency the API itself adds), then the mix at each concurrency. Then
// LsmTree, RocksDb and rocksdb-direct run the mix again at each concurrency
// above 1 with memtables of --compaction-memtable-mb (default 2), so that all
// three flush and compact throughout: the write tails with compaction running.
//
// Also reads ORBIT_CONFIG_FILE / --config and the ORBIT_* environment for the
// backends' settings; flags win. rocksdb-direct takes its memtable size from
// rocksdb_config.write_buffer_mb (ORBIT_ROCKSDB_WRITE_BUFFER_MB; default
// 64, RocksDB's own).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "orbit/persistence.hpp"
#include "perf/load/baselines.hpp"
#include "perf/load/report.hpp"
#include "perf/load/workload.hpp"

namespace orbit::bench {
namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

// Prints "[target c=N] 1.2/4.0 s  12345 ops" while a phase runs.
class Progress {
 public:
  Progress(std::string label, double seconds) : label_(std::move(label)), seconds_(seconds) {
    if (!tty_) std::fprintf(stderr, "running %s (%.1f s)\n", label_.c_str(), seconds_);
    if (tty_) thread_ = std::thread([this] { loop(); });
  }
  ~Progress() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
    if (tty_) std::fprintf(stderr, "\r%-78s\r", "");
  }
  std::atomic<std::uint64_t> ops{0};

 private:
  void loop() {
    const auto start = std::chrono::steady_clock::now();
    while (!done_) {
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\r%-40s %5.1f/%.1f s %10llu ops", label_.c_str(), std::min(t, seconds_), seconds_,
                   static_cast<unsigned long long>(ops.load()));
      std::fflush(stderr);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::string label_;
  double seconds_;
  bool tty_ = isatty(STDERR_FILENO);
  std::atomic<bool> done_{false};
  std::thread thread_;
};

std::optional<PersistenceBackend> parse_backend(const std::string& name) {
  if (name == "cow" || name == "CowBTree") return PersistenceBackend::CowBTree;
  if (name == "lsm" || name == "LsmTree") return PersistenceBackend::LsmTree;
  if (name == "rocksdb" || name == "RocksDb") return PersistenceBackend::RocksDb;
  return std::nullopt;
}

// `rounds` runs of 0.25 s of one writer on the store, each of its writes
// followed by one device probe write on the same thread: the two alternate
// write by write, so both meet the device in the same state (its fdatasync
// time drifts within seconds on shared machines).
// Returns "median 1.18x (rounds: 108/90 104/91 ...)".
std::string compare_with_device(PersistenceProvider& store, WorkloadOptions options, DeviceProbe& device,
                                std::uint32_t rounds, std::atomic<std::uint64_t>& progress) {
  options.seconds = 0.25;
  std::vector<double> ratios;
  std::string detail;
  char text[64];
  for (std::uint32_t i = 0; i < rounds; ++i) {
    RunResult probe;
    const RunResult run = run_workload(store, options, 1, progress, [&] { device.write_once(probe); });
    const double ours = static_cast<double>(run.writes.percentile(50)) / 1000;
    const double disk = static_cast<double>(probe.writes.percentile(50)) / 1000;
    ratios.push_back(disk > 0 ? ours / disk : 0);
    std::snprintf(text, sizeof text, "%s%.0f/%.0f", i ? " " : "", ours, disk);
    detail += text;
  }
  std::sort(ratios.begin(), ratios.end());
  const double median = rounds % 2 ? ratios[rounds / 2] : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
  std::snprintf(text, sizeof text, "median %.2fx", median);
  return std::string(text) + " (rounds: " + detail + ")";
}

int fail(const std::string& message) {
  std::fprintf(stderr, "orbit-bench: %s\n", message.c_str());
  return 2;
}

// A new store of `config` (its data_dir wiped first), preloaded.
Result<std::unique_ptr<PersistenceProvider>> open_preloaded(const PersistenceConfig& config,
                                                            const WorkloadOptions& options) {
  std::filesystem::remove_all(config.data_dir);
  auto store = sync_wait(PersistenceFactory::create_provider(config));
  if (!store)
    return make_error(store.error().code, "open " + config.data_dir + ": " + store.error().to_string());
  if (auto loaded = preload(**store, options); !loaded)
    return make_error(loaded.error().code, "preload " + config.data_dir + ": " + loaded.error().to_string());
  return store;
}

int run(int argc, char** argv) {
  CLI::App app{"orbit-bench: actor-lease load benchmark, all backends side by side"};
  WorkloadOptions options;
  std::string backends_flag, concurrency_flag = "1,64,256", mix_flag = "renew-heavy", durability_flag,
                             io_flag, data_dir = "./orbit-bench-data", json_path, svg_path, config_file;
  bool no_baselines = false;
  std::uint32_t device_rounds = 6;
  std::uint32_t compaction_memtable_mb = 2;
  app.add_option("--backends", backends_flag, "comma list of cow,lsm,rocksdb (default: every backend built)");
  app.add_option("--concurrency", concurrency_flag, "comma list of operations in flight")->capture_default_str();
  app.add_option("--leases", options.leases, "leases in the store")->capture_default_str();
  app.add_option("--seconds", options.seconds, "seconds per backend and concurrency")->capture_default_str();
  app.add_option("--mix", mix_flag, "renew-heavy | write-only | read-heavy | renew=N,get=N,acquire=N,scan=N")
      ->capture_default_str();
  app.add_option("--record-bytes", options.record_bytes, "approximate bytes per lease")->capture_default_str();
  app.add_option("--durability", durability_flag, "durable | buffered | none (default: config, else durable)");
  app.add_option("--io-backend", io_flag, "auto | io_uring | asio (default: config, else auto)");
  app.add_option("--data-dir", data_dir, "where the stores live (wiped per backend)")->capture_default_str();
  app.add_option("--json", json_path, "JSON output (default: DATA_DIR/orbit-bench.json)");
  app.add_option("--svg", svg_path, "chart output (default: DATA_DIR/orbit-bench.svg)");
  app.add_option("--config", config_file, "JSON config file (else ORBIT_CONFIG_FILE)");
  app.add_option("--seed", options.seed, "workload seed")->capture_default_str();
  app.add_option("--hot-read-seconds", options.hot_read_seconds,
                 "seconds of hot get_lease per backend before the mix (0: skip)")
      ->capture_default_str();
  app.add_flag("--no-baselines", no_baselines, "skip rocksdb-direct and device-fdatasync");
  app.add_option(
         "--device-rounds", device_rounds,
         "per backend, 0.25 s rounds of 1 writer whose every write is followed by one device-fdatasync "
         "write, for the write p50 ratio (durable mode, with baselines; 0: none)")
      ->capture_default_str();
  app.add_option(
         "--compaction-memtable-mb", compaction_memtable_mb,
         "then LsmTree, RocksDb and rocksdb-direct (those selected) again at each concurrency above 1, "
         "with memtables of this many MB, so that they flush and compact throughout; their write p99.9 "
         "compared (0: skip)")
      ->check(CLI::Range(0u, 4096u))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  std::string error;
  options.mix = Mix::parse(mix_flag, &error);
  if (!error.empty()) return fail(error);
  std::vector<std::uint32_t> levels;
  for (const auto& c : split(concurrency_flag)) {
    try {
      levels.push_back(static_cast<std::uint32_t>(std::stoul(c)));
    } catch (...) {
      return fail("--concurrency '" + concurrency_flag + "': '" + c + "' is not a number; accepted: e.g. 1,64,256");
    }
    if (levels.back() == 0 || levels.back() > 100000)
      return fail("--concurrency " + c + " is out of range; accepted: 1..100000");
  }
  std::uint32_t max_level = *std::max_element(levels.begin(), levels.end());
  if (options.leases < max_level)
    return fail("--leases " + std::to_string(options.leases) + " is below the highest concurrency " +
                std::to_string(max_level) + "; each writer owns at least one lease");
  if (options.seconds <= 0 || options.seconds > 3600) return fail("--seconds must be in (0, 3600]");
  if (options.hot_read_seconds < 0 || options.hot_read_seconds > 3600)
    return fail("--hot-read-seconds must be in [0, 3600]");

  auto base = load_config(config_file, true);
  if (!base) return fail(base.error().to_string());
  PersistenceConfig config = base.value();
  if (!durability_flag.empty()) {
    auto parsed = config_from_json_text("{\"durability\": \"" + durability_flag + "\"}", config);
    if (!parsed) return fail("--durability: " + parsed.error().message);
    config = parsed.value();
  }
  if (!io_flag.empty()) {
    auto parsed = config_from_json_text("{\"io_backend\": \"" + io_flag + "\"}", config);
    if (!parsed) return fail("--io-backend: " + parsed.error().message);
    config = parsed.value();
  }

  std::vector<PersistenceBackend> backends;
  if (backends_flag.empty()) {
    backends = PersistenceFactory::available_backends();
  } else {
    for (const auto& name : split(backends_flag)) {
      auto b = parse_backend(name);
      if (!b) return fail("--backends: unknown backend '" + name + "'; accepted: cow, lsm, rocksdb");
      if (!PersistenceFactory::is_available(*b))
        return fail("--backends: " + name + " is not available in this build");
      backends.push_back(*b);
    }
  }
  std::filesystem::create_directories(data_dir);
  if (json_path.empty()) json_path = data_dir + "/orbit-bench.json";
  if (svg_path.empty()) svg_path = data_dir + "/orbit-bench.svg";

  std::printf("orbit-bench: %llu leases of ~%u B, mix %s, %s, %.1f s per run, backends:",
              static_cast<unsigned long long>(options.leases), options.record_bytes, options.mix.to_string().c_str(),
              std::string(to_string(config.durability)).c_str(), options.seconds);
  for (auto b : backends) std::printf(" %s", std::string(to_string(b)).c_str());
  std::printf("\n");

  std::vector<RunResult> rows;
  DeviceProbe device;
  if (!no_baselines) {
    if (!device.open(data_dir, &error)) return fail(error);
    Progress progress("device-fdatasync", options.seconds);
    rows.push_back(device.run(options.seconds, progress.ops));
  }
  // The disk's fdatasync time drifts within seconds on shared machines: the
  // 1-writer ratio comes from rounds alternating with the device write by write.
  std::vector<std::string> ratios;
  const bool compare_device =
      !no_baselines && device_rounds > 0 && config.durability == DurabilityMode::Durable;
  for (auto backend : backends) {
    PersistenceConfig c = config;
    c.backend = backend;
    c.data_dir = data_dir + "/" + std::string(to_string(backend));
    auto store = open_preloaded(c, options);
    if (!store) return fail(store.error().message);
    if (options.hot_read_seconds > 0) {
      Progress progress(std::string(to_string(backend)) + " hot get_lease", options.hot_read_seconds);
      rows.push_back(run_hot_reads(**store, options, progress.ops));
    }
    for (auto level : levels) {
      Progress progress(std::string(to_string(backend)) + " c=" + std::to_string(level), options.seconds);
      rows.push_back(run_workload(**store, options, level, progress.ops));
    }
    if (compare_device) {
      Progress progress(std::string(to_string(backend)) + " 1 writer vs device", 0.25 * device_rounds);
      ratios.push_back(std::string(to_string(backend)) + ": " +
                       compare_with_device(**store, options, device, device_rounds, progress.ops));
    }
    if (auto closed = sync_wait((*store)->close()); !closed) return fail(closed.error().to_string());
  }
  // A rocksdb-direct row in data_dir/rocksdb-direct<suffix>; sets `error` on failure.
  auto run_direct = [&](std::uint32_t level, std::uint32_t write_buffer_mb, const std::string& suffix) {
    Progress progress("rocksdb-direct c=" + std::to_string(level) + suffix, options.seconds);
    return run_rocksdb_direct(data_dir + "/rocksdb-direct" + suffix, options, level,
                              config.durability == DurabilityMode::Durable, write_buffer_mb, progress.ops,
                              &error);
  };
  if (!no_baselines) {
    for (auto level : levels) {
      rows.push_back(run_direct(level, config.rocksdb_config.write_buffer_mb, ""));
      if (!error.empty()) return fail(error);
    }
  }
  // With compaction running: LsmTree against RocksDB, both with small
  // memtables. (With the default 64 MB, a few seconds at 64 in flight fill
  // RocksDB's memtable not even once.)
  const bool lsm = std::find(backends.begin(), backends.end(), PersistenceBackend::LsmTree) != backends.end();
  if (compaction_memtable_mb > 0 && lsm) {
    const std::string suffix = "-" + std::to_string(compaction_memtable_mb) + "mb";
    auto mark = [&](RunResult row) {
      row.workload = "compaction";
      row.memtable_mb = compaction_memtable_mb;
      rows.push_back(std::move(row));
    };
    for (auto backend : backends) {
      if (backend == PersistenceBackend::CowBTree) continue;
      PersistenceConfig c = config;
      c.backend = backend;
      c.data_dir = data_dir + "/" + std::string(to_string(backend)) + suffix;
      c.lsm_config.memtable_size_mb = compaction_memtable_mb;
      c.rocksdb_config.write_buffer_mb = compaction_memtable_mb;
      auto store = open_preloaded(c, options);
      if (!store) return fail(store.error().message);
      for (auto level : levels) {
        if (level == 1) continue;
        Progress progress(std::string(to_string(backend)) + " c=" + std::to_string(level) + suffix,
                          options.seconds);
        mark(run_workload(**store, options, level, progress.ops));
      }
      if (auto closed = sync_wait((*store)->close()); !closed) return fail(closed.error().to_string());
    }
    for (auto level : levels) {
      if (level == 1 || no_baselines) continue;
      mark(run_direct(level, compaction_memtable_mb, suffix));
      if (!error.empty()) return fail(error);
    }
  }

  RunContext context{options, std::string(to_string(config.durability)), std::string(to_string(config.io_backend)),
                     data_dir};
  std::fputs(format_table(rows).c_str(), stdout);
  if (!ratios.empty()) {
    std::printf(
        "1 writer vs device-fdatasync, %u rounds of 0.25 s alternating write by write, write p50 us "
        "(backend/device):\n",
        device_rounds);
    for (const auto& line : ratios) std::printf("  %s\n", line.c_str());
  }
  std::ofstream(json_path) << to_json(rows, context);
  std::ofstream(svg_path) << to_svg(rows, context);
  std::printf("wrote %s and %s\n", json_path.c_str(), svg_path.c_str());
  return 0;
}

}  // namespace
}  // namespace orbit::bench

int main(int argc, char** argv) { return orbit::bench::run(argc, argv); }
