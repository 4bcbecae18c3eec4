// Goal: recovery keeps every intact record and nothing else: torn and
// zero-filled tails are cut (and reported), damage followed by valid records
// is Corruption naming segment and offset (or skipped in tolerant mode),
// batches replay all or nothing.
#include <gtest/gtest.h>

#include "io/testing/fault_file_system.hpp"
#include "src/wal/format.hpp"
#include "tests/wal/wal_test_support.hpp"

namespace orbit::wal::testing {
namespace {

class WalRecoveryTest : public WalTest {
 protected:
  // These tests edit segment files by hand: no spare, so no early roll
  // moves records out of segment 1; buffered, so a cleanly closed log's
  // file ends at its last record (direct writes end at a page boundary,
  // zeros after: WalBasicTest.DirectWrites*).
  WalOptions options() const {
    WalOptions o = WalTest::options();
    o.prepare_spare = false;
    o.direct_io = false;
    return o;
  }

  // Writes `n` records of `size` bytes and returns each record's end offset.
  std::vector<std::uint64_t> write_records(int n, std::size_t size = 100) {
    auto wal = must_open(options());
    std::vector<std::uint64_t> ends;
    std::uint64_t offset = kSegmentHeaderSize;
    for (int i = 1; i <= n; ++i) {
      auto r = run(wal->append(payload_for(i, size)));
      EXPECT_TRUE(r.ok());
      offset += r->bytes_written;
      ends.push_back(offset);
    }
    EXPECT_TRUE(run(wal->close()).ok());
    return ends;
  }
};

TEST_P(WalRecoveryTest, TornTailAtEveryByteOfTheLastRecordIsCut) {
  auto ends = write_records(5);
  std::string full = read_file(segment_path(1));
  ASSERT_GE(full.size(), ends.back());
  full.resize(ends.back());  // drop preallocated space from the picture
  for (std::uint64_t cut = ends[3]; cut < ends[4]; ++cut) {
    write_file(segment_path(1), full.substr(0, cut));
    auto wal = must_open(options());
    ASSERT_TRUE(wal) << "cut at " << cut;
    EXPECT_EQ(wal->next_lsn(), 5u) << "cut at " << cut;
    auto got = replay(*wal, 1);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    ASSERT_EQ(got->records.size(), 4u) << "cut at " << cut;
    EXPECT_EQ(got->records.back().second, payload_for(4));
    EXPECT_EQ(got->stats.tail_truncated, cut > ends[3]) << "cut at " << cut;
    if (cut > ends[3]) {
      EXPECT_EQ(got->stats.tail_offset, ends[3]);
      EXPECT_EQ(got->stats.tail_bytes_dropped, cut - ends[3]);
      EXPECT_EQ(got->stats.tail_segment, "000001.wal");
    }
    // New appends follow the last good record.
    auto r = run(wal->append("new"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->lsn, 5u);
    ASSERT_TRUE(run(wal->close()).ok());
    wal = must_open(options());
    ASSERT_TRUE(wal);
    got = replay(*wal, 1);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    ASSERT_EQ(got->records.size(), 5u);
    EXPECT_EQ(got->records.back().second, "new");
    EXPECT_FALSE(got->stats.tail_truncated);
    ASSERT_TRUE(run(wal->close()).ok());
  }
}

TEST_P(WalRecoveryTest, ZeroFilledTailIsCut) {
  auto ends = write_records(10);
  std::string bytes = read_file(segment_path(1));
  bytes.resize(ends.back());
  bytes.append(100000, '\0');
  write_file(segment_path(1), bytes);
  auto wal = must_open(options());
  ASSERT_TRUE(wal);
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got->records.size(), 10u);
  EXPECT_TRUE(got->stats.tail_truncated);
  EXPECT_EQ(got->stats.tail_offset, ends.back());
  EXPECT_EQ(got->stats.tail_reason, "zero-filled space");
  ASSERT_TRUE(run(wal->close()).ok());
}

// A log living in a prepared segment ends in megabytes of zeros: opening it
// reads kDeadRunEnd of them, not the whole file, keeps them for appends, and
// takes nothing past that gap for records (the documented assumption).
TEST_P(WalRecoveryTest, OpenReadsOnlyABoundedStretchOfZeroFillPastTheLog) {
  auto ends = write_records(10);
  std::string bytes = read_file(segment_path(1));
  bytes.resize(ends.back());
  std::uint64_t gap = 3 * kDeadRunEnd;
  bytes.resize(ends.back() + gap, '\0');
  // A stray record start past the gap (it would be evidence of corruption
  // if it were looked for): LSN 20, valid checksum, from another log.
  {
    WalOptions o = options();
    o.dir = root + "/other";
    auto stray = must_open(o);
    ASSERT_TRUE(stray);
    for (int i = 1; i <= 20; ++i) ASSERT_TRUE(run(stray->append(payload_for(i))).ok());
    ASSERT_TRUE(run(stray->close()).ok());
    std::string theirs = read_file(o.dir + "/" + segment_file_name(1));
    std::uint64_t size = ends[1] - ends[0];
    std::string record = theirs.substr(kSegmentHeaderSize + 19 * size, size);
    std::uint64_t at = ((ends.back() + 2 * kDeadRunEnd) / kBlockSize + 1) * kBlockSize;
    bytes.replace(at, record.size(), record);
  }
  write_file(segment_path(1), bytes);

  io::testing::FaultFileSystem fs(rt->fs(), 1);
  WalOptions o = options();
  o.file_system = &fs;
  auto wal = must_open(o);
  ASSERT_TRUE(wal);
  std::uint64_t reads = fs.count(io::testing::FaultOp::Read);
  // 256 KiB reads by the record reader, 1 MiB by the zero check: about 20
  // for 2 x 4 MiB; the whole file would take over 150.
  EXPECT_LT(reads, 40u);
  auto got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got->records.size(), 10u);
  EXPECT_EQ(got->stats.tail_reason, "zero-filled space");
  ASSERT_TRUE(run(wal->append("after")).ok());
  ASSERT_TRUE(run(wal->close()).ok());
  EXPECT_EQ(read_file(segment_path(1)).size(), bytes.size());  // zeros kept, not cut
  wal = must_open(options());
  ASSERT_TRUE(wal);
  got = replay(*wal, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_EQ(got->records.size(), 11u);
  EXPECT_EQ(got->records.back().second, "after");
  ASSERT_TRUE(run(wal->close()).ok());
}

// Zeros inside the log (a stretch of synced records lost) are not a tail:
// the records after them are evidence.
TEST_P(WalRecoveryTest, ZeroedStretchInsideTheLogIsCorruption) {
  auto ends = write_records(40, 5000);
  std::string bytes = read_file(segment_path(1));
  bytes.resize(ends.back());
  std::uint64_t from = ends[9];
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(from), bytes.begin() + static_cast<std::ptrdiff_t>(ends[29]), '\0');
  write_file(segment_path(1), bytes);
  auto wal = open(options());
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.error().code, ErrorCode::Corruption);
  EXPECT_NE(wal.error().message.find("offset " + std::to_string(from)), std::string::npos) << wal.error().message;
  EXPECT_NE(wal.error().message.find("valid records follow"), std::string::npos) << wal.error().message;
}

TEST_P(WalRecoveryTest, TornBatchReplaysNothingOfIt) {
  {
    auto wal = must_open(options());
    ASSERT_TRUE(run(wal->append("before")).ok());
    std::vector<std::string> entries;
    for (int i = 0; i < 100; ++i) entries.push_back(payload_for(i, 1000));  // spans blocks
    ASSERT_TRUE(run(wal->append_batch(entries)).ok());
    ASSERT_TRUE(run(wal->close()).ok());
  }
  std::string bytes = read_file(segment_path(1));
  std::uint64_t batch_start = kSegmentHeaderSize + kFragmentHeaderSize + 6;
  std::uint64_t batch_end = batch_start + 100 * 1002 + 2 + 4 * kFragmentHeaderSize;
  for (std::uint64_t cut : {batch_start + 1, batch_start + 40000, batch_end - 5}) {
    write_file(segment_path(1), bytes.substr(0, cut));
    auto wal = must_open(options());
    ASSERT_TRUE(wal);
    auto got = replay(*wal, 1);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    ASSERT_EQ(got->records.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(wal->next_lsn(), 2u);
    ASSERT_TRUE(run(wal->close()).ok());
  }
}

TEST_P(WalRecoveryTest, FlippedByteMidLogIsCorruptionNamingSegmentAndOffset) {
  auto ends = write_records(50);
  std::string bytes = read_file(segment_path(1));
  std::uint64_t victim = ends[2];  // record 4 starts here
  bytes[victim + kFragmentHeaderSize + 10] ^= 0x01;
  write_file(segment_path(1), bytes);
  auto wal = open(options());
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.code(), ErrorCode::Corruption);
  EXPECT_NE(wal.error().message.find("000001.wal offset " + std::to_string(victim)), std::string::npos)
      << wal.error().message;

  WalOptions tolerant = options();
  tolerant.recovery = RecoveryMode::SkipCorrupted;
  auto skipping = must_open(tolerant);
  ASSERT_TRUE(skipping);
  auto got = replay(*skipping, 1);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got->records.size(), 49u);
  EXPECT_GE(got->stats.corrupted_regions_skipped, 1u);
  for (auto& [lsn, payload] : got->records) {
    EXPECT_NE(lsn, 4u);
    EXPECT_EQ(payload, payload_for(lsn));
  }
  EXPECT_EQ(skipping->next_lsn(), 51u);
  ASSERT_TRUE(run(skipping->close()).ok());
}

TEST_P(WalRecoveryTest, CorruptedLengthFieldIsCorruptionToo) {
  auto ends = write_records(50);
  std::string bytes = read_file(segment_path(1));
  bytes[ends[9] + 4] = static_cast<char>(0xff);  // record 11's length
  write_file(segment_path(1), bytes);
  auto wal = open(options());
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.code(), ErrorCode::Corruption);
  EXPECT_NE(wal.error().message.find("offset " + std::to_string(ends[9])), std::string::npos)
      << wal.error().message;
}

TEST_P(WalRecoveryTest, CorruptionInAnEarlierSegmentFailsReplay) {
  WalOptions o = options();
  o.segment_size = 64 * 1024;
  {
    auto wal = must_open(o);
    for (int i = 1; i <= 200; ++i) ASSERT_TRUE(run(wal->append(payload_for(i, 1000))).ok());
    ASSERT_TRUE(run(wal->close()).ok());
  }
  std::string bytes = read_file(segment_path(1));
  bytes[5000] ^= 0x40;
  write_file(segment_path(1), bytes);
  auto wal = must_open(o);  // open reads only the last segment's records
  ASSERT_TRUE(wal);
  auto got = replay(*wal, 1);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.code(), ErrorCode::Corruption);
  EXPECT_NE(got.error().message.find("000001.wal offset"), std::string::npos) << got.error().message;
  // From an LSN past the damaged segment, replay works.
  auto later = replay(*wal, 150);
  ASSERT_TRUE(later.ok()) << later.error().to_string();
  EXPECT_EQ(later->records.size(), 51u);
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalRecoveryTest, UninitializedLastSegmentIsDropped) {
  write_records(3);
  write_file(segment_path(2), std::string(100, '\0'));  // crash while creating segment 2
  auto wal = must_open(options());
  ASSERT_TRUE(wal);
  EXPECT_EQ(wal->next_lsn(), 4u);
  EXPECT_FALSE(std::filesystem::exists(segment_path(2)));
  ASSERT_TRUE(run(wal->close()).ok());
}

TEST_P(WalRecoveryTest, BadHeaderIsCorruption) {
  write_records(3);
  std::string bytes = read_file(segment_path(1));
  bytes[3] ^= 1;
  write_file(segment_path(1), bytes);
  auto wal = open(options());
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.code(), ErrorCode::Corruption);
  EXPECT_NE(wal.error().message.find("000001.wal offset 0"), std::string::npos) << wal.error().message;
}

ORBIT_WAL_INSTANTIATE(WalRecoveryTest);

}  // namespace
}  // namespace orbit::wal::testing
