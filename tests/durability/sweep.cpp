#include "tests/durability/sweep.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <sstream>

#include "io/testing/fault_runtime.hpp"
#include "orbit/sync_wait.hpp"
#include "src/codec/key_layout.hpp"

namespace orbit::durability {
namespace {

using std::chrono::seconds;
using State = std::map<std::string, Lease>;  // primary key -> lease
using Counts = io::testing::FaultFileSystem::Counts;

constexpr int kKeys = 5;
constexpr int kOps = 24;

ActorKey key_of(int k) { return ActorKey(Uuid::from_u64(static_cast<std::uint64_t>(k) + 1), k % 2 ? "Player" : "Guild"); }

struct Op {
  enum class Kind { Store, Remove, Batch, Checkpoint } kind = Kind::Store;
  std::vector<BatchOp> ops;  // Store/Remove: one; Batch: several
};

// Ops generated against a model that assumes every earlier op succeeded, so
// removes name stored leases (remove_lease of an absent one is NotFound).
std::vector<Op> make_workload(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  State model;
  const SystemTime t0{seconds(1'700'000'000)};
  std::vector<Op> out;
  auto lease_for = [&](int k, int i) {
    Lease l;
    l.key = key_of(k);
    l.node_id = "node-" + std::to_string(rng() % 3);
    l.expires_at = t0 + seconds(i * 7 + static_cast<int>(rng() % 5));
    l.version = static_cast<std::uint64_t>(i) + 1;
    l.metadata.custom_data = std::string(static_cast<std::size_t>(rng() % 300), static_cast<char>('a' + i % 26));
    return l;
  };
  for (int i = 0; i < kOps; ++i) {
    Op op;
    const auto roll = rng() % 10;
    if (i % 8 == 7) {
      op.kind = Op::Kind::Checkpoint;
    } else if (roll < 2 && !model.empty()) {
      op.kind = Op::Kind::Remove;
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      BatchOp remove{BatchOp::Kind::Remove, it->second};
      model.erase(it);
      op.ops.push_back(std::move(remove));
    } else if (roll < 4) {
      op.kind = Op::Kind::Batch;
      const int n = 2 + static_cast<int>(rng() % 2);
      for (int j = 0; j < n; ++j) {
        const int k = static_cast<int>(rng() % kKeys);
        const std::string primary = codec::primary_key(key_of(k));
        if (j == n - 1 && model.count(primary)) {
          BatchOp remove{BatchOp::Kind::Remove, model[primary]};
          model.erase(primary);
          op.ops.push_back(std::move(remove));
        } else {
          Lease l = lease_for(k, i);
          model[primary] = l;
          op.ops.push_back({BatchOp::Kind::Put, std::move(l)});
        }
      }
    } else {
      op.kind = Op::Kind::Store;
      const int k = static_cast<int>(rng() % kKeys);
      Lease l = lease_for(k, i);
      model[codec::primary_key(l.key)] = l;
      op.ops.push_back({BatchOp::Kind::Put, std::move(l)});
    }
    out.push_back(std::move(op));
  }
  return out;
}

void apply_to(State& state, const Op& op) {
  for (const BatchOp& b : op.ops) {
    const std::string primary = codec::primary_key(b.lease.key);
    if (b.kind == BatchOp::Kind::Put)
      state[primary] = b.lease;
    else
      state.erase(primary);
  }
}

Result<void> issue(PersistenceProvider& store, const Op& op) {
  switch (op.kind) {
    case Op::Kind::Store: return sync_wait(store.store_lease(op.ops[0].lease));
    case Op::Kind::Remove: return sync_wait(store.remove_lease(op.ops[0].lease.key));
    case Op::Kind::Batch: {
      WriteBatch batch;
      batch.ops = op.ops;
      return sync_wait(store.apply_batch(std::move(batch)));
    }
    case Op::Kind::Checkpoint: {
      auto r = sync_wait(store.checkpoint());
      if (!r && r.code() == ErrorCode::NotSupported) return Result<void>();
      return r;
    }
  }
  return Result<void>();
}

std::unique_ptr<io::Runtime> plain_runtime(io::BackendChoice backend) {
  io::RuntimeOptions options;
  options.backend = backend;
  auto rt = io::Runtime::create(options);
  if (!rt) {
    options.backend = io::BackendChoice::Auto;
    rt = io::Runtime::create(options);
  }
  return rt ? std::move(rt).value() : nullptr;
}

std::unique_ptr<io::testing::FaultRuntime> fault_runtime(io::BackendChoice backend, std::uint64_t seed,
                                                         bool accept_direct) {
  auto plain = plain_runtime(backend);
  if (!plain) return nullptr;
  auto rt = std::make_unique<io::testing::FaultRuntime>(std::move(plain), seed);
  rt->faults().accept_direct(accept_direct);
  return rt;
}

// What a store answered after recovery: its leases and its stats.
struct Recovered {
  State state;
  StorageStats stats;
};

// Reads every key of the workload back from an open store, checks that
// stats().total_keys agrees.
Result<Recovered> read_back(PersistenceProvider& store) {
  Recovered out;
  for (int k = 0; k < kKeys; ++k) {
    auto got = sync_wait(store.get_lease(key_of(k)));
    if (got) {
      out.state[codec::primary_key(key_of(k))] = got.value();
    } else if (got.code() != ErrorCode::NotFound) {
      return make_error(got.code(), "get " + key_of(k).to_string() + " after recovery: " + got.error().message);
    }
  }
  auto stats = sync_wait(store.stats());
  if (!stats) return std::move(stats).error();
  if (stats->total_keys != out.state.size())
    return make_error(ErrorCode::Corruption, "stats().total_keys " + std::to_string(stats->total_keys) +
                                                 " after recovery, but " + std::to_string(out.state.size()) +
                                                 " leases read back");
  out.stats = std::move(stats).value();
  return out;
}

// Reads every key of the workload back from a fresh open on the real disk.
Result<Recovered> recover(const Subject& subject, const PersistenceConfig& config, io::BackendChoice backend) {
  auto rt = plain_runtime(backend);
  if (!rt) return make_error(ErrorCode::Unavailable, "no runtime");
  auto opened = sync_wait(subject.open(config, std::move(rt)));
  if (!opened) return std::move(opened).error();
  auto store = std::move(opened).value();
  auto got = read_back(*store);
  auto closed = sync_wait(store->close());
  if (got && !closed) return std::move(closed).error();
  return got;
}

std::string describe(const State& s) {
  std::ostringstream out;
  out << "{";
  for (const auto& [k, l] : s) out << " " << l.key.to_string() << "@v" << l.version;
  out << " }";
  return out.str();
}

struct RunResult {
  bool opened = false;
  std::size_t acked = 0;   // ops [0, acked) succeeded (power loss: the prefix)
  std::size_t issued = 0;  // ops [0, issued) were started
  bool any_error = false;  // some caller (op, checkpoint, stats, close) got an error
  std::uint64_t background_errors = 0;  // stats() before close
  std::string first_error;
  // A write acknowledged after an earlier one failed (for the fail-stop check).
  std::optional<std::size_t> acked_after_error;
  // Fault sweep: per key, the values it may hold after recovery.
  std::map<std::string, std::vector<std::optional<Lease>>> allowed;
  std::vector<io::testing::InjectedFault> injected;
};

using io::testing::FaultOp;

// One point of a sweep: the `n`th call of `kind` fails.
struct Point {
  FaultOp kind;
  std::uint64_t n;
};

// Every n of each kind in `kinds` up to its count, dense then strided.
std::vector<Point> points_of(const io::testing::FaultFileSystem::Counts& counts, const std::vector<FaultOp>& kinds,
                             std::uint64_t dense_until, std::uint64_t stride) {
  std::vector<Point> out;
  for (FaultOp kind : kinds) {
    const auto index = static_cast<std::size_t>(kind == FaultOp::ShortWrite ? FaultOp::Write : kind);
    for (std::uint64_t n = 1; n <= counts[index]; n = n < dense_until ? n + 1 : n + stride) out.push_back({kind, n});
  }
  return out;
}

std::vector<FaultOp> every_kind() {
  std::vector<FaultOp> out;
  for (std::size_t k = 0; k < io::testing::kFaultOpKinds; ++k) out.push_back(static_cast<FaultOp>(k));
  out.push_back(FaultOp::ShortWrite);
  return out;
}

Counts counts_of(io::testing::FaultFileSystem& faults) {
  Counts out{};
  for (std::size_t k = 0; k <= io::testing::kFaultOpKinds; ++k) out[k] = faults.count(static_cast<FaultOp>(k));
  return out;
}

bool is_log_segment(const std::string& path) { return path.ends_with(".wal"); }

// Files a fault landed on, for messages: "Write on .../orbit.wal/000001.wal (EIO)".
std::string describe(const std::vector<io::testing::InjectedFault>& faults) {
  std::string out;
  for (const auto& f : faults) {
    if (!out.empty()) out += ", ";
    out += std::string(io::testing::to_string(f.kind)) + " on " + f.path + " (" + std::strerror(f.error) + ")";
  }
  return out;
}

// Files every sweep's runs share.
struct Sweeper {
  const Subject& subject;
  Mode mode;
  std::uint64_t seed;
  std::string dir;
  std::vector<Op> workload;
  std::vector<State> states;  // states[k]: after the first k ops

  PersistenceConfig config() const {
    PersistenceConfig c = subject.config;
    c.data_dir = dir;
    return c;
  }

  // Opens a fresh store on a FaultRuntime whose `point` fails, runs the
  // workload (power loss: up to the first error, then crash()), reads
  // stats() and closes (faults). `counts` receives the operation counts.
  RunResult run_workload(std::optional<Point> point, io::BackendChoice backend, Counts* counts) {
    RunResult run;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::uint64_t n = point ? point->n : 0;
    auto rt = fault_runtime(backend, seed + n, subject.direct_log);
    if (!rt) {
      run.any_error = true;
      return run;
    }
    io::testing::FaultRuntime* faults = rt.get();
    const bool power_loss = mode == Mode::PowerLoss;
    if (point) faults->faults().fail_nth(point->kind, n, n % 2 ? EIO : ENOSPC, power_loss);
    auto opened = sync_wait(subject.open(config(), std::move(rt)));
    if (!opened) {
      run.any_error = true;
      run.first_error = opened.error().to_string();
      return run;  // the runtime (and its FaultFileSystem) died with the failed open
    }
    run.opened = true;
    auto store = std::move(opened).value();
    for (const Op& op : workload) {
      ++run.issued;
      Result<void> r = issue(*store, op);
      std::map<std::string, std::optional<Lease>> after;
      for (const BatchOp& b : op.ops) {
        const std::string primary = codec::primary_key(b.lease.key);
        after[primary] = b.kind == BatchOp::Kind::Put ? std::optional<Lease>(b.lease) : std::nullopt;
      }
      // A remove answered NotFound wrote nothing and says only what the
      // store holds in memory: an earlier failed write may still be in the
      // log (written, its fdatasync failed) and come back on reopen.
      if (op.kind == Op::Kind::Remove && !r.ok() && r.code() == ErrorCode::NotFound) {
        for (auto& [k, v] : after)
          if (!run.allowed.count(k)) run.allowed[k] = {std::nullopt};
        continue;
      }
      if (std::getenv("ORBIT_SWEEP_TRACE"))
        std::fprintf(stderr, "N=%llu op %zu kind %d: %s\n", static_cast<unsigned long long>(n), run.issued,
                     static_cast<int>(op.kind), r.ok() ? "ok" : r.error().message.c_str());
      if (r.ok()) {
        if (!run.any_error) run.acked = run.issued;
        if (run.any_error && op.kind != Op::Kind::Checkpoint && !run.acked_after_error)
          run.acked_after_error = run.issued;
        for (auto& [k, v] : after) run.allowed[k] = {v};  // known from here on
      } else {
        if (!run.any_error) run.first_error = r.error().to_string();
        run.any_error = true;
        for (auto& [k, v] : after) {
          if (!run.allowed.count(k)) run.allowed[k] = {std::nullopt};
          run.allowed[k].push_back(v);  // may or may not have landed
        }
        if (power_loss) break;  // the machine is gone
      }
    }
    if (power_loss && point) {
      // By n: drop every unsynced write; keep a random prefix of them; tear
      // the last kept one at 512 B, 4 KiB or any byte; or keep garbage for
      // some of them.
      io::testing::CrashOptions crash;
      switch (n % 6) {
        case 0: break;
        case 1: crash.keep_random_prefix = true; break;
        case 2: crash.keep_random_prefix = true; crash.tear_last_write_at = 512; break;
        case 3: crash.keep_random_prefix = true; crash.tear_last_write_at = 4096; break;
        case 4: crash.keep_random_prefix = true; crash.tear_last_write_at = 1 + (n * 37) % 4096; break;
        case 5: crash.keep_random_prefix = true; crash.garbage_over_kept = true; break;
      }
      // lose_power, not crash: a point the workload never reached (background
      // timing varies the count) would otherwise crash beside a live manifest
      // install, which then renamed the emptied manifest.json.tmp into place.
      (void)faults->block_on(faults->faults().lose_power(crash));
    } else {
      auto stats = sync_wait(store->stats());
      if (stats) run.background_errors = stats->background_errors;
      if (!stats || !sync_wait(store->close())) run.any_error = true;
    }
    run.injected = faults->faults().injected();
    if (counts) *counts = counts_of(faults->faults());
    store.reset();  // power loss: its close fails on the sticky fault and writes nothing
    return run;
  }

  // Classifies one injected fault; returns a failure message, or "".
  std::string classify(SweepReport& report, const std::string& kind, const RunResult& run) {
    KindReport& by_kind = report.by_kind[kind];
    ++report.faults_injected;
    ++by_kind.injected;
    if (run.any_error) {
      ++report.faults_surfaced;
      ++by_kind.surfaced;
    } else if (run.background_errors > 0) {
      ++report.faults_counted;
      ++by_kind.counted;
    } else {
      ++report.faults_swallowed;
      ++by_kind.swallowed;
      return "swallowed: " + describe(run.injected) + " reached no caller and is not in stats().background_errors";
    }
    return "";
  }

  void check_fault_point(SweepReport& report, const std::string& at, const Point& point, const RunResult& run,
                         const State& got) {
    if (!run.injected.empty()) {
      if (auto swallowed = classify(report, std::string(io::testing::to_string(point.kind)), run);
          !swallowed.empty())
        report.failures.push_back(at + ": " + swallowed);
      // A failed write or fdatasync of the log (with O_DSYNC segments the
      // write is the sync): nothing may be acknowledged after it.
      const bool log_sync_failed = (point.kind == FaultOp::DataSync || point.kind == FaultOp::Write) &&
                                   is_log_segment(run.injected.front().path) && run.any_error;
      if (log_sync_failed && run.acked_after_error)
        report.failures.push_back(at + ": op " + std::to_string(*run.acked_after_error) +
                                  " was acknowledged after a write or fdatasync of the log failed (" + run.first_error +
                                  "): the store must stop writing");
    }
    for (const auto& [k, allowed] : run.allowed) {
      auto it = got.find(k);
      std::optional<Lease> have = it == got.end() ? std::nullopt : std::optional<Lease>(it->second);
      bool ok = false;
      for (const auto& v : allowed) ok = ok || v == have;
      if (!ok)
        report.failures.push_back(at + ": " + k + " recovered as " +
                                  (have ? "v" + std::to_string(have->version) : std::string("absent")) +
                                  ", not a value it may hold");
      if (allowed.size() == 1) ++report.acked_checked;
    }
    for (const auto& [k, l] : got)
      if (!run.allowed.count(k)) report.failures.push_back(at + ": " + k + " recovered but never written");
  }

  void check_power_loss_point(SweepReport& report, const std::string& at, const RunResult& run, const State& got) {
    bool ok = false;
    for (std::size_t k = run.acked; k <= run.issued && !ok; ++k) ok = states[k] == got;
    report.acked_checked += run.acked;
    if (!ok)
      report.failures.push_back(at + ": recovered " + describe(got) + " is no state between op " +
                                std::to_string(run.acked) + " (acknowledged) and op " +
                                std::to_string(run.issued) + " (issued); acknowledged state " +
                                describe(states[run.acked]));
  }

  SweepReport sweep_workload(std::uint64_t dense_until, std::uint64_t stride) {
    SweepReport report;
    report.subject = subject.name;
    report.mode = mode;
    // A clean run counts the file operations to sweep over.
    Counts clean_counts{};
    RunResult clean = run_workload(std::nullopt, io::BackendChoice::IoUring, &clean_counts);
    if (!clean.opened || clean.any_error || clean.acked != workload.size() || clean.background_errors != 0) {
      report.failures.push_back("clean run failed (acked " + std::to_string(clean.acked) + " of " +
                                std::to_string(workload.size()) + ", background errors " +
                                std::to_string(clean.background_errors) + "): " + clean.first_error);
      return report;
    }
    report.operations = clean_counts[io::testing::kFaultOpKinds];
    const std::vector<FaultOp> kinds = mode == Mode::PowerLoss ? std::vector<FaultOp>{FaultOp::Any} : every_kind();
    std::uint64_t index = 0;
    for (const Point& point : points_of(clean_counts, kinds, dense_until, stride)) {
      ++report.points;
      const auto backend = ++index % 2 ? io::BackendChoice::IoUring : io::BackendChoice::Asio;
      const std::string at = std::string(io::testing::to_string(point.kind)) + " #" + std::to_string(point.n) +
                             " (" + (index % 2 ? "io_uring" : "asio") + ")";
      RunResult run;
      Result<Recovered> recovered = make_error(ErrorCode::IOError, "not recovered");
      try {
        run = run_workload(point, backend, nullptr);
        recovered = recover(subject, config(), backend);
      } catch (const std::exception& e) {  // name the point, then go on with the next
        report.failures.push_back(at + ": exception " + e.what());
        continue;
      }
      if (!recovered) {
        ++report.refused_opens;
        report.failures.push_back(at + ": reopen failed: " + recovered.error().message);
        continue;
      }
      if (recovered->stats.recovery_log_bytes_cut > 0) ++report.tail_cuts;
      if (mode == Mode::Faults)
        check_fault_point(report, at, point, run, recovered->state);
      else
        check_power_loss_point(report, at, run, recovered->state);
    }
    return report;
  }

  // Recovery faults: the directory every point starts from, and its open's counts.
  SweepReport sweep_recovery(std::uint64_t dense_until, std::uint64_t stride) {
    SweepReport report;
    report.subject = subject.name;
    report.mode = mode;
    const std::string pristine = dir + ".pristine";
    // The workload, then one more write that fails part-way, then power
    // loss that keeps that write torn: a log with a tail to cut, files of
    // background work to clean up, a log to replay. When a prepared WAL
    // segment became ready just before that write, the write rolls onto it
    // first, the new segment's header write fails (the file is removed) and
    // no tail is left: set up again (background timing decides; a second try
    // practically always works). On an O_DIRECT log the sectors that landed
    // may hold only the old bytes of the log's last page: the next attempt's
    // seed lands another count.
    // The write that fails. On an O_DIRECT log it spans several pages: the
    // sectors that land then cut it part-way for most counts.
    Lease extra = workload.front().ops.front().lease;
    extra.version += 1000;
    if (subject.direct_log) extra.metadata.custom_data = "{\"pad\":\"" + std::string(3 * 4096, 'x') + "\"}";
    auto set_up = [&](int attempt) -> bool {
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
      // Each attempt its own seed: how much of the write lands comes from it.
      auto rt = fault_runtime(io::BackendChoice::IoUring, seed + attempt - 1, subject.direct_log);
      io::testing::FaultRuntime* faults = rt.get();
      auto opened = sync_wait(subject.open(config(), std::move(rt)));
      if (!opened) {
        report.failures.push_back("setup open failed: " + opened.error().to_string());
        return false;
      }
      auto store = std::move(opened).value();
      for (const Op& op : workload) {
        if (auto r = issue(*store, op); !r) {
          report.failures.push_back("setup workload failed: " + r.error().to_string());
          return false;
        }
      }
      // The write lands a prefix and fails (whatever the log's sync method).
      faults->faults().fail_nth(FaultOp::ShortWrite, 1, EIO, /*sticky=*/true);
      io::testing::CrashOptions crash;
      // An O_DIRECT log writes whole pages, starting with its last partial
      // page again, and a short write lands whole sectors: 7 bytes would
      // keep only old bytes, so all that landed is kept.
      crash.tear_last_write_at = subject.direct_log ? std::numeric_limits<std::size_t>::max() : 7;
      (void)sync_wait(store->store_lease(extra));
      (void)faults->block_on(faults->faults().lose_power(crash));
      store.reset();
      std::filesystem::remove_all(pristine);
      std::filesystem::copy(dir, pristine, std::filesystem::copy_options::recursive);
      return true;
    };
    auto restore = [&] {
      std::filesystem::remove_all(dir);
      std::filesystem::copy(pristine, dir, std::filesystem::copy_options::recursive);
    };
    const State& acked = states.back();
    // What recovery may also find: the failed write, never acknowledged,
    // whole. On an O_DIRECT log the sectors that landed can hold all of its
    // record (the write ends in zeros up to its last page's end). No tail
    // is then left to cut: set up again.
    State acked_and_extra = acked;
    acked_and_extra[codec::primary_key(extra.key)] = extra;
    constexpr int kAttempts = 5;

    // A clean open of the kept directory counts the operations of recovery.
    Counts open_counts{};
    for (int attempt = 1;; ++attempt) {
      if (!set_up(attempt)) return report;
      auto rt = fault_runtime(io::BackendChoice::IoUring, seed, subject.direct_log);
      io::testing::FaultRuntime* faults = rt.get();
      auto opened = sync_wait(subject.open(config(), std::move(rt)));
      if (!opened) {
        report.failures.push_back("clean recovery failed: " + opened.error().to_string());
        return report;
      }
      open_counts = counts_of(faults->faults());
      auto got = read_back(*opened.value());
      (void)sync_wait(opened.value()->close());
      if (!got || (got->state != acked && got->state != acked_and_extra)) {
        report.failures.push_back("clean recovery read " + (got ? describe(got->state) : got.error().to_string()) +
                                  ", not the acknowledged " + describe(acked));
        break;
      }
      if (got->stats.recovery_log_bytes_cut > 0 && got->state == acked) break;
      if (attempt == kAttempts) {
        report.failures.push_back("clean recovery cut no torn log tail: " + std::to_string(kAttempts) +
                                  " setups did not leave one");
        break;
      }
    }
    report.operations = open_counts[io::testing::kFaultOpKinds];

    std::uint64_t index = 0;
    for (const Point& point : points_of(open_counts, every_kind(), dense_until, stride)) {
      ++report.points;
      const auto backend = ++index % 2 ? io::BackendChoice::IoUring : io::BackendChoice::Asio;
      const std::string at = std::string(io::testing::to_string(point.kind)) + " #" + std::to_string(point.n) +
                             " of recovery (" + (index % 2 ? "io_uring" : "asio") + ")";
      try {
        restore();
        RunResult run;
        std::optional<State> faulted_state;
        {
          auto rt = fault_runtime(backend, seed + point.n, subject.direct_log);
          io::testing::FaultRuntime* faults = rt.get();
          faults->faults().fail_nth(point.kind, point.n, point.n % 2 ? EIO : ENOSPC);
          auto opened = sync_wait(subject.open(config(), std::move(rt)));
          if (!opened) {
            // Refused with an error: the caller knows. (The runtime died with the failed open.)
            run.any_error = true;
            ++report.faulted_opens_failed;
            run.injected = {io::testing::InjectedFault{point.kind, "(open failed: " + opened.error().message + ")", 0}};
          } else {
            auto store = std::move(opened).value();
            auto got = read_back(*store);
            if (got) {
              faulted_state = got->state;
              run.background_errors = got->stats.background_errors;
              if (got->state != acked)
                report.failures.push_back(at + ": the open succeeded and read " + describe(got->state) +
                                          ", not the acknowledged " + describe(acked));
            } else {
              run.any_error = true;
            }
            if (!sync_wait(store->close())) run.any_error = true;
            run.injected = faults->faults().injected();
          }
        }
        if (!run.injected.empty()) {
          if (auto swallowed = classify(report, std::string(io::testing::to_string(point.kind)), run);
              !swallowed.empty())
            report.failures.push_back(at + ": " + swallowed);
        }
        auto recovered = recover(subject, config(), backend);
        if (!recovered) {
          ++report.refused_opens;
          report.failures.push_back(at + ": reopen without faults failed: " + recovered.error().message);
          continue;
        }
        report.acked_checked += acked.size();
        if (recovered->stats.recovery_log_bytes_cut > 0) ++report.tail_cuts;
        if (recovered->state != acked)
          report.failures.push_back(at + ": reopen without faults read " + describe(recovered->state) +
                                    ", not the acknowledged " + describe(acked));
        else if (faulted_state && *faulted_state != recovered->state)
          report.failures.push_back(at + ": reopen read " + describe(recovered->state) +
                                    " but the faulted open had read " + describe(*faulted_state));
      } catch (const std::exception& e) {
        report.failures.push_back(at + ": exception " + e.what());
      }
    }
    std::filesystem::remove_all(pristine);
    return report;
  }
};

}  // namespace

std::string_view to_string(Mode mode) noexcept {
  switch (mode) {
    case Mode::PowerLoss: return "power-loss";
    case Mode::Faults: return "fault";
    case Mode::RecoveryFaults: return "recovery-fault";
  }
  return "?";
}

SweepReport run_sweep(const Subject& subject, const std::string& scratch_dir, Mode mode, std::uint64_t seed,
                      std::uint64_t dense_until, std::uint64_t stride) {
  Sweeper sweeper{subject, mode, seed, scratch_dir + "/" + subject.name, make_workload(seed), {State{}}};
  for (const Op& op : sweeper.workload) {
    sweeper.states.push_back(sweeper.states.back());
    apply_to(sweeper.states.back(), op);
  }
  SweepReport report = mode == Mode::RecoveryFaults ? sweeper.sweep_recovery(dense_until, stride)
                                                    : sweeper.sweep_workload(dense_until, stride);
  std::filesystem::remove_all(sweeper.dir);
  return report;
}

std::string format_report(const SweepReport& r) {
  std::ostringstream out;
  out << to_string(r.mode) << " sweep " << r.subject << ": " << r.operations
      << (r.mode == Mode::RecoveryFaults ? " file operations per recovery, " : " file operations per run, ")
      << r.points << " points swept, " << r.acked_checked << " acknowledged writes checked, "
      << r.failures.size() << " lost or wrong, " << r.refused_opens << " refused reopens, " << r.tail_cuts
      << " recoveries cut a torn log tail";
  if (r.mode != Mode::PowerLoss) {
    if (r.mode == Mode::RecoveryFaults) out << ", " << r.faulted_opens_failed << " faulted opens failed with an error";
    out << "; faults injected " << r.faults_injected << " (surfaced to a caller " << r.faults_surfaced
        << ", counted in background_errors " << r.faults_counted << ", swallowed " << r.faults_swallowed
        << "); by kind:";
    for (const auto& [kind, k] : r.by_kind)
      out << " " << kind << " " << k.injected << "/" << k.surfaced << "/" << k.counted << "/" << k.swallowed;
    out << " (injected/surfaced/counted/swallowed)";
  }
  return out.str();
}

}  // namespace orbit::durability
