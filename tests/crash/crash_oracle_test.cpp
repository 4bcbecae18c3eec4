// Goal: the crash oracle catches each kind of violation it claims to catch
// (lost, torn, never issued, half-visible batch) and accepts every outcome the
// durability contract allows, on hand-written side logs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/crash/crash_model.hpp"
#include "tests/crash/crash_oracle.hpp"

namespace orbit::crash {
namespace {

SideLog parse(const std::string& text) {
  const char* root = std::getenv("ORBIT_TEST_TMPDIR");
  std::filesystem::path dir = root && *root ? root : "/tmp";
  std::filesystem::create_directories(dir);
  auto path = dir / ("oracle-" + std::to_string(::getpid()) + ".log");
  {
    std::ofstream out(path);
    out << text;
  }
  SideLog log = read_side_log(path.string());
  std::filesystem::remove(path);
  return log;
}

struct World {
  std::vector<KeyState> previous = std::vector<KeyState>(kKeyCount);
  std::vector<std::optional<Lease>> recovered = std::vector<std::optional<Lease>>(kKeyCount);
  void holds(int key, std::uint64_t seq, std::uint64_t batch = 0) {
    recovered[static_cast<std::size_t>(key)] = make_lease(key, seq, batch);
  }
  Verdict check(const SideLog& log) {
    std::vector<KeyState> next;
    return check_recovery(previous, log, recovered, &next);
  }
};

TEST(CrashModel, LeaseSelfChecks) {
  Lease lease = make_lease(7, 42, 3);
  auto claim = self_check(lease, nullptr);
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->key_index, 7);
  EXPECT_EQ(claim->seq, 42u);
  EXPECT_EQ(claim->batch_id, 3u);
  lease.metadata.custom_data.back() = 'x';  // a torn tail
  EXPECT_FALSE(self_check(lease, nullptr));
  Lease other = make_lease(7, 42, 3);
  other.version = 41;  // one field from another write
  EXPECT_FALSE(self_check(other, nullptr));
}

TEST(CrashOracle, AcceptsLastAckOrLaterPending) {
  SideLog log = parse(
      "opened\npending 1 10 - put\nack 1 10 - put\npending 1 11 - put\n"
      "pending 2 5 - put\nack 2 5 - put\npending 2 6 - remove\n");
  World w;
  w.holds(1, 10);
  w.holds(2, 5);
  EXPECT_EQ(w.check(log).lost, 0u);
  w.holds(1, 11);
  w.recovered[2].reset();  // the pending remove happened
  Verdict v = w.check(log);
  EXPECT_EQ(v.lost + v.torn + v.batch_violations, 0u);
  EXPECT_EQ(v.acked_checked, 2u);
}

TEST(CrashOracle, CatchesLostAckedPutAndResurrectedRemove) {
  SideLog log = parse(
      "pending 1 10 - put\nack 1 10 - put\npending 1 11 - put\nack 1 11 - put\n"
      "pending 2 5 - put\nack 2 5 - put\npending 2 6 - remove\nack 2 6 - remove\n"
      "pending 3 1 - put\nack 3 1 - put\n");
  World w;
  w.holds(1, 10);  // older than the last ack
  w.holds(2, 5);   // acknowledged remove undone
  Verdict v = w.check(log);  // key 3 absent: its acknowledged put is lost
  EXPECT_EQ(v.lost, 3u);
}

TEST(CrashOracle, NoAckThisCycleAllowsPreviousState) {
  SideLog log = parse("pending 4 20 - put\n");
  World w;
  w.previous[4] = KeyState{true, 9, 0};
  w.holds(4, 9);
  EXPECT_EQ(w.check(log).lost, 0u);
  w.recovered[4].reset();  // absent was never a state of key 4
  EXPECT_EQ(w.check(log).lost, 1u);
}

TEST(CrashOracle, CatchesTornAndNeverIssued) {
  SideLog log = parse("pending 1 10 - put\nack 1 10 - put\n");
  World w;
  w.holds(1, 10);
  w.recovered[1]->node_id = "node-x";
  EXPECT_EQ(w.check(log).torn, 1u);
  w.holds(1, 12);  // self-checks but was never written
  EXPECT_EQ(w.check(log).torn, 1u);
  w.holds(1, 10, 99);  // right seq, wrong batch
  EXPECT_EQ(w.check(log).torn, 1u);
  w.holds(1, 10);
  w.recovered[1]->key = key_of(5);  // another key's record under key 1
  EXPECT_EQ(w.check(log).torn, 1u);
}

TEST(CrashOracle, BatchAllOrNothing) {
  SideLog log = parse("pending 1 10 7 batch\npending 2 4 7 batch\npending 3 8 7 batch\n");
  World w;
  EXPECT_EQ(w.check(log).batch_violations, 0u);  // none
  w.holds(1, 10, 7);
  w.holds(2, 4, 7);
  w.holds(3, 8, 7);
  EXPECT_EQ(w.check(log).batch_violations, 0u);  // all
  w.recovered[2].reset();
  EXPECT_EQ(w.check(log).batch_violations, 1u);  // two of three
}

TEST(CrashOracle, AckedBatchMemberMissingIsLost) {
  SideLog log = parse("pending 1 10 7 batch\npending 2 4 7 batch\nack 1 10 7 batch\nack 2 4 7 batch\n");
  World w;
  w.holds(1, 10, 7);
  EXPECT_EQ(w.check(log).lost, 1u);
}

TEST(CrashOracle, MalformedLinesAreReported) {
  SideLog log = parse("pending 1 10 - put\nack 1 11 - put\npending 999 1 - put\npending 1 9 - put\n");
  EXPECT_EQ(log.malformed.size(), 3u);
}

// The kill can cut the child's last side-log write short: that line is not
// malformed, and the write it would have acknowledged stays pending.
TEST(CrashOracle, LastLineCutByTheKillIsIgnored) {
  SideLog log = parse("opened\npending 1 10 - put\nack 1");
  EXPECT_TRUE(log.malformed.empty());
  EXPECT_EQ(log.issued, 1u);
  EXPECT_EQ(log.acked, 0u);
  World w;
  Verdict absent = w.check(log);  // allowed for a pending write
  EXPECT_EQ(absent.lost + absent.torn + absent.batch_violations, 0u);
  w.holds(1, 10);
  Verdict present = w.check(log);  // allowed too
  EXPECT_EQ(present.lost + present.torn + present.batch_violations, 0u);
}

}  // namespace
}  // namespace orbit::crash
