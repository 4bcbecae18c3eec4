// Goal: the LSM store keeps every acknowledged write through memtable
// switches, flushes and leveled compactions, and across reopen and power
// loss at any file operation of a flush or a compaction: a flush writes one
// SSTable, names it in manifest.json and cuts the log; compaction reaches
// every level and drops tombstones only where nothing older lies below;
// repeated reads of an SSTable block hit the block cache, and the row cache
// answers a lease read again with its newest value; a flipped bit in a
// data block is reported with the file and the block's offset (by reads and
// by verify_lsm_files); dump_sstable lists a table; scans agree with a
// std::map model while data moves between memtables and levels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "engines/lsm/lsm_store.hpp"
#include "engines/lsm/sst_dump.hpp"
#include "io/testing/fault_file_system.hpp"
#include "orbit/sync_wait.hpp"
#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"
#include "tests/support/runtime_fixture.hpp"

namespace orbit::lsm {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

Lease make_lease(std::uint64_t id, std::string node = "node-1", std::size_t padding = 0) {
  Lease lease = Lease::create({Uuid::from_u64(id), "Player"}, std::move(node), 30s);
  if (padding) lease.metadata.custom_data = "{\"pad\":\"" + std::string(padding, 'x') + "\"}";
  return lease;
}

std::vector<std::string> files_in(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class LsmStoreTest : public test_support::RuntimeTest {
 protected:
  PersistenceConfig config() const {
    PersistenceConfig c;
    c.backend = PersistenceBackend::LsmTree;
    c.data_dir = root + "/store";
    c.io_backend = GetParam() == io::BackendChoice::IoUring ? IoBackend::IoUring : IoBackend::Asio;
    c.lsm_config.memtable_size_mb = 1;
    c.lsm_config.compaction_threshold = 2;
    c.lsm_config.max_levels = 4;
    c.lsm_config.level_size_multiplier = 2;
    c.lsm_config.enable_compression = false;
    c.lsm_config.block_cache_mb = 8;
    return c;
  }

  // Opens a store on a runtime of its own; `make_fs` (optional) wraps the
  // runtime's file system (kept in fault_fs).
  std::unique_ptr<LsmStore> open(PersistenceConfig c, LsmStoreOptions options = {}, bool with_faults = false) {
    fs::create_directories(c.data_dir);
    io::RuntimeOptions ro;
    ro.backend = GetParam();
    auto created = io::Runtime::create(ro);
    EXPECT_TRUE(created.ok());
    if (!created.ok()) return nullptr;
    std::unique_ptr<io::Runtime> runtime = std::move(created).value();
    fault_fs.reset();
    if (with_faults) {
      fault_fs = std::make_unique<io::testing::FaultFileSystem>(runtime->fs(), 7);
      options.file_system = fault_fs.get();
      options.wal_prepare_spare = false;
    }
    auto opened = sync_wait(LsmStore::open(std::move(c), std::move(runtime), options));
    EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().to_string());
    if (!opened.ok()) return nullptr;
    return std::unique_ptr<LsmStore>(static_cast<LsmStore*>(std::move(opened).value().release()));
  }

  template <typename F>
  static auto on_loop(LsmStore& store, F f) {
    using R = decltype(f());
    return store.runtime_for_testing().block_on([](F fn) -> Task<R> { co_return fn(); }(std::move(f)));
  }
  static std::vector<std::vector<FileMeta>> levels(LsmStore& store) {
    return on_loop(store, [&] { return store.files_per_level(); });
  }
  static LsmCounters counters(LsmStore& store) {
    return on_loop(store, [&] { return store.counters(); });
  }
  static void compact(LsmStore& store) {
    auto r = store.runtime_for_testing().block_on(store.compact_until_idle());
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }

  static void put_many(PersistenceProvider& store, std::uint64_t first, std::uint64_t count, std::size_t padding = 0,
                       const std::string& node = "node-1") {
    for (std::uint64_t i = first; i < first + count;) {
      WriteBatch batch;
      for (int j = 0; j < 100 && i < first + count; ++j, ++i) batch.put(make_lease(i, node, padding));
      auto r = sync_wait(store.apply_batch(std::move(batch)));
      ASSERT_TRUE(r.ok()) << r.error().to_string();
    }
  }
  static void remove_many(PersistenceProvider& store, std::uint64_t first, std::uint64_t count) {
    WriteBatch batch;
    for (std::uint64_t i = first; i < first + count; ++i) batch.remove({Uuid::from_u64(i), "Player"});
    auto r = sync_wait(store.apply_batch(std::move(batch)));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  static void expect_present(PersistenceProvider& store, std::uint64_t first, std::uint64_t count,
                             const std::string& node = "node-1") {
    for (std::uint64_t i = first; i < first + count; ++i) {
      auto got = sync_wait(store.get_lease({Uuid::from_u64(i), "Player"}));
      ASSERT_TRUE(got.ok()) << "lease " << i << ": " << got.error().to_string();
      EXPECT_EQ(got->node_id, node) << "lease " << i;
    }
  }
  static void expect_absent(PersistenceProvider& store, std::uint64_t first, std::uint64_t count) {
    for (std::uint64_t i = first; i < first + count; ++i) {
      auto got = sync_wait(store.get_lease({Uuid::from_u64(i), "Player"}));
      ASSERT_FALSE(got.ok()) << "lease " << i << " should be gone";
      EXPECT_EQ(got.code(), ErrorCode::NotFound) << got.error().to_string();
    }
  }
  Result<VerifyReport> verify(PersistenceConfig c) {
    io::RuntimeOptions ro;
    ro.backend = GetParam();
    auto created = io::Runtime::create(ro);
    EXPECT_TRUE(created.ok());
    std::unique_ptr<io::Runtime> runtime = std::move(created).value();
    return runtime->block_on(verify_lsm_files(std::move(c), *runtime));
  }
  static std::string describe(const VerifyReport& report) {
    std::string out;
    for (const auto& p : report.problems) out += p.file + " @" + std::to_string(p.offset) + ": " + p.what + "\n";
    return out;
  }

  std::unique_ptr<io::testing::FaultFileSystem> fault_fs;
};

TEST_P(LsmStoreTest, FlushWritesOneSstableNamesItInTheManifestAndCutsTheLog) {
  PersistenceConfig c = config();
  LsmStoreOptions options;
  options.wal_segment_size = 256 << 10;  // several segments before the flush
  auto store = open(c, options);
  ASSERT_TRUE(store);
  put_many(*store, 0, 3000, 200);
  const std::string wal_dir = c.data_dir + "/orbit.wal";
  // 600+ KB of log went into three or more segments (a background flush may
  // already have let the first ones go).
  const auto segments = files_in(wal_dir, ".wal");
  ASSERT_FALSE(segments.empty());
  EXPECT_GE(segments.back(), "000003.wal");
  // The 1 MiB memtable filled and switched at least once on its own.
  auto before = counters(*store);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  auto after = counters(*store);
  EXPECT_GT(after.flushes, before.flushes);
  compact(*store);  // let a background compaction finish (and delete its inputs)
  auto lv = levels(*store);
  std::size_t files = 0;
  for (const auto& level : lv) files += level.size();
  EXPECT_GE(files, 1u);
  for (const auto& level : lv)
    for (const FileMeta& f : level) EXPECT_TRUE(fs::exists(store->sstable_dir() + "/" + f.name)) << f.name;
  // The manifest names exactly the live files; the log keeps only its current segment.
  std::ifstream in(c.data_dir + "/manifest.json");
  std::string manifest((std::istreambuf_iterator<char>(in)), {});
  for (const auto& level : lv)
    for (const FileMeta& f : level) EXPECT_NE(manifest.find(f.name), std::string::npos);
  EXPECT_EQ(files_in(wal_dir, ".wal").size(), 1u);
  EXPECT_EQ(files_in(store->sstable_dir(), ".sst").size(), files);
  auto stats = sync_wait(store->stats());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_keys, 3000u);
  EXPECT_GT(stats->flushes, 0u);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();

  store = open(c);
  ASSERT_TRUE(store);
  expect_present(*store, 0, 3000);
  stats = sync_wait(store->stats());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_keys, 3000u);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  auto report = verify(c);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_TRUE(report->ok()) << describe(*report);
  EXPECT_EQ(report->leases_checked, 3000u);
}

TEST_P(LsmStoreTest, CompactionReachesEveryLevelAndKeepsEveryKey) {
  PersistenceConfig c = config();
  LsmStoreOptions options;
  options.background = false;
  options.level1_target_bytes = 64 << 10;
  options.target_file_bytes = 48 << 10;
  auto store = open(c, options);
  ASSERT_TRUE(store);
  const std::uint64_t rounds = in_ci() ? 6 : 8, per_round = 400;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    put_many(*store, round * per_round / 2, per_round, 100, "node-" + std::to_string(round));
    ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
    compact(*store);
  }
  auto lv = levels(*store);
  auto n = counters(*store);
  EXPECT_GT(n.compactions_into_level[1], 0u);
  for (std::size_t level = 1; level < lv.size(); ++level) EXPECT_FALSE(lv[level].empty()) << "level " << level;
  EXPECT_GT(n.compactions_into_level[2] + n.compactions_into_level[3] + n.trivial_moves, 0u);
  EXPECT_GT(n.versions_dropped, 0u);  // overwritten leases were merged away
  // Levels >= 1 do not overlap.
  for (std::size_t level = 1; level < lv.size(); ++level)
    for (std::size_t i = 1; i < lv[level].size(); ++i)
      EXPECT_LT(internal_key_compare(lv[level][i - 1].largest, lv[level][i].smallest), 0);
  const std::uint64_t total = (rounds - 1) * per_round / 2 + per_round;
  // The newest write of every lease wins: the first half of each round was
  // overwritten by the next round.
  for (std::uint64_t round = 0; round < rounds; ++round) {
    const std::uint64_t first = round * per_round / 2;
    const std::uint64_t count = round + 1 == rounds ? per_round : per_round / 2;
    expect_present(*store, first, count, "node-" + std::to_string(round));
  }
  auto scanned = sync_wait(store->scan_by_actor_type("Player"));
  ASSERT_TRUE(scanned.ok());
  EXPECT_EQ(scanned->size(), total);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  auto report = verify(c);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_TRUE(report->ok()) << describe(*report);
  EXPECT_EQ(report->leases_checked, total);
}

TEST_P(LsmStoreTest, TombstonesAreDroppedOnlyAtTheLastLevel) {
  // Two levels: level 1 is the last, so compacting deletes into it drops them.
  {
    PersistenceConfig c = config();
    c.data_dir = root + "/two-levels";
    c.lsm_config.max_levels = 2;
    LsmStoreOptions options;
    options.background = false;
    auto store = open(c, options);
    ASSERT_TRUE(store);
    put_many(*store, 0, 500);
    ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
    remove_many(*store, 0, 250);
    ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
    compact(*store);
    auto lv = levels(*store);
    EXPECT_TRUE(lv[0].empty());
    ASSERT_EQ(lv[1].size(), 1u);
    EXPECT_GT(counters(*store).tombstones_dropped, 0u);
    // Only live keys remain: 250 leases x (primary + node + expiry entries).
    EXPECT_EQ(lv[1][0].entries, 250u * 3);
    expect_absent(*store, 0, 250);
    expect_present(*store, 250, 250);
    ASSERT_TRUE(sync_wait(store->close()).ok());
  }
}

TEST_P(LsmStoreTest, TombstonesAboveOlderDataAreKept) {
  // The level-0 -> 1 merge keeps a delete while level 2 still holds the key.
  PersistenceConfig c = config();
  c.lsm_config.max_levels = 3;
  LsmStoreOptions options;
  options.background = false;
  auto store = open(c, options);
  ASSERT_TRUE(store);
  // Put the keys at level 2 by hand: flush, compact to 1, then make level 1 "too big".
  put_many(*store, 0, 300);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  put_many(*store, 5000, 5);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  compact(*store);  // L0 (2 files) -> L1; L1 under its target stays
  auto lv = levels(*store);
  ASSERT_FALSE(lv[1].empty());
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  options.level1_target_bytes = 1;
  store = open(c, options);
  ASSERT_TRUE(store);
  compact(*store);  // L1 -> L2 (a move: nothing below)
  lv = levels(*store);
  ASSERT_TRUE(lv[1].empty());
  ASSERT_FALSE(lv[2].empty());
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  options.level1_target_bytes = 0;  // level 1 may hold data again
  store = open(c, options);
  ASSERT_TRUE(store);
  remove_many(*store, 0, 100);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  put_many(*store, 6000, 5);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  compact(*store);
  lv = levels(*store);
  ASSERT_FALSE(lv[1].empty());
  EXPECT_EQ(counters(*store).tombstones_dropped, 0u);
  std::uint64_t level1_entries = 0;
  for (const FileMeta& f : lv[1]) level1_entries += f.entries;
  EXPECT_GE(level1_entries, 100u);  // the tombstones (plus the new leases)
  expect_absent(*store, 0, 100);
  expect_present(*store, 100, 200);
  ASSERT_TRUE(sync_wait(store->close()).ok());
}

TEST_P(LsmStoreTest, RepeatedReadsOfAnSstableHitTheBlockCache) {
  PersistenceConfig c = config();
  auto store = open(c);
  ASSERT_TRUE(store);
  put_many(*store, 0, 200);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());  // memtable empty: reads go to the SSTable
  // A flush puts the blocks it writes into the cache: no read misses.
  auto flushed = counters(*store);
  expect_present(*store, 10, 1);
  auto after_flush = counters(*store);
  EXPECT_EQ(after_flush.cache_misses, flushed.cache_misses);
  EXPECT_EQ(after_flush.cache_hits, flushed.cache_hits + 1);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();

  // Reopened, the cache is cold: one miss (a block read), then a hit. The
  // read that hit leaves the lease in the row cache, which answers the
  // reads after it without asking for the block.
  store = open(c);
  ASSERT_TRUE(store);
  auto first = counters(*store);
  expect_present(*store, 10, 1);
  auto second = counters(*store);
  EXPECT_EQ(second.cache_misses, first.cache_misses + 1);
  expect_present(*store, 10, 1);
  auto third = counters(*store);
  EXPECT_EQ(third.cache_hits, second.cache_hits + 1);
  EXPECT_EQ(third.cache_misses, second.cache_misses);
  for (int i = 0; i < 5; ++i) expect_present(*store, 10, 1);
  auto fourth = counters(*store);
  EXPECT_EQ(fourth.row_cache_hits, third.row_cache_hits + 5);
  EXPECT_EQ(fourth.cache_hits, third.cache_hits);
  EXPECT_EQ(fourth.cache_misses, third.cache_misses);
  ASSERT_TRUE(sync_wait(store->close()).ok());
}

// A lease read from the SSTables is cached with its newest value, and stays
// the newest: a renewal, a move to another node or a removal is seen by the
// next read, also once the memtable holding the change was flushed and
// compacted away (the read then asks the row cache, not the memtable).
TEST_P(LsmStoreTest, RowCacheAnswersWithTheNewestValueAfterWritesAndFlushes) {
  PersistenceConfig c = config();
  auto store = open(c);
  ASSERT_TRUE(store);
  put_many(*store, 0, 200);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  const ActorKey key{Uuid::from_u64(10), "Player"};
  auto got = sync_wait(store->get_lease(key));  // from the SSTable: now cached
  ASSERT_TRUE(got.ok());
  const auto before = counters(*store);

  ASSERT_TRUE(sync_wait(store->store_lease(make_lease(10, "node-2"))).ok());
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());  // the new version moves to an SSTable
  auto moved = sync_wait(store->get_lease(key));
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->node_id, "node-2");
  auto renewed = sync_wait(store->renew_lease({key, "node-2", moved->version, 60s}));
  ASSERT_TRUE(renewed.ok()) << renewed.error().to_string();
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  compact(*store);
  auto again = sync_wait(store->get_lease(key));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->node_id, "node-2");
  EXPECT_EQ(again->version, renewed->version);
  EXPECT_EQ(again->expires_at, renewed->expires_at);
  const auto after = counters(*store);
  EXPECT_GE(after.row_cache_hits, before.row_cache_hits + 2);  // the cache answered, current

  ASSERT_TRUE(sync_wait(store->remove_lease(key)).ok());
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  expect_absent(*store, 10, 1);
  compact(*store);
  expect_absent(*store, 10, 1);
  expect_present(*store, 11, 5);
  // The cache's bytes are part of the store's memory.
  auto stats = sync_wait(store->stats());
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->memory_usage_bytes, 0u);
  ASSERT_TRUE(sync_wait(store->close()).ok());
}

// The hot read answers from SSTables without suspending when the blocks it
// needs are cached, honours tombstones there, and asks for I/O otherwise.
TEST_P(LsmStoreTest, HotReadAnswersFromCachedSstableBlocks) {
  PersistenceConfig c = config();
  auto store = open(c);
  ASSERT_TRUE(store);
  put_many(*store, 0, 200);
  ASSERT_TRUE(sync_wait(store->remove_lease(make_lease(7).key)).ok());
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());  // memtable empty, blocks cached by the flush
  ASSERT_GE(levels(*store)[0].size(), 1u);
  auto read_now = [&](std::uint64_t id) {
    const codec::PrimaryKey key(make_lease(id).key);
    return on_loop(*store, [&] { return store->read_now_for_testing(key.view()); });
  };
  auto stored = sync_wait(store->get_lease(make_lease(10).key));
  ASSERT_TRUE(stored.ok());
  auto [state, value] = read_now(10);
  ASSERT_EQ(state, kv::ValueNow::State::Found);
  EXPECT_EQ(codec::decode_lease(value).value().key.actor_id, stored->key.actor_id);
  EXPECT_EQ(read_now(7).first, kv::ValueNow::State::Absent);  // the tombstone, from the table
  EXPECT_EQ(read_now(1000).first, kv::ValueNow::State::Absent);  // the filter or the block says no
  EXPECT_EQ(read_now(10).first, kv::ValueNow::State::Found);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();

  store = open(c);  // cold cache: the first read needs I/O, then it is hot
  ASSERT_TRUE(store);
  EXPECT_EQ(read_now(10).first, kv::ValueNow::State::NeedsIo);
  ASSERT_TRUE(sync_wait(store->get_lease(make_lease(10).key)).ok());
  EXPECT_EQ(read_now(10).first, kv::ValueNow::State::Found);
  ASSERT_TRUE(sync_wait(store->close()).ok());
}

TEST_P(LsmStoreTest, CorruptedDataBlockIsReportedWithFileAndOffset) {
  PersistenceConfig c = config();
  auto store = open(c);
  ASSERT_TRUE(store);
  put_many(*store, 0, 300);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  auto lv = levels(*store);
  ASSERT_EQ(lv[0].size(), 1u);
  const std::string name = lv[0][0].name;
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();

  // Flip one byte inside the first data block (it starts right after the 16-byte header).
  const std::string path = c.data_dir + "/sstables/" + name;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    char byte = 0;
    f.seekg(100);
    f.read(&byte, 1);
    byte ^= 0x10;
    f.seekp(100);
    f.write(&byte, 1);
  }
  auto report = verify(c);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->problems[0].file, "sstables/" + name);
  EXPECT_EQ(report->problems[0].offset, kSstableHeaderSize);
  EXPECT_NE(report->problems[0].what.find("offset 16"), std::string::npos) << report->problems[0].what;

  store = open(c);
  ASSERT_TRUE(store);
  // The first block holds by-expiry index entries ('E' sorts first).
  auto scan = sync_wait(store->list_expiring_before(std::chrono::system_clock::now() + 1h));
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.code(), ErrorCode::Corruption);
  EXPECT_NE(scan.error().message.find(name), std::string::npos) << scan.error().message;
  EXPECT_NE(scan.error().message.find("offset 16"), std::string::npos) << scan.error().message;
  ASSERT_TRUE(sync_wait(store->close()).ok());
}

TEST_P(LsmStoreTest, DumpListsFooterBlocksAndEntries) {
  PersistenceConfig c = config();
  auto store = open(c);
  ASSERT_TRUE(store);
  put_many(*store, 0, 50);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  auto lv = levels(*store);
  ASSERT_EQ(lv[0].size(), 1u);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  const std::string path = c.data_dir + "/sstables/" + lv[0][0].name;
  auto dump = run(dump_sstable(rt->fs(), path, true));
  ASSERT_TRUE(dump.ok()) << dump.error().to_string();
  EXPECT_NE(dump->find("entries 150\n"), std::string::npos) << *dump;
  EXPECT_NE(dump->find("data_block 0 offset 16 "), std::string::npos) << *dump;
  EXPECT_NE(dump->find(" k 7\n"), std::string::npos) << *dump;
  std::size_t entry_lines = 0;
  for (std::size_t at = dump->find(" value_size "); at != std::string::npos; at = dump->find(" value_size ", at + 1))
    ++entry_lines;
  EXPECT_EQ(entry_lines, 150u) << *dump;
}

TEST_P(LsmStoreTest, RefusesAnotherBackendsDirectory) {
  PersistenceConfig c = config();
  fs::create_directories(c.data_dir);
  std::ofstream(c.data_dir + "/CURRENT") << "MANIFEST-000001\n";
  io::RuntimeOptions ro;
  ro.backend = GetParam();
  auto created = io::Runtime::create(ro);
  ASSERT_TRUE(created.ok());
  auto opened = sync_wait(LsmStore::open(c, std::move(created).value()));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.code(), ErrorCode::InvalidArgument);
  EXPECT_NE(opened.error().message.find("CURRENT"), std::string::npos) << opened.error().message;
}

TEST_P(LsmStoreTest, ScansAndGetsMatchAMapWhileDataMovesBetweenLevels) {
  PersistenceConfig c = config();
  LsmStoreOptions options;
  options.background = false;
  options.level1_target_bytes = 16 << 10;
  options.target_file_bytes = 8 << 10;
  auto store = open(c, options);
  ASSERT_TRUE(store);
  std::mt19937_64 rng(42);
  std::map<std::uint64_t, std::string> model;  // id -> node
  const int steps = in_ci() ? 1500 : 3000;
  for (int step = 0; step < steps; ++step) {
    const std::uint64_t id = rng() % 300;
    const auto pick = rng() % 100;
    if (pick < 60) {
      std::string node = "node-" + std::to_string(rng() % 7);
      ASSERT_TRUE(sync_wait(store->store_lease(make_lease(id, node))).ok());
      model[id] = node;
    } else if (pick < 85) {
      auto r = sync_wait(store->remove_lease({Uuid::from_u64(id), "Player"}));
      EXPECT_EQ(r.ok(), model.erase(id) == 1);
    } else if (pick < 95) {
      auto got = sync_wait(store->get_lease({Uuid::from_u64(id), "Player"}));
      auto it = model.find(id);
      ASSERT_EQ(got.ok(), it != model.end()) << "step " << step << " id " << id;
      if (got.ok()) {
        EXPECT_EQ(got->node_id, it->second);
      }
    } else if (pick < 98) {
      ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
    } else {
      compact(*store);
    }
    if (step % 250 == 0) {
      auto scanned = sync_wait(store->scan_by_actor_type("Player"));
      ASSERT_TRUE(scanned.ok());
      ASSERT_EQ(scanned->size(), model.size()) << "step " << step;
      const std::string node = "node-3";
      auto listed = sync_wait(store->list_by_node(node));
      ASSERT_TRUE(listed.ok());
      std::size_t expected = 0;
      for (const auto& [k, v] : model) expected += v == node;
      EXPECT_EQ(listed->size(), expected) << "step " << step;
    }
  }
  // Reads went through the row cache while data moved (a stale entry there
  // would have failed a get above).
  EXPECT_GT(counters(*store).row_cache_hits, 0u);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  store = open(c, options);
  ASSERT_TRUE(store);
  for (const auto& [id, node] : model) expect_present(*store, id, 1, node);
  auto stats = sync_wait(store->stats());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_keys, model.size());
  ASSERT_TRUE(sync_wait(store->close()).ok());
}

// Power loss at each file operation of a flush followed by a compaction:
// every operation from the Nth on fails (the machine is gone), then the
// unsynced data is dropped; the reopened store must hold every write that
// was acknowledged, and verify must find nothing wrong.
TEST_P(LsmStoreTest, PowerLossAtEveryOperationOfFlushAndCompactionKeepsAcknowledgedWrites) {
  PersistenceConfig base = config();
  LsmStoreOptions options;
  options.background = false;

  // Counts the operations of the step under test once.
  auto prepare = [&](const std::string& dir) -> std::unique_ptr<LsmStore> {
    PersistenceConfig c = base;
    c.data_dir = dir;
    auto store = open(c, options, /*with_faults=*/true);
    if (!store) return nullptr;
    put_many(*store, 0, 100, 0, "node-a");
    EXPECT_TRUE(sync_wait(store->checkpoint()).ok());  // level 0: one file
    put_many(*store, 50, 100, 0, "node-b");             // in the memtable
    return store;
  };
  auto step = [&](LsmStore& store) {
    auto flushed = sync_wait(store.checkpoint());  // second level-0 file
    if (!flushed.ok()) return;
    (void)store.runtime_for_testing().block_on(store.compact_until_idle());  // level 0 -> 1
  };

  std::uint64_t total = 0;
  {
    auto store = prepare(root + "/count");
    ASSERT_TRUE(store);
    fault_fs->reset_counts();
    step(*store);
    total = fault_fs->count(io::testing::FaultOp::Any);
    EXPECT_GE(counters(*store).compactions, 1u);
    ASSERT_TRUE(sync_wait(store->close()).ok());
  }
  ASSERT_GT(total, 10u);
  const std::uint64_t stride = in_ci() ? 3 : 1;
  for (std::uint64_t n = 1; n <= total + 1; n += stride) {
    SCOPED_TRACE("power lost at operation " + std::to_string(n) + " of " + std::to_string(total));
    const std::string dir = root + "/crash-" + std::to_string(n);
    auto store = prepare(dir);
    ASSERT_TRUE(store);
    fault_fs->fail_nth(io::testing::FaultOp::Any, n, EIO, /*sticky=*/true);
    step(*store);
    (void)sync_wait(store->close());
    fault_fs->clear_faults();
    auto crashed = store->runtime_for_testing().block_on(fault_fs->crash());
    ASSERT_TRUE(crashed.ok());
    store.reset();
    fault_fs.reset();

    PersistenceConfig c = base;
    c.data_dir = dir;
    store = open(c, options);
    ASSERT_TRUE(store);
    expect_present(*store, 0, 50, "node-a");
    expect_present(*store, 50, 100, "node-b");
    auto stats = sync_wait(store->stats());
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->total_keys, 150u);
    ASSERT_TRUE(sync_wait(store->close()).ok());
    store.reset();
    auto report = verify(c);
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    EXPECT_TRUE(report->ok()) << describe(*report);
    fs::remove_all(dir);
  }
}

ORBIT_INSTANTIATE_ON_BOTH_IO_BACKENDS(LsmStoreTest);

}  // namespace
}  // namespace orbit::lsm
