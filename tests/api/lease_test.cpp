// Goal: UUIDs parse and print canonically; keys order by type then id;
// renew() moves expiry forward and bumps version and renewal_count.
#include "orbit/lease.hpp"

#include <gtest/gtest.h>

namespace orbit {
namespace {

using namespace std::chrono_literals;

TEST(Uuid, ParseAndPrintRoundTrip) {
  auto u = Uuid::parse("123E4567-e89b-12d3-a456-426614174000");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->to_string(), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(Uuid::parse(u->to_string()), u);
}

TEST(Uuid, RejectsMalformedText) {
  for (const char* bad : {"", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g",
                          "123e4567-e89b-12d3-a456-4266141740000", "123e4567+e89b-12d3-a456-426614174000"})
    EXPECT_FALSE(Uuid::parse(bad)) << bad;
}

TEST(Uuid, RandomIsVersion4AndDistinct) {
  auto a = Uuid::random(), b = Uuid::random();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.bytes[6] >> 4, 4);
  EXPECT_EQ(a.bytes[8] >> 6, 2);
}

TEST(ActorKey, OrdersByTypeThenId) {
  ActorKey a{Uuid::from_u64(9), "Alpha"}, b{Uuid::from_u64(1), "Beta"}, c{Uuid::from_u64(2), "Beta"};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(b.to_string(), "Beta/00000000-0000-0000-0000-000000000001");
}

TEST(Lease, CreateAndRenew) {
  SystemTime t0{std::chrono::seconds(1000)};
  auto lease = Lease::create({Uuid::from_u64(1), "Player"}, "node-1", 30s, t0);
  EXPECT_EQ(lease.version, 1u);
  EXPECT_EQ(lease.expires_at, t0 + 30s);
  EXPECT_EQ(lease.metadata.custom_data, "{}");
  EXPECT_FALSE(lease.expired(t0));
  EXPECT_TRUE(lease.expired(t0 + 30s));
  lease.renew(10s, t0 + 20s);
  EXPECT_EQ(lease.version, 2u);
  EXPECT_EQ(lease.metadata.renewal_count, 1u);
  EXPECT_EQ(lease.metadata.last_renewed, t0 + 20s);
  EXPECT_EQ(lease.expires_at, t0 + 30s);
  EXPECT_EQ(lease.metadata.created_at, t0);
}

}  // namespace
}  // namespace orbit
