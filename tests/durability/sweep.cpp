#include "tests/durability/sweep.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

std::unique_ptr<io::testing::FaultRuntime> fault_runtime(io::BackendChoice backend, std::uint64_t seed) {
  auto plain = plain_runtime(backend);
  if (!plain) return nullptr;
  return std::make_unique<io::testing::FaultRuntime>(std::move(plain), seed);
}

// Reads every key of the workload back from a fresh open on the real disk.
Result<State> recover(const Subject& subject, const PersistenceConfig& config, io::BackendChoice backend) {
  auto rt = plain_runtime(backend);
  if (!rt) return make_error(ErrorCode::Unavailable, "no runtime");
  auto opened = sync_wait(subject.open(config, std::move(rt)));
  if (!opened) return std::move(opened).error();
  auto store = std::move(opened).value();
  State state;
  for (int k = 0; k < kKeys; ++k) {
    auto got = sync_wait(store->get_lease(key_of(k)));
    if (got) {
      state[codec::primary_key(key_of(k))] = got.value();
    } else if (got.code() != ErrorCode::NotFound) {
      return make_error(got.code(), "get " + key_of(k).to_string() + " after recovery: " + got.error().message);
    }
  }
  auto stats = sync_wait(store->stats());
  if (!stats) return std::move(stats).error();
  if (stats->total_keys != state.size())
    return make_error(ErrorCode::Corruption, "stats().total_keys " + std::to_string(stats->total_keys) +
                                                 " after recovery, but " + std::to_string(state.size()) +
                                                 " leases read back");
  auto closed = sync_wait(store->close());
  if (!closed) return std::move(closed).error();
  return state;
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
  bool any_error = false;
  // Fault sweep: per key, the values it may hold after recovery.
  std::map<std::string, std::vector<std::optional<Lease>>> allowed;
};

}  // namespace

SweepReport run_sweep(const Subject& subject, const std::string& scratch_dir, bool fault_sweep,
                      std::uint64_t seed, std::uint64_t dense_until, std::uint64_t stride) {
  SweepReport report;
  report.subject = subject.name;
  const std::vector<Op> workload = make_workload(seed);
  std::vector<State> states(1);
  for (const Op& op : workload) {
    states.push_back(states.back());
    apply_to(states.back(), op);
  }

  using io::testing::FaultOp;
  auto run_once = [&](FaultOp kind, std::uint64_t n, const std::string& dir, io::BackendChoice backend,
                      io::testing::FaultFileSystem::Counts* counts) -> RunResult {
    RunResult run;
    PersistenceConfig config = subject.config;
    config.data_dir = dir;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto rt = fault_runtime(backend, seed + n);
    if (!rt) {
      run.any_error = true;
      return run;
    }
    io::testing::FaultRuntime* faults = rt.get();
    if (n != 0) faults->faults().fail_nth(kind, n, n % 2 ? EIO : ENOSPC, !fault_sweep);
    auto opened = sync_wait(subject.open(config, std::move(rt)));
    if (!opened) {
      run.any_error = true;
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
      const bool landed = r.ok();
      if (std::getenv("ORBIT_SWEEP_TRACE"))
        std::fprintf(stderr, "N=%llu op %zu kind %d: %s\n", static_cast<unsigned long long>(n), run.issued,
                     static_cast<int>(op.kind), r.ok() ? "ok" : r.error().message.c_str());
      if (landed) {
        if (!run.any_error) run.acked = run.issued;
        for (auto& [k, v] : after) run.allowed[k] = {v};  // known from here on
      } else {
        run.any_error = true;
        for (auto& [k, v] : after) {
          if (!run.allowed.count(k)) run.allowed[k] = {std::nullopt};
          run.allowed[k].push_back(v);  // may or may not have landed
        }
        if (!fault_sweep) break;  // power loss: the machine is gone
      }
    }
    if (!fault_sweep && n != 0) {
      io::testing::CrashOptions crash;
      if (n % 3 == 1) crash.keep_random_prefix = true;
      if (n % 3 == 2) {
        crash.keep_random_prefix = true;
        crash.tear_last_write_at = 1 + (n * 37) % 4096;
      }
      (void)faults->block_on(faults->faults().crash(crash));
    } else {
      if (!sync_wait(store->close())) run.any_error = true;
    }
    if (counts)
      for (std::size_t k = 0; k <= io::testing::kFaultOpKinds; ++k)
        (*counts)[k] = faults->faults().count(static_cast<FaultOp>(k));
    store.reset();  // power loss: its close fails on the sticky fault and writes nothing
    return run;
  };

  // A clean run counts the file operations to sweep over.
  const std::string dir = scratch_dir + "/" + subject.name;
  io::testing::FaultFileSystem::Counts clean_counts{};
  RunResult clean = run_once(FaultOp::Any, 0, dir, io::BackendChoice::IoUring, &clean_counts);
  if (!clean.opened || clean.any_error || clean.acked != workload.size()) {
    report.failures.push_back("clean run failed (acked " + std::to_string(clean.acked) + " of " +
                              std::to_string(workload.size()) + ")");
    return report;
  }
  report.operations = clean_counts[io::testing::kFaultOpKinds];

  // Power loss: at every operation of any kind. Faults: at every operation
  // of each kind in turn, so the report says which kinds were absorbed.
  std::vector<std::pair<FaultOp, std::uint64_t>> points;
  for (std::size_t k = fault_sweep ? 0 : io::testing::kFaultOpKinds; k <= io::testing::kFaultOpKinds; ++k) {
    if (fault_sweep && k == io::testing::kFaultOpKinds) break;
    for (std::uint64_t n = 1; n <= clean_counts[k]; n = n < dense_until ? n + 1 : n + stride)
      points.emplace_back(static_cast<FaultOp>(k), n);
  }

  std::uint64_t index = 0;
  for (const auto& [kind, n] : points) {
    ++report.points;
    ++index;
    const auto backend = index % 2 ? io::BackendChoice::IoUring : io::BackendChoice::Asio;
    const std::string at = std::string(io::testing::to_string(kind)) + " #" + std::to_string(n) + " (" +
                           (index % 2 ? "io_uring" : "asio") + ")";
    io::testing::FaultFileSystem::Counts seen{};
    RunResult run;
    Result<State> recovered = make_error(ErrorCode::IOError, "not recovered");
    PersistenceConfig config = subject.config;
    config.data_dir = dir;
    try {
      run = run_once(kind, n, dir, backend, &seen);
      recovered = recover(subject, config, backend);
    } catch (const std::exception& e) {  // name the point, then go on with the next
      report.failures.push_back(at + ": exception " + e.what());
      continue;
    }
    if (!recovered) {
      ++report.refused_opens;
      report.failures.push_back(at + ": reopen failed: " + recovered.error().message);
      continue;
    }
    const State& got = recovered.value();
    if (fault_sweep) {
      if (seen[static_cast<std::size_t>(kind)] >= n || !run.opened) {
        KindReport& by_kind = report.by_kind[std::string(io::testing::to_string(kind))];
        ++report.faults_injected;
        ++by_kind.injected;
        if (run.any_error) {
          ++report.faults_surfaced;
          ++by_kind.surfaced;
        } else {
          ++report.faults_absorbed;
          ++by_kind.absorbed;
        }
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
      continue;
    }
    bool ok = false;
    for (std::size_t k = run.acked; k <= run.issued && !ok; ++k) ok = states[k] == got;
    report.acked_checked += run.acked;
    if (!ok)
      report.failures.push_back(at + ": recovered " + describe(got) + " is no state between op " +
                                std::to_string(run.acked) + " (acknowledged) and op " +
                                std::to_string(run.issued) + " (issued); acknowledged state " +
                                describe(states[run.acked]));
  }
  std::filesystem::remove_all(dir);
  return report;
}

std::string format_report(const SweepReport& r, bool fault_sweep) {
  std::ostringstream out;
  out << (fault_sweep ? "fault sweep " : "power-loss sweep ") << r.subject << ": " << r.operations
      << " file operations per run, " << r.points << " points swept, " << r.acked_checked
      << " acknowledged writes checked, " << r.failures.size() << " lost or wrong, " << r.refused_opens
      << " refused opens";
  if (fault_sweep) {
    out << "; faults injected " << r.faults_injected << " (surfaced to a caller " << r.faults_surfaced
        << ", absorbed " << r.faults_absorbed << "); by kind:";
    for (const auto& [kind, k] : r.by_kind)
      out << " " << kind << " " << k.injected << "/" << k.surfaced << "/" << k.absorbed;
    out << " (injected/surfaced/absorbed)";
  }
  return out.str();
}

}  // namespace orbit::durability
