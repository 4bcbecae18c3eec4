// LatencyHistogram: a log-linear histogram of nanosecond values with three
// significant digits over the whole u64 range (the HdrHistogram layout:
// 2048 linear sub-buckets per power of two, so any recorded value is
// reported within 1/1024 of itself).
//
// Recording is O(1) and allocation-free; percentiles walk the buckets.
// Not thread-safe: keep one per recording thread and merge().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace orbit::metrics {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(std::uint64_t value_ns) noexcept;
  void merge(const LatencyHistogram& other) noexcept;
  void reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  // The value at percentile p (0..100]: the highest value equivalent (same
  // bucket) to the recorded value below which p% of the records fall;
  // clamped to [min, max].
  std::uint64_t percentile(double p) const noexcept;

  struct Point {
    double percentile;
    std::uint64_t value_ns;
  };
  // The percentile curve at HdrHistogram's "ticks per half distance" spacing
  // (50, 75, 87.5, ... up to 100), for charts and JSON.
  std::vector<Point> curve(int ticks_per_half_distance = 5) const;

  // Bucket arithmetic, public for tests.
  static std::size_t index_of(std::uint64_t value) noexcept;
  static std::uint64_t lowest_equivalent(std::size_t index) noexcept;
  static std::uint64_t highest_equivalent(std::size_t index) noexcept;
  static constexpr std::size_t kSubBuckets = 2048;

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace orbit::metrics
