// tick_clock: a cheap monotonic clock for timing operations.
//
// Every public operation reads a clock twice for its metrics' latency.
// std::chrono::steady_clock::now() (clock_gettime through the vDSO) costs
// 24 ns per read on this project's machines, a fifth of a hot get_lease;
// the CPU's time-stamp counter costs 10. So: the TSC where the kernel itself
// trusts it, steady_clock everywhere else.
//
// The TSC is used when the CPU says it is invariant (constant rate in every
// power state, CPUID 0x80000007 EDX bit 8) and the kernel's clocksource is
// "tsc", which Linux selects only after checking that the counters of all
// CPUs agree; so a start read on one thread and an end read on another (an
// operation that hops onto the store's loop) subtract correctly. Its rate
// is measured once per process, against steady_clock over 2 ms, on the
// first read (PersistenceProvider's constructor makes that read, so no
// operation pays for it).
//
// Threading: any thread, any time.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace orbit::tick_clock {

using Ticks = std::uint64_t;

namespace detail {
struct Source {
  bool tsc = false;
  double nanos_per_tick = 1.0;
};
// The process's source: decided and calibrated on first use.
const Source& source() noexcept;
// Decides and calibrates a source (2 ms when it is the TSC); steady_clock
// when `allow_tsc` is false or the TSC does not qualify. For tests.
Source calibrate(bool allow_tsc) noexcept;
inline Ticks steady_nanos() noexcept {
  return static_cast<Ticks>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
}  // namespace detail

// A reading, meaningful only against another reading of this clock.
inline Ticks now() noexcept {
#if defined(__x86_64__)
  if (detail::source().tsc) return __rdtsc();
#endif
  return detail::steady_nanos();
}

// The time from `start` to `end` (zero when `end` is not after `start`).
inline std::chrono::nanoseconds elapsed(Ticks start, Ticks end) noexcept {
  if (end <= start) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(
      static_cast<std::int64_t>(static_cast<double>(end - start) * detail::source().nanos_per_tick));
}

// True when readings come from the TSC (false: steady_clock nanoseconds).
inline bool uses_tsc() noexcept { return detail::source().tsc; }

}  // namespace orbit::tick_clock
