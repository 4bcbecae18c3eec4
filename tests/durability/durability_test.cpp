// The power-loss and fault sweeps (sweep.hpp) over every engine that does
// its I/O through io/: the map engine of the shared kv layer (log only:
// checks KvStore + WAL) and, when built, the COW B+ tree and LSM engines.
// RocksDB does its own I/O, so it is checked by the SIGKILL crash suite.
//
// Every point of a sweep is a whole open-workload-crash-reopen cycle. The
// sweep is dense (every file operation) up to ORBIT_SWEEP_DENSE (default:
// all), then every ORBIT_SWEEP_STRIDE-th (default 1); CI=true sweeps the
// first 48 (of each kind) densely and every 4th after that.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "tests/durability/sweep.hpp"
#include "tests/support/map_store.hpp"

namespace orbit::durability {
namespace {

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::vector<Subject> subjects() {
  std::vector<Subject> out;
  Subject map;
  map.name = "KvMapStore";
  map.open = &test_support::MapStore::open;
  out.push_back(map);
  for (EngineOpenFn open : {engine_open_function(PersistenceBackend::CowBTree),
                            engine_open_function(PersistenceBackend::LsmTree)}) {
    if (!open) continue;
    Subject s;
    s.open = open;
    s.name = open == engine_open_function(PersistenceBackend::CowBTree) ? "CowBTree" : "LsmTree";
    // Small limits so the short workload flushes, compacts and checkpoints.
    s.config.lsm_config.memtable_size_mb = 1;
    s.config.lsm_config.compaction_threshold = 2;
    s.config.cow_config.max_keys_per_node = 4;
    out.push_back(s);
    // The same with the log written O_DIRECT, as on a real disk.
    s.name += "DirectLog";
    s.direct_log = true;
    out.push_back(s);
  }
  return out;
}

std::string scratch_root() {
  // tmpfs when there is one: the FaultFileSystem models durability itself,
  // so the real fdatasyncs only cost time.
  std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
  std::string pattern = base + "/orbit-durability-XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  return made ? std::string(made) : std::string();
}

class Sweep : public ::testing::TestWithParam<std::tuple<std::string, Mode>> {};

TEST_P(Sweep, EveryAcknowledgedWriteSurvivesAndNoErrorIsSwallowed) {
  const auto& [name, mode] = GetParam();
  const Subject* subject = nullptr;
  static const std::vector<Subject> all = subjects();
  for (const Subject& s : all)
    if (s.name == name) subject = &s;
  if (!subject) GTEST_SKIP() << name << " is not built";

  const std::uint64_t dense = env_u64("ORBIT_SWEEP_DENSE", in_ci() ? 48 : ~0ull);
  const std::uint64_t stride = std::max<std::uint64_t>(1, env_u64("ORBIT_SWEEP_STRIDE", in_ci() ? 4 : 1));
  const std::uint64_t seed = env_u64("ORBIT_SWEEP_SEED", 20261124);
  const std::string root = scratch_root();
  ASSERT_FALSE(root.empty());
  SweepReport report = run_sweep(*subject, root, mode, seed, dense, stride);
  std::filesystem::remove_all(root);
  std::cout << format_report(report) << " (seed " << seed << ")\n";
  EXPECT_GT(report.points, 0u);
  EXPECT_EQ(report.refused_opens, 0u);
  EXPECT_EQ(report.faults_swallowed, 0u);
  if (mode != Mode::PowerLoss) {
    EXPECT_GT(report.faults_injected, 0u);
  }
  for (const std::string& failure : report.failures) ADD_FAILURE() << failure;
}

std::string sweep_name(const ::testing::TestParamInfo<std::tuple<std::string, Mode>>& info) {
  const Mode mode = std::get<1>(info.param);
  return std::get<0>(info.param) + (mode == Mode::PowerLoss ? "_PowerLoss"
                                    : mode == Mode::Faults  ? "_Faults"
                                                            : "_RecoveryFaults");
}

INSTANTIATE_TEST_SUITE_P(Engines, Sweep,
                         ::testing::Combine(::testing::Values("KvMapStore", "CowBTree", "LsmTree"),
                                            ::testing::Values(Mode::PowerLoss, Mode::Faults,
                                                              Mode::RecoveryFaults)),
                         sweep_name);

// The log's O_DIRECT path (whole pages, the last partial one written again
// with each commit) under power loss and at open; the faults sweep once.
INSTANTIATE_TEST_SUITE_P(DirectLog, Sweep,
                         ::testing::Values(std::make_tuple("CowBTreeDirectLog", Mode::PowerLoss),
                                           std::make_tuple("CowBTreeDirectLog", Mode::Faults),
                                           std::make_tuple("CowBTreeDirectLog", Mode::RecoveryFaults),
                                           std::make_tuple("LsmTreeDirectLog", Mode::PowerLoss),
                                           std::make_tuple("LsmTreeDirectLog", Mode::RecoveryFaults)),
                         sweep_name);

}  // namespace
}  // namespace orbit::durability
