// Goal: Result carries a value or an Error, and always its metrics.
#include "orbit/result.hpp"

#include <gtest/gtest.h>

namespace orbit {
namespace {

TEST(Result, ValueAndMetrics) {
  PersistenceMetrics m;
  m.disk_bytes_written = 128;
  auto r = Result<int>::success(5, m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 5);
  EXPECT_TRUE(r.metrics().success);
  EXPECT_EQ(r.metrics().disk_bytes_written, 128u);
}

TEST(Result, ErrorKeepsMetrics) {
  PersistenceMetrics m;
  m.latency = std::chrono::microseconds(3);
  auto r = Result<int>::failure(make_error(ErrorCode::Conflict, "held by node-2", true), m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::Conflict);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_EQ(r.error().to_string(), "Conflict: held by node-2");
  EXPECT_FALSE(r.metrics().success);
  EXPECT_EQ(r.metrics().latency, std::chrono::microseconds(3));
}

TEST(Result, VoidResult) {
  Result<void> ok;
  EXPECT_TRUE(ok.ok());
  Result<void> bad = make_error(ErrorCode::NotFound, "no lease");
  EXPECT_EQ(bad.code(), ErrorCode::NotFound);
  EXPECT_EQ(to_string(bad.code()), "NotFound");
}

}  // namespace
}  // namespace orbit
