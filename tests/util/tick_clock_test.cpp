#include "src/util/tick_clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace orbit::tick_clock {
namespace {

using namespace std::chrono_literals;

// Measures one sleep with a source's own ticks and with steady_clock.
std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds> measure(const detail::Source& source) {
  const auto read = [&] {
#if defined(__x86_64__)
    if (source.tsc) return static_cast<Ticks>(__rdtsc());
#endif
    return detail::steady_nanos();
  };
  const auto steady_start = std::chrono::steady_clock::now();
  const Ticks start = read();
  std::this_thread::sleep_for(20ms);
  const Ticks end = read();
  const auto steady = std::chrono::steady_clock::now() - steady_start;
  const auto ticks = std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(end - start) *
                                                                      source.nanos_per_tick));
  return {ticks, std::chrono::duration_cast<std::chrono::nanoseconds>(steady)};
}

TEST(TickClockTest, SteadyClockWhenTheTscIsNotAllowed) {
  const detail::Source source = detail::calibrate(false);
  EXPECT_FALSE(source.tsc);
  EXPECT_EQ(source.nanos_per_tick, 1.0);
  const auto [ticks, steady] = measure(source);
  EXPECT_GE(ticks, 20ms);
  EXPECT_LE(ticks, steady);
}

// Whichever source this machine qualifies for, its rate turns ticks into the
// time steady_clock measures around the same sleep (within 5%: only the
// reads around the sleep differ).
TEST(TickClockTest, CalibratedRateAgreesWithSteadyClock) {
  const detail::Source source = detail::calibrate(true);
  ASSERT_GT(source.nanos_per_tick, 0.0);
  const auto [ticks, steady] = measure(source);
  EXPECT_GE(ticks, 20ms * 95 / 100);
  EXPECT_NEAR(static_cast<double>(ticks.count()), static_cast<double>(steady.count()),
              0.05 * static_cast<double>(steady.count()));
  RecordProperty("tsc", source.tsc ? "yes" : "no");
}

TEST(TickClockTest, ElapsedIsMonotonicAndNeverNegative) {
  const Ticks a = now();
  std::this_thread::sleep_for(2ms);
  const Ticks b = now();
  EXPECT_GE(b, a);
  EXPECT_GE(elapsed(a, b), 2ms * 95 / 100);
  EXPECT_EQ(elapsed(b, a), 0ns);
  EXPECT_EQ(elapsed(a, a), 0ns);
}

// A reading taken on one thread and one taken later on another subtract to
// the time between them (the start of an operation is read on the caller's
// thread, its end on the store's loop).
TEST(TickClockTest, ReadingsFromTwoThreadsSubtract) {
  const Ticks start = now();
  Ticks end = 0;
  std::thread([&] {
    std::this_thread::sleep_for(5ms);
    end = now();
  }).join();
  EXPECT_GE(elapsed(start, end), 5ms * 95 / 100);
  EXPECT_LT(elapsed(start, end), 10s);
}

}  // namespace
}  // namespace orbit::tick_clock
