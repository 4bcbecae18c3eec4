// Background work: how it shares the CPU with the loop.
//
// Background work (Runtime::offload_background: an LSM flush or compaction
// step, a COW checkpoint's encoding, freeing a flushed memtable) runs on its
// own threads at nice +kBackgroundNice, and gives its CPU away for
// kBackgroundPause after every kBackgroundSlice it runs, at the checkpoints
// its code passes (background_checkpoint()).
//
// Why both. The nice value orders threads within one scheduling group: the
// loop runs before a background worker that shares its CPU. It does nothing
// against threads of another group, and the work a durable commit waits for
// is partly in one: an O_DIRECT|O_DSYNC write on a device with a volatile
// cache completes in a kernel worker (the "dio" kworker) on the CPU that took
// the device's interrupt, which then issues the cache flush. Kernel workers
// sit in the root group; this process, under an autogroup (any session
// leader: a shell, a systemd service) or a cpu cgroup, competes there as one
// entity of nice 0. So while a background worker ran on the interrupt CPU,
// each of those kernel workers waited out the worker's whole slice: 1-4 ms,
// per log write, for as long as a flush ran (perf sched timehist, LsmTree at
// 64 writers; README, "Performance"). SCHED_IDLE and sched_yield() also act only
// within the group. A sleep takes the worker off the CPU whatever the groups.
#pragma once

#include <chrono>

namespace orbit::io {

// The background workers' nice increment.
inline constexpr int kBackgroundNice = 10;
// How long a background worker runs before it gives way at a checkpoint, and
// for how long it then sleeps (with its timer slack cut to 1 us, so the
// sleep is about that long). What waits for the CPU meanwhile waits at most
// about a slice; the background work runs at most ~90% of a CPU.
inline constexpr std::chrono::microseconds kBackgroundSlice{200};
inline constexpr std::chrono::microseconds kBackgroundPause{20};

// On a background worker that has run kBackgroundSlice since its job began
// or it last gave way: sleeps kBackgroundPause. Anywhere else (the loop, a
// foreground worker): returns at once, after one thread-local read.
//
// Long background code calls it every few to a few tens of microseconds of
// work: between SSTable blocks, every few hundred merged entries or filter
// keys, every few pages it faults in or unmaps. It reads the clock, so not
// per cheap step.
void background_checkpoint() noexcept;

namespace detail {
// For a WorkerPool's background threads: makes the calling thread one whose
// checkpoints give way (and cuts its timer slack).
void become_background_thread() noexcept;
// Called as each background job starts: its slice begins now, not when the
// thread last gave way (an idle wait is not running).
void begin_background_job() noexcept;
}  // namespace detail

}  // namespace orbit::io
