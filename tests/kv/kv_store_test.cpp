// KvStore over a plain in-memory map: the write path (commit groups, index
// maintenance, per-writer failures), scans over a view, stats, and recovery
// purely from the log (the map engine persists nothing, so every reopen
// replays the whole log).
#include "src/kv/kv_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>

#include "orbit/sync_wait.hpp"
#include "src/codec/lease_codec.hpp"
#include "tests/support/map_store.hpp"
#include "tests/support/run_concurrently.hpp"
#include "tests/support/runtime_fixture.hpp"

namespace orbit::kv {
namespace {

using Map = test_support::MapStoreMap;
using test_support::MapStore;
using std::chrono::seconds;

Lease lease(std::uint64_t n, const std::string& node, SystemTime expires, const std::string& type = "Player") {
  Lease l;
  l.key = ActorKey(Uuid::from_u64(n), type);
  l.node_id = node;
  l.expires_at = expires;
  l.metadata.last_renewed = expires - seconds(30);
  l.version = 1;
  return l;
}

class KvStoreTest : public ::testing::TestWithParam<io::BackendChoice> {
 protected:
  void SetUp() override {
    dir_ = test_support::make_temp_dir("kv");
    ASSERT_FALSE(dir_.empty());
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    if (store_) {
      ASSERT_TRUE(sync_wait(store_->close()));
      store_.reset();
    }
    auto opened = MapStore::open(dir_, GetParam());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(opened).value();
  }
  MapStore& store() { return *store_; }

  std::string dir_;
  std::unique_ptr<MapStore> store_;
  const SystemTime t0_{seconds(1'700'000'000)};
};

TEST_P(KvStoreTest, StoreGetRemoveAndIndexesFollowTheLease) {
  Lease a = lease(1, "node-a", t0_ + seconds(10));
  ASSERT_TRUE(sync_wait(store().store_lease(a)));
  auto got = sync_wait(store().get_lease(a.key));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->node_id, "node-a");
  EXPECT_EQ(store().map()->size(), 3u);  // primary + by-node + by-expiry

  // Moving the lease moves its index entries: nothing stays behind.
  a.node_id = "node-b";
  a.expires_at = t0_ + seconds(20);
  ASSERT_TRUE(sync_wait(store().store_lease(a)));
  EXPECT_EQ(store().map()->size(), 3u);
  EXPECT_TRUE(sync_wait(store().list_by_node("node-a"))->empty());
  ASSERT_EQ(sync_wait(store().list_by_node("node-b"))->size(), 1u);
  EXPECT_TRUE(sync_wait(store().list_expiring_before(t0_ + seconds(15)))->empty());
  EXPECT_EQ(sync_wait(store().list_expiring_before(t0_ + seconds(25)))->size(), 1u);

  ASSERT_TRUE(sync_wait(store().remove_lease(a.key)));
  EXPECT_TRUE(store().map()->empty());
  auto gone = sync_wait(store().get_lease(a.key));
  EXPECT_EQ(gone.code(), ErrorCode::NotFound);
  auto again = sync_wait(store().remove_lease(a.key));
  EXPECT_EQ(again.code(), ErrorCode::NotFound);
}

TEST_P(KvStoreTest, ScansPageWithLimitAndStartAfter) {
  for (std::uint64_t n = 0; n < 10; ++n)
    ASSERT_TRUE(sync_wait(store().store_lease(lease(n, n % 2 ? "odd" : "even", t0_ + seconds(100 - n)))));
  ASSERT_TRUE(sync_wait(store().store_lease(lease(50, "even", t0_, "Guild"))));

  auto players = sync_wait(store().scan_by_actor_type("Player"));
  ASSERT_EQ(players->size(), 10u);
  auto page1 = sync_wait(store().scan_by_actor_type("Player", ScanOptions(4)));
  ASSERT_EQ(page1->size(), 4u);
  auto page2 = sync_wait(store().scan_by_actor_type("Player", ScanOptions(4, page1->back().key)));
  ASSERT_EQ(page2->size(), 4u);
  EXPECT_EQ(page2->front().key.to_string(), (*players)[4].key.to_string());

  auto even = sync_wait(store().list_by_node("even"));
  EXPECT_EQ(even->size(), 6u);
  auto even_page = sync_wait(store().list_by_node("even", ScanOptions(2, (*even)[1].key)));
  ASSERT_EQ(even_page->size(), 2u);
  EXPECT_EQ(even_page->front().key.to_string(), (*even)[2].key.to_string());

  // Earliest first: the Guild lease, then Player 9, 8, ...
  auto expiring = sync_wait(store().list_expiring_before(t0_ + seconds(95), 3));
  ASSERT_EQ(expiring->size(), 3u);
  EXPECT_EQ((*expiring)[0].key.actor_type, "Guild");
  EXPECT_EQ((*expiring)[1].key.to_string(), lease(9, "", t0_).key.to_string());
}

TEST_P(KvStoreTest, BatchIsAtomicAndRemovingAnAbsentLeaseInABatchIsANoOp) {
  WriteBatch batch;
  batch.put(lease(1, "n", t0_));
  batch.put(lease(2, "n", t0_));
  batch.remove(lease(99, "n", t0_).key);
  batch.remove(lease(1, "n", t0_).key);  // removes what the same batch stored
  auto applied = sync_wait(store().apply_batch(batch));
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(sync_wait(store().get_lease(lease(1, "n", t0_).key)).code(), ErrorCode::NotFound);
  EXPECT_TRUE(sync_wait(store().get_lease(lease(2, "n", t0_).key)));
  EXPECT_EQ(store().map()->size(), 3u);
  EXPECT_EQ(sync_wait(store().stats())->total_keys, 1u);
}

TEST_P(KvStoreTest, ConcurrentWritersShareCommitGroupsAndOneFailureStaysAlone) {
  constexpr int kWriters = 200;
  std::vector<Task<Result<void>>> writes;
  for (int i = 0; i < kWriters; ++i) {
    if (i == 100)
      writes.push_back(store().remove_lease(lease(100'000, "x", t0_).key));  // fails: nothing stored
    else
      writes.push_back(store().store_lease(lease(static_cast<std::uint64_t>(i), "node", t0_ + seconds(i))));
  }
  auto results = test_support::run_concurrently(std::move(writes));
  std::uint32_t widest = 0;
  for (int i = 0; i < kWriters; ++i) {
    if (i == 100) {
      EXPECT_EQ(results[i].code(), ErrorCode::NotFound);
      continue;
    }
    ASSERT_TRUE(results[i]) << results[i].error().message;
    EXPECT_GT(results[i].metrics().lsn, 0u);
    widest = std::max(widest, results[i].metrics().batch_records);
  }
  EXPECT_GT(widest, 1u) << "no two writers ever shared a commit";
  auto stats = sync_wait(store().stats());
  EXPECT_EQ(stats->total_keys, static_cast<std::uint64_t>(kWriters - 1));
  EXPECT_LT(stats->wal_syncs, static_cast<std::uint64_t>(kWriters - 1));
}

TEST_P(KvStoreTest, ReopenReplaysTheLogToTheSameStateAndCounts) {
  for (std::uint64_t n = 0; n < 50; ++n) ASSERT_TRUE(sync_wait(store().store_lease(lease(n, "a", t0_ + seconds(n)))));
  for (std::uint64_t n = 0; n < 50; n += 5) ASSERT_TRUE(sync_wait(store().remove_lease(lease(n, "", t0_).key)));
  Lease moved = lease(7, "b", t0_ + seconds(500));
  ASSERT_TRUE(sync_wait(store().store_lease(moved)));
  const Map before = *store().map();
  const StorageStats stats_before = sync_wait(store().stats()).value();
  const std::uint64_t lsn_before = store().last_applied();

  reopen();
  EXPECT_EQ(*store().map(), before);
  EXPECT_EQ(store().last_applied(), lsn_before);
  auto stats = sync_wait(store().stats());
  EXPECT_EQ(stats->total_keys, 40u);
  EXPECT_EQ(stats->total_keys, stats_before.total_keys);
  EXPECT_EQ(stats->total_size_bytes, stats_before.total_size_bytes);
  EXPECT_EQ(stats->average_key_size, stats_before.average_key_size);

  // Writes after the replay continue the log.
  ASSERT_TRUE(sync_wait(store().store_lease(lease(1000, "c", t0_))));
  EXPECT_GT(store().last_applied(), lsn_before);
}

TEST_P(KvStoreTest, ASecondOpenOfTheSameDirectoryIsRefusedUntilTheFirstCloses) {
  auto second = MapStore::open(dir_, GetParam());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.code(), ErrorCode::Unavailable);
  EXPECT_TRUE(second.error().retryable);
  EXPECT_NE(second.error().message.find("orbit.lock"), std::string::npos) << second.error().message;
  // close() lets go of the directory.
  ASSERT_TRUE(sync_wait(store().store_lease(lease(1, "a", t0_))));
  reopen();
  EXPECT_TRUE(sync_wait(store().get_lease(lease(1, "a", t0_).key)));
}

TEST_P(KvStoreTest, ClosedStoreRefusesWithItsName) {
  ASSERT_TRUE(sync_wait(store().close()));
  auto refused = sync_wait(store().store_lease(lease(1, "a", t0_)));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.code(), ErrorCode::Unavailable);
  EXPECT_NE(refused.error().message.find(dir_), std::string::npos) << refused.error().message;
}

// Renew and release read the stored lease under the key's lock; their write
// takes the old index entries from that read instead of reading again.
TEST_P(KvStoreTest, ALeasePrimitiveWritesWithoutReadingTheLeaseAgain) {
  Lease held = lease(1, "node-1", std::chrono::system_clock::now() + std::chrono::hours(1));
  ASSERT_TRUE(sync_wait(store().store_lease(held)));
  const std::uint64_t gets = store().view_gets();

  auto renewed = sync_wait(store().renew_lease(RenewRequest(held.key, "node-1", 1, seconds(600))));
  ASSERT_TRUE(renewed) << renewed.error().message;
  EXPECT_EQ(store().view_gets(), gets + 1) << "the renew read the lease again to write it";
  EXPECT_EQ(sync_wait(store().list_by_node("node-1")).value(), std::vector<Lease>{renewed.value()});
  auto expiring = sync_wait(store().list_expiring_before(renewed->expires_at + seconds(1)));
  EXPECT_EQ(expiring.value(), std::vector<Lease>{renewed.value()}) << "the old expiry entry stayed";
  EXPECT_EQ(sync_wait(store().stats())->total_size_bytes, codec::encode_lease(renewed.value()).size());

  ASSERT_TRUE(sync_wait(store().release_lease(ReleaseRequest(held.key, "node-1", renewed->version))));
  // The renew's read, one by each list, the release's read.
  EXPECT_EQ(store().view_gets(), gets + 4) << "the release read the lease again to remove it";
  EXPECT_TRUE(sync_wait(store().list_by_node("node-1"))->empty());
  EXPECT_TRUE(store().map()->empty()) << "index entries left behind";
  auto stats = sync_wait(store().stats());
  EXPECT_EQ(stats->total_keys, 0u);
  EXPECT_EQ(stats->total_size_bytes, 0u);
}

// A plain store of the key commits after a renew read it and before the
// renew's write is built: the renew must read again, or the plain store's
// node index entry would be left behind.
TEST_P(KvStoreTest, APrimitiveReadsAgainWhenACommitLandedSinceItsRead) {
  Lease held = lease(1, "node-1", std::chrono::system_clock::now() + std::chrono::hours(1));
  ASSERT_TRUE(sync_wait(store().store_lease(held)));
  Lease moved = held;
  moved.node_id = "node-2";

  store().hold_commits();
  test_support::Started<Result<void>> plain(store().store_lease(moved));
  store().settle();  // its group formed and waits in before_commit
  store().settle();
  const std::uint64_t gets = store().view_gets();
  test_support::Started<Result<Lease>> renew(
      store().renew_lease(RenewRequest(held.key, "node-1", 1, seconds(600))));
  store().settle();  // the renew read node-1's lease and queued its write
  EXPECT_EQ(store().view_gets(), gets + 1);
  store().release_commits();

  ASSERT_TRUE(plain.get());
  auto renewed = renew.get();
  ASSERT_TRUE(renewed) << renewed.error().message;  // decided on the lease it read
  EXPECT_EQ(renewed->node_id, "node-1");
  EXPECT_TRUE(sync_wait(store().list_by_node("node-2"))->empty()) << "the plain store's index entry stayed";
  EXPECT_EQ(sync_wait(store().list_by_node("node-1")).value(), std::vector<Lease>{renewed.value()});
  EXPECT_EQ(sync_wait(store().get_lease(held.key)).value(), renewed.value());
  EXPECT_EQ(sync_wait(store().stats())->total_keys, 1u);
}

ORBIT_INSTANTIATE_ON_BOTH_IO_BACKENDS(KvStoreTest);

}  // namespace
}  // namespace orbit::kv
