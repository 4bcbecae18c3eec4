// orbit-crash: the crash suite's driver (RocksDB's db_crashtest + db_stress
// in one binary).
//
// Parent role (default): for each backend this build has (or --backend), for
// --cycles cycles: spawn this executable in the child role on one data
// directory, let it write for a random window, SIGKILL it, reopen the store
// in-process and check every key, a scan of every actor type and stats()
// against the side log (tests/crash/crash_oracle.hpp). Prints a report per
// backend; exits 1 on any violation, 77 when --backend names a backend this
// build lacks (ctest skips it).
//
// Child role (--child): tests/crash/crash_child.hpp.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "orbit/factory.hpp"
#include "orbit/sync_wait.hpp"
#include "tests/crash/crash_child.hpp"
#include "tests/crash/crash_model.hpp"
#include "tests/crash/crash_oracle.hpp"

extern char** environ;

namespace orbit::crash {
namespace {

struct Options {
  bool child = false;
  std::optional<PersistenceBackend> backend;
  std::string dir;
  std::string side_log;
  std::uint64_t seed = 0;
  std::uint64_t seq_base = 0;
  std::uint64_t batch_base = 0;
  int cycles = 100;
  int writers = 32;
  int ready_fd = -1;
  std::uint64_t min_run_ms = 20;
  std::uint64_t max_run_ms = 300;
  int drop_percent = 0;        // --self-test-drop-percent: see ChildOptions
  int open_kill_percent = 10;  // cycles that kill the child while it is still opening (recovering)
  IoBackend io = IoBackend::Auto;
  DurabilityMode durability = DurabilityMode::Durable;
  bool io_mixed = true;  // per cycle: child and reopen on different I/O backends (auto vs asio)
  bool keep = false;
  bool verbose = false;
};

std::optional<PersistenceBackend> parse_backend(std::string_view name) {
  for (auto b : {PersistenceBackend::CowBTree, PersistenceBackend::LsmTree, PersistenceBackend::RocksDb})
    if (to_string(b) == name) return b;
  return std::nullopt;
}

std::optional<IoBackend> parse_io(std::string_view name) {
  for (auto io : {IoBackend::Auto, IoBackend::IoUring, IoBackend::Asio})
    if (to_string(io) == name) return io;
  return std::nullopt;
}

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "orbit-crash: %s\n"
               "usage: orbit-crash [--cycles N] [--seed S] [--backend CowBTree|LsmTree|RocksDb]\n"
               "                   [--min-run-ms MS] [--max-run-ms MS] [--open-kill-percent P]\n"
               "                   [--writers N] [--io mixed|auto|io_uring|asio] [--durability durable|buffered|none]\n"
               "                   [--dir PATH] [--keep] [--verbose]\n"
               "                   [--self-test-drop-percent P]\n"
               "env: ORBIT_CRASH_SEED, ORBIT_CRASH_CYCLES override --seed / --cycles\n",
               problem.c_str());
  std::exit(64);
}

std::uint64_t parse_u64(const std::string& flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 0);
  if (errno || !end || *end || !*text) usage("bad number for " + flag + ": '" + text + "'");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  bool seed_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--child") o.child = true;
    else if (a == "--keep") o.keep = true;
    else if (a == "--verbose") o.verbose = true;
    else if (a == "--backend") {
      const char* v = value();
      o.backend = parse_backend(v);
      if (!o.backend) usage(std::string("unknown backend '") + v + "' (accepted: CowBTree, LsmTree, RocksDb)");
    } else if (a == "--io") {
      const char* v = value();
      auto io = parse_io(v);
      o.io_mixed = std::string_view(v) == "mixed";
      if (!io && !o.io_mixed) usage(std::string("unknown io backend '") + v + "' (accepted: mixed, auto, io_uring, asio)");
      if (io) o.io = *io;
    } else if (a == "--durability") {
      std::string_view v = value();
      if (v == "durable") o.durability = DurabilityMode::Durable;
      else if (v == "buffered") o.durability = DurabilityMode::Buffered;
      else if (v == "none") o.durability = DurabilityMode::None;
      else usage("unknown durability '" + std::string(v) + "' (accepted: durable, buffered, none)");
    } else if (a == "--dir") o.dir = value();
    else if (a == "--side-log") o.side_log = value();
    else if (a == "--seed") o.seed = parse_u64(a, value()), seed_set = true;
    else if (a == "--seq-base") o.seq_base = parse_u64(a, value());
    else if (a == "--batch-base") o.batch_base = parse_u64(a, value());
    else if (a == "--cycles") o.cycles = static_cast<int>(parse_u64(a, value()));
    else if (a == "--writers") o.writers = static_cast<int>(parse_u64(a, value()));
    else if (a == "--ready-fd") o.ready_fd = static_cast<int>(parse_u64(a, value()));
    else if (a == "--min-run-ms") o.min_run_ms = parse_u64(a, value());
    else if (a == "--max-run-ms") o.max_run_ms = parse_u64(a, value());
    else if (a == "--self-test-drop-percent") o.drop_percent = static_cast<int>(parse_u64(a, value()));
    else if (a == "--open-kill-percent") o.open_kill_percent = static_cast<int>(parse_u64(a, value()));
    else usage("unknown argument '" + a + "'");
  }
  if (!o.child) {
    if (const char* s = std::getenv("ORBIT_CRASH_SEED"); s && *s) o.seed = parse_u64("ORBIT_CRASH_SEED", s), seed_set = true;
    if (const char* c = std::getenv("ORBIT_CRASH_CYCLES"); c && *c)
      o.cycles = static_cast<int>(parse_u64("ORBIT_CRASH_CYCLES", c));
    if (!seed_set)
      o.seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
               (static_cast<std::uint64_t>(::getpid()) << 32);
    if (o.min_run_ms > o.max_run_ms) usage("--min-run-ms is above --max-run-ms");
    if (o.writers < 1 || o.writers > 120) usage("--writers must be 1..120 (the key space has 200 keys)");
  }
  return o;
}

// Small buffers so a few hundred milliseconds of writes flush, compact and
// checkpoint; durable mode, because that is what the oracle's acks mean.
PersistenceConfig store_config(PersistenceBackend backend, const std::string& dir, IoBackend io,
                               DurabilityMode durability) {
  PersistenceConfig config;
  config.backend = backend;
  config.data_dir = dir;
  config.io_backend = io;
  config.durability = durability;
  config.cow_config.max_keys_per_node = 16;
  config.cow_config.snapshot_interval = 3;
  config.lsm_config.memtable_size_mb = 1;
  config.lsm_config.write_buffer_mb = 1;
  config.lsm_config.compaction_threshold = 2;
  config.lsm_config.block_cache_mb = 4;
  config.rocksdb_config.write_buffer_mb = 1;
  config.rocksdb_config.block_cache_mb = 4;
  config.rocksdb_config.max_background_jobs = 2;
  return config;
}

struct BackendReport {
  PersistenceBackend backend{};
  int cycles = 0;
  std::uint64_t writes_issued = 0;
  std::uint64_t acked_checked = 0;
  std::uint64_t lost = 0;
  std::uint64_t torn = 0;
  std::uint64_t batch_violations = 0;
  std::uint64_t scan_mismatches = 0;
  std::uint64_t write_failures = 0;     // writes the engine refused in the child
  std::uint64_t child_open_failures = 0;
  std::uint64_t child_abnormal = 0;     // the child died of something other than our SIGKILL
  std::uint64_t kills_during_open = 0;
  std::uint64_t opens_clean = 0;     // opened; the log ended cleanly
  std::uint64_t opens_tail_cut = 0;  // opened after cutting a torn log tail
  std::uint64_t log_bytes_cut = 0;
  std::uint64_t background_errors = 0;  // reported by stats() after recovery: must be 0 on a healthy disk
  std::uint64_t opens_refused = 0;
  std::uint64_t stats_failures = 0;
  std::uint64_t verifies = 0;         // full file scans after recovery
  std::uint64_t verify_problems = 0;  // problems they found (must be 0)
  std::uint64_t keys_live_last = 0;
  std::uint64_t stats_key_count_differs = 0;  // informational: stats().total_keys may be an estimate
  std::vector<std::string> problems;    // first few, printed in full

  bool failed() const {
    return lost || torn || batch_violations || scan_mismatches || write_failures || child_open_failures ||
           child_abnormal || opens_refused || stats_failures || verify_problems || background_errors;
  }
  void note(std::string text) {
    if (problems.size() < 50) problems.push_back(std::move(text));
  }
};

struct Spawned {
  pid_t pid = -1;
  int ready_read = -1;
};

Spawned spawn_child(const Options& o, PersistenceBackend backend, IoBackend io, const std::string& data_dir,
                    const std::string& side_log, std::uint64_t seed, int cycle) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("orbit-crash: pipe2");
    std::exit(70);
  }
  std::vector<std::string> args = {"/proc/self/exe", "--child",
                                   "--backend", std::string(to_string(backend)),
                                   "--dir", data_dir,
                                   "--side-log", side_log,
                                   "--seed", std::to_string(seed),
                                   "--seq-base", std::to_string(static_cast<std::uint64_t>(cycle + 1) << 32),
                                   "--batch-base", std::to_string(static_cast<std::uint64_t>(cycle + 1) << 32),
                                   "--writers", std::to_string(o.writers),
                                   "--io", std::string(to_string(io)),
                                   "--durability", std::string(to_string(o.durability)),
                                   "--self-test-drop-percent", std::to_string(o.drop_percent),
                                   "--ready-fd", "3"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 3);  // dup2 clears O_CLOEXEC on fd 3
  Spawned s;
  int rc = posix_spawn(&s.pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    std::fprintf(stderr, "orbit-crash: posix_spawn: %s\n", std::strerror(rc));
    std::exit(70);
  }
  s.ready_read = fds[0];
  return s;
}

// True once the child reports its store open; false if it exited first or
// did not get there within the timeout.
bool wait_ready(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do rc = ::poll(&p, 1, timeout_ms);
  while (rc < 0 && errno == EINTR);
  if (rc <= 0) return false;
  char c = 0;
  return ::read(fd, &c, 1) == 1 && c == 'R';
}

// Reopens the store in-process, checks every key, the scans and stats, and
// closes it. Returns false if the store refused to open.
bool verify(const Options& o, BackendReport& report, IoBackend io, const std::string& data_dir, const SideLog& log,
            std::vector<KeyState>& state, int cycle) {
  auto opened = sync_wait(PersistenceFactory::create_provider(store_config(report.backend, data_dir, io, o.durability)));
  if (!opened.ok()) {
    ++report.opens_refused;
    report.note("cycle " + std::to_string(cycle) + ": reopen refused: " + opened.error().to_string());
    return false;
  }
  auto store = std::move(opened).value();
  const std::string at = "cycle " + std::to_string(cycle) + ": ";

  std::vector<std::optional<Lease>> recovered(kKeyCount);
  for (int k = 0; k < kKeyCount; ++k) {
    ActorKey key = key_of(k);
    auto got = sync_wait(store->get_lease(std::move(key)));
    if (got.ok()) {
      recovered[static_cast<std::size_t>(k)] = std::move(got).value();
    } else if (got.code() != ErrorCode::NotFound) {
      ++report.scan_mismatches;
      report.note(at + "get " + key_of(k).to_string() + " failed: " + got.error().to_string());
    }
  }
  std::vector<KeyState> next;
  Verdict verdict = check_recovery(state, log, recovered, &next);
  report.acked_checked += verdict.acked_checked;
  report.lost += verdict.lost;
  report.torn += verdict.torn;
  report.batch_violations += verdict.batch_violations;
  for (auto& p : verdict.problems) report.note(at + p);
  state = std::move(next);

  // Every actor type's scan: strictly in key order, only our keys, and the
  // same leases point gets returned.
  std::uint64_t live = 0;
  for (int t = 0; t < kActorTypeCount; ++t) {
    std::string type(actor_type_name(t));
    auto scanned = sync_wait(store->scan_by_actor_type(type));
    if (!scanned.ok()) {
      ++report.scan_mismatches;
      report.note(at + "scan " + type + " failed: " + scanned.error().to_string());
      continue;
    }
    std::map<int, const Lease*> by_key;
    const Lease* prev = nullptr;
    for (const Lease& lease : scanned.value()) {
      if (prev && !(prev->key < lease.key)) {
        ++report.scan_mismatches;
        report.note(at + "scan " + type + " out of order: " + prev->key.to_string() + " then " + lease.key.to_string());
      }
      prev = &lease;
      std::string why;
      auto claim = self_check(lease, &why);
      if (!claim || claim->key_index % kActorTypeCount != t) {
        ++report.scan_mismatches;
        report.note(at + "scan " + type + " returned a foreign or torn record " + lease.key.to_string() + ": " + why);
        continue;
      }
      by_key[claim->key_index] = &lease;
    }
    for (int k = t; k < kKeyCount; k += kActorTypeCount) {
      const auto& point = recovered[static_cast<std::size_t>(k)];
      auto it = by_key.find(k);
      const bool in_scan = it != by_key.end();
      if (point) ++live;
      if (in_scan != point.has_value() || (in_scan && !(*it->second == *point))) {
        ++report.scan_mismatches;
        report.note(at + "scan " + type + " and get disagree on key " + std::to_string(k) + " (scan " +
                    (in_scan ? "has it" : "lacks it") + ", get " + (point ? "has it" : "lacks it") + ")");
      }
    }
  }
  report.keys_live_last = live;

  // The secondary orders must agree with the primary after recovery too:
  // list_by_node in key order, list_expiring_before by (expiry, key).
  std::vector<Lease> all_live;
  for (const auto& point : recovered)
    if (point) all_live.push_back(*point);
  std::sort(all_live.begin(), all_live.end(), [](const Lease& a, const Lease& b) { return a.key < b.key; });
  std::map<std::string, std::vector<Lease>> by_node;
  for (const auto& lease : all_live) by_node[lease.node_id].push_back(lease);
  for (int n = 0; n < kNodeCount; ++n) {
    std::string node = "node-" + std::to_string(n);
    auto listed = sync_wait(store->list_by_node(node));
    if (!listed.ok() || listed.value() != by_node[node]) {
      ++report.scan_mismatches;
      report.note(at + "list_by_node " + node + " disagrees with point gets: " +
                  (listed.ok() ? std::to_string(listed->size()) + " listed, " + std::to_string(by_node[node].size()) +
                                     " expected"
                               : listed.error().to_string()));
    }
  }
  std::vector<Lease> by_expiry = all_live;
  std::sort(by_expiry.begin(), by_expiry.end(), [](const Lease& a, const Lease& b) {
    return a.expires_at != b.expires_at ? a.expires_at < b.expires_at : a.key < b.key;
  });
  const SystemTime year_2100(std::chrono::seconds(4'102'444'800));  // after every expiry the child writes
  auto expiring = sync_wait(store->list_expiring_before(year_2100));
  if (!expiring.ok() || expiring.value() != by_expiry) {
    ++report.scan_mismatches;
    report.note(at + "list_expiring_before(2100) disagrees with point gets: " +
                (expiring.ok() ? std::to_string(expiring->size()) + " listed, " + std::to_string(by_expiry.size()) +
                                     " expected"
                               : expiring.error().to_string()));
  }

  auto stats = sync_wait(store->stats());
  if (!stats.ok()) {
    ++report.stats_failures;
    report.note(at + "stats failed: " + stats.error().to_string());
  } else {
    if (stats->total_keys != live) ++report.stats_key_count_differs;
    if (stats->background_errors > 0) {
      report.background_errors += stats->background_errors;
      report.note(at + "background errors after recovery: " + stats->last_background_error);
    }
  }
  if (stats.ok() && stats->recovery_log_bytes_cut > 0) {
    ++report.opens_tail_cut;
    report.log_bytes_cut += stats->recovery_log_bytes_cut;
  } else {
    ++report.opens_clean;
  }
  if (stats.ok() && o.verbose) {
    std::printf("  cycle %d: %llu live keys, stats.total_keys %llu, recovery %lld us, disk %llu bytes\n", cycle,
                static_cast<unsigned long long>(live), static_cast<unsigned long long>(stats->total_keys),
                static_cast<long long>(stats->recovery_time.count()),
                static_cast<unsigned long long>(stats->disk_usage_bytes));
  }
  auto closed = sync_wait(store->close());
  if (!closed.ok()) {
    ++report.stats_failures;
    report.note(at + "close failed: " + closed.error().to_string());
  }
  store.reset();

  // The full checksum and structure scan of every file of the store (what
  // orbit-cli validate runs): tree order and fan-out, page accounting,
  // SSTable blocks and key ranges, manifest, snapshots, key layout.
  auto verified = sync_wait(PersistenceFactory::verify_store(store_config(report.backend, data_dir, io, o.durability)));
  ++report.verifies;
  if (!verified.ok()) {
    ++report.verify_problems;
    report.note(at + "verify_store could not run: " + verified.error().to_string());
  } else if (!verified->ok()) {
    report.verify_problems += verified->problems.size();
    const FileProblem& first = verified->problems.front();
    report.note(at + "verify_store: " + first.file + " offset " + std::to_string(first.offset) + ": " + first.what);
  }
  return true;
}

BackendReport run_backend(const Options& o, PersistenceBackend backend, const std::filesystem::path& root) {
  BackendReport report;
  report.backend = backend;
  Rng rng(o.seed ^ (0x9e37ULL * (static_cast<std::uint64_t>(backend) + 1)));
  const auto work = root / ("orbit-crash-" + std::string(to_string(backend)) + "-" + std::to_string(::getpid()));
  const std::string data_dir = (work / "data").string();
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  std::filesystem::create_directories(work, ec);
  std::vector<KeyState> state(kKeyCount);  // a fresh store: every key absent

  for (int cycle = 0; cycle < o.cycles; ++cycle) {
    const std::string side_log = (work / ("side-" + std::to_string(cycle) + ".log")).string();
    const std::uint64_t child_seed = rng.next();
    const bool kill_while_opening = static_cast<int>(rng.uniform(0, 99)) < o.open_kill_percent;
    const auto window_ms = rng.uniform(kill_while_opening ? 0 : o.min_run_ms, kill_while_opening ? 40 : o.max_run_ms);

    // Mixed: the child and the reopen run on different I/O backends, so each
    // recovers what the other wrote.
    const bool child_on_auto = rng.uniform(0, 1) == 0;
    const IoBackend child_io = o.io_mixed ? (child_on_auto ? IoBackend::Auto : IoBackend::Asio) : o.io;
    const IoBackend reopen_io = o.io_mixed ? (child_on_auto ? IoBackend::Asio : IoBackend::Auto) : o.io;
    Spawned child = spawn_child(o, backend, child_io, data_dir, side_log, child_seed, cycle);
    if (kill_while_opening) {
      ++report.kills_during_open;
      std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));
    } else if (wait_ready(child.ready_read, 30000)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));
    }
    ::kill(child.pid, SIGKILL);
    ::close(child.ready_read);
    int status = 0;
    while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    ++report.cycles;

    SideLog log = read_side_log(side_log);
    report.writes_issued += log.issued;
    const std::string at = "cycle " + std::to_string(cycle) + ": ";
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      ++report.child_abnormal;
      report.note(at + "child ended on its own (" +
                  (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                     : "signal " + std::to_string(WTERMSIG(status))) +
                  ")");
    }
    if (!log.open_error.empty()) {
      ++report.child_open_failures;
      report.note(at + "child could not open the store: " + log.open_error);
    }
    if (!log.failures.empty()) {
      report.write_failures += log.failures.size();
      report.note(at + std::to_string(log.failures.size()) + " writes failed in the child, first: " +
                  log.failures.front());
    }
    for (const auto& m : log.malformed) report.note(at + "malformed side log line: " + m);
    if (!log.malformed.empty()) ++report.torn;

    if (!verify(o, report, reopen_io, data_dir, log, state, cycle)) break;  // a refused store ends this backend's run
    if (o.verbose)
      std::printf("  cycle %d: window %llu ms%s, %llu issued, %llu acked\n", cycle,
                  static_cast<unsigned long long>(window_ms), kill_while_opening ? " (kill while opening)" : "",
                  static_cast<unsigned long long>(log.issued), static_cast<unsigned long long>(log.acked));
    if (report.failed()) break;  // stop at the first bad cycle: its side log and data stay for a post-mortem
    if ((cycle + 1) % 100 == 0 && cycle + 1 < o.cycles) {
      std::printf("orbit-crash: %s cycle %d/%d, %llu acked writes checked, no violations\n",
                  std::string(to_string(backend)).c_str(), cycle + 1, o.cycles,
                  static_cast<unsigned long long>(report.acked_checked));
      std::fflush(stdout);
    }
    std::filesystem::remove(side_log, ec);
  }
  // A self-test run is meant to fail; its directory is of no interest.
  if ((!report.failed() || o.drop_percent > 0) && !o.keep) std::filesystem::remove_all(work, ec);
  else std::printf("orbit-crash: %s work directory kept: %s\n", std::string(to_string(backend)).c_str(), work.c_str());
  return report;
}

void print_report(const BackendReport& r, const Options& o) {
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("== orbit-crash report: %s%s (seed %llu, io %s, %s) ==\n", std::string(to_string(r.backend)).c_str(),
              r.backend == PersistenceBackend::RocksDb ? " [control: RocksDB through our interface]" : "", u(o.seed),
              o.io_mixed ? "mixed auto/asio" : std::string(to_string(o.io)).c_str(),
              std::string(to_string(o.durability)).c_str());
  std::printf("  cycles run                       %d of %d (%llu killed while opening)\n", r.cycles, o.cycles,
              u(r.kills_during_open));
  std::printf("  writes issued                    %llu\n", u(r.writes_issued));
  std::printf("  acknowledged writes checked      %llu\n", u(r.acked_checked));
  std::printf("  lost writes                      %llu\n", u(r.lost));
  std::printf("  torn or half-visible records     %llu\n", u(r.torn));
  std::printf("  batch atomicity violations       %llu\n", u(r.batch_violations));
  std::printf("  scan/list/get mismatches         %llu\n", u(r.scan_mismatches));
  std::printf("  writes refused in the child      %llu\n", u(r.write_failures));
  std::printf("  recovery: clean opens            %llu (the log ended cleanly)\n", u(r.opens_clean));
  std::printf("  recovery: opens that cut a tail  %llu (%llu bytes of torn log; RocksDB does not report it)\n",
              u(r.opens_tail_cut), u(r.log_bytes_cut));
  std::printf("  recovery: refused opens          %llu (+%llu in the child)\n", u(r.opens_refused),
              u(r.child_open_failures));
  std::printf("  child died on its own            %llu\n", u(r.child_abnormal));
  std::printf("  stats/close failures             %llu\n", u(r.stats_failures));
  std::printf("  background errors after recovery %llu\n", u(r.background_errors));
  std::printf("  full file scans (verify_store)   %llu, problems %llu\n", u(r.verifies), u(r.verify_problems));
  std::printf("  live keys after last recovery    %llu of %d\n", u(r.keys_live_last), kKeyCount);
  std::printf("  stats.total_keys != live (info)  %llu cycles\n", u(r.stats_key_count_differs));
  for (const auto& p : r.problems) std::printf("  ! %s\n", p.c_str());
  std::printf("  verdict: %s\n", r.failed() ? "FAIL" : "PASS");
}

int run_parent(const Options& o) {
  std::vector<PersistenceBackend> backends;
  if (o.backend) {
    if (!PersistenceFactory::is_available(*o.backend)) {
      std::printf("orbit-crash: backend %s is not built into this binary; skipping\n",
                  std::string(to_string(*o.backend)).c_str());
      return 77;
    }
    backends.push_back(*o.backend);
  } else {
    backends = PersistenceFactory::available_backends();
  }
  std::filesystem::path root = o.dir;
  if (root.empty()) {
    const char* tmp = std::getenv("ORBIT_TEST_TMPDIR");
    root = tmp && *tmp ? tmp : "/tmp";
  }
  std::printf("orbit-crash: seed %llu (rerun with ORBIT_CRASH_SEED=%llu), %d cycles per backend, %d writers, "
              "windows %llu-%llu ms\n",
              static_cast<unsigned long long>(o.seed), static_cast<unsigned long long>(o.seed), o.cycles, o.writers,
              static_cast<unsigned long long>(o.min_run_ms), static_cast<unsigned long long>(o.max_run_ms));
  std::fflush(stdout);
  bool failed = false;
  std::vector<BackendReport> reports;
  for (auto backend : backends) {
    const auto started = std::chrono::steady_clock::now();
    reports.push_back(run_backend(o, backend, root));
    const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("orbit-crash: %s done in %.1f s\n", std::string(to_string(backend)).c_str(), secs);
    failed = failed || reports.back().failed();
  }
  for (const auto& r : reports) print_report(r, o);
  if (failed) std::printf("orbit-crash: FAILED (seed %llu)\n", static_cast<unsigned long long>(o.seed));
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace orbit::crash

int main(int argc, char** argv) {
  using namespace orbit::crash;
  Options o = parse(argc, argv);
  if (o.child) {
    if (!o.backend || o.dir.empty() || o.side_log.empty()) usage("--child needs --backend, --dir and --side-log");
    ChildOptions c;
    c.config = store_config(*o.backend, o.dir, o.io, o.durability);
    c.side_log = o.side_log;
    c.seed = o.seed;
    c.seq_base = o.seq_base;
    c.batch_base = o.batch_base;
    c.writers = o.writers;
    c.drop_percent = o.drop_percent;
    c.ready_fd = o.ready_fd;
    return run_child(c);
  }
  return run_parent(o);
}
