// Goal: the Wal's promises on the happy path: LSNs, group commit, atomic
// batches, durability modes, replay from any LSN, segment roll, recycling
// and truncation — on both I/O backends.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "io/testing/fault_file_system.hpp"
#include "src/wal/format.hpp"
#include "tests/wal/wal_test_support.hpp"

namespace orbit::wal::testing {
namespace {

class WalBasicTest : public WalTest {};

TEST_P(WalBasicTest, AppendsReplayAfterReopenInOrder) {
  auto wal = must_open(options());
  ASSERT_TRUE(wal);
  for (std::uint64_t i = 1; i <= 50; ++i) {
    auto r = run(wal->append(payload_for(i)));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->lsn, i);
    EXPECT_EQ(r.metrics().lsn, i);
    EXPECT_GT(r->bytes_written, 100u);
  }
  EXPECT_EQ(wal->next_lsn(), 51u);
  EXPECT_EQ(wal->durable_lsn(), 51u);
  ASSERT_TRUE(run(wal->close()).ok());
  EXPECT_EQ(run(wal->append("late")).code(), ErrorCode::Unavailable);
  wal.reset();

  wal = must_open(options());
  ASSERT_TRUE(wal);
  EXPECT_EQ(wal->next_lsn(), 51u);
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_EQ(got->records.size(), 50u);
  for (std::uint64_t i = 1; i <= 50; ++i) {
    EXPECT_EQ(got->records[i - 1].first, i);
    EXPECT_EQ(got->records[i - 1].second, payload_for(i));
  }
  // The log may have rolled early onto a spare: only its zeros follow.
  EXPECT_EQ(got->stats.tail_bytes_cut, 0u);
  EXPECT_EQ(got->stats.next_lsn, 51u);
  auto r = run(wal->append("after reopen"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lsn, 51u);
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalBasicTest, HugeAndOddSizedRecordsSpanBlocks) {
  auto wal = must_open(options());
  ASSERT_TRUE(wal);
  std::vector<std::size_t> sizes{0,          1,  kBlockSize - kSegmentHeaderSize - kFragmentHeaderSize,
                                 kBlockSize, 10, 3 * kBlockSize + 17,
                                 700 * 1024, 5};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto r = run(wal->append(payload_for(i, sizes[i])));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  ASSERT_TRUE(run(wal->close()).ok());
  wal = must_open(options());
  ASSERT_TRUE(wal);
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_EQ(got->records.size(), sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) EXPECT_EQ(got->records[i].second, payload_for(i, sizes[i]));
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalBasicTest, ConcurrentWritersShareSyncsAndGetDistinctIncreasingLsns) {
  auto wal = must_open(options());
  ASSERT_TRUE(wal);
  constexpr std::size_t kWriters = 300;
  std::vector<std::string> payloads;
  for (std::size_t i = 0; i < kWriters; ++i) payloads.push_back(payload_for(i, 128));
  auto results = append_concurrently(*wal, payloads);
  std::set<std::uint64_t> lsns;
  std::map<std::uint64_t, std::string> by_lsn;
  for (std::size_t i = 0; i < kWriters; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().to_string();
    lsns.insert(results[i]->lsn);
    by_lsn[results[i]->lsn] = payloads[i];
    EXPECT_GE(results[i]->batch_records, 1u);
  }
  EXPECT_EQ(lsns.size(), kWriters);
  EXPECT_EQ(*lsns.begin(), 1u);
  EXPECT_EQ(*lsns.rbegin(), kWriters);
  WalStats stats = stats_of(*wal);
  EXPECT_EQ(stats.records, kWriters);
  EXPECT_LT(stats.syncs, kWriters / 4) << "group commit should batch concurrent writers";
  EXPECT_GT(stats.records_per_sync(), 4.0);
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->records.size(), kWriters);
  for (auto& [lsn, payload] : got->records) EXPECT_EQ(payload, by_lsn[lsn]);
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalBasicTest, BatchBytesAreBounded) {
  WalOptions o = options();
  o.buffer_bytes = 1000;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  std::vector<std::string> payloads;
  payloads.push_back(std::string(50000, 'g'));  // a giant goes alone
  for (int i = 0; i < 100; ++i) payloads.push_back(payload_for(i, 100));
  auto results = append_concurrently(*wal, payloads);
  for (auto& r : results) {
    ASSERT_TRUE(r.ok());
    EXPECT_LE(r->batch_records, 10u) << "batches hold at most buffer_bytes (or one record)";
  }
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalBasicTest, BatchTakesConsecutiveLsnsAndReplaysFromAnyLsn) {
  auto wal = must_open(options());
  ASSERT_TRUE(wal);
  // lsn 1..3 singles, 4..8 a batch, 9 single, 10..11 batch
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(run(wal->append(payload_for(i))).ok());
  auto b = run(
      wal->append_batch({payload_for(4), payload_for(5), payload_for(6), payload_for(7), payload_for(8)}));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->lsn, 4u);
  EXPECT_EQ(b->batch_records, 5u);
  ASSERT_EQ(run(wal->append(payload_for(9)))->lsn, 9u);
  ASSERT_EQ(run(wal->append_batch({payload_for(10), payload_for(11)}))->lsn, 10u);
  EXPECT_EQ(wal->next_lsn(), 12u);
  EXPECT_EQ(run(wal->append_batch({})).code(), ErrorCode::InvalidArgument);
  ASSERT_TRUE(run(wal->close()).ok());

  wal = must_open(options());
  ASSERT_TRUE(wal);
  for (std::uint64_t from = 0; from <= 13; ++from) {
    auto got = replay(*wal, from);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    std::uint64_t expect = std::max<std::uint64_t>(from, 1);
    ASSERT_EQ(got->records.size(), expect <= 11 ? 12 - expect : 0) << "from " << from;
    for (auto& [lsn, payload] : got->records) {
      EXPECT_EQ(lsn, expect);
      EXPECT_EQ(payload, payload_for(expect));
      ++expect;
    }
  }
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalBasicTest, BufferedModeAcksBeforeSyncAndSyncsInBackground) {
  WalOptions o = options();
  o.durability = Durability::Buffered;
  o.sync_interval = std::chrono::milliseconds(5);
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(run(wal->append(payload_for(i))).ok());
  EXPECT_EQ(stats_of(*wal).records, 20u);
  // The background syncer catches up within a few intervals.
  for (int i = 0; i < 200 && durable_lsn(*wal) < 21; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(durable_lsn(*wal), 21u);
  EXPECT_GE(stats_of(*wal).syncs, 1u);
  EXPECT_LT(stats_of(*wal).syncs, 20u);
  ASSERT_TRUE(run(wal->close()).ok());
  wal = must_open(o);
  ASSERT_TRUE(wal);
  EXPECT_EQ(replay(*wal, 1)->records.size(), 20u);
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalBasicTest, NoneModeNeverSyncsUnlessAsked) {
  WalOptions o = options();
  o.durability = Durability::None;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  std::uint64_t syncs_at_open = stats_of(*wal).syncs;
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(run(wal->append(payload_for(i))).ok());
  EXPECT_EQ(stats_of(*wal).syncs, syncs_at_open);
  EXPECT_EQ(wal->durable_lsn(), 1u);
  ASSERT_TRUE(run(wal->sync()).ok());
  EXPECT_EQ(stats_of(*wal).syncs, syncs_at_open + 1);
  EXPECT_EQ(wal->durable_lsn(), 21u);
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalBasicTest, OpenDsyncMethodWorks) {
  WalOptions o = options();
  o.sync_method = SyncMethod::OpenDsync;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(run(wal->append(payload_for(i))).ok());
  EXPECT_EQ(wal->durable_lsn(), 11u);
  ASSERT_TRUE(run(wal->close()).ok());
  wal = must_open(o);
  ASSERT_TRUE(wal);
  EXPECT_EQ(replay(*wal, 1)->records.size(), 10u);
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalBasicTest, SegmentsRollTruncateAndRecycle) {
  WalOptions o = options();
  o.segment_size = 64 * 1024;
  o.recycle = 2;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  std::uint64_t lsn = 0;
  for (int i = 1; i <= 300; ++i) lsn = run(wal->append(payload_for(i, 1000)))->lsn;
  ASSERT_EQ(lsn, 300u);
  std::size_t segments_before = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) segments_before += e.path().extension() == ".wal";
  EXPECT_GE(segments_before, 4u);
  EXPECT_GE(stats_of(*wal).segments_created, segments_before);  // spares count as created

  ASSERT_TRUE(run(wal->truncate_before(200)).ok());
  std::size_t live = 0, free = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    live += e.path().extension() == ".wal";
    free += e.path().extension() == ".free";
  }
  EXPECT_LT(live, segments_before);
  EXPECT_EQ(free, 2u);
  auto got = replay(*wal, 200);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_EQ(got->records.size(), 101u);
  EXPECT_EQ(got->records.front().first, 200u);

  // New segments reuse the freed files; their stale records never replay.
  for (int i = 301; i <= 400; ++i) ASSERT_TRUE(run(wal->append(payload_for(i, 1000))).ok());
  EXPECT_GE(stats_of(*wal).segments_recycled, 1u);
  ASSERT_TRUE(run(wal->close()).ok());
  wal = must_open(o);
  ASSERT_TRUE(wal);
  got = replay(*wal, 200);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_EQ(got->records.size(), 201u);
  for (std::size_t i = 0; i < got->records.size(); ++i) {
    EXPECT_EQ(got->records[i].first, 200 + i);
    EXPECT_EQ(got->records[i].second, payload_for(200 + i, 1000));
  }
  EXPECT_EQ(run(wal->append("x"))->lsn, 401u);
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalBasicTest, PreparedSparesAreZeroFilledAndKeptZeroAcrossReopen) {
  WalOptions o = options();
  o.segment_size = 64 * 1024;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  ASSERT_TRUE(wait_for_created(*wal, 2));  // segment 1 and the spare
  int i = 1;
  for (; !std::filesystem::exists(segment_path(2)); ++i)
    ASSERT_TRUE(run(wal->append(payload_for(i, 1000))).ok());
  ASSERT_TRUE(run(wal->append(payload_for(i, 1000))).ok());
  EXPECT_EQ(std::filesystem::file_size(segment_path(2)), o.segment_size)
      << "the spare was written full of zeros";
  ASSERT_TRUE(run(wal->close()).ok());
  wal = must_open(o);
  ASSERT_TRUE(wal);
  EXPECT_EQ(std::filesystem::file_size(segment_path(2)), o.segment_size) << "zero tail kept, not truncated";
  EXPECT_EQ(wal->recovery_stats().tail_reason, "zero-filled space");
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_EQ(got->records.size(), static_cast<std::size_t>(i));
  for (auto& [lsn, payload] : got->records) EXPECT_EQ(payload, payload_for(lsn, 1000));
  EXPECT_EQ(run(wal->append("next"))->lsn, static_cast<std::uint64_t>(i) + 1);
  ASSERT_TRUE(run(wal->close()).ok());
  wal = must_open(o);
  ASSERT_TRUE(wal);
  got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got->records.back().second, "next");
  ASSERT_TRUE(run(wal->close()).ok());
}

// A log whose last segment grows its file with every append (written
// without spares, then reopened) moves onto the spare prepared at open at
// its next append, far from full, in every mode that waits for fdatasync:
// records before and after the roll replay in order, the spare's zeros
// survive a reopen and bring no second early roll, and the segment cut
// short is deleted by truncation, not kept for reuse.
TEST_P(WalBasicTest, GrowingSegmentRollsEarlyOntoAPreparedSpare) {
  struct Mode {
    Durability durability;
    SyncMethod sync_method;
  };
  for (Mode mode : {Mode{Durability::Durable, SyncMethod::WriteThenDatasync},
                    Mode{Durability::Durable, SyncMethod::OpenDsync},
                    Mode{Durability::Buffered, SyncMethod::WriteThenDatasync}}) {
    SCOPED_TRACE("durability " + std::to_string(static_cast<int>(mode.durability)) + " sync method " +
                 std::to_string(static_cast<int>(mode.sync_method)));
    std::filesystem::remove_all(dir);
    WalOptions o = options();
    o.durability = mode.durability;
    o.sync_method = mode.sync_method;
    o.direct_io = false;  // buffered: the file ends where the log does (direct writes end at a page)
    WalOptions plain = o;
    plain.prepare_spare = false;
    auto wal = must_open(plain);
    ASSERT_TRUE(wal);
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE(run(wal->append(payload_for(i))).ok());
    ASSERT_TRUE(run(wal->close()).ok());

    wal = must_open(o);
    ASSERT_TRUE(wal);
    EXPECT_FALSE(wal->recovery_stats().tail_truncated) << "the file ends with the log: it grows";
    ASSERT_TRUE(wait_for_created(*wal, 1));
    for (int i = 11; i <= 20; ++i)
      ASSERT_EQ(run(wal->append(payload_for(i)))->lsn, static_cast<std::uint64_t>(i));
    ASSERT_TRUE(std::filesystem::exists(segment_path(2)));
    EXPECT_EQ(std::filesystem::file_size(segment_path(2)), o.segment_size) << "the spare, overwritten";
    EXPECT_LT(std::filesystem::file_size(segment_path(1)), 2 * kBlockSize) << "segment 1 cut short";
    ASSERT_TRUE(wait_for_created(*wal, 2));  // the next spare, waiting after the reopen
    ASSERT_TRUE(run(wal->close()).ok());

    wal = must_open(o);
    ASSERT_TRUE(wal);
    EXPECT_EQ(wal->recovery_stats().tail_reason, "zero-filled space");
    for (int i = 21; i <= 30; ++i) ASSERT_TRUE(run(wal->append(payload_for(i))).ok());
    EXPECT_FALSE(std::filesystem::exists(segment_path(3))) << "a prepared segment does not roll early";
    auto got = replay(*wal, 1);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    ASSERT_EQ(got->records.size(), 30u);
    for (std::size_t i = 0; i < got->records.size(); ++i) {
      EXPECT_EQ(got->records[i].first, i + 1);
      EXPECT_EQ(got->records[i].second, payload_for(i + 1));
    }
    ASSERT_TRUE(run(wal->truncate_before(11)).ok());
    EXPECT_FALSE(std::filesystem::exists(segment_path(1)));
    EXPECT_FALSE(std::filesystem::exists(dir + "/000001.wal.free")) << "too short to be worth reusing";
    EXPECT_EQ(stats_of(*wal).segments_removed, 1u);
    got = replay(*wal, 1);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    ASSERT_EQ(got->records.size(), 20u);
    EXPECT_EQ(got->records.front().first, 11u);
    ASSERT_TRUE(run(wal->close()).ok());
  }
}

// With O_DIRECT (the default where the file system takes it) every commit
// writes whole pages: the last partial page again, zeros after the log's
// end. Records of every size, single and batched, replay in order across
// reopens, which read the partial page back before appending to it.
TEST_P(WalBasicTest, DirectWritesRewriteTheLastPageAndReplayAcrossReopens) {
  WalOptions o = options();
  o.prepare_spare = false;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  if (!wal->direct_io()) GTEST_SKIP() << dir << " refuses O_DIRECT";
  const std::size_t sizes[] = {10, 100, 3000, 5000, 4096, 1, 9000, 4050};
  std::vector<std::string> expected;
  auto append_some = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::uint64_t lsn = expected.size() + 1;
      expected.push_back(payload_for(lsn, sizes[lsn % std::size(sizes)]));
      auto r = run(wal->append(expected.back()));
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      ASSERT_EQ(r->lsn, lsn);
    }
  };
  append_some(20);
  ASSERT_EQ(std::filesystem::file_size(segment_path(1)) % Wal::kDirectAlign, 0u) << "whole pages only";
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(run(wal->close()).ok());
    wal = must_open(o);
    ASSERT_TRUE(wal);
    EXPECT_TRUE(wal->direct_io());
    append_some(7 + round);
    std::vector<std::string> batch;
    for (int i = 0; i < 5; ++i) batch.push_back(payload_for(1000 + i, 700));
    auto results = append_concurrently(*wal, batch);
    for (auto& r : results) ASSERT_TRUE(r.ok()) << r.error().to_string();
    std::vector<std::pair<std::uint64_t, std::string>> in_order;
    for (std::size_t i = 0; i < batch.size(); ++i) in_order.emplace_back(results[i]->lsn, batch[i]);
    std::sort(in_order.begin(), in_order.end());
    for (auto& [lsn, payload] : in_order) {
      ASSERT_EQ(lsn, expected.size() + 1);
      expected.push_back(payload);
    }
  }
  ASSERT_TRUE(run(wal->close()).ok());
  wal = must_open(o);
  ASSERT_TRUE(wal);
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_EQ(got->records.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(got->records[i].first, i + 1);
    EXPECT_EQ(got->records[i].second, expected[i]) << "lsn " << i + 1;
  }
  ASSERT_TRUE(run(wal->close()).ok());
}

// Where the file system refuses O_DIRECT (EINVAL: FaultFileSystem does,
// as tmpfs did before Linux 6.6), or direct_io is off, segments are written
// buffered, with the same records.
TEST_P(WalBasicTest, DirectIoFallsBackToBufferedWhereRefused) {
  io::testing::FaultFileSystem refusing(rt->fs());
  for (bool refused : {false, true}) {
    SCOPED_TRACE(refused ? "O_DIRECT refused" : "direct_io off");
    std::filesystem::remove_all(dir);
    WalOptions o = options();
    o.direct_io = refused;
    if (refused) o.file_system = &refusing;
    o.prepare_spare = false;  // a Wal over FaultFileSystem is closed before it goes
    auto wal = must_open(o);
    ASSERT_TRUE(wal);
    EXPECT_FALSE(wal->direct_io());
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE(run(wal->append(payload_for(i, 3000))).ok());
    ASSERT_TRUE(run(wal->close()).ok());
    EXPECT_NE(std::filesystem::file_size(segment_path(1)) % Wal::kDirectAlign, 0u) << "ends at the last record";
    wal = must_open(o);
    ASSERT_TRUE(wal);
    auto got = replay(*wal, 1);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    ASSERT_EQ(got->records.size(), 10u);
    EXPECT_EQ(got->records.back().second, payload_for(10, 3000));
    ASSERT_TRUE(run(wal->close()).ok());
  }
}

// A new log's first segment is a plain growing file too: once the spare
// prepared at open is ready, the next append moves onto it. Durability::None
// never waits for fdatasync, so it stays put.
TEST_P(WalBasicTest, NewLogRollsEarlyExceptWithoutSyncs) {
  for (Durability durability : {Durability::Durable, Durability::None}) {
    SCOPED_TRACE("durability " + std::to_string(static_cast<int>(durability)));
    std::filesystem::remove_all(dir);
    WalOptions o = options();
    o.durability = durability;
    o.direct_io = false;  // buffered: each append grows the file (direct writes fill the first page)
    auto wal = must_open(o);
    ASSERT_TRUE(wal);
    ASSERT_TRUE(wait_for_created(*wal, 2));  // segment 1 and the spare
    ASSERT_TRUE(run(wal->append(payload_for(1))).ok());
    EXPECT_EQ(std::filesystem::exists(segment_path(2)), durability == Durability::Durable);
    ASSERT_TRUE(run(wal->close()).ok());
    wal = must_open(o);
    ASSERT_TRUE(wal);
    auto got = replay(*wal, 1);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    ASSERT_EQ(got->records.size(), 1u);
    EXPECT_EQ(got->records[0].second, payload_for(1));
    ASSERT_TRUE(run(wal->close()).ok());
  }
}

TEST_P(WalBasicTest, TruncateWithoutRecycleDeletes) {
  WalOptions o = options();
  o.segment_size = 64 * 1024;
  o.recycle = 0;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  for (int i = 1; i <= 200; ++i) ASSERT_TRUE(run(wal->append(payload_for(i, 1000))).ok());
  ASSERT_TRUE(run(wal->truncate_before(1000)).ok());  // beyond the end: keeps the current segment
  std::size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  EXPECT_GE(stats_of(*wal).segments_removed, 2u);
  auto got = replay(*wal, 0);
  ASSERT_TRUE(got.ok());
  ASSERT_FALSE(got->records.empty());
  EXPECT_EQ(got->records.back().first, 200u);
  EXPECT_GT(got->stats.first_lsn, 1u);
  ASSERT_TRUE(run(wal->close()).ok());
}

ORBIT_WAL_INSTANTIATE(WalBasicTest);

}  // namespace
}  // namespace orbit::wal::testing
