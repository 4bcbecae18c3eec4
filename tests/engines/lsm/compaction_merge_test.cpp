// Goal: a compaction's input, read in runs of blocks of any size, yields
// exactly the entries of its files in order, and a damaged block is
// Corruption naming the file; the merge of inputs keeps only the newest
// version of each user key, drops a tombstone nothing below could hide, and
// writes sequence 0 for a key nothing below could hold.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engines/lsm/compaction_merge.hpp"
#include "engines/lsm/memtable.hpp"
#include "tests/support/runtime_fixture.hpp"

namespace orbit::lsm {
namespace {

std::string key_of(int i) { return "lease/actor-" + std::to_string(1000 + i); }

class CompactionMergeTest : public test_support::RuntimeTest {
 protected:
  // Writes `table` to a new SSTable (small blocks: many per file) and opens it.
  TablePtr write_table(const Memtable& table, const std::string& name) {
    SstableOptions options;
    options.block_size_bytes = 256;
    const std::string path = root + "/" + name;
    auto builder = run(SstableBuilder::create(rt->fs(), path, options));
    EXPECT_TRUE(builder.ok());
    Memtable::Iterator it(table);
    for (it.seek_to_first(); it.valid(); it.next()) EXPECT_TRUE(builder.value()->add(it.key(), it.value()).ok());
    auto info = run(builder.value()->finish());
    EXPECT_TRUE(info.ok()) << info.error().to_string();
    auto reader = run(SstableReader::open(rt->fs(), path));
    EXPECT_TRUE(reader.ok()) << reader.error().to_string();
    auto out = std::make_shared<Table>();
    out->meta.name = name;
    out->meta.smallest = info->smallest_key;
    out->meta.largest = info->largest_key;
    out->smallest_user.assign(extract_user_key(info->smallest_key));
    out->largest_user.assign(extract_user_key(info->largest_key));
    out->reader = std::move(reader).value();
    return out;
  }

  // Versions of keys 0..99, newest input first: "old" for every key, "new"
  // for the even ones, a tombstone for those ending in 5.
  std::vector<std::unique_ptr<CompactionInput>> versions_of_100_keys() {
    Memtable newer, older;
    for (int i = 0; i < 100; ++i) {
      older.add(static_cast<SequenceNumber>(i + 1), ValueType::Put, key_of(i), "old");
      if (i % 2 == 0) newer.add(static_cast<SequenceNumber>(1000 + i), ValueType::Put, key_of(i), "new");
      if (i % 10 == 5) newer.add(static_cast<SequenceNumber>(1000 + i), ValueType::Delete, key_of(i), "");
    }
    std::vector<std::unique_ptr<CompactionInput>> inputs;
    inputs.push_back(std::make_unique<CompactionInput>(std::vector<TablePtr>{write_table(newer, "n.sst")}, 512));
    inputs.push_back(std::make_unique<CompactionInput>(std::vector<TablePtr>{write_table(older, "o.sst")}, 512));
    return inputs;
  }

  // Runs `merge` to the end into one output file `name` and opens it (null
  // after a failed expectation).
  std::unique_ptr<SstableReader> merge_into(CompactionMerge& merge, const std::string& name) {
    std::unique_ptr<SstableBuilder> builder;
    while (true) {
      for (const auto& input : merge.inputs())
        while (input->needs_fill())
          if (Status filled = run(input->fill()); !filled.ok()) {
            ADD_FAILURE() << filled.error().to_string();
            return nullptr;
          }
      auto step = merge.step(builder.get());
      if (!step.ok()) {
        ADD_FAILURE() << step.error().to_string();
        return nullptr;
      }
      if (step.value() == CompactionMerge::Stop::Done) break;
      if (step.value() == CompactionMerge::Stop::NeedOutput) {
        auto created = run(SstableBuilder::create(rt->fs(), root + "/" + name, SstableOptions{}));
        if (!created.ok()) {
          ADD_FAILURE() << created.error().to_string();
          return nullptr;
        }
        builder = std::move(created).value();
      }
    }
    if (builder == nullptr) {
      ADD_FAILURE() << "the merge kept nothing";
      return nullptr;
    }
    auto info = run(builder->finish());
    if (!info.ok()) {
      ADD_FAILURE() << info.error().to_string();
      return nullptr;
    }
    auto reader = run(SstableReader::open(rt->fs(), root + "/" + name));
    if (!reader.ok()) {
      ADD_FAILURE() << reader.error().to_string();
      return nullptr;
    }
    return std::move(reader).value();
  }

  // Every entry of `input`, filling it whenever it asks; the first error.
  Status drain(CompactionInput& input, std::vector<std::pair<std::string, std::string>>& out) {
    while (true) {
      while (input.needs_fill()) {
        Status filled = run(input.fill());
        if (!filled.ok()) return filled;
      }
      if (!input.valid()) return Status{};
      out.emplace_back(input.key(), input.value());
      Status moved = input.next();
      if (!moved.ok()) return moved;
    }
  }
};

TEST_P(CompactionMergeTest, InputYieldsEveryEntryInOrderForAnyRunSize) {
  Memtable first, second;  // one level: keys of `first` all below `second`'s
  for (int i = 0; i < 400; ++i)
    (i < 200 ? first : second).add(static_cast<SequenceNumber>(i + 1), ValueType::Put, key_of(i),
                                   std::string(40, static_cast<char>('a' + i % 26)));
  std::vector<TablePtr> level{write_table(first, "a.sst"), write_table(second, "b.sst")};
  for (std::size_t run_bytes : {std::size_t{1}, std::size_t{1000}, std::size_t{1} << 20}) {
    CompactionInput input(level, run_bytes);
    std::vector<std::pair<std::string, std::string>> entries;
    Status drained = drain(input, entries);
    ASSERT_TRUE(drained.ok()) << drained.error().to_string();
    ASSERT_EQ(entries.size(), 400u) << "run_bytes " << run_bytes;
    for (int i = 0; i < 400; ++i) EXPECT_EQ(extract_user_key(entries[i].first), key_of(i));
  }
}

TEST_P(CompactionMergeTest, DamagedBlockIsCorruptionNamingTheFile) {
  Memtable table;
  for (int i = 0; i < 200; ++i) table.add(static_cast<SequenceNumber>(i + 1), ValueType::Put, key_of(i), "value");
  TablePtr written = write_table(table, "damaged.sst");
  {
    std::fstream file(root + "/damaged.sst", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(40);  // inside the first data block
    file.put('\x7f');
  }
  CompactionInput input({written}, 1 << 20);
  std::vector<std::pair<std::string, std::string>> entries;
  Status drained = drain(input, entries);
  ASSERT_FALSE(drained.ok());
  EXPECT_EQ(drained.error().code, ErrorCode::Corruption);
  EXPECT_NE(drained.error().message.find("damaged.sst"), std::string::npos) << drained.error().to_string();
  EXPECT_FALSE(input.valid());
  EXPECT_FALSE(input.needs_fill());
}

TEST_P(CompactionMergeTest, MergeKeepsNewestVersionAndDropsUselessTombstones) {
  auto base = std::make_shared<Version>();
  base->levels.resize(3);  // nothing below the output level
  CompactionMerge merge(versions_of_100_keys(), base, 1, std::uint64_t{1} << 30);
  auto reader = merge_into(merge, "out.sst");
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->entry_count(), 90u);  // 100 keys, 10 deleted
  EXPECT_EQ(merge.tombstones_dropped(), 10u);
  EXPECT_EQ(merge.versions_dropped(), 60u);  // 50 "old" under "new", 10 under tombstones
  for (int i = 0; i < 100; ++i) {
    auto got = run(reader->get(key_of(i)));
    ASSERT_TRUE(got.ok());
    if (i % 10 == 5) {
      EXPECT_EQ(got->state, LookupState::NotFound) << key_of(i);
    } else {
      EXPECT_EQ(got->value, i % 2 == 0 ? "new" : "old") << key_of(i);
      EXPECT_EQ(got->sequence, 0u) << key_of(i) << ": the only version left needs no sequence";
    }
  }
}

TEST_P(CompactionMergeTest, KeysALevelBelowMayHoldKeepTheirSequenceAndTombstones) {
  auto base = std::make_shared<Version>();
  base->levels.resize(3);
  auto below = std::make_shared<Table>();  // level 2 may hold keys 0..49
  below->smallest_user = key_of(0);
  below->largest_user = key_of(49);
  base->levels[2].push_back(below);
  CompactionMerge merge(versions_of_100_keys(), base, 1, std::uint64_t{1} << 30);
  auto reader = merge_into(merge, "out.sst");
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(merge.tombstones_dropped(), 5u);  // keys 55..95 only
  for (int i = 0; i < 100; ++i) {
    auto got = run(reader->get(key_of(i)));
    ASSERT_TRUE(got.ok());
    if (i % 10 == 5) {
      EXPECT_EQ(got->state, i < 50 ? LookupState::Deleted : LookupState::NotFound) << key_of(i);
      continue;
    }
    EXPECT_EQ(got->state, LookupState::Found) << key_of(i);
    const SequenceNumber written = i % 2 == 0 ? 1000 + i : i + 1;
    EXPECT_EQ(got->sequence, i < 50 ? written : 0u) << key_of(i);
  }
}

ORBIT_INSTANTIATE_ON_BOTH_IO_BACKENDS(CompactionMergeTest);

}  // namespace
}  // namespace orbit::lsm
