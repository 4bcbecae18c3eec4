#include "src/metrics/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace orbit::metrics {
namespace {

constexpr std::size_t kHalf = LatencyHistogram::kSubBuckets / 2;  // 1024
constexpr int kSubBucketBits = 11;                                 // log2(2048)
// Values below 2048 map 1:1; above, each power of two (shift 1..53) adds
// 1024 buckets.
constexpr std::size_t kBucketCount = LatencyHistogram::kSubBuckets + (64 - kSubBucketBits) * kHalf;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

std::size_t LatencyHistogram::index_of(std::uint64_t value) noexcept {
  if (value < kSubBuckets) return static_cast<std::size_t>(value);
  const int shift = std::bit_width(value) - kSubBucketBits;  // >= 1
  const std::size_t sub = static_cast<std::size_t>(value >> shift);  // in [1024, 2047]
  return kSubBuckets + static_cast<std::size_t>(shift - 1) * kHalf + (sub - kHalf);
}

std::uint64_t LatencyHistogram::lowest_equivalent(std::size_t index) noexcept {
  if (index < kSubBuckets) return index;
  const std::size_t above = index - kSubBuckets;
  const int shift = static_cast<int>(above / kHalf) + 1;
  const std::uint64_t sub = kHalf + above % kHalf;
  return sub << shift;
}

std::uint64_t LatencyHistogram::highest_equivalent(std::size_t index) noexcept {
  if (index < kSubBuckets) return index;
  const int shift = static_cast<int>((index - kSubBuckets) / kHalf) + 1;
  return lowest_equivalent(index) + ((std::uint64_t{1} << shift) - 1);
}

void LatencyHistogram::record(std::uint64_t value_ns) noexcept {
  ++counts_[index_of(value_ns)];
  ++count_;
  sum_ += value_ns;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

std::uint64_t LatencyHistogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto target = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  target = std::max<std::uint64_t>(target, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= target) return std::clamp(highest_equivalent(i), min(), max_);
  }
  return max_;
}

std::vector<LatencyHistogram::Point> LatencyHistogram::curve(int ticks_per_half_distance) const {
  std::vector<Point> out;
  if (count_ == 0) return out;
  // Percentiles 0, then halving the distance to 100 repeatedly, with
  // `ticks_per_half_distance` points in each half, until one record remains.
  double p = 0.0;
  for (int half = 0; half < 40; ++half) {
    const double remaining = 100.0 * std::pow(0.5, half);
    const double step = remaining / 2.0 / ticks_per_half_distance;
    for (int t = 0; t < ticks_per_half_distance; ++t) {
      out.push_back({p, percentile(p)});
      p += step;
    }
    if ((100.0 - p) / 100.0 * static_cast<double>(count_) < 1.0) break;
  }
  out.push_back({100.0, max_});
  return out;
}

}  // namespace orbit::metrics
