// Goal: LayoutChecker accepts a consistent key layout and names each kind of
// inconsistency: undecodable lease, primary key / lease mismatch, missing
// and orphaned index entries, stale expiry entry, unknown and unordered keys.
#include <map>

#include <gtest/gtest.h>

#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"
#include "src/verify/layout_checker.hpp"
#include "tests/cli/cli_test_support.hpp"

namespace orbit::verify {
namespace {

using Store = std::map<std::string, std::string>;

Store layout_of(const std::vector<Lease>& leases) {
  Store s;
  for (const Lease& l : leases) {
    s[codec::primary_key(l.key)] = codec::encode_lease(l);
    s[codec::node_index_key(l.node_id, l.key)] = "";
    s[codec::expiry_index_key(l.expires_at, l.key)] = "";
  }
  return s;
}

VerifyReport check(const Store& s) {
  VerifyReport report;
  LayoutChecker checker(report);
  std::uint64_t offset = 0;
  for (const auto& [k, v] : s) checker.add(k, v, Location{"data.file", offset++});
  checker.finish();
  return report;
}

std::string all_problems(const VerifyReport& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.file + ":" + std::to_string(p.offset) + ": " + p.what + "\n";
  return out;
}

class LayoutCheckerTest : public ::testing::Test {
 protected:
  std::vector<Lease> leases = cli_test::make_leases(300, 3);
  Store store = layout_of(leases);
};

TEST_F(LayoutCheckerTest, ConsistentStoreHasNoProblems) {
  auto r = check(store);
  EXPECT_TRUE(r.ok()) << all_problems(r);
  EXPECT_EQ(r.leases_checked, leases.size());
}

TEST_F(LayoutCheckerTest, EmptyStoreIsFine) {
  auto r = check({});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.leases_checked, 0u);
}

TEST_F(LayoutCheckerTest, MissingNodeEntry) {
  store.erase(codec::node_index_key(leases[5].node_id, leases[5].key));
  auto r = check(store);
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_NE(r.problems[0].what.find(leases[5].key.actor_id.to_string()), std::string::npos);
  EXPECT_NE(r.problems[0].what.find("no by-node index entry"), std::string::npos);
}

TEST_F(LayoutCheckerTest, MissingExpiryEntryNamesLeaseAndPlace) {
  store.erase(codec::expiry_index_key(leases[7].expires_at, leases[7].key));
  auto r = check(store);
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].file, "data.file");
  EXPECT_NE(r.problems[0].what.find("has no expiry index entry"), std::string::npos);
}

TEST_F(LayoutCheckerTest, StaleExpiryEntryIsBothMissingAndOrphaned) {
  store.erase(codec::expiry_index_key(leases[9].expires_at, leases[9].key));
  store[codec::expiry_index_key(leases[9].expires_at + std::chrono::seconds(1), leases[9].key)] = "";
  auto r = check(store);
  ASSERT_EQ(r.problems.size(), 2u) << all_problems(r);
  EXPECT_NE(all_problems(r).find("for that time"), std::string::npos);
  EXPECT_NE(all_problems(r).find("orphaned"), std::string::npos);
}

TEST_F(LayoutCheckerTest, OrphanedNodeEntry) {
  store[codec::node_index_key("ghost-node", ActorKey(Uuid::from_u64(999999), "Nobody"))] = "";
  auto r = check(store);
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_NE(r.problems[0].what.find("ghost-node"), std::string::npos);
}

TEST_F(LayoutCheckerTest, UndecodableLeaseIsOneProblem) {
  std::string& value = store[codec::primary_key(leases[11].key)];
  value[value.size() / 2] ^= 0x40;
  auto r = check(store);
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_NE(r.problems[0].what.find("does not decode"), std::string::npos);
  EXPECT_EQ(r.leases_checked, leases.size() - 1);
}

TEST_F(LayoutCheckerTest, LeaseUnderTheWrongKey) {
  Lease moved = leases[13];
  moved.key.actor_id = Uuid::from_u64(123456789);
  store[codec::primary_key(leases[13].key)] = codec::encode_lease(moved);
  auto r = check(store);
  EXPECT_NE(all_problems(r).find("but the lease stored under it is"), std::string::npos) << all_problems(r);
}

TEST_F(LayoutCheckerTest, UnknownKeyAndNonEmptyIndexValue) {
  store["Zebra"] = "x";
  store[codec::node_index_key(leases[1].node_id, leases[1].key)] = "junk";
  auto r = check(store);
  EXPECT_NE(all_problems(r).find("is not a lease or index key"), std::string::npos) << all_problems(r);
  EXPECT_NE(all_problems(r).find("4-byte value"), std::string::npos) << all_problems(r);
}

TEST_F(LayoutCheckerTest, OutOfOrderKeys) {
  VerifyReport report;
  LayoutChecker checker(report);
  checker.add(codec::primary_key(leases[0].key), codec::encode_lease(leases[0]));
  checker.add(codec::primary_key(leases[0].key), codec::encode_lease(leases[0]));
  checker.finish();
  EXPECT_NE(all_problems(report).find("out of order"), std::string::npos) << all_problems(report);
}

TEST_F(LayoutCheckerTest, ProblemListIsCapped) {
  for (int i = 0; i < 50; ++i) store[codec::node_index_key("ghost", ActorKey(Uuid::from_u64(i + 100000), "X"))] = "";
  VerifyReport report;
  LayoutChecker checker(report, 10);
  for (const auto& [k, v] : store) checker.add(k, v);
  checker.finish();
  ASSERT_EQ(report.problems.size(), 11u);
  EXPECT_NE(report.problems.back().what.find("40 more problems"), std::string::npos);
}

}  // namespace
}  // namespace orbit::verify
