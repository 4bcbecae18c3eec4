// Goal: acquire/renew/release keep the lease protocol on every backend:
// absent or expired -> a new epoch, held -> Conflict, renew and release only
// by the owner at the version it holds, and among many concurrent
// acquirers of one lease exactly one wins.
#include <gtest/gtest.h>

#include "orbit/persistence.hpp"
#include "tests/conformance/conformance_fixture.hpp"

namespace orbit::conformance {
namespace {

using std::chrono::seconds;

AcquireRequest acquire(const ActorKey& key, std::string node, Millis duration = Millis(30000)) {
  return AcquireRequest{key, std::move(node), duration, R"({"who":"test"})"};
}

TEST_P(BackendConformance, AcquireAbsentGivesVersionOne) {
  ActorKey key = make_key("Player", 1);
  auto won = sync_wait(store().acquire_lease(acquire(key, "node-1")));
  ASSERT_TRUE(won.ok()) << won.error().to_string();
  expect_metrics(won.metrics(), OperationType::Acquire, true);
  EXPECT_GT(won.metrics().disk_bytes_written, 0u);
  EXPECT_EQ(won->version, 1u);
  EXPECT_EQ(won->node_id, "node-1");
  EXPECT_EQ(won->metadata.custom_data, R"({"who":"test"})");
  EXPECT_FALSE(won->expired());
  EXPECT_EQ(sync_wait(store().get_lease(key)).value(), won.value());
}

TEST_P(BackendConformance, AcquireHeldIsConflict) {
  ActorKey key = make_key("Player", 1);
  auto first = sync_wait(store().acquire_lease(acquire(key, "node-1")));
  ASSERT_TRUE(first.ok());
  auto second = sync_wait(store().acquire_lease(acquire(key, "node-2")));
  EXPECT_EQ(second.code(), ErrorCode::Conflict);
  expect_metrics(second.metrics(), OperationType::Acquire, false);
  // Even the owner cannot acquire what it holds: it renews instead.
  EXPECT_EQ(sync_wait(store().acquire_lease(acquire(key, "node-1"))).code(), ErrorCode::Conflict);
  EXPECT_EQ(sync_wait(store().get_lease(key)).value(), first.value());
}

TEST_P(BackendConformance, AcquireExpiredStartsTheNextEpoch) {
  ActorKey key = make_key("Player", 1);
  Lease stale = make_lease(key, "node-1", std::chrono::system_clock::now() - seconds(5), 7);
  ASSERT_TRUE(sync_wait(store().store_lease(stale)).ok());
  auto won = sync_wait(store().acquire_lease(acquire(key, "node-2")));
  ASSERT_TRUE(won.ok()) << won.error().to_string();
  EXPECT_EQ(won->version, 8u);
  EXPECT_EQ(won->node_id, "node-2");
  // The old owner's epoch is over: it can neither renew nor release.
  EXPECT_EQ(sync_wait(store().renew_lease(RenewRequest{key, "node-1", 7, Millis(1000)})).code(), ErrorCode::Conflict);
  EXPECT_EQ(sync_wait(store().release_lease(ReleaseRequest{key, "node-1", 7})).code(), ErrorCode::Conflict);
  // The index moved with the owner.
  EXPECT_TRUE(sync_wait(store().list_by_node("node-1"))->empty());
  EXPECT_EQ(sync_wait(store().list_by_node("node-2"))->size(), 1u);
}

TEST_P(BackendConformance, RenewByOwnerBumpsTheVersion) {
  ActorKey key = make_key("Player", 1);
  auto held = sync_wait(store().acquire_lease(acquire(key, "node-1", Millis(1000))));
  ASSERT_TRUE(held.ok());
  auto renewed = sync_wait(store().renew_lease(RenewRequest{key, "node-1", held->version, Millis(60000)}));
  ASSERT_TRUE(renewed.ok()) << renewed.error().to_string();
  expect_metrics(renewed.metrics(), OperationType::Renew, true);
  EXPECT_GT(renewed.metrics().disk_bytes_written, 0u);
  EXPECT_EQ(renewed->version, held->version + 1);
  EXPECT_EQ(renewed->metadata.renewal_count, held->metadata.renewal_count + 1);
  EXPECT_GT(renewed->expires_at, held->expires_at);
  EXPECT_EQ(renewed->metadata.created_at, held->metadata.created_at);
  EXPECT_EQ(sync_wait(store().get_lease(key)).value(), renewed.value());
  // Its expiry index entry moved as well.
  auto soon = sync_wait(store().list_expiring_before(held->expires_at + Millis(1)));
  ASSERT_TRUE(soon.ok());
  EXPECT_TRUE(soon->empty());
}

TEST_P(BackendConformance, RenewWithStaleVersionOrByOtherNodeIsConflict) {
  ActorKey key = make_key("Player", 1);
  auto held = sync_wait(store().acquire_lease(acquire(key, "node-1")));
  ASSERT_TRUE(held.ok());
  auto renewed = sync_wait(store().renew_lease(RenewRequest{key, "node-1", held->version, Millis(30000)}));
  ASSERT_TRUE(renewed.ok());

  auto stale = sync_wait(store().renew_lease(RenewRequest{key, "node-1", held->version, Millis(30000)}));
  EXPECT_EQ(stale.code(), ErrorCode::Conflict);
  expect_metrics(stale.metrics(), OperationType::Renew, false);
  auto other = sync_wait(store().renew_lease(RenewRequest{key, "node-2", renewed->version, Millis(30000)}));
  EXPECT_EQ(other.code(), ErrorCode::Conflict);
  auto missing = sync_wait(store().renew_lease(RenewRequest{make_key("Player", 2), "node-1", 1, Millis(30000)}));
  EXPECT_EQ(missing.code(), ErrorCode::NotFound);
  EXPECT_EQ(sync_wait(store().get_lease(key)).value(), renewed.value());
}

TEST_P(BackendConformance, ReleaseOnlyByOwnerAtItsVersion) {
  ActorKey key = make_key("Player", 1);
  auto held = sync_wait(store().acquire_lease(acquire(key, "node-1")));
  ASSERT_TRUE(held.ok());

  auto other = sync_wait(store().release_lease(ReleaseRequest{key, "node-2", held->version}));
  EXPECT_EQ(other.code(), ErrorCode::Conflict);
  expect_metrics(other.metrics(), OperationType::Release, false);
  EXPECT_EQ(sync_wait(store().release_lease(ReleaseRequest{key, "node-1", held->version + 1})).code(),
            ErrorCode::Conflict);
  EXPECT_TRUE(sync_wait(store().get_lease(key)).ok());

  auto released = sync_wait(store().release_lease(ReleaseRequest{key, "node-1", held->version}));
  ASSERT_TRUE(released.ok()) << released.error().to_string();
  expect_metrics(released.metrics(), OperationType::Release, true);
  EXPECT_GT(released.metrics().disk_bytes_written, 0u);
  EXPECT_EQ(sync_wait(store().get_lease(key)).code(), ErrorCode::NotFound);
  EXPECT_TRUE(sync_wait(store().list_by_node("node-1"))->empty());

  auto gone = sync_wait(store().release_lease(ReleaseRequest{key, "node-1", held->version}));
  EXPECT_EQ(gone.code(), ErrorCode::NotFound);
  // Released means absent: anyone may acquire it again, from version 1.
  auto again = sync_wait(store().acquire_lease(acquire(key, "node-2")));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version, 1u);
}

TEST_P(BackendConformance, ManyConcurrentAcquirersExactlyOneWins) {
  constexpr int kRacers = 64;
  for (std::uint64_t round = 0; round < 3; ++round) {
    ActorKey key = make_key("Contended", round);
    std::vector<Task<Result<Lease>>> racers;
    for (int i = 0; i < kRacers; ++i) racers.push_back(store().acquire_lease(acquire(key, "node-" + std::to_string(i))));
    auto results = run_concurrently(std::move(racers));
    int winners = 0;
    std::string winner;
    for (const auto& result : results) {
      if (result.ok()) {
        ++winners;
        winner = result->node_id;
        EXPECT_EQ(result->version, 1u);
      } else {
        EXPECT_EQ(result.code(), ErrorCode::Conflict) << result.error().to_string();
      }
    }
    EXPECT_EQ(winners, 1) << "round " << round;
    auto stored = sync_wait(store().get_lease(key));
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->node_id, winner);
    // Listed once, under the winner only (a node may have won earlier rounds too).
    std::size_t listed = 0;
    for (int i = 0; i < kRacers; ++i) {
      auto on_node = sync_wait(store().list_by_node("node-" + std::to_string(i)));
      ASSERT_TRUE(on_node.ok());
      for (const auto& lease : on_node.value())
        if (lease.key == key) {
          ++listed;
          EXPECT_EQ(lease.node_id, winner);
        }
    }
    EXPECT_EQ(listed, 1u) << "round " << round;
  }
}

TEST_P(BackendConformance, ConcurrentRenewalsOfOneEpochOnlyOneSucceeds) {
  ActorKey key = make_key("Player", 1);
  auto held = sync_wait(store().acquire_lease(acquire(key, "node-1")));
  ASSERT_TRUE(held.ok());
  std::vector<Task<Result<Lease>>> renewals;
  for (int i = 0; i < 16; ++i)
    renewals.push_back(store().renew_lease(RenewRequest{key, "node-1", held->version, Millis(30000)}));
  int ok = 0;
  for (const auto& result : run_concurrently(std::move(renewals))) {
    if (result.ok()) ++ok;
    else EXPECT_EQ(result.code(), ErrorCode::Conflict);
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(sync_wait(store().get_lease(key))->version, held->version + 1);
}

}  // namespace
}  // namespace orbit::conformance
