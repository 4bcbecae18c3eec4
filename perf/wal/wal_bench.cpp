// wal_bench: durable append throughput and latency of the group-committed
// WAL at 1..1024 concurrent writers (128-byte records), side by side with
// (a) the device: one 4 KiB pwrite + fdatasync at a time into a
//     preallocated file (both a fallocated file and a pre-written one), and
// (b) RocksDB used directly with WriteOptions::sync = true, one thread per
//     writer (capped by --rocksdb-max-threads).
// Also: a new log's first segment at 1 writer, growing file vs early roll
// onto the spare prepared at open (alternating rounds beside the device).
// Also: the WAL's two sync methods (write+fdatasync vs O_DSYNC) at 1 and 256
// writers in alternating short rounds (the disk drifts), to justify the
// default. WAL and RocksDB run back to back per writer count. Closed loop: each writer appends, waits
// for its ack, appends again, for --seconds per point.
//
// Usage: wal_bench [--dir=PATH] [--seconds=S] [--writers=1,16,64,256,1024]
//                  [--rocksdb-max-threads=N] [--backend=io_uring|asio]
//                  [--skip-rocksdb] [--skip-method-compare] [--json=PATH]
#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io/runtime.hpp"
#include "src/metrics/histogram.hpp"
#include "src/wal/wal.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using orbit::metrics::LatencyHistogram;

struct Flags {
  std::string dir = "/tmp/orbit-wal-bench";
  double seconds = 3.5;
  std::vector<int> writers{1, 16, 64, 256, 1024};
  int rocksdb_max_threads = 1024;
  orbit::io::BackendChoice backend = orbit::io::BackendChoice::IoUring;
  bool rocksdb = true;
  bool method_compare = true;
  std::string json;
};

struct Row {
  std::string system;
  int writers = 0;
  double ops_per_sec = 0;
  LatencyHistogram latency;
  double records_per_sync = 0;  // WAL only
  double bytes_per_user_byte = 0;
  std::string note;
};

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string record_payload(std::uint64_t i) {
  std::string s(128, 'r');
  std::snprintf(s.data(), 24, "w%020llu", static_cast<unsigned long long>(i));
  s[21] = 'r';
  return s;
}

// ---- (a) the device ---------------------------------------------------------

Row device_baseline(const Flags& flags, bool prewritten) {
  Row row;
  row.system = prewritten ? "device 4KiB pwrite+fdatasync (pre-written file)"
                          : "device 4KiB pwrite+fdatasync (fallocated file)";
  row.writers = 1;
  std::string path = flags.dir + (prewritten ? "/device-prewritten" : "/device-fallocated");
  constexpr std::uint64_t kFileSize = 64ull << 20;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    std::perror("open device file");
    std::exit(1);
  }
  std::vector<char> block(4096, 'd');
  if (prewritten) {
    std::vector<char> chunk(1 << 20, 0);
    for (std::uint64_t off = 0; off < kFileSize; off += chunk.size()) {
      if (::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) < 0) std::perror("pwrite");
    }
  } else if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, kFileSize) != 0) {
    std::perror("fallocate");
  }
  ::fsync(fd);
  auto deadline = Clock::now() + std::chrono::duration<double>(flags.seconds);
  std::uint64_t ops = 0;
  auto start = Clock::now();
  for (std::uint64_t off = 0; Clock::now() < deadline; off = (off + 4096) % kFileSize) {
    auto t0 = Clock::now();
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(off)) != 4096 || ::fdatasync(fd) != 0) {
      std::perror("pwrite/fdatasync");
      break;
    }
    row.latency.record(static_cast<std::uint64_t>((Clock::now() - t0).count()));
    ++ops;
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  row.ops_per_sec = static_cast<double>(ops) / elapsed;
  ::close(fd);
  std::filesystem::remove(path);
  return row;
}

// ---- the WAL ------------------------------------------------------------------

std::unique_ptr<orbit::wal::Wal> open_wal(orbit::io::Runtime& rt, const orbit::wal::WalOptions& options) {
  auto r = rt.block_on(orbit::wal::Wal::open(rt, options));
  if (!r) {
    std::fprintf(stderr, "wal open: %s\n", r.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(r.value());
}

// Opens a WAL in steady state: segments freed by checkpoints get recycled,
// so a pool of them is warmed up (written, then truncated away) and the
// fresh segment open() starts with is filled, before anything is measured.
std::unique_ptr<orbit::wal::Wal> open_warm_wal(const Flags& flags, orbit::io::Runtime& rt,
                                               orbit::wal::SyncMethod method) {
  std::string dir = flags.dir + (method == orbit::wal::SyncMethod::OpenDsync ? "/wal-dsync" : "/wal");
  std::filesystem::remove_all(dir);
  orbit::wal::WalOptions options;
  options.dir = dir;
  options.sync_method = method;
  options.segment_size = 16ull << 20;
  auto open = [&](const orbit::wal::WalOptions& o) { return open_wal(rt, o); };
  orbit::wal::WalOptions warm = options;
  warm.durability = orbit::wal::Durability::None;
  auto w = open(warm);
  std::string big(1 << 20, 'w');
  for (std::uint64_t i = 0; i < 3 * (options.segment_size >> 20) + 1; ++i) (void)rt.block_on(w->append(big));
  (void)rt.block_on(w->truncate_before(w->next_lsn()));
  (void)rt.block_on(w->close());
  w.reset();
  auto wal = open(options);
  (void)rt.block_on(wal->append(std::string(options.segment_size, 'f')));
  return wal;
}

Row wal_run(const Flags& flags, orbit::io::Runtime& rt, orbit::wal::Wal* log, int writers,
            const std::string& label) {
  Row row;
  row.system = label;
  row.writers = writers;
  auto wal = log;
  orbit::wal::WalStats before = wal->stats();

  std::vector<LatencyHistogram> histograms(static_cast<std::size_t>(writers));
  std::atomic<bool> stop{false};
  std::latch done(writers);
  std::uint64_t total = 0;
  auto start = Clock::now();
  for (int w = 0; w < writers; ++w) {
    rt.spawn([](orbit::wal::Wal* log, LatencyHistogram* h, std::atomic<bool>* stop, std::latch* done,
                std::uint64_t* total, int id) -> orbit::Task<void> {
      for (std::uint64_t i = 0; !stop->load(std::memory_order_relaxed); ++i) {
        auto t0 = Clock::now();
        auto r = co_await log->append(record_payload(static_cast<std::uint64_t>(id) << 32 | i));
        if (!r) {
          std::fprintf(stderr, "append: %s\n", r.error().to_string().c_str());
          break;
        }
        h->record(static_cast<std::uint64_t>((Clock::now() - t0).count()));
        ++*total;
      }
      done->count_down();
    }(wal, &histograms[static_cast<std::size_t>(w)], &stop, &done, &total, w));
  }
  // A checkpointer frees old segments once a second, as an engine would.
  auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(flags.seconds));
  while (Clock::now() < deadline) {
    Clock::duration left = deadline - Clock::now();
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::seconds(1), left));
    rt.spawn([](orbit::wal::Wal* log) -> orbit::Task<void> {
      (void)co_await log->truncate_before(log->durable_lsn());
    }(wal));
  }
  stop = true;
  done.wait();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  orbit::wal::WalStats after = rt.block_on(
      [](orbit::wal::Wal* log) -> orbit::Task<orbit::wal::WalStats> { co_return log->stats(); }(wal));
  for (auto& h : histograms) row.latency.merge(h);
  row.ops_per_sec = static_cast<double>(total) / elapsed;
  std::uint64_t syncs = after.syncs - before.syncs;
  std::uint64_t records = after.records - before.records;
  row.records_per_sync = syncs ? static_cast<double>(records) / static_cast<double>(syncs) : 0;
  row.bytes_per_user_byte = records ? static_cast<double>(after.bytes_written - before.bytes_written) /
                                          static_cast<double>(records * 128)
                                    : 0;
  row.note = "segments recycled " + std::to_string(after.segments_recycled - before.segments_recycled) +
             ", created " + std::to_string(after.segments_created - before.segments_created);
  return row;
}

// A new log (default options, as an engine opens one on a new store) for
// one run, then deleted. Its first segment is a new file that every append
// grows, so each fdatasync also commits the file size; the log rolls early
// onto the spare it prepares in the background (measured once the spare is
// ready: writing its zeros competes for the disk either way). Without
// spares (prepare_spare = false) it stays on the growing file: the slow path.
Row fresh_wal_run(const Flags& flags, orbit::io::Runtime& rt, bool prepare_spare) {
  orbit::wal::WalOptions options;
  options.dir = flags.dir + "/wal-fresh";
  options.prepare_spare = prepare_spare;
  std::filesystem::remove_all(options.dir);
  auto wal = open_wal(rt, options);
  auto created = [&] {
    return rt.block_on([](orbit::wal::Wal* log) -> orbit::Task<std::uint64_t> {
      co_return log->stats().segments_created;
    }(wal.get()));
  };
  for (int i = 0; prepare_spare && created() < 2 && i < 3000; ++i)  // segment 1 and the spare
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Row row = wal_run(flags, rt, wal.get(), 1, "");
  (void)rt.block_on(wal->close());
  std::filesystem::remove_all(options.dir);
  return row;
}

// ---- (b) RocksDB ------------------------------------------------------------------

Row rocksdb_run(const Flags& flags, int writers) {
  Row row;
  int threads = std::min(writers, flags.rocksdb_max_threads);
  row.system = "rocksdb sync=true";
  row.writers = threads;
  if (threads != writers) row.note = "capped at " + std::to_string(threads) + " threads";
  std::string dir = flags.dir + "/rocksdb";
  std::filesystem::remove_all(dir);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  auto status = rocksdb::DB::Open(options, dir, &raw);
  if (!status.ok()) {
    std::fprintf(stderr, "rocksdb open: %s\n", status.ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  std::vector<LatencyHistogram> histograms(static_cast<std::size_t>(threads));
  std::atomic<std::uint64_t> total{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::uint64_t ops = 0;
      for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        char key[32];
        std::snprintf(key, sizeof(key), "k%d:%llu", t, static_cast<unsigned long long>(i % 4096));
        auto t0 = Clock::now();
        auto s = db->Put(write_options, key, record_payload(i));
        if (!s.ok()) break;
        histograms[static_cast<std::size_t>(t)].record(
            static_cast<std::uint64_t>((Clock::now() - t0).count()));
        ++ops;
      }
      total += ops;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(flags.seconds));
  stop = true;
  for (auto& th : pool) th.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& h : histograms) row.latency.merge(h);
  row.ops_per_sec = static_cast<double>(total.load()) / elapsed;
  db.reset();
  std::filesystem::remove_all(dir);
  return row;
}

// ---- report -----------------------------------------------------------------------

void print_row(const Row& r) {
  std::printf("%-50s %7d %12.0f %10.1f %10.1f %10.1f %10.1f %9.1f  %s\n", r.system.c_str(), r.writers,
              r.ops_per_sec, us(r.latency.percentile(50)), us(r.latency.percentile(99)),
              us(r.latency.percentile(99.9)), us(r.latency.max()), r.records_per_sync, r.note.c_str());
  std::fflush(stdout);
}

void write_json(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream out(path);
  out << "[\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    out << "  {\"system\": \"" << r.system << "\", \"writers\": " << r.writers
        << ", \"ops_per_sec\": " << r.ops_per_sec << ", \"p50_us\": " << us(r.latency.percentile(50))
        << ", \"p99_us\": " << us(r.latency.percentile(99))
        << ", \"p999_us\": " << us(r.latency.percentile(99.9)) << ", \"max_us\": " << us(r.latency.max())
        << ", \"records_per_sync\": " << r.records_per_sync
        << ", \"disk_bytes_per_user_byte\": " << r.bytes_per_user_byte << ", \"note\": \"" << r.note << "\"}"
        << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  out << "]\n";
}

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      std::size_t n = std::strlen(name);
      return a.compare(0, n, name) == 0 ? a.c_str() + n : nullptr;
    };
    if (auto v = value("--dir=")) {
      f.dir = v;
    } else if (auto v = value("--seconds=")) {
      f.seconds = std::atof(v);
    } else if (auto v = value("--writers=")) {
      f.writers.clear();
      for (const char* p = v; *p;) {
        f.writers.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    } else if (auto v = value("--rocksdb-max-threads=")) {
      f.rocksdb_max_threads = std::atoi(v);
    } else if (auto v = value("--backend=")) {
      f.backend =
          std::string(v) == "asio" ? orbit::io::BackendChoice::Asio : orbit::io::BackendChoice::IoUring;
    } else if (a == "--skip-rocksdb") {
      f.rocksdb = false;
    } else if (a == "--skip-method-compare") {
      f.method_compare = false;
    } else if (auto v = value("--json=")) {
      f.json = v;
    } else {
      std::fprintf(stderr, "unknown flag %s (see the comment at the top of wal_bench.cpp)\n", a.c_str());
      std::exit(2);
    }
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = parse(argc, argv);
  std::filesystem::create_directories(flags.dir);
  orbit::io::RuntimeOptions runtime_options;
  runtime_options.backend = flags.backend;
  std::string why;
  auto created = orbit::io::Runtime::create(runtime_options, &why);
  if (!created) {
    std::fprintf(stderr, "runtime: %s\n", why.c_str());
    return 1;
  }
  auto rt = std::move(created.value());
  std::printf("wal_bench: dir %s, %.1f s per point, backend %s, 128-byte records, closed loop\n",
              flags.dir.c_str(), flags.seconds, std::string(orbit::io::to_string(rt->kind())).c_str());
  std::printf("%-50s %7s %12s %10s %10s %10s %10s %9s  %s\n", "system", "writers", "ops/s", "p50 us",
              "p99 us", "p99.9 us", "max us", "rec/sync", "note");

  std::vector<Row> rows;
  rows.push_back(device_baseline(flags, true));
  print_row(rows.back());
  rows.push_back(device_baseline(flags, false));
  print_row(rows.back());
  double device_p50 = static_cast<double>(rows[0].latency.percentile(50));

  // The rows measure the default method (O_DSYNC); the comparison below
  // alternates it with write + fdatasync.
  auto wal = open_warm_wal(flags, *rt, orbit::wal::SyncMethod::OpenDsync);
  if (flags.method_compare) {
    // The disk's speed drifts (shared, throttled): alternate the two
    // methods in short rounds and compare medians.
    Flags short_run = flags;
    short_run.seconds = std::max(0.5, flags.seconds / 5);
    auto fdatasync = open_warm_wal(flags, *rt, orbit::wal::SyncMethod::WriteThenDatasync);
    for (int w : {1, 256}) {
      std::vector<double> a, b, pa, pb;
      for (int round = 0; round < 4; ++round) {
        Row x = wal_run(short_run, *rt, fdatasync.get(), w, "");
        Row y = wal_run(short_run, *rt, wal.get(), w, "");
        a.push_back(x.ops_per_sec);
        pa.push_back(us(x.latency.percentile(50)));
        b.push_back(y.ops_per_sec);
        pb.push_back(us(y.latency.percentile(50)));
      }
      auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
      };
      std::printf(
          "sync method, %4d writers, median of 4 alternating %.1f s rounds: write+fdatasync %.0f ops/s "
          "p50 %.1f us | O_DSYNC %.0f ops/s p50 %.1f us\n",
          w, short_run.seconds, median(a), median(pa), median(b), median(pb));
    }
    (void)rt->block_on(fdatasync->close());
  }
  // The headline ratios, each from alternating short rounds (medians), so a
  // change in the disk's speed hits both sides alike.
  {
    Flags short_run = flags;
    short_run.seconds = std::max(0.25, flags.seconds / 8);
    std::vector<double> device_p50s, wal_p50s, ratios;
    for (int round = 0; round < 6; ++round) {
      Row d = device_baseline(short_run, true);
      Row x = wal_run(short_run, *rt, wal.get(), 1, "");
      device_p50s.push_back(us(d.latency.percentile(50)));
      wal_p50s.push_back(us(x.latency.percentile(50)));
      ratios.push_back(wal_p50s.back() / device_p50s.back());
    }
    std::sort(ratios.begin(), ratios.end());
    std::printf("1 writer vs device, 6 alternating %.2f s rounds: p50 ratio median %.2fx (rounds:",
                short_run.seconds, (ratios[2] + ratios[3]) / 2);
    for (std::size_t i = 0; i < wal_p50s.size(); ++i)
      std::printf(" %.0f/%.0f us", wal_p50s[i], device_p50s[i]);
    std::printf(")\n");
    // A new log's first segment: growing file vs early roll, each round
    // beside the device.
    Flags fresh_run = flags;
    fresh_run.seconds = std::max(0.5, flags.seconds / 3);
    std::printf(
        "new log, 1 writer vs device, 4 alternating %.2f s rounds, p50 growing segment (no spare) / "
        "early roll onto the spare / device:",
        fresh_run.seconds);
    std::vector<double> growing_ratios, early_ratios;
    for (int round = 0; round < 4; ++round) {
      Row growing = fresh_wal_run(fresh_run, *rt, false);
      Row early = fresh_wal_run(fresh_run, *rt, true);
      double device = us(device_baseline(short_run, true).latency.percentile(50));
      growing_ratios.push_back(us(growing.latency.percentile(50)) / device);
      early_ratios.push_back(us(early.latency.percentile(50)) / device);
      std::printf(" %.0f/%.0f/%.0f us", us(growing.latency.percentile(50)), us(early.latency.percentile(50)),
                  device);
    }
    std::sort(growing_ratios.begin(), growing_ratios.end());
    std::sort(early_ratios.begin(), early_ratios.end());
    std::printf(" -> p50 ratio median: growing %.2fx, early roll %.2fx\n",
                (growing_ratios[1] + growing_ratios[2]) / 2, (early_ratios[1] + early_ratios[2]) / 2);
    if (flags.rocksdb) {
      short_run.seconds = std::max(0.5, flags.seconds / 4);
      std::vector<double> tput;
      std::printf("256 writers vs rocksdb, 4 alternating %.2f s rounds: throughput ratio", short_run.seconds);
      for (int round = 0; round < 4; ++round) {
        Row x = wal_run(short_run, *rt, wal.get(), 256, "");
        Row r = rocksdb_run(short_run, 256);
        tput.push_back(x.ops_per_sec / r.ops_per_sec);
        std::printf(" %.0f/%.0f", x.ops_per_sec, r.ops_per_sec);
      }
      std::sort(tput.begin(), tput.end());
      std::printf(" ops/s -> median %.1fx\n", (tput[1] + tput[2]) / 2);
    }
    std::fflush(stdout);
  }
  for (int w : flags.writers) {
    rows.push_back(wal_run(flags, *rt, wal.get(), w, "wal durable, O_DSYNC (default)"));
    print_row(rows.back());
    double wal_ops = rows.back().ops_per_sec;
    if (w == 1) {
      std::printf("  -> 1 writer p50 / device p50 = %.2fx\n",
                  static_cast<double>(rows.back().latency.percentile(50)) / device_p50);
    }
    if (flags.rocksdb) {
      rows.push_back(rocksdb_run(flags, w));
      print_row(rows.back());
      std::printf("  -> wal / rocksdb throughput at %d writers = %.1fx\n", w,
                  wal_ops / rows.back().ops_per_sec);
    }
  }
  (void)rt->block_on(wal->close());
  rows.push_back(device_baseline(flags, true));
  rows.back().note = "measured again at the end";
  print_row(rows.back());
  if (!flags.json.empty()) write_json(flags.json, rows);
  std::filesystem::remove_all(flags.dir + "/wal");
  std::filesystem::remove_all(flags.dir + "/wal-dsync");
  return 0;
}
