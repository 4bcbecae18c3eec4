// The engine-level power-loss and fault sweeps (issue 9), generic over any
// engine that reaches the disk only through its runtime's file system.
//
// A short, seeded, sequential workload (stores, removes, batches, and a
// checkpoint every few ops so page writes / flushes happen) runs against an
// engine opened on a FaultRuntime. The sweep repeats it once per file
// operation N of the workload (the open included):
//
//  power loss: every operation from N on fails (EIO, sticky), then crash()
//    keeps what was made durable — dropping all unsynced writes, keeping a
//    random prefix, or keeping a prefix torn at some byte — and the store is
//    reopened on the real file system. The recovered leases must equal the
//    model's state after some k operations, acknowledged <= k <= issued: every
//    acknowledged write is there, nothing half-applied, no holes.
//  fault: only operation N fails (EIO or ENOSPC) and the workload goes on,
//    then the store is closed and reopened. Each lease must be its value
//    after the last acknowledged write to it, or after a later failed write
//    to it (a failed write may or may not have landed). The error must have
//    reached some caller (an operation, checkpoint or close), or been
//    absorbed without harm; both are counted.
//
// Every reopen must succeed (a refused open is a failure), and the reopened
// store's stats().total_keys must equal the number of leases read back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "orbit/config.hpp"
#include "src/factory/engine_registry.hpp"

namespace orbit::durability {

struct Subject {
  std::string name;
  EngineOpenFn open = nullptr;
  PersistenceConfig config;  // data_dir is filled per run
};

struct KindReport {
  std::uint64_t injected = 0;
  std::uint64_t surfaced = 0;
  std::uint64_t absorbed = 0;
};

struct SweepReport {
  std::string subject;
  std::uint64_t operations = 0;       // file operations of one clean run
  std::uint64_t points = 0;           // N values swept
  std::uint64_t acked_checked = 0;    // acknowledged writes verified after recovery
  std::uint64_t faults_injected = 0;  // fault sweep: N reached
  std::uint64_t faults_surfaced = 0;  // ... and some caller saw an error
  std::uint64_t faults_absorbed = 0;  // ... and no caller did (state still checked)
  std::uint64_t refused_opens = 0;    // must be 0
  std::map<std::string, KindReport> by_kind;  // fault sweep, by FaultOp name
  std::vector<std::string> failures;  // each: "N=...: what"; must be empty
};

// Runs the sweep over N = 1..operations (every `stride`-th point past
// `dense_until`). `fault_sweep` picks the fault sweep instead of power loss.
SweepReport run_sweep(const Subject& subject, const std::string& scratch_dir, bool fault_sweep,
                      std::uint64_t seed, std::uint64_t dense_until, std::uint64_t stride);

std::string format_report(const SweepReport& report, bool fault_sweep);

}  // namespace orbit::durability
