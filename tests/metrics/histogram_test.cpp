// Goal: the histogram keeps three significant digits over the whole range,
// its percentiles match exact ones (sorted samples) within 0.1%, and
// merging equals recording everything into one.
#include "src/metrics/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace orbit::metrics {
namespace {

TEST(LatencyHistogram, BucketsCoverEveryValueWithThreeDigits) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200000; ++i) {
    std::uint64_t v = rng() >> (rng() % 64);
    auto idx = LatencyHistogram::index_of(v);
    ASSERT_LE(LatencyHistogram::lowest_equivalent(idx), v);
    ASSERT_GE(LatencyHistogram::highest_equivalent(idx), v);
    double width = static_cast<double>(LatencyHistogram::highest_equivalent(idx) -
                                       LatencyHistogram::lowest_equivalent(idx));
    ASSERT_LE(width, std::max(1.0, static_cast<double>(v) / 1024.0)) << v;
  }
  EXPECT_EQ(LatencyHistogram::index_of(0), 0u);
  EXPECT_EQ(LatencyHistogram::index_of(2047), 2047u);
  EXPECT_EQ(LatencyHistogram::index_of(2048), 2048u);
  EXPECT_GE(LatencyHistogram::highest_equivalent(LatencyHistogram::index_of(UINT64_MAX)), UINT64_MAX - 1);
}

TEST(LatencyHistogram, PercentilesMatchSortedSamples) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(11.0, 1.5);  // ~60 us median, long tail
  std::vector<std::uint64_t> samples;
  LatencyHistogram h;
  for (int i = 0; i < 100000; ++i) {
    auto v = static_cast<std::uint64_t>(dist(rng));
    samples.push_back(v);
    h.record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * samples.size())) - 1;
    double exact = static_cast<double>(samples[rank]);
    double got = static_cast<double>(h.percentile(p));
    EXPECT_NEAR(got, exact, std::max(1.0, exact / 1000.0)) << "p" << p;
  }
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.max(), samples.back());
  EXPECT_EQ(h.min(), samples.front());
}

TEST(LatencyHistogram, MergeEqualsCombinedRecording) {
  LatencyHistogram a, b, all;
  for (std::uint64_t v = 1; v < 100000; v += 7) {
    (v % 2 ? a : b).record(v * 13);
    all.record(v * 13);
  }
  a.merge(b);
  for (double p : {10.0, 50.0, 99.0, 100.0}) EXPECT_EQ(a.percentile(p), all.percentile(p));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
}

TEST(LatencyHistogram, CurveIsMonotoneAndEndsAtMax) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v * 1000);
  auto curve = h.curve();
  ASSERT_GT(curve.size(), 10u);
  for (std::size_t i = 1; i < curve.size(); ++i) {
    EXPECT_GE(curve[i].percentile, curve[i - 1].percentile);
    EXPECT_GE(curve[i].value_ns, curve[i - 1].value_ns);
  }
  EXPECT_EQ(curve.back().value_ns, h.max());
  EXPECT_TRUE(LatencyHistogram().curve().empty());
}

}  // namespace
}  // namespace orbit::metrics
