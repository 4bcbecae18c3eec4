// Goal: memcmp order of the encoded keys equals the order the API promises
// (ActorKey order for primary keys; node then ActorKey for the node index;
// expiry time then ActorKey for the expiry index), including strings with NUL
// and 0xFF bytes and pre-epoch times; prefixes and bounds delimit exactly
// the keys they should; every key decodes back; malformed keys do not.
#include "src/codec/key_layout.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace orbit::codec {
namespace {

using std::chrono::nanoseconds;

SystemTime at_nanos(std::int64_t n) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(nanoseconds(n)));
}

// Strings from a tiny alphabet rich in the bytes the escaping must handle,
// so that prefixes, embedded NULs and 0xFF collide often.
std::string tricky_string(std::mt19937_64& rng) {
  static constexpr char kAlphabet[] = {'\x00', '\x01', '\x02', 'a', '\x7f', '\x80', '\xfe', '\xff'};
  std::string s(rng() % 5, '\0');
  for (auto& c : s) c = kAlphabet[rng() % sizeof kAlphabet];
  return s;
}

ActorKey random_key(std::mt19937_64& rng) {
  ActorKey key;
  key.actor_type = tricky_string(rng);
  // Few distinct uuids with shared prefixes, so ties on actor_type fall to them.
  std::uint64_t n = rng() % 4;
  key.actor_id = Uuid::from_u64(n);
  if (rng() % 2) key.actor_id.bytes[0] = static_cast<std::uint8_t>(rng() % 3 == 0 ? 0xFF : 0x00);
  return key;
}

int sign(std::strong_ordering o) { return o < 0 ? -1 : (o > 0 ? 1 : 0); }
int sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }
int memcmp_order(const std::string& a, const std::string& b) { return sign(a.compare(b)); }

TEST(KeyLayout, PrimaryKeyExactBytes) {
  ActorKey key{Uuid::from_u64(0xABCD), std::string("a\0b", 3)};
  std::string expected = std::string(
      "La\x00\xff"
      "b\x00\x01",
      7);
  expected.append(14, '\0');
  expected.append("\xab\xcd", 2);
  EXPECT_EQ(primary_key(key), expected);
  EXPECT_EQ(actor_type_prefix("a"), std::string("La\x00\x01", 4));
  EXPECT_EQ(node_index_prefix(""), std::string("N\x00\x01", 3));
}

TEST(KeyLayout, ExpiryKeyExactBytes) {
  ActorKey key{Uuid::from_u64(1), "T"};
  std::string k = expiry_index_key(at_nanos(0), key);
  // Epoch: 0 XOR 2^63 -> 80 00 .. 00 big-endian.
  std::string expected = std::string("E\x80\0\0\0\0\0\0\0T\x00\x01", 12);
  expected.append(15, '\0');
  expected.push_back('\x01');
  EXPECT_EQ(k, expected);
  EXPECT_EQ(expiry_index_bound(at_nanos(-1)), std::string("E\x7f\xff\xff\xff\xff\xff\xff\xff", 9));
  EXPECT_EQ(expiry_index_bound(at_nanos(258)), std::string("E\x80\0\0\0\0\0\x01\x02", 9));
}

TEST(KeyLayout, PrimaryOrderMatchesActorKeyOrder) {
  const std::uint64_t seed = 42;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 50000; ++i) {
    ActorKey a = random_key(rng), b = random_key(rng);
    ASSERT_EQ(memcmp_order(primary_key(a), primary_key(b)), sign(a <=> b))
        << "a=" << testing::PrintToString(a.actor_type) << " b=" << testing::PrintToString(b.actor_type);
  }
}

TEST(KeyLayout, SortedPrimaryKeysEqualSortedActorKeys) {
  std::mt19937_64 rng(5);
  std::vector<ActorKey> keys;
  for (int i = 0; i < 2000; ++i) keys.push_back(random_key(rng));
  std::vector<std::string> encoded;
  for (auto& k : keys) encoded.push_back(primary_key(k));
  std::sort(keys.begin(), keys.end());
  std::sort(encoded.begin(), encoded.end());
  for (std::size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(decode_primary_key(encoded[i]), keys[i]) << i;
}

TEST(KeyLayout, NodeIndexOrderIsNodeThenActorKey) {
  std::mt19937_64 rng(43);
  for (int i = 0; i < 50000; ++i) {
    std::string na = tricky_string(rng), nb = tricky_string(rng);
    ActorKey a = random_key(rng), b = random_key(rng);
    int expected = sign(na.compare(nb));
    if (expected == 0) expected = sign(a <=> b);
    ASSERT_EQ(memcmp_order(node_index_key(na, a), node_index_key(nb, b)), expected);
  }
}

TEST(KeyLayout, ExpiryIndexOrderIsTimeThenActorKey) {
  std::mt19937_64 rng(44);
  auto random_time = [&] {
    switch (rng() % 4) {
      case 0:
        return at_nanos(static_cast<std::int64_t>(rng()));  // anywhere, either sign
      case 1:
        return at_nanos(static_cast<std::int64_t>(rng() % 5) - 2);  // around the epoch
      case 2:
        return at_nanos(1'700'000'000'000'000'000 + static_cast<std::int64_t>(rng() % 3));
      default:
        return at_nanos(-static_cast<std::int64_t>(rng() % 1000));  // just before the epoch
    }
  };
  for (int i = 0; i < 50000; ++i) {
    SystemTime ta = random_time(), tb = random_time();
    ActorKey a = random_key(rng), b = random_key(rng);
    int expected = sign(ta <=> tb);
    if (expected == 0) expected = sign(a <=> b);
    ASSERT_EQ(memcmp_order(expiry_index_key(ta, a), expiry_index_key(tb, b)), expected);
  }
}

TEST(KeyLayout, ExpiryBoundSplitsBeforeAndAtOrAfter) {
  std::mt19937_64 rng(45);
  for (int i = 0; i < 50000; ++i) {
    std::int64_t base = static_cast<std::int64_t>(rng() % 7) - 3;
    SystemTime t = at_nanos(base * 1000);
    SystemTime key_time = at_nanos(base * 1000 + static_cast<std::int64_t>(rng() % 5) - 2);
    ActorKey key = random_key(rng);
    std::string k = expiry_index_key(key_time, key);
    std::string bound = expiry_index_bound(t);
    if (key_time < t)
      ASSERT_LT(k, bound);
    else
      ASSERT_GE(k, bound);
  }
  // A key at exactly t with the smallest possible ActorKey still sorts after the bound.
  SystemTime t = at_nanos(123);
  EXPECT_LT(expiry_index_bound(t), expiry_index_key(t, ActorKey{}));
  EXPECT_LT(expiry_index_key(at_nanos(122), ActorKey{Uuid{}, std::string(255, '\xff')}),
            expiry_index_bound(t));
}

TEST(KeyLayout, ActorTypePrefixDelimitsExactlyThatType) {
  std::mt19937_64 rng(46);
  for (int i = 0; i < 20000; ++i) {
    std::string type = tricky_string(rng);
    ActorKey key = random_key(rng);
    std::string prefix = actor_type_prefix(type);
    std::string end = prefix_successor(prefix);
    std::string k = primary_key(key);
    bool inside = k >= prefix && k < end;
    ASSERT_EQ(inside, key.actor_type == type);
    ASSERT_EQ(k.starts_with(prefix), key.actor_type == type);
  }
}

TEST(KeyLayout, NodePrefixDelimitsExactlyThatNode) {
  std::mt19937_64 rng(47);
  for (int i = 0; i < 20000; ++i) {
    std::string node = tricky_string(rng), other = tricky_string(rng);
    std::string k = node_index_key(other, random_key(rng));
    std::string prefix = node_index_prefix(node);
    bool inside = k >= prefix && k < prefix_successor(prefix);
    ASSERT_EQ(inside, node == other);
  }
}

TEST(KeyLayout, TagsSeparateTheKeySpaces) {
  ActorKey key{Uuid::from_u64(9), "T"};
  std::string p = primary_key(key), n = node_index_key("n", key), e = expiry_index_key(at_nanos(1), key);
  EXPECT_LT(e, p);  // 'E' < 'L' < 'N'
  EXPECT_LT(p, n);
  EXPECT_FALSE(decode_primary_key(n).has_value());
  EXPECT_FALSE(decode_node_index_key(p).has_value());
  EXPECT_FALSE(decode_expiry_index_key(p).has_value());
}

TEST(KeyLayout, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor("abc"), "abd");
  EXPECT_EQ(prefix_successor(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(prefix_successor(std::string("\x00\x01", 2)), std::string("\x00\x02", 2));
  EXPECT_EQ(prefix_successor(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(prefix_successor(""), "");
  // Every string starting with the prefix sorts below its successor.
  std::mt19937_64 rng(48);
  for (int i = 0; i < 10000; ++i) {
    std::string prefix = tricky_string(rng) + "x";
    std::string extended = prefix + tricky_string(rng) + tricky_string(rng);
    ASSERT_LT(extended, prefix_successor(prefix));
    ASSERT_GT(prefix_successor(prefix), prefix);
  }
}

TEST(KeyLayout, DecodeRoundTrips) {
  std::mt19937_64 rng(49);
  for (int i = 0; i < 10000; ++i) {
    ActorKey key = random_key(rng);
    for (auto& b : key.actor_id.bytes) b = static_cast<std::uint8_t>(rng());
    std::string node = tricky_string(rng);
    SystemTime t = at_nanos(static_cast<std::int64_t>(rng()));
    ASSERT_EQ(decode_primary_key(primary_key(key)), key);
    ASSERT_EQ(decode_node_index_key(node_index_key(node, key)), key);
    ASSERT_EQ(decode_node_index_node(node_index_key(node, key)), node);
    ASSERT_EQ(decode_expiry_index_key(expiry_index_key(t, key)), key);
    ASSERT_EQ(decode_expiry_index_time(expiry_index_key(t, key)), t);
  }
}

TEST(KeyLayout, DecodeRejectsMalformedKeys) {
  ActorKey key{Uuid::from_u64(3), "Type"};
  std::string good = primary_key(key);
  EXPECT_FALSE(decode_primary_key("").has_value());
  EXPECT_FALSE(decode_primary_key("L").has_value());
  EXPECT_FALSE(decode_primary_key(good + "x").has_value());                       // trailing byte
  EXPECT_FALSE(decode_primary_key(good.substr(0, good.size() - 1)).has_value());  // short uuid
  EXPECT_FALSE(
      decode_primary_key(std::string("LType\x00\x02", 7) + std::string(16, 'u')).has_value());  // bad escape
  EXPECT_FALSE(decode_primary_key(std::string("LType\x00", 6)).has_value());  // escape at end
  EXPECT_FALSE(decode_primary_key("LType").has_value());                      // no terminator
  std::string node_key = node_index_key("n", key);
  EXPECT_FALSE(decode_node_index_key(node_key.substr(0, 3)).has_value());
  EXPECT_FALSE(decode_node_index_node(node_key + "x").has_value());
  std::string expiry = expiry_index_key(at_nanos(5), key);
  EXPECT_FALSE(decode_expiry_index_key(expiry.substr(0, 8)).has_value());
  EXPECT_FALSE(decode_expiry_index_time(expiry.substr(0, 9)).has_value());
  EXPECT_FALSE(decode_expiry_index_key(expiry + "x").has_value());
}

}  // namespace
}  // namespace orbit::codec
