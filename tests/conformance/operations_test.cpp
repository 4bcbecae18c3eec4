// Goal: every storage operation of the public API behaves the same on every
// backend: store/get/remove with their errors, upsert, the three orders
// (by actor type, by node, by expiry) with paging, and all-or-nothing
// batches; and every result carries metrics tagged with its operation.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "orbit/persistence.hpp"
#include "tests/conformance/conformance_fixture.hpp"

namespace orbit::conformance {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<ActorKey> keys_of(const std::vector<Lease>& leases) {
  std::vector<ActorKey> out;
  for (const auto& lease : leases) out.push_back(lease.key);
  return out;
}

TEST_P(BackendConformance, StoreThenGetReturnsTheSameLease) {
  Lease lease = make_lease(make_key("Player", 1), "node-1", base_, 3, R"({"zone":"eu"})");
  auto stored = sync_wait(store().store_lease(lease));
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  expect_metrics(stored.metrics(), OperationType::Store, true);
  EXPECT_GT(stored.metrics().disk_bytes_written, 0u) << "a durable write wrote nothing";

  auto got = sync_wait(store().get_lease(lease.key));
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  expect_metrics(got.metrics(), OperationType::Get, true);
  EXPECT_EQ(got.value(), lease);
}

TEST_P(BackendConformance, GetOfMissingKeyIsNotFound) {
  auto got = sync_wait(store().get_lease(make_key("Player", 404)));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.code(), ErrorCode::NotFound);
  expect_metrics(got.metrics(), OperationType::Get, false);
}

TEST_P(BackendConformance, RemoveDeletesAndRemovingMissingIsNotFound) {
  Lease lease = make_lease(make_key("Player", 1), "node-1", base_);
  ASSERT_TRUE(sync_wait(store().store_lease(lease)).ok());

  auto removed = sync_wait(store().remove_lease(lease.key));
  ASSERT_TRUE(removed.ok()) << removed.error().to_string();
  expect_metrics(removed.metrics(), OperationType::Remove, true);
  EXPECT_GT(removed.metrics().disk_bytes_written, 0u);
  EXPECT_EQ(sync_wait(store().get_lease(lease.key)).code(), ErrorCode::NotFound);

  auto again = sync_wait(store().remove_lease(lease.key));
  EXPECT_EQ(again.code(), ErrorCode::NotFound);
  expect_metrics(again.metrics(), OperationType::Remove, false);

  // The indexes forget it too.
  auto by_node = sync_wait(store().list_by_node("node-1"));
  ASSERT_TRUE(by_node.ok());
  EXPECT_TRUE(by_node->empty());
  auto expiring = sync_wait(store().list_expiring_before(base_ + seconds(1)));
  ASSERT_TRUE(expiring.ok());
  EXPECT_TRUE(expiring->empty());
}

TEST_P(BackendConformance, StoreUpsertReplacesTheWholeLease) {
  ActorKey key = make_key("Player", 7);
  ASSERT_TRUE(sync_wait(store().store_lease(make_lease(key, "node-1", base_, 1, "{\"a\":1}"))).ok());
  Lease second = make_lease(key, "node-2", base_ + seconds(60), 2, "{}");
  ASSERT_TRUE(sync_wait(store().store_lease(second)).ok());

  auto got = sync_wait(store().get_lease(key));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value(), second);
  auto all = sync_wait(store().scan_by_actor_type("Player"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_P(BackendConformance, ScanByActorTypeIsInKeyOrderAndPages) {
  // "P" is a prefix of "Player": the scan of one type must not leak into the other.
  std::map<ActorKey, Lease> players;
  for (std::uint64_t n : {9, 3, 250, 1, 77, 12, 5000, 42, 8, 100}) {
    Lease lease = make_lease(make_key("Player", n * 7919), "node-" + std::to_string(n % 3), base_ + seconds(n));
    players[lease.key] = lease;
    ASSERT_TRUE(sync_wait(store().store_lease(lease)).ok());
  }
  for (std::uint64_t n = 1; n <= 3; ++n) {
    ASSERT_TRUE(sync_wait(store().store_lease(make_lease(make_key("P", n), "node-0", base_))).ok());
    ASSERT_TRUE(sync_wait(store().store_lease(make_lease(make_key("Playerz", n), "node-0", base_))).ok());
  }

  auto all = sync_wait(store().scan_by_actor_type("Player"));
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  expect_metrics(all.metrics(), OperationType::ScanByActorType, true);
  std::vector<Lease> expected;
  for (auto& [key, lease] : players) expected.push_back(lease);
  EXPECT_EQ(all.value(), expected);

  // Pages of 3, resumed after the last key of the previous page.
  std::vector<Lease> paged;
  ScanOptions options;
  options.limit = 3;
  for (int page = 0; page < 10; ++page) {
    auto part = sync_wait(store().scan_by_actor_type("Player", options));
    ASSERT_TRUE(part.ok());
    ASSERT_LE(part->size(), 3u);
    if (part->empty()) break;
    paged.insert(paged.end(), part->begin(), part->end());
    options.start_after = part->back().key;
  }
  EXPECT_EQ(paged, expected);

  auto none = sync_wait(store().scan_by_actor_type("Guild"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto short_type = sync_wait(store().scan_by_actor_type("P"));
  ASSERT_TRUE(short_type.ok());
  EXPECT_EQ(short_type->size(), 3u);
}

TEST_P(BackendConformance, ScanAllPagesThroughEveryTypeInKeyOrder) {
  std::map<ActorKey, Lease> everything;
  for (const char* type : {"Player", "P", "Guild", "Playerz"})
    for (std::uint64_t n : {4, 1, 300, 17}) {
      Lease lease = make_lease(make_key(type, n), "node-" + std::to_string(n % 2), base_ + seconds(n));
      everything[lease.key] = lease;
      ASSERT_TRUE(sync_wait(store().store_lease(lease)).ok());
    }
  ASSERT_TRUE(sync_wait(store().remove_lease(make_key("P", 300))).ok());
  everything.erase(make_key("P", 300));
  std::vector<Lease> expected;
  for (auto& [key, lease] : everything) expected.push_back(lease);

  auto all = sync_wait(store().scan_all());
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  EXPECT_EQ(all.value(), expected);

  std::vector<Lease> paged;
  ScanOptions options(5);
  for (int page = 0; page < 10; ++page) {
    auto part = sync_wait(store().scan_all(options));
    ASSERT_TRUE(part.ok());
    ASSERT_LE(part->size(), 5u);
    if (part->empty()) break;
    paged.insert(paged.end(), part->begin(), part->end());
    options.start_after = part->back().key;
  }
  EXPECT_EQ(paged, expected);
}

TEST_P(BackendConformance, ListByNodeFollowsOwnershipChanges) {
  std::vector<Lease> leases;
  for (std::uint64_t n = 1; n <= 8; ++n) {
    leases.push_back(make_lease(make_key(n % 2 ? "Player" : "Guild", n), "node-1", base_ + seconds(n)));
    ASSERT_TRUE(sync_wait(store().store_lease(leases.back())).ok());
  }
  // "node-10" starts with "node-1": its leases must not show under node-1.
  ASSERT_TRUE(sync_wait(store().store_lease(make_lease(make_key("Player", 99), "node-10", base_))).ok());

  // Move three leases from node-1 to node-2.
  for (std::size_t i : {0u, 3u, 6u}) {
    leases[i].node_id = "node-2";
    leases[i].version += 1;
    ASSERT_TRUE(sync_wait(store().store_lease(leases[i])).ok());
  }
  auto sorted = [](std::vector<Lease> v) {
    std::sort(v.begin(), v.end(), [](const Lease& a, const Lease& b) { return a.key < b.key; });
    return v;
  };
  std::vector<Lease> on1, on2;
  for (const auto& lease : leases) (lease.node_id == "node-1" ? on1 : on2).push_back(lease);

  auto node1 = sync_wait(store().list_by_node("node-1"));
  ASSERT_TRUE(node1.ok()) << node1.error().to_string();
  expect_metrics(node1.metrics(), OperationType::ListByNode, true);
  EXPECT_EQ(node1.value(), sorted(on1));
  auto node2 = sync_wait(store().list_by_node("node-2"));
  ASSERT_TRUE(node2.ok());
  EXPECT_EQ(node2.value(), sorted(on2));
  auto node10 = sync_wait(store().list_by_node("node-10"));
  ASSERT_TRUE(node10.ok());
  EXPECT_EQ(node10->size(), 1u);
  auto nobody = sync_wait(store().list_by_node("node-3"));
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->empty());

  // Paging by node.
  ScanOptions options;
  options.limit = 2;
  std::vector<Lease> paged;
  for (int page = 0; page < 10; ++page) {
    auto part = sync_wait(store().list_by_node("node-1", options));
    ASSERT_TRUE(part.ok());
    if (part->empty()) break;
    ASSERT_LE(part->size(), 2u);
    paged.insert(paged.end(), part->begin(), part->end());
    options.start_after = part->back().key;
  }
  EXPECT_EQ(keys_of(paged), keys_of(sorted(on1)));
}

TEST_P(BackendConformance, ListExpiringBeforeIsEarliestFirstAndExcludesTheBound) {
  std::vector<Lease> leases;
  const int offsets[] = {50, 10, 30, 20, 40, 10};
  for (std::uint64_t n = 0; n < std::size(offsets); ++n) {
    leases.push_back(make_lease(make_key("Player", n + 1), "node-1", base_ + milliseconds(offsets[n])));
    ASSERT_TRUE(sync_wait(store().store_lease(leases.back())).ok());
  }
  auto order = [](const Lease& a, const Lease& b) {
    return a.expires_at != b.expires_at ? a.expires_at < b.expires_at : a.key < b.key;
  };
  std::sort(leases.begin(), leases.end(), order);

  // Strictly before base+30ms: the two at 10ms and the one at 20ms.
  auto before30 = sync_wait(store().list_expiring_before(base_ + milliseconds(30)));
  ASSERT_TRUE(before30.ok()) << before30.error().to_string();
  expect_metrics(before30.metrics(), OperationType::ListExpiring, true);
  EXPECT_EQ(before30.value(), std::vector<Lease>(leases.begin(), leases.begin() + 3));

  // One nanosecond later the lease at exactly 30ms is included.
  auto after30 = sync_wait(store().list_expiring_before(base_ + milliseconds(30) + std::chrono::nanoseconds(1)));
  ASSERT_TRUE(after30.ok());
  EXPECT_EQ(after30->size(), 4u);

  auto limited = sync_wait(store().list_expiring_before(base_ + seconds(1), 2));
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited.value(), std::vector<Lease>(leases.begin(), leases.begin() + 2));

  auto none = sync_wait(store().list_expiring_before(base_));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  // Renewing moves a lease in the expiry order; its old position is gone.
  Lease moved = leases.front();
  moved.expires_at = base_ + seconds(10);
  moved.version += 1;
  ASSERT_TRUE(sync_wait(store().store_lease(moved)).ok());
  auto after_move = sync_wait(store().list_expiring_before(base_ + seconds(1)));
  ASSERT_TRUE(after_move.ok());
  EXPECT_EQ(after_move->size(), leases.size() - 1);
  for (const auto& lease : after_move.value()) EXPECT_NE(lease.key, moved.key);
}

TEST_P(BackendConformance, ApplyBatchIsAllOrNothing) {
  Lease kept = make_lease(make_key("Player", 1), "node-1", base_);
  Lease doomed = make_lease(make_key("Player", 2), "node-1", base_);
  ASSERT_TRUE(sync_wait(store().store_lease(kept)).ok());
  ASSERT_TRUE(sync_wait(store().store_lease(doomed)).ok());

  WriteBatch batch;
  Lease added = make_lease(make_key("Guild", 3), "node-2", base_ + seconds(5));
  Lease changed = kept;
  changed.node_id = "node-2";
  changed.version = 2;
  batch.put(added);
  batch.put(changed);
  batch.remove(doomed.key);
  batch.remove(make_key("Player", 404));  // removing an absent lease in a batch is a no-op
  auto applied = sync_wait(store().apply_batch(batch));
  ASSERT_TRUE(applied.ok()) << applied.error().to_string();
  expect_metrics(applied.metrics(), OperationType::Batch, true);
  EXPECT_GT(applied.metrics().disk_bytes_written, 0u);

  EXPECT_EQ(sync_wait(store().get_lease(added.key)).value(), added);
  EXPECT_EQ(sync_wait(store().get_lease(changed.key)).value(), changed);
  EXPECT_EQ(sync_wait(store().get_lease(doomed.key)).code(), ErrorCode::NotFound);
  auto node2 = sync_wait(store().list_by_node("node-2"));
  ASSERT_TRUE(node2.ok());
  EXPECT_EQ(node2->size(), 2u);
  auto node1 = sync_wait(store().list_by_node("node-1"));
  ASSERT_TRUE(node1.ok());
  EXPECT_TRUE(node1->empty());

  // A batch with one invalid lease stores nothing at all.
  WriteBatch bad;
  bad.put(make_lease(make_key("Player", 10), "node-1", base_));
  bad.remove(added.key);
  bad.put(make_lease(make_key("Player", 11), "", base_));  // empty node_id
  auto refused = sync_wait(store().apply_batch(bad));
  EXPECT_EQ(refused.code(), ErrorCode::InvalidArgument);
  expect_metrics(refused.metrics(), OperationType::Batch, false);
  EXPECT_EQ(sync_wait(store().get_lease(make_key("Player", 10))).code(), ErrorCode::NotFound);
  EXPECT_TRUE(sync_wait(store().get_lease(added.key)).ok());

  // Later operations of one batch see earlier ones: put then remove = absent.
  WriteBatch ordered;
  ordered.put(make_lease(make_key("Player", 20), "node-3", base_));
  ordered.remove(make_key("Player", 20));
  ordered.put(make_lease(make_key("Player", 21), "node-3", base_));
  ordered.put(make_lease(make_key("Player", 21), "node-4", base_ + seconds(1), 2));
  ASSERT_TRUE(sync_wait(store().apply_batch(ordered)).ok());
  EXPECT_EQ(sync_wait(store().get_lease(make_key("Player", 20))).code(), ErrorCode::NotFound);
  EXPECT_EQ(sync_wait(store().get_lease(make_key("Player", 21)))->node_id, "node-4");
  EXPECT_TRUE(sync_wait(store().list_by_node("node-3"))->empty());
  EXPECT_EQ(sync_wait(store().list_by_node("node-4"))->size(), 1u);

  auto empty = sync_wait(store().apply_batch(WriteBatch{}));
  EXPECT_TRUE(empty.ok());
  expect_metrics(empty.metrics(), OperationType::Batch, true);
}

TEST_P(BackendConformance, ConcurrentWritersAllSucceedAndIndexesStayConsistent) {
  // 64 writers at once, half of them on the same key: every write lands, and
  // the key ends up indexed exactly once, under the node of whichever won.
  std::vector<Task<Result<void>>> writes;
  for (std::uint64_t n = 0; n < 32; ++n)
    writes.push_back(store().store_lease(make_lease(make_key("Player", n), "node-a", base_ + seconds(n))));
  for (std::uint64_t n = 0; n < 32; ++n)
    writes.push_back(store().store_lease(make_lease(make_key("Hot", 1), "node-" + std::to_string(n), base_ + seconds(n))));
  for (const auto& result : run_concurrently(std::move(writes))) {
    EXPECT_TRUE(result.ok()) << result.error().to_string();
    EXPECT_GT(result.metrics().disk_bytes_written, 0u);
  }
  auto hot = sync_wait(store().get_lease(make_key("Hot", 1)));
  ASSERT_TRUE(hot.ok());
  std::size_t listed = 0;
  for (std::uint64_t n = 0; n < 32; ++n) {
    auto on = sync_wait(store().list_by_node("node-" + std::to_string(n)));
    ASSERT_TRUE(on.ok());
    listed += on->size();
    if (!on->empty()) {
      EXPECT_EQ(on->front(), hot.value());
    }
  }
  EXPECT_EQ(listed, 1u);
  auto expiring = sync_wait(store().list_expiring_before(base_ + seconds(100)));
  ASSERT_TRUE(expiring.ok());
  EXPECT_EQ(expiring->size(), 33u);
}

}  // namespace
}  // namespace orbit::conformance
