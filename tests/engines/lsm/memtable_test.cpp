// Goal: the memtable orders versions newest-first, answers snapshot reads
// with the newest version <= the snapshot (tombstones included), iterates in
// internal-key order, and accounts memory as it grows.
#include "engines/lsm/memtable.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace orbit::lsm {
namespace {

TEST(InternalKey, EncodesAndOrdersNewestFirst) {
  std::string a = make_internal_key("apple", 5, ValueType::Put);
  ParsedInternalKey parsed;
  ASSERT_TRUE(parse_internal_key(a, parsed));
  EXPECT_EQ(parsed.user_key, "apple");
  EXPECT_EQ(parsed.sequence, 5u);
  EXPECT_EQ(parsed.type, ValueType::Put);

  EXPECT_LT(internal_key_compare(a, make_internal_key("apple", 4, ValueType::Put)), 0);
  EXPECT_GT(internal_key_compare(a, make_internal_key("apple", 6, ValueType::Delete)), 0);
  EXPECT_LT(internal_key_compare(make_internal_key("app", 1, ValueType::Put), a), 0);
  EXPECT_LT(internal_key_compare(a, make_internal_key("apples", 9, ValueType::Put)), 0);
  EXPECT_EQ(internal_key_compare(a, a), 0);

  std::string bad = make_internal_key("k", 1, ValueType::Put);
  bad[bad.size() - 8] = 7;  // the tag's low byte is the type
  EXPECT_FALSE(parse_internal_key(bad, parsed));
  EXPECT_FALSE(parse_internal_key("short", parsed));
}

TEST(Memtable, SnapshotReadsSeeNewestVisibleVersion) {
  Memtable table;
  table.add(1, ValueType::Put, "k", "v1");
  table.add(3, ValueType::Put, "k", "v3");
  table.add(5, ValueType::Delete, "k", "ignored");
  table.add(7, ValueType::Put, "k", "v7");
  table.add(2, ValueType::Put, "other", "o2");

  EXPECT_EQ(table.get("k", 0).state, Memtable::LookupState::NotFound);
  auto at1 = table.get("k", 1);
  EXPECT_EQ(at1.state, Memtable::LookupState::Found);
  EXPECT_EQ(at1.value, "v1");
  EXPECT_EQ(table.get("k", 2).value, "v1");
  EXPECT_EQ(table.get("k", 4).value, "v3");
  auto at5 = table.get("k", 5);
  EXPECT_EQ(at5.state, Memtable::LookupState::Deleted);
  EXPECT_EQ(at5.sequence, 5u);
  EXPECT_EQ(table.get("k", 6).state, Memtable::LookupState::Deleted);
  auto latest = table.get("k");
  EXPECT_EQ(latest.value, "v7");
  EXPECT_EQ(latest.sequence, 7u);
  EXPECT_EQ(table.get("other", 1).state, Memtable::LookupState::NotFound);
  EXPECT_EQ(table.get("other").value, "o2");
  EXPECT_EQ(table.get("kk").state, Memtable::LookupState::NotFound);
  EXPECT_EQ(table.get("").state, Memtable::LookupState::NotFound);
  // A user key that is a prefix of another must not match it.
  EXPECT_EQ(table.get("o").state, Memtable::LookupState::NotFound);
}

TEST(Memtable, IteratesInInternalKeyOrderAndSurvivesInserts) {
  Memtable table;
  std::mt19937_64 rng(42);
  std::vector<std::string> keys;
  for (SequenceNumber s = 1; s <= 500; ++s) {
    std::string k = "key" + std::to_string(rng() % 100);
    table.add(s, s % 5 == 0 ? ValueType::Delete : ValueType::Put, k, "value" + std::to_string(s));
  }
  EXPECT_EQ(table.entry_count(), 500u);

  Memtable::Iterator it(table);
  it.seek_to_first();
  std::string previous;
  std::size_t seen = 0;
  while (it.valid()) {
    if (!previous.empty()) {
      EXPECT_LT(internal_key_compare(previous, it.key()), 0) << "seed 42";
    }
    previous = std::string(it.key());
    if (seen == 10) table.add(1000, ValueType::Put, "zzz", "late");  // iterator stays valid
    ++seen;
    it.next();
  }
  EXPECT_EQ(seen, 501u);

  it.seek(make_internal_key("key5", kMaxSequenceNumber, kValueTypeForSeek));
  ASSERT_TRUE(it.valid());
  ParsedInternalKey parsed;
  ASSERT_TRUE(parse_internal_key(it.key(), parsed));
  EXPECT_GE(parsed.user_key, std::string_view("key5"));
}

// Against a std::map oracle: versions of each key arrive mostly in
// sequence order (the store's case, taken through the newest-version
// index and the insert hint) and sometimes out of it (older than the
// key's newest); keys short and longer than the 128-byte stack seek key;
// every key read at the newest snapshot and at random older ones.
TEST(Memtable, ReadsMatchAnOracleAtEverySnapshot) {
  std::mt19937_64 rng(7);
  Memtable table;
  // oracle[user key][sequence] = value, or nullopt for a tombstone
  std::map<std::string, std::map<SequenceNumber, std::optional<std::string>>> oracle;
  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) keys.push_back((i % 3 == 0 ? std::string(150, 'k') : "key") + std::to_string(i));
  SequenceNumber next = 1000, low = 999;
  for (int n = 0; n < 3000; ++n) {
    const std::string& key = keys[rng() % keys.size()];
    // One version in ten goes below everything written so far.
    const SequenceNumber sequence = rng() % 10 == 0 ? low-- : next++;
    const bool put = rng() % 4 != 0;
    const std::string value = "v" + std::to_string(sequence);
    table.add(sequence, put ? ValueType::Put : ValueType::Delete, key, value);
    oracle[key][sequence] = put ? std::optional<std::string>(value) : std::nullopt;
  }
  EXPECT_EQ(table.entry_count(), 3000u);
  auto check = [&](const std::string& key, SequenceNumber snapshot) {
    SCOPED_TRACE("key " + key.substr(0, 8) + "... size " + std::to_string(key.size()) + " snapshot " +
                 std::to_string(snapshot));
    const Memtable::Found found = table.find(key, snapshot);
    auto versions = oracle.find(key);
    const std::optional<std::string>* expected = nullptr;
    SequenceNumber expected_sequence = 0;
    if (versions != oracle.end()) {
      auto it = versions->second.upper_bound(snapshot);
      if (it != versions->second.begin()) {
        --it;
        expected = &it->second;
        expected_sequence = it->first;
      }
    }
    if (!expected) {
      EXPECT_EQ(found.state, Memtable::LookupState::NotFound);
    } else if (!expected->has_value()) {
      EXPECT_EQ(found.state, Memtable::LookupState::Deleted);
      EXPECT_EQ(found.sequence, expected_sequence);
    } else {
      EXPECT_EQ(found.state, Memtable::LookupState::Found);
      EXPECT_EQ(found.sequence, expected_sequence);
      EXPECT_EQ(found.value, **expected);
    }
  };
  for (const std::string& key : keys) {
    check(key, kMaxSequenceNumber);
    for (int i = 0; i < 20; ++i) check(key, rng() % (next + 10));
  }
  check("absent", kMaxSequenceNumber);
  check(std::string(150, 'k'), kMaxSequenceNumber);  // a prefix of stored keys

  // The walk sees every version in internal-key order.
  Memtable::Iterator it(table);
  std::size_t seen = 0;
  std::string previous;
  for (it.seek_to_first(); it.valid(); it.next(), ++seen) {
    if (seen) {
      EXPECT_LT(internal_key_compare(previous, it.key()), 0);
    }
    previous = std::string(it.key());
  }
  EXPECT_EQ(seen, 3000u);

  // A walk by next_key() (a flush's) sees each user key once, in order, at
  // its newest version: a tombstone when that is one.
  auto expected = oracle.begin();
  for (it.seek_to_first(); it.valid(); it.next_key(), ++expected) {
    ASSERT_NE(expected, oracle.end());
    ParsedInternalKey parsed;
    ASSERT_TRUE(parse_internal_key(it.key(), parsed));
    EXPECT_EQ(parsed.user_key, expected->first);
    const auto& [sequence, value] = *expected->second.rbegin();
    EXPECT_EQ(parsed.sequence, sequence);
    EXPECT_EQ(parsed.type, value ? ValueType::Put : ValueType::Delete);
    if (value) {
      EXPECT_EQ(it.value(), *value);
    }
  }
  EXPECT_EQ(expected, oracle.end());
}

// Every seek, into the middle of a key's versions, past its oldest, before
// and after every key, lands where a sorted list of all entries says; the
// hash index grows from its smallest size to thousands of keys on the way,
// answering point reads while it moves slots to each larger table.
TEST(Memtable, SeeksLandWhereASortedListOfEveryEntrySays) {
  std::mt19937_64 rng(11);
  Memtable table;
  std::vector<std::string> entries;  // internal keys
  std::set<std::pair<std::string, SequenceNumber>> added;
  std::map<std::string, SequenceNumber> newest;
  SequenceNumber next = 100;
  for (int n = 0; n < 20000; ++n) {
    const std::string key = "k" + std::to_string(rng() % 5000);
    const SequenceNumber sequence = rng() % 8 == 0 ? rng() % 100 : next++;
    if (!added.emplace(key, sequence).second) continue;  // (key, sequence) must be unique
    const ValueType type = rng() % 3 == 0 ? ValueType::Delete : ValueType::Put;
    table.add(sequence, type, key, "v");
    entries.push_back(make_internal_key(key, sequence, type));
    SequenceNumber& top = newest[key];
    top = std::max(top, sequence);
    // Point reads while the hash index grows and moves its slots.
    auto probe = newest.lower_bound("k" + std::to_string(rng() % 5000));
    if (probe != newest.end()) {
      EXPECT_EQ(table.find(probe->first).sequence, probe->second) << probe->first;
    }
  }
  EXPECT_EQ(table.entry_count(), entries.size());
  std::sort(entries.begin(), entries.end(),
            [](const std::string& a, const std::string& b) { return internal_key_compare(a, b) < 0; });
  Memtable::Iterator it(table);
  for (int n = 0; n < 2000; ++n) {
    const std::string key = "k" + std::to_string(rng() % 5100);
    const std::string target = make_internal_key(key, rng() % (next + 10), kValueTypeForSeek);
    auto expected = std::lower_bound(
        entries.begin(), entries.end(), target,
        [](const std::string& a, const std::string& b) { return internal_key_compare(a, b) < 0; });
    it.seek(target);
    if (expected == entries.end()) {
      EXPECT_FALSE(it.valid()) << key;
      continue;
    }
    ASSERT_TRUE(it.valid()) << key;
    ParsedInternalKey want, got;
    ASSERT_TRUE(parse_internal_key(*expected, want));
    ASSERT_TRUE(parse_internal_key(it.key(), got));
    EXPECT_EQ(got.user_key, want.user_key);
    EXPECT_EQ(got.sequence, want.sequence);
  }
}

TEST(Memtable, MemoryUsageGrowsWithContent) {
  Memtable table;
  EXPECT_EQ(table.approximate_memory_usage(), 0u);
  table.add(1, ValueType::Put, "a", "small");
  std::size_t after_small = table.approximate_memory_usage();
  EXPECT_GT(after_small, 0u);
  table.add(2, ValueType::Put, "b", std::string(10000, 'x'));
  EXPECT_GE(table.approximate_memory_usage(), after_small + 10000);
}

}  // namespace
}  // namespace orbit::lsm
