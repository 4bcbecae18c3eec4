// Goal: what a store promises around its data on every backend: everything
// survives close + reopen (indexes included), bad input is refused before
// anything is stored, a closed store answers Unavailable, and stats, flush
// and checkpoint report truthfully.
#include <gtest/gtest.h>

#include "orbit/persistence.hpp"
#include "tests/conformance/conformance_fixture.hpp"

namespace orbit::conformance {
namespace {

using std::chrono::seconds;

TEST_P(BackendConformance, ReopenKeepsEverything) {
  std::vector<Lease> kept;
  for (std::uint64_t n = 0; n < 40; ++n) {
    Lease lease = make_lease(make_key(n % 3 ? "Player" : "Guild", n), "node-" + std::to_string(n % 4),
                             base_ + seconds(n), n + 1, "{\"n\":" + std::to_string(n) + "}");
    ASSERT_TRUE(sync_wait(store().store_lease(lease)).ok());
    kept.push_back(lease);
  }
  for (std::uint64_t n = 0; n < 40; n += 5) ASSERT_TRUE(sync_wait(store().remove_lease(kept[n].key)).ok());
  WriteBatch batch;
  kept[1].node_id = "node-9";
  batch.put(kept[1]);
  batch.remove(kept[2].key);
  ASSERT_TRUE(sync_wait(store().apply_batch(batch)).ok());
  auto acquired = sync_wait(store().acquire_lease(AcquireRequest{make_key("Player", 1000), "node-7", Millis(60000)}));
  ASSERT_TRUE(acquired.ok());

  auto scan_before = sync_wait(store().scan_by_actor_type("Player"));
  auto node9_before = sync_wait(store().list_by_node("node-9"));
  auto expiring_before = sync_wait(store().list_expiring_before(base_ + seconds(100)));
  ASSERT_TRUE(scan_before.ok() && node9_before.ok() && expiring_before.ok());

  reopen();
  ASSERT_TRUE(store_);
  for (std::uint64_t n = 0; n < 40; ++n) {
    auto got = sync_wait(store().get_lease(kept[n].key));
    if (n % 5 == 0 || n == 2) {
      EXPECT_EQ(got.code(), ErrorCode::NotFound) << n;
    } else {
      ASSERT_TRUE(got.ok()) << n << ": " << got.error().to_string();
      EXPECT_EQ(got.value(), kept[n]);
    }
  }
  EXPECT_EQ(sync_wait(store().get_lease(acquired->key)).value(), acquired.value());
  EXPECT_EQ(sync_wait(store().scan_by_actor_type("Player")).value(), scan_before.value());
  EXPECT_EQ(sync_wait(store().list_by_node("node-9")).value(), node9_before.value());
  EXPECT_EQ(sync_wait(store().list_expiring_before(base_ + seconds(100))).value(), expiring_before.value());
  auto stats = sync_wait(store().stats());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_keys, 40u - 8u - 1u + 1u);
}

TEST_P(BackendConformance, InvalidInputIsRefusedAndStoresNothing) {
  Lease good = make_lease(make_key("Player", 1), "node-1", base_);

  Lease no_type = good;
  no_type.key.actor_type.clear();
  auto r1 = sync_wait(store().store_lease(no_type));
  EXPECT_EQ(r1.code(), ErrorCode::InvalidArgument);
  expect_metrics(r1.metrics(), OperationType::Store, false);

  Lease long_type = good;
  long_type.key.actor_type.assign(kMaxActorTypeBytes + 1, 'x');
  EXPECT_EQ(sync_wait(store().store_lease(long_type)).code(), ErrorCode::InvalidArgument);

  Lease big_payload = good;
  big_payload.metadata.custom_data.assign(kMaxCustomDataBytes + 1, 'x');
  auto r3 = sync_wait(store().store_lease(big_payload));
  EXPECT_EQ(r3.code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r3.error().message.find(std::to_string(kMaxCustomDataBytes)), std::string::npos)
      << "the message should say what is accepted: " << r3.error().message;

  Lease no_node = good;
  no_node.node_id.clear();
  EXPECT_EQ(sync_wait(store().store_lease(no_node)).code(), ErrorCode::InvalidArgument);

  EXPECT_EQ(sync_wait(store().get_lease(ActorKey{Uuid::from_u64(1), ""})).code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(sync_wait(store().acquire_lease(AcquireRequest{good.key, "node-1", Millis(0)})).code(),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(sync_wait(store().acquire_lease(AcquireRequest{good.key, "", Millis(1000)})).code(),
            ErrorCode::InvalidArgument);

  auto all = sync_wait(store().scan_by_actor_type("Player"));
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  auto stats = sync_wait(store().stats());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_keys, 0u);

  // The largest accepted payload is accepted.
  Lease max_payload = good;
  max_payload.metadata.custom_data.assign(kMaxCustomDataBytes, 'y');
  ASSERT_TRUE(sync_wait(store().store_lease(max_payload)).ok());
  EXPECT_EQ(sync_wait(store().get_lease(good.key)).value(), max_payload);
}

TEST_P(BackendConformance, OperationsAfterCloseAreUnavailable) {
  Lease lease = make_lease(make_key("Player", 1), "node-1", base_);
  ASSERT_TRUE(sync_wait(store().store_lease(lease)).ok());
  auto closed = sync_wait(store().close());
  ASSERT_TRUE(closed.ok()) << closed.error().to_string();
  expect_metrics(closed.metrics(), OperationType::Close, true);
  EXPECT_TRUE(sync_wait(store().close()).ok()) << "close is idempotent";

  auto expect_unavailable = [](auto result, OperationType type) {
    EXPECT_EQ(result.code(), ErrorCode::Unavailable) << to_string(type);
    expect_metrics(result.metrics(), type, false);
  };
  expect_unavailable(sync_wait(store().store_lease(lease)), OperationType::Store);
  expect_unavailable(sync_wait(store().get_lease(lease.key)), OperationType::Get);
  expect_unavailable(sync_wait(store().remove_lease(lease.key)), OperationType::Remove);
  WriteBatch batch;
  batch.put(lease);
  expect_unavailable(sync_wait(store().apply_batch(batch)), OperationType::Batch);
  expect_unavailable(sync_wait(store().scan_by_actor_type("Player")), OperationType::ScanByActorType);
  expect_unavailable(sync_wait(store().list_by_node("node-1")), OperationType::ListByNode);
  expect_unavailable(sync_wait(store().list_expiring_before(base_)), OperationType::ListExpiring);
  expect_unavailable(sync_wait(store().acquire_lease(AcquireRequest{lease.key, "node-2", Millis(1000)})),
                     OperationType::Acquire);
  expect_unavailable(sync_wait(store().renew_lease(RenewRequest{lease.key, "node-1", 1, Millis(1000)})),
                     OperationType::Renew);
  expect_unavailable(sync_wait(store().release_lease(ReleaseRequest{lease.key, "node-1", 1})),
                     OperationType::Release);
  expect_unavailable(sync_wait(store().stats()), OperationType::Stats);
  expect_unavailable(sync_wait(store().flush()), OperationType::Flush);
  expect_unavailable(sync_wait(store().checkpoint()), OperationType::Checkpoint);
}

TEST_P(BackendConformance, CloseWaitsForOperationsInFlight) {
  std::vector<Task<Result<void>>> writes;
  for (std::uint64_t n = 0; n < 32; ++n)
    writes.push_back(store().store_lease(make_lease(make_key("Player", n), "node-1", base_)));
  // Start the writes, then close while they are queued: each either lands
  // (and is there after reopening) or reports Unavailable; none is lost
  // after reporting success.
  std::vector<Task<Result<void>>> all;
  for (auto& w : writes) all.push_back(std::move(w));
  all.push_back(store().close());
  auto results = run_concurrently(std::move(all));
  ASSERT_TRUE(results.back().ok()) << results.back().error().to_string();
  store_.reset();
  auto opened = open_store(config(), nullptr);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  store_ = std::move(opened).value();
  for (std::uint64_t n = 0; n < 32; ++n) {
    auto got = sync_wait(store().get_lease(make_key("Player", n)));
    if (results[n].ok()) {
      EXPECT_TRUE(got.ok()) << "acknowledged write " << n << " lost";
    } else {
      EXPECT_EQ(results[n].code(), ErrorCode::Unavailable);
    }
  }
}

TEST_P(BackendConformance, StatsFlushAndCheckpointReport) {
  for (std::uint64_t n = 0; n < 25; ++n)
    ASSERT_TRUE(sync_wait(store().store_lease(make_lease(make_key("Player", n), "node-1", base_, 1,
                                                         std::string(100, 'd'))))
                    .ok());
  auto stats = sync_wait(store().stats());
  ASSERT_TRUE(stats.ok()) << stats.error().to_string();
  expect_metrics(stats.metrics(), OperationType::Stats, true);
  EXPECT_EQ(stats->total_keys, 25u);
  EXPECT_GE(stats->total_size_bytes, 25u * 100u);
  EXPECT_GT(stats->average_key_size, 0u);
  EXPECT_GE(stats->average_value_size, 100u);
  EXPECT_GT(stats->disk_usage_bytes, 0u);
  EXPECT_GT(stats->disk_bytes_written, 0u);

  auto flushed = sync_wait(store().flush());
  ASSERT_TRUE(flushed.ok()) << flushed.error().to_string();
  expect_metrics(flushed.metrics(), OperationType::Flush, true);

  auto checkpointed = sync_wait(store().checkpoint());
  if (checkpointed.ok()) {
    expect_metrics(checkpointed.metrics(), OperationType::Checkpoint, true);
  } else {
    EXPECT_EQ(checkpointed.code(), ErrorCode::NotSupported) << checkpointed.error().to_string();
  }
  // Still all there, and still consistent after the checkpoint.
  auto all = sync_wait(store().scan_by_actor_type("Player"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 25u);
  for (std::uint64_t n = 0; n < 25; n += 2) ASSERT_TRUE(sync_wait(store().remove_lease(make_key("Player", n))).ok());
  auto after = sync_wait(store().stats());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->total_keys, 12u);
}

}  // namespace
}  // namespace orbit::conformance
