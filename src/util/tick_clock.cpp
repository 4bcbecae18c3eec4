#include "src/util/tick_clock.hpp"

#include <fstream>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace orbit::tick_clock::detail {
namespace {

#if defined(__x86_64__)
bool invariant_tsc() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &a, &b, &c, &d) == 0) return false;
  return (d & (1u << 8)) != 0;
}

bool kernel_uses_tsc() {
  std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string name;
  return static_cast<bool>(in >> name) && name == "tsc";
}

// A TSC reading taken at the same moment as a steady_clock one: the middle
// of two TSC reads around it.
struct Pair {
  Ticks tsc;
  Ticks nanos;
};
Pair read_pair() noexcept {
  const Ticks before = __rdtsc();
  const Ticks nanos = steady_nanos();
  const Ticks after = __rdtsc();
  return {before + (after - before) / 2, nanos};
}
#endif

}  // namespace

Source calibrate(bool allow_tsc) noexcept {
  Source source;
#if defined(__x86_64__)
  try {
    if (!allow_tsc || !invariant_tsc() || !kernel_uses_tsc()) return source;
  } catch (...) {
    return source;
  }
  constexpr Ticks kWindowNanos = 2'000'000;
  const Pair first = read_pair();
  Pair last = first;
  while (last.nanos - first.nanos < kWindowNanos) last = read_pair();
  if (last.tsc <= first.tsc) return source;  // a counter that did not advance: not one to trust
  source.tsc = true;
  source.nanos_per_tick = static_cast<double>(last.nanos - first.nanos) / static_cast<double>(last.tsc - first.tsc);
#else
  (void)allow_tsc;
#endif
  return source;
}

const Source& source() noexcept {
  static const Source chosen = calibrate(true);
  return chosen;
}

}  // namespace orbit::tick_clock::detail
