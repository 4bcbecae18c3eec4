// The key-layout changes one op makes, and the log entry that carries them.
#include <gtest/gtest.h>

#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"
#include "src/kv/changes.hpp"

namespace orbit::kv {
namespace {

Lease lease_on(const std::string& node, SystemTime expires) {
  Lease lease;
  lease.key = ActorKey(Uuid::from_u64(7), "Player");
  lease.node_id = node;
  lease.expires_at = expires;
  lease.metadata.last_renewed = expires - std::chrono::seconds(30);
  lease.version = 3;
  return lease;
}

std::vector<std::string> describe(const std::vector<KvChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(std::string(c.erase ? "del " : "put ") + c.key.substr(0, 1));
  return out;
}

TEST(KvChanges, NewLeaseWritesPrimaryAndBothIndexes) {
  const SystemTime t{std::chrono::seconds(1'000'000)};
  std::vector<KvChange> out;
  LiveDelta delta;
  BatchOp op{BatchOp::Kind::Put, lease_on("node-a", t)};
  auto after = add_op_changes(op, std::nullopt, out, delta);
  ASSERT_TRUE(after);
  EXPECT_EQ(describe(out), (std::vector<std::string>{"put N", "put E", "put L"}));
  EXPECT_EQ(out[0].key, codec::node_index_key("node-a", op.lease.key));
  EXPECT_EQ(out[1].key, codec::expiry_index_key(t, op.lease.key));
  EXPECT_EQ(out[2].value, codec::encode_lease(op.lease));
  EXPECT_EQ(delta.keys, 1);
  EXPECT_EQ(delta.key_bytes, static_cast<std::int64_t>(out[2].key.size()));
  EXPECT_EQ(delta.value_bytes, static_cast<std::int64_t>(out[2].value.size()));
  EXPECT_EQ(after->value_size, out[2].value.size());
}

TEST(KvChanges, MovedLeaseErasesOnlyTheIndexEntriesThatChanged) {
  const SystemTime t{std::chrono::seconds(1'000'000)};
  std::vector<KvChange> out;
  LiveDelta delta;
  BatchOp first{BatchOp::Kind::Put, lease_on("node-a", t)};
  auto stored = add_op_changes(first, std::nullopt, out, delta);

  // Renewed on the same node: only the expiry entry moves; the node entry,
  // already stored, is not written again.
  out.clear();
  delta = {};
  BatchOp renewed{BatchOp::Kind::Put, lease_on("node-a", t + std::chrono::seconds(5))};
  stored = add_op_changes(renewed, stored, out, delta);
  EXPECT_EQ(describe(out), (std::vector<std::string>{"del E", "put E", "put L"}));
  EXPECT_EQ(out[0].key, codec::expiry_index_key(t, first.lease.key));
  EXPECT_EQ(delta.keys, 0);
  EXPECT_EQ(delta.key_bytes, 0);

  // Stored again unchanged but for its data: only the primary entry.
  out.clear();
  BatchOp same_place{BatchOp::Kind::Put, lease_on("node-a", t + std::chrono::seconds(5))};
  same_place.lease.metadata.custom_data = "new data";
  stored = add_op_changes(same_place, stored, out, delta);
  EXPECT_EQ(describe(out), (std::vector<std::string>{"put L"}));

  // Moved to another node: the node entry moves too.
  out.clear();
  BatchOp moved{BatchOp::Kind::Put, lease_on("node-b", t + std::chrono::seconds(10))};
  stored = add_op_changes(moved, stored, out, delta);
  EXPECT_EQ(describe(out), (std::vector<std::string>{"del N", "del E", "put N", "put E", "put L"}));
  EXPECT_EQ(out[0].key, codec::node_index_key("node-a", first.lease.key));
}

TEST(KvChanges, RemoveErasesAllThreeAndRemovingNothingChangesNothing) {
  const SystemTime t{std::chrono::seconds(1'000'000)};
  std::vector<KvChange> out;
  LiveDelta delta;
  BatchOp put{BatchOp::Kind::Put, lease_on("node-a", t)};
  auto stored = add_op_changes(put, std::nullopt, out, delta);
  out.clear();
  BatchOp remove{BatchOp::Kind::Remove, lease_on("ignored", t)};
  EXPECT_FALSE(add_op_changes(remove, stored, out, delta));
  EXPECT_EQ(describe(out), (std::vector<std::string>{"del N", "del E", "del L"}));
  EXPECT_EQ(delta.keys, 0);
  EXPECT_EQ(delta.key_bytes, 0);
  EXPECT_EQ(delta.value_bytes, 0);

  out.clear();
  EXPECT_FALSE(add_op_changes(remove, std::nullopt, out, delta));
  EXPECT_TRUE(out.empty());
}

TEST(KvChanges, StoredLeaseNamesTheKeyWhenTheValueIsDamaged) {
  ActorKey key(Uuid::from_u64(9), "Guild");
  auto bad = stored_lease(key, "not a lease");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.code(), ErrorCode::Corruption);
  EXPECT_NE(bad.error().message.find(key.to_string()), std::string::npos) << bad.error().message;
}

TEST(KvLogEntry, RoundTripsChangesAndNegativeDeltas) {
  LogEntry entry;
  entry.delta = {-1, -40, -123456};
  entry.changes.push_back({"Lkey", std::string("\0value\xff", 7), false});
  entry.changes.push_back({"Nkey", "", false});
  entry.changes.push_back({"Ekey", "", true});
  std::string bytes;
  encode_log_entry(entry, bytes);
  auto back = decode_log_entry(bytes);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->delta.keys, -1);
  EXPECT_EQ(back->delta.key_bytes, -40);
  EXPECT_EQ(back->delta.value_bytes, -123456);
  ASSERT_EQ(back->changes.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back->changes[i].key, entry.changes[i].key);
    EXPECT_EQ(back->changes[i].value, entry.changes[i].value);
    EXPECT_EQ(back->changes[i].erase, entry.changes[i].erase);
  }
}

TEST(KvLogEntry, EveryTruncationAndUnknownFormatIsCorruption) {
  LogEntry entry;
  entry.delta = {1, 20, 100};
  entry.changes.push_back({"Lkey", "value", false});
  entry.changes.push_back({"Ekey", "", true});
  std::string bytes;
  encode_log_entry(entry, bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto cut = decode_log_entry(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(cut) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(cut.code(), ErrorCode::Corruption);
  }
  std::string trailing = bytes + "x";
  EXPECT_FALSE(decode_log_entry(trailing));
  std::string future = bytes;
  future[0] = 4;
  auto unknown = decode_log_entry(future);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown entry format 4"), std::string::npos) << unknown.error().message;
}

TEST(KvLogEntry, ZeroDeltaIsLeftOutAndReadsBackAsZero) {
  LogEntry entry;  // a renewal: the live set keeps its size
  entry.changes.push_back({"Lkey", "value", false});
  entry.changes.push_back({"Ekey", "", true});
  std::string without;
  encode_log_entry(entry, without);
  // format, count, then per change: (key length << 1 | erase), key, value length, value
  EXPECT_EQ(without, std::string("\x02\x02\x08Lkey\x05value\x09" "Ekey"));
  entry.delta = {0, 0, 1};
  std::string with;
  encode_log_entry(entry, with);
  EXPECT_EQ(with, std::string("\x03\x00\x00\x02", 4) + without.substr(1));

  auto back = decode_log_entry(without);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->delta.keys, 0);
  EXPECT_EQ(back->delta.key_bytes, 0);
  EXPECT_EQ(back->delta.value_bytes, 0);
  ASSERT_EQ(back->changes.size(), 2u);
  EXPECT_EQ(back->changes[0].value, "value");
  EXPECT_TRUE(back->changes[1].erase);
  for (std::size_t n = 0; n < without.size(); ++n)
    EXPECT_FALSE(decode_log_entry(std::string_view(without).substr(0, n))) << "prefix of " << n << " bytes decoded";
}

TEST(KvLogEntry, Format1EntriesStillRead) {
  // Written before formats 2 and 3: deltas, a change count, a kind byte per change.
  const std::string format1("\x01\x02\x08\x0a\x02\x01\x04Lkey\x05value\x02\x04" "Ekey");
  auto back = decode_log_entry(format1);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->delta.keys, 1);
  EXPECT_EQ(back->delta.key_bytes, 4);
  EXPECT_EQ(back->delta.value_bytes, 5);
  ASSERT_EQ(back->changes.size(), 2u);
  EXPECT_EQ(back->changes[0].key, "Lkey");
  EXPECT_EQ(back->changes[0].value, "value");
  EXPECT_FALSE(back->changes[0].erase);
  EXPECT_EQ(back->changes[1].key, "Ekey");
  EXPECT_TRUE(back->changes[1].erase);
  for (std::size_t n = 0; n < format1.size(); ++n)
    EXPECT_FALSE(decode_log_entry(std::string_view(format1).substr(0, n))) << "prefix of " << n << " bytes decoded";
}

}  // namespace
}  // namespace orbit::kv
