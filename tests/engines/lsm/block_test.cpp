// Goal: blocks round-trip their entries under every compression; seek finds
// the first key >= target across restart points; and every corrupted byte
// (payload, trailer, restart array, entry varints) becomes a Corruption
// error naming the file and offset instead of a crash or a wrong answer.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "engines/lsm/block_builder.hpp"
#include "engines/lsm/block_cache.hpp"
#include "engines/lsm/block_reader.hpp"
#include "engines/lsm/block_trailer.hpp"
#include "src/util/coding.hpp"

namespace orbit::lsm {
namespace {

std::map<std::string, std::string> sample_entries(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, std::string> out;
  while (out.size() < n) {
    std::string user = "lease/actor-type-" + std::to_string(rng() % 4) + "/" + std::to_string(rng() % 100000);
    out.emplace(user, "value-" + std::to_string(rng()) + std::string(rng() % 40, 'v'));
  }
  return out;
}

std::string build(const std::map<std::string, std::string>& entries, std::uint32_t restart_interval) {
  BlockBuilder builder(restart_interval, bytewise_compare);
  for (const auto& [k, v] : entries) builder.add(k, v);
  return std::string(builder.finish());
}

std::shared_ptr<const Block> must_parse(std::string contents) {
  auto block = Block::parse(std::move(contents), {"test.sst", 100}, bytewise_compare);
  EXPECT_TRUE(block.ok()) << block.error().to_string();
  return block.ok() ? block.value() : nullptr;
}

// Walks `block` front to back, then seeks each key, the key cut short by one
// byte (lands at or before it) and the key with a zero byte appended (lands
// on the next key).
void expect_walk_and_seek(const std::shared_ptr<const Block>& block,
                          const std::map<std::string, std::string>& entries, std::uint32_t interval) {
  SCOPED_TRACE("restart interval " + std::to_string(interval));
  Block::Iterator it(block);
  it.seek_to_first();
  for (const auto& [k, v] : entries) {
    ASSERT_TRUE(it.valid());
    EXPECT_EQ(it.key(), k);
    EXPECT_EQ(it.value(), v);
    it.next();
  }
  EXPECT_FALSE(it.valid());
  EXPECT_TRUE(it.status().ok());

  for (const auto& [k, v] : entries) {
    it.seek(k);
    ASSERT_TRUE(it.valid());
    EXPECT_EQ(it.key(), k);
    EXPECT_EQ(it.value(), v);
    std::string before = k.substr(0, k.size() - 1);  // sorts before k
    it.seek(before);
    ASSERT_TRUE(it.valid());
    EXPECT_LE(it.key(), k);
    EXPECT_GE(it.key(), before);
    auto expected_after = entries.upper_bound(k);
    it.seek(k + '\0');
    if (expected_after == entries.end()) {
      EXPECT_FALSE(it.valid());
    } else {
      ASSERT_TRUE(it.valid());
      EXPECT_EQ(it.key(), expected_after->first);
    }
  }
  it.seek("");
  ASSERT_TRUE(it.valid());
  EXPECT_EQ(it.key(), entries.begin()->first);
  it.seek("zzz");
  EXPECT_FALSE(it.valid());
  EXPECT_TRUE(it.status().ok());
}

TEST(Block, RoundTripsAndSeeks) {
  auto entries = sample_entries(300, 7);
  for (std::uint32_t interval : {1u, 2u, 16u, 1000u}) {
    auto block = must_parse(build(entries, interval));
    ASSERT_NE(block, nullptr);
    expect_walk_and_seek(block, entries, interval);
  }
}

// Keys longer than the iterator's inline key buffer (128 bytes) and keys
// that grow past it mid-scan read back and seek as short ones do.
TEST(Block, KeysLongerThanTheInlineBufferRoundTrip) {
  std::map<std::string, std::string> entries;
  std::mt19937_64 rng(11);
  while (entries.size() < 200) {
    const std::size_t length = 100 + rng() % 300;
    std::string key = "k/" + std::to_string(rng() % 50) + "/";
    while (key.size() < length) key.push_back(static_cast<char>('a' + rng() % 26));
    entries.emplace(std::move(key), std::to_string(rng()));
  }
  for (std::uint32_t interval : {1u, 16u}) {
    auto block = must_parse(build(entries, interval));
    ASSERT_NE(block, nullptr);
    expect_walk_and_seek(block, entries, interval);
  }
}

// A restart point must name an entry that stores its whole key.
TEST(Block, RestartAtAPrefixCompressedEntryIsCorruption) {
  std::string contents = build(sample_entries(40, 3), 4);
  // The restart array ends the block: [offsets...][count]. Point the second
  // restart at the entry right after the first (which shares a prefix).
  const std::uint32_t count = coding::decode_fixed32(contents.data() + contents.size() - 4);
  ASSERT_GE(count, 3u);
  Block::Iterator first(must_parse(contents));
  first.seek_to_first();
  ASSERT_TRUE(first.valid());
  // The first entry's encoded size: three one-byte varints, key, value.
  const std::size_t second_entry = 3 + first.key().size() + first.value().size();
  std::string offset;
  coding::put_fixed32(offset, static_cast<std::uint32_t>(second_entry));
  const std::size_t restart_array = contents.size() - 4 - 4 * count;
  contents.replace(restart_array + 4, 4, offset);
  Block::Iterator it(must_parse(contents));
  it.seek(first.key());  // the search narrows down to restart 1 before 0
  EXPECT_FALSE(it.valid());
  ASSERT_EQ(it.status().code(), ErrorCode::Corruption);
  EXPECT_NE(it.status().error().message.find("test.sst"), std::string::npos);
  EXPECT_NE(it.status().error().message.find("whole key"), std::string::npos) << it.status().error().message;
}

// peek is lookup without the reference: same block, same hit and miss
// counts, and it refreshes the block's place in the LRU order.
TEST(BlockCacheTest, PeekIsLookupWithoutAReference) {
  auto a = must_parse(build(sample_entries(20, 1), 16));
  auto b = must_parse(build(sample_entries(20, 2), 16));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // Room for `a` and `b` and not a third block: their charge, learnt from
  // a cache with room to spare, and a little.
  BlockCache sizing(1 << 20);
  sizing.insert(1, 0, a);
  sizing.insert(1, 4096, b);
  BlockCache cache(sizing.usage_bytes() + 16);
  cache.insert(1, 0, a);
  cache.insert(1, 4096, b);
  EXPECT_EQ(cache.peek(1, 0), a.get());
  EXPECT_EQ(cache.peek(2, 0), nullptr);
  EXPECT_EQ(cache.peek(2, 0, /*count_miss=*/false), nullptr);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
  // `a` was peeked last, so `b` is the least recently used and goes first.
  cache.insert(1, 8192, must_parse(build(sample_entries(5, 3), 16)));  // smaller than `b`
  EXPECT_EQ(cache.lookup(1, 4096, false), nullptr);
  EXPECT_EQ(cache.lookup(1, 0), a);
}

TEST(Format, BytewiseCompareIsUnsignedLexicographicOrder) {
  std::mt19937_64 rng(5);
  const auto sign = [](int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); };
  for (int round = 0; round < 20000; ++round) {
    std::string a, b;
    const std::size_t shared = rng() % 24;
    for (std::size_t i = 0; i < shared; ++i) a.push_back(static_cast<char>(rng()));
    b = a;
    for (std::size_t i = rng() % 12; i > 0; --i) a.push_back(static_cast<char>(rng() % 3 == 0 ? 0xFF : rng()));
    for (std::size_t i = rng() % 12; i > 0; --i) b.push_back(static_cast<char>(rng() % 3 == 0 ? 0x80 : rng()));
    const std::string_view va(a), vb(b);
    ASSERT_EQ(bytewise_compare(va, vb), sign(va.compare(vb))) << "round " << round;
    ASSERT_EQ(bytewise_compare(vb, va), sign(vb.compare(va)));
    ASSERT_EQ(bytewise_compare(va, va), 0);
  }
}

TEST(Block, EmptyBlockAndBuilderReset) {
  BlockBuilder builder;
  std::string empty(builder.finish());
  auto block = must_parse(empty);
  Block::Iterator it(block);
  it.seek_to_first();
  EXPECT_FALSE(it.valid());
  it.seek(make_internal_key("a", 1, ValueType::Put));
  EXPECT_FALSE(it.valid());
  builder.reset();
  EXPECT_TRUE(builder.empty());
  builder.add(make_internal_key("a", 2, ValueType::Put), "x");
  builder.add(make_internal_key("a", 1, ValueType::Delete), "");
  EXPECT_EQ(builder.entry_count(), 2u);
  EXPECT_GE(builder.size_estimate(), builder.finish().size());
}

TEST(Block, PrefixCompressionShrinksSharedKeys) {
  auto entries = sample_entries(200, 3);
  std::size_t raw = 0;
  for (const auto& [k, v] : entries) raw += k.size() + v.size();
  EXPECT_LT(build(entries, 16).size(), raw);
}

TEST(BlockTrailer, RoundTripsEveryCompression) {
  std::string contents = build(sample_entries(200, 11), 16);
  for (auto type : {CompressionType::None, CompressionType::Lz4, CompressionType::Zstd}) {
    std::string stored = encode_block(contents, type);
    auto decoded = decode_block(stored, {"t.sst", 0});
    ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
    EXPECT_EQ(decoded.value(), contents);
    auto stored_type = static_cast<CompressionType>(stored[stored.size() - kBlockTrailerSize]);
    if (type != CompressionType::None) {
      EXPECT_EQ(stored_type, type);  // this data compresses well
      EXPECT_LT(stored.size(), contents.size());
    }
  }
  // Incompressible data is stored as None even when compression is asked for.
  std::mt19937_64 rng(5);
  std::string noise(4096, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  std::string stored = encode_block(noise, CompressionType::Zstd);
  EXPECT_EQ(static_cast<CompressionType>(stored[stored.size() - kBlockTrailerSize]), CompressionType::None);
}

TEST(BlockTrailer, EveryFlippedBitIsCorruptionWithFileAndOffset) {
  std::string contents = build(sample_entries(20, 13), 4);
  for (auto type : {CompressionType::None, CompressionType::Lz4, CompressionType::Zstd}) {
    std::string stored = encode_block(contents, type);
    for (std::size_t bit = 0; bit < stored.size() * 8; ++bit) {
      std::string bad = stored;
      bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
      auto decoded = decode_block(bad, {"data/sstables/level_0_1_2.sst", 4096});
      ASSERT_FALSE(decoded.ok()) << "bit " << bit;
      EXPECT_EQ(decoded.code(), ErrorCode::Corruption);
      EXPECT_NE(decoded.error().message.find("level_0_1_2.sst"), std::string::npos);
      EXPECT_NE(decoded.error().message.find("offset 4096"), std::string::npos);
    }
  }
  EXPECT_EQ(decode_block("abc", {"x", 0}).code(), ErrorCode::Corruption);
}

TEST(Block, MalformedContentsAreCorruptionNotCrash) {
  EXPECT_EQ(Block::parse("ab", {"f", 1}).code(), ErrorCode::Corruption);
  EXPECT_EQ(Block::parse(std::string("\xff\xff\xff\x7f", 4), {"f", 1}).code(), ErrorCode::Corruption);

  // Fuzz-style: random byte overwrites past the checksum layer must never
  // crash or read out of bounds; they end as valid entries or Corruption.
  std::string contents = build(sample_entries(50, 17), 4);
  std::mt19937_64 rng(99);
  for (int round = 0; round < 2000; ++round) {
    std::string bad = contents;
    for (int i = 0; i < 3; ++i) bad[rng() % bad.size()] = static_cast<char>(rng());
    auto block = Block::parse(bad, {"fuzz.sst", 0}, bytewise_compare);
    if (!block.ok()) {
      EXPECT_EQ(block.code(), ErrorCode::Corruption);
      continue;
    }
    Block::Iterator it(block.value());
    std::size_t steps = 0;
    for (it.seek_to_first(); it.valid() && steps < 10000; it.next()) ++steps;
    ASSERT_LT(steps, 10000u) << "round " << round << " seed 99";
    it.seek("lease/actor-type-2/5");
    if (!it.status().ok()) {
      EXPECT_EQ(it.status().code(), ErrorCode::Corruption);
      EXPECT_NE(it.status().error().message.find("fuzz.sst"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace orbit::lsm
