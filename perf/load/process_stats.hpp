// Process-wide resource readings for the benchmark's table: peak resident
// memory since the last reset, and CPU seconds of all threads.
#pragma once

#include <cstdint>

namespace orbit::bench {

// Resets the kernel's peak-RSS watermark (VmHWM) to the current RSS.
void reset_peak_rss();
std::uint64_t peak_rss_bytes();
double cpu_seconds();

}  // namespace orbit::bench
