// Goal: the lease primitives' rules — who may acquire, renew and release.
#include "src/provider/lease_rules.hpp"

#include <gtest/gtest.h>

namespace orbit {
namespace {

using namespace std::chrono_literals;
const SystemTime kNow{std::chrono::seconds(5000)};
const ActorKey kKey{Uuid::from_u64(7), "Player"};

Lease held_by(const std::string& node, SystemTime expires, std::uint64_t version = 3) {
  Lease l = Lease::create(kKey, node, 10s, expires - 10s);
  l.version = version;
  return l;
}

TEST(LeaseRules, AcquireAbsentStartsAtVersionOne) {
  auto r = decide_acquire(std::nullopt, {kKey, "node-1", 30s, R"({"a":1})"}, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version, 1u);
  EXPECT_EQ(r->node_id, "node-1");
  EXPECT_EQ(r->expires_at, kNow + 30s);
  EXPECT_EQ(r->metadata.custom_data, R"({"a":1})");
}

TEST(LeaseRules, AcquireHeldIsConflictNamingTheOwner) {
  auto r = decide_acquire(held_by("node-2", kNow + 5s), {kKey, "node-1", 30s, "{}"}, kNow);
  ASSERT_EQ(r.code(), ErrorCode::Conflict);
  EXPECT_EQ(r.error().message, "lease Player/00000000-0000-0000-0000-000000000007 is held by node 'node-2' "
                               "(version 3) for another 5000 ms");
  EXPECT_TRUE(r.error().retryable);
}

TEST(LeaseRules, AcquireExpiredStartsANewEpoch) {
  auto r = decide_acquire(held_by("node-2", kNow), {kKey, "node-1", 30s, "{}"}, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version, 4u);
  EXPECT_EQ(r->node_id, "node-1");
}

TEST(LeaseRules, RenewByOwnerAtCurrentVersion) {
  auto r = decide_renew(held_by("node-1", kNow + 1s), {kKey, "node-1", 3, 20s}, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version, 4u);
  EXPECT_EQ(r->expires_at, kNow + 20s);
  EXPECT_EQ(r->metadata.renewal_count, 1u);
}

TEST(LeaseRules, RenewWithStaleEpochOrOtherNodeIsConflict) {
  auto stale = decide_renew(held_by("node-1", kNow + 1s), {kKey, "node-1", 2, 20s}, kNow);
  EXPECT_EQ(stale.code(), ErrorCode::Conflict);
  EXPECT_EQ(stale.error().message, "lease Player/00000000-0000-0000-0000-000000000007 is at version 3, "
                                   "caller holds version 2");
  auto other = decide_renew(held_by("node-2", kNow + 1s), {kKey, "node-1", 3, 20s}, kNow);
  EXPECT_EQ(other.code(), ErrorCode::Conflict);
  EXPECT_EQ(decide_renew(std::nullopt, {kKey, "node-1", 1, 20s}, kNow).code(), ErrorCode::NotFound);
}

TEST(LeaseRules, ReleaseChecksOwnerAndVersion) {
  EXPECT_TRUE(check_release(held_by("node-1", kNow), {kKey, "node-1", 3}).ok());
  EXPECT_EQ(check_release(held_by("node-1", kNow), {kKey, "node-1", 4}).code(), ErrorCode::Conflict);
  EXPECT_EQ(check_release(held_by("node-2", kNow), {kKey, "node-1", 3}).code(), ErrorCode::Conflict);
  EXPECT_EQ(check_release(std::nullopt, {kKey, "node-1", 3}).code(), ErrorCode::NotFound);
}

}  // namespace
}  // namespace orbit
