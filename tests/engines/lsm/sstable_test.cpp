// Goal: an SSTable written by SstableBuilder reads back through
// SstableReader exactly (point lookups at snapshots agree with a memtable
// oracle; the iterator yields every entry in order) on both I/O backends and
// under every compression; the writer makes few large writes and one
// datasync; the bloom filter spares block reads for absent keys; and every
// flipped bit, truncation or failed write is a clear error naming the file
// (and, for corruption, the offset), never a wrong answer.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engines/lsm/memtable.hpp"
#include "engines/lsm/sstable_builder.hpp"
#include "engines/lsm/sstable_reader.hpp"
#include "io/runtime.hpp"
#include "io/testing/fault_file_system.hpp"
#include "tests/support/runtime_fixture.hpp"

namespace orbit::lsm {
namespace {


std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A memtable filled with `keys` user keys, several versions each, some
// deletes; it is both the builder's input and the test's oracle.
std::unique_ptr<Memtable> make_oracle(std::size_t keys, std::uint64_t seed) {
  auto table = std::make_unique<Memtable>();
  std::mt19937_64 rng(seed);
  SequenceNumber sequence = 1;
  for (std::size_t i = 0; i < keys * 3; ++i) {
    std::string key = "lease/type-" + std::to_string(rng() % 5) + "/actor-" + std::to_string(rng() % keys);
    bool remove = rng() % 6 == 0;
    std::string value = "node-" + std::to_string(rng() % 16) + "/expiry-" + std::to_string(rng()) +
                        std::string(rng() % 60, 'p');
    table->add(sequence++, remove ? ValueType::Delete : ValueType::Put, key, value);
  }
  return table;
}

class SstableTest : public test_support::RuntimeTest {
 protected:

  static SstableOptions small_options(CompressionType compression = CompressionType::Lz4) {
    SstableOptions o;
    o.block_size_bytes = 512;
    o.write_buffer_bytes = 8192;
    o.compression = compression;
    return o;
  }

  // Writes every entry of `oracle` to `path` through `fs`.
  Result<SstableInfo> build(io::FileSystem& fs, const std::string& path, const Memtable& oracle,
                            SstableOptions options) {
    auto builder = run(SstableBuilder::create(fs, path, options));
    if (!builder) return std::move(builder).error();
    Memtable::Iterator it(oracle);
    for (it.seek_to_first(); it.valid(); it.next()) {
      Status added = builder.value()->add(it.key(), it.value());
      if (!added.ok()) return std::move(added).error();
      if (builder.value()->should_flush()) {
        Status flushed = run(builder.value()->flush());
        if (!flushed.ok()) return std::move(flushed).error();
      }
    }
    return run(builder.value()->finish());
  }

  std::unique_ptr<SstableReader> must_open(io::FileSystem& fs, const std::string& path) {
    auto reader = run(SstableReader::open(fs, path));
    EXPECT_TRUE(reader.ok()) << reader.error().to_string();
    return reader.ok() ? std::move(reader.value()) : nullptr;
  }

  // Reads every entry; the first error, if any.
  Status scan(SstableReader& reader, std::vector<std::pair<std::string, std::string>>* out = nullptr) {
    SstableReader::Iterator it(reader);
    Status status = run(it.seek_to_first());
    while (status.ok() && it.valid()) {
      if (out != nullptr) out->emplace_back(it.key(), it.value());
      status = run(it.next());
    }
    return status;
  }

};

TEST_P(SstableTest, RoundTripsAgainstMemtableOracleUnderEveryCompression) {
  auto oracle = make_oracle(800, 21);
  for (auto compression : {CompressionType::None, CompressionType::Lz4, CompressionType::Zstd}) {
    std::string path = root + "/level_0_1_" + std::to_string(static_cast<int>(compression)) + ".sst";
    auto info = build(rt->fs(), path, *oracle, small_options(compression));
    ASSERT_TRUE(info.ok()) << info.error().to_string();
    EXPECT_EQ(info->entry_count, oracle->entry_count());
    EXPECT_GT(info->data_block_count, 10u);
    EXPECT_EQ(info->file_size, std::filesystem::file_size(path));

    auto reader = must_open(rt->fs(), path);
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(reader->entry_count(), oracle->entry_count());
    EXPECT_TRUE(reader->has_filter());

    std::vector<std::pair<std::string, std::string>> entries;
    Status scanned = scan(*reader, &entries);
    ASSERT_TRUE(scanned.ok()) << scanned.error().to_string();
    ASSERT_EQ(entries.size(), oracle->entry_count());
    Memtable::Iterator expected(*oracle);
    expected.seek_to_first();
    for (const auto& [key, value] : entries) {
      ASSERT_TRUE(expected.valid());
      EXPECT_EQ(key, expected.key());
      EXPECT_EQ(value, expected.value());
      expected.next();
    }
    EXPECT_EQ(info->smallest_key, entries.front().first);
    EXPECT_EQ(info->largest_key, entries.back().first);

    // Point lookups at the latest and at older snapshots agree with the oracle.
    std::mt19937_64 rng(4);
    for (int i = 0; i < 600; ++i) {
      std::string key = "lease/type-" + std::to_string(rng() % 5) + "/actor-" + std::to_string(rng() % 800);
      SequenceNumber snapshot = i % 3 == 0 ? kMaxSequenceNumber : rng() % 2500;
      auto got = run(reader->get(key, snapshot));
      ASSERT_TRUE(got.ok()) << got.error().to_string();
      auto want = oracle->get(key, snapshot);
      EXPECT_EQ(got->state, want.state) << key << " @" << snapshot;
      EXPECT_EQ(got->sequence, want.sequence) << key << " @" << snapshot;
      EXPECT_EQ(got->value, want.value) << key << " @" << snapshot;
    }

    // Seek lands on the first entry >= target, across block boundaries.
    for (std::size_t i = 0; i < entries.size(); i += 37) {
      SstableReader::Iterator it(*reader);
      Status sought = run(it.seek(entries[i].first));
      ASSERT_TRUE(sought.ok());
      ASSERT_TRUE(it.valid());
      EXPECT_EQ(it.key(), entries[i].first);
    }
    SstableReader::Iterator past(*reader);
    ASSERT_TRUE(run(past.seek(make_internal_key("zzz", 1, ValueType::Put))).ok());
    EXPECT_FALSE(past.valid());
    ASSERT_TRUE(run(reader->close()).ok());
  }
}

TEST_P(SstableTest, BloomFilterSparesBlockReadsForAbsentKeys) {
  auto oracle = make_oracle(500, 8);
  std::string path = root + "/t.sst";
  ASSERT_TRUE(build(rt->fs(), path, *oracle, small_options()).ok());
  auto reader = must_open(rt->fs(), path);
  ASSERT_NE(reader, nullptr);
  for (int i = 0; i < 1000; ++i) {
    auto got = run(reader->get("absent/" + std::to_string(i)));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->state, LookupState::NotFound);
  }
  EXPECT_GE(reader->filter_negatives(), 970u);  // ~0.8% false positives at 10 bits/key
  EXPECT_EQ(reader->filter_negatives() + reader->data_blocks_read(), 1000u);

  SstableOptions no_filter = small_options();
  no_filter.bloom_bits_per_key = 0;
  ASSERT_TRUE(build(rt->fs(), root + "/nf.sst", *oracle, no_filter).ok());
  auto unfiltered = must_open(rt->fs(), root + "/nf.sst");
  ASSERT_NE(unfiltered, nullptr);
  EXPECT_FALSE(unfiltered->has_filter());
  auto got = run(unfiltered->get("lease/absent"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, LookupState::NotFound);
}

TEST_P(SstableTest, WritesLargeSequentialChunksAndOneDatasync) {
  auto oracle = make_oracle(2000, 3);
  io::testing::FaultFileSystem fs(rt->fs(), 1);
  SstableOptions options = small_options();
  options.write_buffer_bytes = 64 * 1024;
  auto info = build(fs, root + "/big.sst", *oracle, options);
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  EXPECT_EQ(fs.count(io::testing::FaultOp::DataSync), 1u);
  EXPECT_LE(fs.count(io::testing::FaultOp::Write), info->file_size / options.write_buffer_bytes + 1);
}

TEST_P(SstableTest, EmptyTableAndBadInput) {
  Memtable empty;
  std::string path = root + "/empty.sst";
  auto info = build(rt->fs(), path, empty, small_options());
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  EXPECT_EQ(info->entry_count, 0u);
  auto reader = must_open(rt->fs(), path);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(scan(*reader).ok());
  auto got = run(reader->get("k"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, LookupState::NotFound);

  // The file exists now: create is exclusive.
  auto again = run(SstableBuilder::create(rt->fs(), path, small_options()));
  EXPECT_EQ(again.code(), ErrorCode::IOError);

  auto builder = run(SstableBuilder::create(rt->fs(), root + "/order.sst", small_options()));
  ASSERT_TRUE(builder.ok());
  EXPECT_TRUE(builder.value()->add(make_internal_key("b", 1, ValueType::Put), "x").ok());
  EXPECT_EQ(builder.value()->add(make_internal_key("a", 2, ValueType::Put), "x").code(),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(builder.value()->add(make_internal_key("b", 1, ValueType::Put), "x").code(),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(builder.value()->add("short", "x").code(), ErrorCode::InvalidArgument);
  EXPECT_TRUE(builder.value()->add(make_internal_key("b", 0, ValueType::Delete), "").ok());
  EXPECT_TRUE(run(builder.value()->abandon()).ok());
  EXPECT_FALSE(std::filesystem::exists(root + "/order.sst"));

  // Not an sstable at all.
  write_file(root + "/junk.sst", std::string(4096, 'j'));
  auto junk = run(SstableReader::open(rt->fs(), root + "/junk.sst"));
  EXPECT_EQ(junk.code(), ErrorCode::Corruption);
}

TEST_P(SstableTest, FailedWriteFailsTheBuilder) {
  auto oracle = make_oracle(300, 5);
  io::testing::FaultFileSystem fs(rt->fs(), 2);
  fs.fail_nth(io::testing::FaultOp::Write, 1, EIO);
  auto info = build(fs, root + "/eio.sst", *oracle, small_options());
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.code(), ErrorCode::IOError);
  EXPECT_NE(info.error().message.find("eio.sst"), std::string::npos) << info.error().message;

  fs.clear_faults();
  fs.fail_nth(io::testing::FaultOp::DataSync, 1, EIO);
  info = build(fs, root + "/sync.sst", *oracle, small_options());
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.code(), ErrorCode::IOError);
  EXPECT_NE(info.error().message.find("datasync"), std::string::npos) << info.error().message;
}

TEST_P(SstableTest, FlippedBitOnReadIsCorruptionNamingFileAndOffset) {
  auto oracle = make_oracle(400, 12);
  std::string path = root + "/level_1_100_7.sst";
  ASSERT_TRUE(build(rt->fs(), path, *oracle, small_options()).ok());

  // open() reads the footer, header, index and filter: a flip in any of them.
  for (std::uint64_t nth = 1; nth <= 4; ++nth) {
    io::testing::FaultFileSystem fs(rt->fs(), nth);
    fs.flip_bit_on_nth_read(nth);
    auto reader = run(SstableReader::open(fs, path));
    ASSERT_FALSE(reader.ok()) << "read " << nth;
    EXPECT_EQ(reader.code(), ErrorCode::Corruption) << reader.error().to_string();
    EXPECT_NE(reader.error().message.find(path), std::string::npos) << reader.error().message;
    EXPECT_NE(reader.error().message.find("offset "), std::string::npos) << reader.error().message;
  }

  // A data block read by a lookup, then by a scan.
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    io::testing::FaultFileSystem fs(rt->fs(), seed);
    auto reader = must_open(fs, path);
    ASSERT_NE(reader, nullptr);
    Memtable::Iterator first(*oracle);
    first.seek_to_first();
    std::string key(extract_user_key(first.key()));
    fs.flip_bit_on_nth_read(1);
    auto got = run(reader->get(key));
    ASSERT_FALSE(got.ok()) << "seed " << seed;
    EXPECT_EQ(got.code(), ErrorCode::Corruption);
    EXPECT_NE(got.error().message.find(path), std::string::npos) << got.error().message;
    EXPECT_NE(got.error().message.find("offset 16"), std::string::npos)
        << got.error().message;  // first data block

    fs.flip_bit_on_nth_read(3);
    Status scanned = scan(*reader);
    ASSERT_FALSE(scanned.ok()) << "seed " << seed;
    EXPECT_EQ(scanned.code(), ErrorCode::Corruption);
    EXPECT_NE(scanned.error().message.find(path), std::string::npos);
  }
}

TEST_P(SstableTest, DamagedBytesOnDiskAreDetected) {
  auto oracle = make_oracle(150, 30);
  std::string path = root + "/good.sst";
  ASSERT_TRUE(build(rt->fs(), path, *oracle, small_options(CompressionType::Zstd)).ok());
  const std::string good = read_file(path);
  std::string damaged_path = root + "/damaged.sst";
  for (std::size_t offset = 0; offset < good.size(); offset += 23) {
    std::string bad = good;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x20);
    write_file(damaged_path, bad);
    auto reader = run(SstableReader::open(rt->fs(), damaged_path));
    Status outcome = reader.ok() ? scan(*reader.value()) : Status(reader.error());
    ASSERT_FALSE(outcome.ok()) << "damage at offset " << offset << " went unnoticed";
    EXPECT_EQ(outcome.code(), ErrorCode::Corruption) << outcome.error().to_string();
    EXPECT_NE(outcome.error().message.find("damaged.sst"), std::string::npos);
  }
  // Truncations.
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, good.size() / 2, good.size() - 1}) {
    write_file(damaged_path, good.substr(0, keep));
    auto reader = run(SstableReader::open(rt->fs(), damaged_path));
    ASSERT_FALSE(reader.ok()) << "kept " << keep;
    EXPECT_EQ(reader.code(), ErrorCode::Corruption);
  }
}

ORBIT_INSTANTIATE_ON_BOTH_IO_BACKENDS(SstableTest);

}  // namespace
}  // namespace orbit::lsm
