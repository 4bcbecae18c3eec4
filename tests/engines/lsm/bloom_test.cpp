// Goal: no false negatives, a false-positive rate at 10 bits/key within 2x
// of the theoretical (1 - e^(-k/10))^k ~= 0.82%, fewer bits give more false
// positives, and a damaged filter errs towards "maybe".
#include "engines/lsm/bloom.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace orbit::lsm {
namespace {

std::string key_for(std::uint64_t i) {
  return "actor/type-" + std::to_string(i % 7) + "/id-" + std::to_string(i);
}

double false_positive_rate(std::uint32_t bits_per_key, std::uint64_t keys, std::uint64_t probes) {
  BloomFilterBuilder builder(bits_per_key);
  for (std::uint64_t i = 0; i < keys; ++i) builder.add_key(key_for(i));
  std::string filter = builder.finish();
  for (std::uint64_t i = 0; i < keys; ++i) EXPECT_TRUE(bloom_may_contain(filter, key_for(i))) << i;
  std::uint64_t hits = 0;
  for (std::uint64_t i = keys; i < keys + probes; ++i) hits += bloom_may_contain(filter, key_for(i)) ? 1 : 0;
  return static_cast<double>(hits) / static_cast<double>(probes);
}

TEST(Bloom, NoFalseNegativesAndEmptyFilter) {
  BloomFilterBuilder builder(10);
  std::string empty = builder.finish();
  EXPECT_FALSE(bloom_may_contain(empty, "anything"));
  builder.add_key("");
  builder.add_key("a");
  std::string filter = builder.finish();
  EXPECT_TRUE(bloom_may_contain(filter, ""));
  EXPECT_TRUE(bloom_may_contain(filter, "a"));
}

TEST(Bloom, FalsePositiveRateAtTenBitsPerKeyWithinTwiceTheory) {
  BloomFilterBuilder builder(10);
  double k = builder.probe_count();
  EXPECT_EQ(builder.probe_count(), 7u);
  double theory = std::pow(1.0 - std::exp(-k / 10.0), k);  // ~0.0082
  double measured = false_positive_rate(10, 20000, 200000);
  EXPECT_LT(measured, 2.0 * theory) << "theory " << theory;
  EXPECT_GT(measured, theory / 2.0) << "theory " << theory;
}

TEST(Bloom, FewerBitsMeanMoreFalsePositives) {
  double at4 = false_positive_rate(4, 5000, 50000);
  double at16 = false_positive_rate(16, 5000, 50000);
  EXPECT_GT(at4, at16);
  EXPECT_LT(at16, 0.002);
}

TEST(Bloom, DamagedFilterSaysMaybe) {
  EXPECT_TRUE(bloom_may_contain("", "k"));
  EXPECT_TRUE(bloom_may_contain("x", "k"));
  BloomFilterBuilder builder(10);
  builder.add_key("present");
  std::string filter = builder.finish();
  filter.back() = static_cast<char>(99);  // impossible probe count
  EXPECT_TRUE(bloom_may_contain(filter, "absent"));
}

}  // namespace
}  // namespace orbit::lsm
