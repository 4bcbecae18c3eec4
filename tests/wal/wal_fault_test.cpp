// Goal: under injected faults the Wal never acknowledges what it cannot
// keep. A failed write or fdatasync fails its whole batch and fail-stops the
// log (fsyncgate); ENOSPC reads as NoSpace; after power loss every
// acknowledged record replays, the rest form a clean prefix, and no half
// record ever appears. Seeds are printed on failure.
#include <gtest/gtest.h>

#include <cerrno>
#include <set>

#include "io/testing/fault_file_system.hpp"
#include "src/wal/format.hpp"
#include "tests/wal/wal_test_support.hpp"

namespace orbit::wal::testing {
namespace {

using io::testing::CrashOptions;
using io::testing::FaultFileSystem;
using io::testing::FaultOp;

class WalFaultTest : public WalTest {
 protected:
  // `direct`: the file system accepts O_DIRECT, so a durable log writes
  // its segments with it (the default on a real disk); else it falls back
  // to buffered O_DSYNC, as on tmpfs.
  WalOptions fault_options(FaultFileSystem& fs, bool direct = false) {
    fs.accept_direct(direct);
    WalOptions o = options();
    o.file_system = &fs;
    o.prepare_spare = false;  // Wals are destroyed without close() to simulate power loss
    return o;
  }
  std::vector<std::string> payloads(int first, int n, std::size_t size = 128) {
    std::vector<std::string> out;
    for (int i = first; i < first + n; ++i) out.push_back(payload_for(static_cast<std::uint64_t>(i), size));
    return out;
  }
};

void expect_fail_stopped(const Result<AppendResult>& r, const std::string& original) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::Unavailable);
  EXPECT_NE(r.error().message.find("fail-stopped"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(original), std::string::npos) << r.error().message;
}

TEST_P(WalFaultTest, FailedWriteFailsTheBatchAndFailStops) {
  FaultFileSystem fs(rt->fs(), 1);
  auto wal = must_open(fault_options(fs));
  ASSERT_TRUE(wal);
  for (auto& p : payloads(1, 5)) ASSERT_TRUE(run(wal->append(p)).ok());
  fs.fail_nth(FaultOp::Write, 1, EIO);
  auto results = append_concurrently(*wal, payloads(6, 20));
  int io_errors = 0;
  for (auto& r : results) {
    ASSERT_FALSE(r.ok()) << "no writer may succeed after the failed write";
    if (r.code() == ErrorCode::IOError) {
      ++io_errors;
      EXPECT_NE(r.error().message.find("000001.wal offset"), std::string::npos) << r.error().message;
    } else {
      expect_fail_stopped(r, "Input/output error");
    }
  }
  EXPECT_GE(io_errors, 1);
  fs.clear_faults();
  expect_fail_stopped(run(wal->append("later")), "Input/output error");
  EXPECT_EQ(run(wal->sync()).code(), ErrorCode::Unavailable);
  EXPECT_EQ(wal->durable_lsn(), 6u);
  EXPECT_FALSE(run(wal->close()).ok());
  wal.reset();

  wal = must_open(fault_options(fs));
  ASSERT_TRUE(wal);
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got->records.size(), 5u);
  ASSERT_TRUE(run(wal->close()).ok());
}

// With write + fdatasync (with O_DSYNC segments, the default, the write is
// the sync: FailedWriteFailsTheBatchAndFailStops).
TEST_P(WalFaultTest, FailedDatasyncFailStopsAndNeverAcks) {
  FaultFileSystem fs(rt->fs(), 2);
  WalOptions o = fault_options(fs);
  o.sync_method = SyncMethod::WriteThenDatasync;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  for (auto& p : payloads(1, 5)) ASSERT_TRUE(run(wal->append(p)).ok());
  fs.fail_nth(FaultOp::DataSync, 1, EIO);
  auto r = run(wal->append(payload_for(6)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::IOError);
  EXPECT_NE(r.error().message.find("fdatasync"), std::string::npos) << r.error().message;
  fs.clear_faults();  // the disk "recovers": the log must still refuse
  for (int i = 0; i < 3; ++i) expect_fail_stopped(run(wal->append("retry")), "Input/output error");
  auto batch = run(wal->append_batch({"a", "b"}));
  EXPECT_EQ(batch.code(), ErrorCode::Unavailable);
  EXPECT_EQ(wal->durable_lsn(), 6u);
  wal.reset();

  // Power loss after the failed sync: the five acknowledged records survive.
  ASSERT_TRUE(run(fs.crash()).ok());
  wal = must_open(o);
  ASSERT_TRUE(wal);
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_EQ(got->records.size(), 5u);
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalFaultTest, NoSpaceIsReportedAsNoSpace) {
  FaultFileSystem fs(rt->fs(), 3);
  auto wal = must_open(fault_options(fs));
  ASSERT_TRUE(wal);
  ASSERT_TRUE(run(wal->append("first")).ok());
  fs.fail_nth(FaultOp::Write, 1, ENOSPC);
  auto r = run(wal->append("second"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::NoSpace);
  EXPECT_EQ(run(wal->append("third")).code(), ErrorCode::Unavailable);
  wal.reset();
  fs.clear_faults();
  wal = must_open(fault_options(fs));
  ASSERT_TRUE(wal);
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->records.size(), 1u);
  EXPECT_EQ(run(wal->append("after"))->lsn, 2u);
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalFaultTest, NoSpaceWhilePreallocatingANewSegmentFails) {
  FaultFileSystem fs(rt->fs(), 4);
  WalOptions o = fault_options(fs);
  o.segment_size = 64 * 1024;
  o.recycle = 0;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  fs.fail_nth(FaultOp::Allocate, 1, ENOSPC);
  bool failed = false;
  for (int i = 1; i <= 100 && !failed; ++i) {
    auto r = run(wal->append(payload_for(i, 2000)));
    if (!r.ok()) {
      failed = true;
      EXPECT_EQ(r.code(), ErrorCode::NoSpace) << r.error().to_string();
    }
  }
  EXPECT_TRUE(failed);
}

// Power loss with a random prefix of the unsynced writes kept and the last
// one torn: acknowledged (synced) records all replay, later ones replay as
// a gap-free prefix with exact payloads, never a half record.
TEST_P(WalFaultTest, PowerLossKeepsEveryAcknowledgedRecordAndNoHalfRecord) {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::filesystem::remove_all(dir);
    FaultFileSystem fs(rt->fs(), seed);
    WalOptions o = fault_options(fs);
    o.durability = Durability::None;  // acks before sync: leaves unsynced writes to lose
    o.segment_size = 64 * 1024;       // rolls happen inside the run
    auto wal = must_open(o);
    ASSERT_TRUE(wal);
    std::size_t size = 100 + seed * 97;
    std::uint64_t synced_through = 0;
    std::uint64_t written = 0;
    for (int round = 0; round < 6; ++round) {
      auto results = append_concurrently(*wal, payloads(static_cast<int>(written) + 1, 20, size));
      for (auto& r : results) ASSERT_TRUE(r.ok()) << r.error().to_string();
      written += 20;
      if (round % 2 == 0) {
        ASSERT_TRUE(run(wal->sync()).ok());
        synced_through = written;
      }
    }
    auto batch = run(wal->append_batch(payloads(static_cast<int>(written) + 1, 30, size)));
    ASSERT_TRUE(batch.ok());
    written += 30;
    wal.reset();  // power loss: no close, no final sync

    CrashOptions crash;
    crash.keep_random_prefix = true;
    crash.tear_last_write_at = static_cast<std::size_t>(seed * 131 % 700);
    ASSERT_TRUE(run(fs.crash(crash)).ok());

    wal = must_open(o);
    ASSERT_TRUE(wal);
    auto got = replay(*wal, 1);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    ASSERT_GE(got->records.size(), synced_through);
    ASSERT_LE(got->records.size(), written);
    for (std::size_t i = 0; i < got->records.size(); ++i) {
      ASSERT_EQ(got->records[i].first, i + 1);
      ASSERT_EQ(got->records[i].second, payload_for(i + 1, size));
    }
    std::size_t n = got->records.size();
    EXPECT_TRUE(n <= written - 30 || n == written) << "the batch replays all or nothing, got " << n;
    EXPECT_EQ(wal->next_lsn(), n + 1);
    // The log goes on after the cut.
    EXPECT_EQ(run(wal->append("next"))->lsn, n + 1);
    ASSERT_TRUE(run(wal->close()).ok());
  }
}

TEST_P(WalFaultTest, PowerLossInDurableModeLosesNothingAcknowledged) {
  for (bool direct : {false, true}) {
    SCOPED_TRACE(direct ? "O_DIRECT log" : "buffered O_DSYNC log");
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      SCOPED_TRACE("seed " + std::to_string(seed));
      std::filesystem::remove_all(dir);
      FaultFileSystem fs(rt->fs(), seed);
      WalOptions o = fault_options(fs, direct);
      o.segment_size = 64 * 1024;
      auto wal = must_open(o);
      ASSERT_TRUE(wal);
      ASSERT_EQ(wal->direct_io(), direct);
      std::vector<std::string> all = payloads(1, 400, 300);
      auto results = append_concurrently(*wal, all);
      std::map<std::uint64_t, std::string> acked;
      for (std::size_t i = 0; i < results.size(); ++i) {
        ASSERT_TRUE(results[i].ok());
        acked[results[i]->lsn] = all[i];
      }
      wal.reset();
      CrashOptions crash;
      crash.keep_random_prefix = true;
      crash.tear_last_write_at = 7;
      ASSERT_TRUE(run(fs.crash(crash)).ok());
      wal = must_open(o);
      ASSERT_TRUE(wal);
      auto got = replay(*wal, 1);
      ASSERT_TRUE(got.ok()) << got.error().to_string();
      ASSERT_EQ(got->records.size(), acked.size());
      for (auto& [lsn, payload] : got->records) EXPECT_EQ(payload, acked[lsn]);
      ASSERT_TRUE(run(wal->close()).ok());
    }
  }
}

// Every I/O call of a workload with segment rolls, recycling and truncation
// in turn becomes the first failing one (EIO from there on: a dying disk),
// then power is lost. Whatever failed, every acknowledged record at or
// above the checkpoint replays with its payload, and the log reopens.
TEST_P(WalFaultTest, FailureAtEveryIoCallThenPowerLossKeepsAcknowledgedRecords) {
  for (bool direct : {false, true}) {
    SCOPED_TRACE(direct ? "O_DIRECT log" : "buffered O_DSYNC log");
    auto workload = [&](FaultFileSystem& fs, std::map<std::uint64_t, bool>& acked,
                        std::uint64_t& checkpoint) {
      WalOptions o = fault_options(fs, direct);
      o.segment_size = 32 * 1024;
      o.recycle = 1;
      auto opened = open(o);
      if (!opened.ok()) return;
      auto wal = std::move(opened.value());
      EXPECT_EQ(wal->direct_io(), direct);
      for (int i = 1; i <= 45; ++i) {
        auto r = run(wal->append(payload_for(static_cast<std::uint64_t>(i), 1500)));
        if (r.ok()) acked[r->lsn] = true;
        if (i % 15 == 0 && r.ok() && run(wal->truncate_before(r->lsn - 5)).ok()) checkpoint = r->lsn - 5;
      }
      (void)run(wal->close());
    };
    std::uint64_t total = 0;
    {
      std::filesystem::remove_all(dir);
      FaultFileSystem fs(rt->fs(), 99);
      std::map<std::uint64_t, bool> acked;
      std::uint64_t checkpoint = 0;
      workload(fs, acked, checkpoint);
      ASSERT_EQ(acked.size(), 45u);
      total = fs.count(FaultOp::Any);
    }
    ASSERT_GT(total, 50u);
    // About 25 failure points spread over the whole run (every call would
    // take too long for a unit test; the spread still hits open, appends,
    // rolls, recycling renames, truncation and close).
    std::uint64_t step = std::max<std::uint64_t>(1, total / 25);
    for (std::uint64_t nth = 1; nth <= total; nth += step) {
      SCOPED_TRACE("first failing io call " + std::to_string(nth) + " of " + std::to_string(total));
      std::filesystem::remove_all(dir);
      FaultFileSystem fs(rt->fs(), nth);
      fs.fail_nth(FaultOp::Any, nth, EIO, /*sticky=*/true);
      std::map<std::uint64_t, bool> acked;
      std::uint64_t checkpoint = 0;
      workload(fs, acked, checkpoint);
      fs.clear_faults();
      ASSERT_TRUE(run(fs.crash()).ok());
      if (!std::filesystem::exists(dir)) continue;  // failed before the log existed
      WalOptions o = fault_options(fs, direct);
      o.segment_size = 32 * 1024;
      auto wal = must_open(o);
      ASSERT_TRUE(wal);
      auto got = replay(*wal, checkpoint);
      ASSERT_TRUE(got.ok()) << got.error().to_string();
      std::map<std::uint64_t, std::string> replayed(got->records.begin(), got->records.end());
      for (auto& [lsn, ok] : acked) {
        if (lsn < checkpoint) continue;
        ASSERT_TRUE(replayed.count(lsn)) << "acknowledged lsn " << lsn << " lost";
      }
      for (auto& [lsn, payload] : replayed) ASSERT_EQ(payload, payload_for(lsn, 1500));
      ASSERT_TRUE(run(wal->close()).ok());
    }
  }
}

// An early roll (a growing segment moving onto a waiting spare) cut by
// power loss at each file operation in turn: EIO from that call on (a dying
// disk), then the crash, dropping the unsynced writes or keeping a random
// prefix of them. Every acknowledged record replays, with its payload, in
// LSN order from 1, and the log reopens and goes on. A torn header write
// without power loss leaves no damaged segment behind.
TEST_P(WalFaultTest, EarlyRollCutAtEveryFileOperationLosesNoAcknowledgedRecord) {
  for (bool direct : {false, true}) {
    SCOPED_TRACE(direct ? "O_DIRECT log" : "buffered O_DSYNC log");
    constexpr int kBefore = 10;
    constexpr int kAfter = 4;
    // An O_DIRECT log writes whole pages, zeros after its end: appends
    // overwrite those until one crosses into the next page. Records larger
    // than a page make the first append grow the file there too.
    const std::size_t after_size = direct ? 5000 : 128;
    auto size_of = [&](std::size_t lsn) { return lsn > kBefore ? after_size : 128; };
    WalOptions o;
    // A log written without spares (its segment grows with every append),
    // closed, and a prepared spare left beside it, as prepare_spare would.
    auto setup = [&](FaultFileSystem& fs) {
      std::filesystem::remove_all(dir);
      o = fault_options(fs, direct);
      o.segment_size = 64 * 1024;
      auto wal = must_open(o);
      ASSERT_TRUE(wal);
      ASSERT_EQ(wal->direct_io(), direct);
      for (auto& p : payloads(1, kBefore)) ASSERT_TRUE(run(wal->append(p)).ok());
      ASSERT_TRUE(run(wal->close()).ok());
      write_file(dir + "/spare-000002.wal.free", std::string(o.segment_size, '\0'));
    };
    // Reopens and appends one at a time; the first append rolls early.
    auto workload = [&](std::set<std::uint64_t>& acked) {
      auto opened = open(o);
      if (!opened.ok()) return;
      auto wal = std::move(opened.value());
      for (auto& p : payloads(kBefore + 1, kAfter, after_size)) {
        auto r = run(wal->append(p));
        if (r.ok()) acked.insert(r->lsn);
      }
      // Power loss: no close.
    };
    std::uint64_t total = 0;
    {
      FaultFileSystem fs(rt->fs(), 1);
      setup(fs);
      fs.reset_counts();
      std::set<std::uint64_t> acked;
      workload(acked);
      ASSERT_EQ(acked.size(), static_cast<std::size_t>(kAfter));
      ASSERT_TRUE(std::filesystem::exists(segment_path(2))) << "the first append rolled early";
      EXPECT_LT(std::filesystem::file_size(segment_path(1)), kBlockSize);
      total = fs.count(FaultOp::Any);
    }
    for (std::uint64_t nth = 1; nth <= total; ++nth) {
      SCOPED_TRACE("first failing io call " + std::to_string(nth) + " of " + std::to_string(total));
      FaultFileSystem fs(rt->fs(), nth);
      setup(fs);
      fs.fail_nth(FaultOp::Any, nth, EIO, /*sticky=*/true);
      std::set<std::uint64_t> acked;
      workload(acked);
      fs.clear_faults();
      CrashOptions crash;
      crash.keep_random_prefix = nth % 2 == 0;
      ASSERT_TRUE(run(fs.crash(crash)).ok());
      auto wal = must_open(o);
      ASSERT_TRUE(wal);
      auto got = replay(*wal, 1);
      ASSERT_TRUE(got.ok()) << got.error().to_string();
      ASSERT_GE(got->records.size(), static_cast<std::size_t>(kBefore));
      for (std::size_t i = 0; i < got->records.size(); ++i) {
        ASSERT_EQ(got->records[i].first, i + 1);
        ASSERT_EQ(got->records[i].second, payload_for(i + 1, size_of(i + 1)));
      }
      for (std::uint64_t lsn : acked)
        ASSERT_LE(lsn, got->records.size()) << "acknowledged lsn " << lsn << " lost";
      EXPECT_EQ(run(wal->append("next"))->lsn, got->records.size() + 1);
      ASSERT_TRUE(run(wal->close()).ok());
    }
    // A short write of the new segment's header (the workload's first write),
    // no power loss: the half header is removed, so the log reopens intact.
    FaultFileSystem fs(rt->fs(), 7);
    setup(fs);
    fs.fail_nth(FaultOp::ShortWrite, 1, EIO);
    std::set<std::uint64_t> acked;
    workload(acked);
    EXPECT_TRUE(acked.empty());
    fs.clear_faults();
    auto wal = must_open(o);
    ASSERT_TRUE(wal);
    EXPECT_EQ(wal->next_lsn(), static_cast<std::uint64_t>(kBefore) + 1);
    ASSERT_TRUE(run(wal->close()).ok());
  }
}

// A spare's zeros go out chunk by chunk, each synced before the next is
// written, so the log's own fdatasyncs never queue behind a whole segment
// of them: every chunk of a 4 MiB spare brings one datasync of the spare
// file, and no more than one chunk of it is ever unsynced.
TEST_P(WalFaultTest, SpareZerosAreSyncedChunkByChunk) {
  FaultFileSystem fs(rt->fs(), 9);
  WalOptions o = fault_options(fs);
  o.segment_size = 4 * Wal::kSpareChunkBytes;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  ASSERT_TRUE(run(wal->close()).ok());
  const std::uint64_t without_spare = fs.count(FaultOp::DataSync);

  std::filesystem::remove_all(dir);
  fs.reset_counts();
  o.prepare_spare = true;
  wal = must_open(o);
  ASSERT_TRUE(wal);
  ASSERT_TRUE(wait_for_created(*wal, 2));  // segment 1 and the spare
  EXPECT_EQ(fs.count(FaultOp::DataSync) - without_spare, 4u) << "one datasync per chunk of zeros";
  EXPECT_EQ(fs.count(FaultOp::Write) - 1, 4u) << "the header of segment 1, then four chunks";
  ASSERT_TRUE(run(wal->close()).ok());
}

ORBIT_WAL_INSTANTIATE(WalFaultTest);

}  // namespace
}  // namespace orbit::wal::testing
