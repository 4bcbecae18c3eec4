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
//    random prefix (some of it garbage), or keeping a prefix torn at 512 B,
//    4 KiB or any byte — and the store is
//    reopened on the real file system. The recovered leases must equal the
//    model's state after some k operations, acknowledged <= k <= issued: every
//    acknowledged write is there, nothing half-applied, no holes.
//  faults: only operation N fails (EIO or ENOSPC; for writes also a short
//    write: a prefix lands, then the error) and the workload goes on, then
//    stats() is read and the store closed and reopened. Each lease must be
//    its value after the last acknowledged write to it, or after a later
//    failed write to it (a failed write may or may not have landed). The
//    error must have reached a caller (an operation, checkpoint, stats or
//    close: "surfaced") or be counted in stats().background_errors by work
//    no caller waits for ("counted"); anything else is "swallowed", a
//    failure. After a failed fdatasync of the log no later write may be
//    acknowledged (fail-stop: the kernel may have dropped the dirty pages).
//  recovery faults: the workload runs to the end, one more write is torn by
//    power loss, and the directory is kept. Then every file operation N of
//    opening it (replay, tail cut, leftover cleanup) fails in turn, each
//    kind of operation and short writes. The open must either fail with an
//    error or succeed with every acknowledged lease; then a plain reopen
//    must hold every acknowledged lease (a failed recovery loses nothing),
//    and the same as the faulted open held if that one succeeded.
//
// Every reopen must succeed (a refused open is a failure), and the reopened
// store's stats().total_keys must equal the number of leases read back.
//
// A Subject with direct_log runs the same over a log written O_DIRECT (the
// default on a real disk; the fault file system then enforces O_DIRECT's
// alignment and lands short writes as whole sectors).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "orbit/config.hpp"
#include "src/factory/engine_registry.hpp"

namespace orbit::durability {

struct Subject {
  std::string name;
  EngineOpenFn open = nullptr;
  PersistenceConfig config;  // data_dir is filled per run
  // The fault file system accepts O_DIRECT, so the log is written with it
  // (the default on a real disk) instead of buffered O_DSYNC (tmpfs).
  bool direct_log = false;
};

enum class Mode { PowerLoss, Faults, RecoveryFaults };
std::string_view to_string(Mode mode) noexcept;

// Fault and recovery-fault sweeps: what became of the injected faults.
struct KindReport {
  std::uint64_t injected = 0;
  std::uint64_t surfaced = 0;   // a caller got an error
  std::uint64_t counted = 0;    // no caller did; stats().background_errors counted it
  std::uint64_t swallowed = 0;  // neither: a failure
};

struct SweepReport {
  std::string subject;
  Mode mode = Mode::PowerLoss;
  std::uint64_t operations = 0;       // file operations of one clean run (of the open, for recovery faults)
  std::uint64_t points = 0;           // N values swept
  std::uint64_t acked_checked = 0;    // acknowledged writes verified after recovery
  std::uint64_t tail_cuts = 0;        // recoveries that cut a torn log tail
  std::uint64_t faults_injected = 0;  // N reached
  std::uint64_t faults_surfaced = 0;
  std::uint64_t faults_counted = 0;
  std::uint64_t faults_swallowed = 0;  // must be 0
  std::uint64_t refused_opens = 0;     // reopens without faults that failed: must be 0
  std::uint64_t faulted_opens_failed = 0;  // recovery faults: opens that failed with an error
  std::map<std::string, KindReport> by_kind;  // by FaultOp name
  std::vector<std::string> failures;  // each: "<kind> #N (<backend>): what"; must be empty
};

// Runs the sweep over N = 1..operations (every `stride`-th point past
// `dense_until`).
SweepReport run_sweep(const Subject& subject, const std::string& scratch_dir, Mode mode, std::uint64_t seed,
                      std::uint64_t dense_until, std::uint64_t stride);

std::string format_report(const SweepReport& report);

}  // namespace orbit::durability
