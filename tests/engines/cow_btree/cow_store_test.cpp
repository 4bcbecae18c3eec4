// Goal: the CowBTree store keeps every acknowledged write across checkpoints,
// WAL truncation, reopen (after a checkpoint and from the WAL alone), power
// loss at every file operation of a checkpoint, and background checkpoints
// racing writers; snapshots keep their point in time and can be listed,
// opened read-only and deleted; the page file stops growing under updates
// (pages reused, none leaked); a damaged page is reported with file and
// offset; another backend's directory is refused.
#include "engines/cow_btree/cow_store.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "io/testing/fault_file_system.hpp"
#include "orbit/sync_wait.hpp"
#include "src/codec/key_layout.hpp"
#include "src/factory/engine_registry.hpp"
#include "tests/support/runtime_fixture.hpp"

namespace orbit::cow_btree {
namespace {

using namespace std::chrono_literals;
using io::testing::FaultFileSystem;
using io::testing::FaultOp;
using Model = std::map<std::uint64_t, std::string>;  // lease index -> custom_data

bool ci() {
  const char* v = std::getenv("CI");
  return v != nullptr && std::string(v) == "true";
}
bool release_build() {
#ifdef NDEBUG
  return true;
#else
  return false;
#endif
}

ActorKey key_of(std::uint64_t i) { return ActorKey(Uuid::from_u64(i + 1), i % 3 == 0 ? "Player" : "Room"); }

Lease lease_of(std::uint64_t i, const std::string& data, const std::string& node = "node-1") {
  Lease lease = Lease::create(key_of(i), node, 30s);
  lease.metadata.custom_data = data;
  return lease;
}

std::size_t count_files(const std::string& dir, const std::string& suffix) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) ++n;
  }
  return n;
}

class CowStoreTest : public test_support::RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    dir = root + "/store";
    std::filesystem::create_directories(dir);
  }

  PersistenceConfig config(std::uint32_t max_keys = 8) const {
    PersistenceConfig c;
    c.backend = PersistenceBackend::CowBTree;
    c.data_dir = dir;
    c.cow_config.max_keys_per_node = max_keys;
    c.cow_config.enable_snapshots = false;
    return c;
  }

  std::unique_ptr<io::Runtime> runtime() {
    io::RuntimeOptions options;
    options.backend = GetParam();
    std::string why;
    auto created = io::Runtime::create(options, &why);
    EXPECT_TRUE(created.ok()) << why;
    return std::move(created.value());
  }

  static CowStoreOptions quiet() {
    CowStoreOptions o;
    o.checkpoint_poll = 0ms;  // no background checkpoints unless a test wants them
    return o;
  }

  Result<std::unique_ptr<CowBTreeStore>> try_open(CowStoreOptions o, PersistenceConfig c,
                                                  std::unique_ptr<io::Runtime> rt = nullptr) {
    if (!rt) rt = runtime();
    auto opened = sync_wait(CowBTreeStore::open(std::move(c), std::move(rt), o));
    if (!opened) return std::move(opened).error();
    return std::unique_ptr<CowBTreeStore>(static_cast<CowBTreeStore*>(opened.value().release()));
  }
  std::unique_ptr<CowBTreeStore> open(CowStoreOptions o = quiet(), std::uint32_t max_keys = 8) {
    auto opened = try_open(o, config(max_keys));
    EXPECT_TRUE(opened.ok()) << opened.error().to_string();
    return opened.ok() ? std::move(opened.value()) : nullptr;
  }

  // Writes leases [from, to) with `tag`, removes every 7th, updates `model`.
  static void write(CowBTreeStore& store, std::uint64_t from, std::uint64_t to, const std::string& tag,
                    Model& model) {
    for (std::uint64_t i = from; i < to; ++i) {
      const std::string data = "{\"v\":\"" + tag + std::to_string(i) + "\"}";
      auto stored = sync_wait(store.store_lease(lease_of(i, data)));
      ASSERT_TRUE(stored.ok()) << stored.error().to_string();
      model[i] = data;
    }
    for (std::uint64_t i = from; i < to; i += 7) {
      auto removed = sync_wait(store.remove_lease(key_of(i)));
      ASSERT_TRUE(removed.ok()) << removed.error().to_string();
      model.erase(i);
    }
  }

  static void expect_contents(CowBTreeStore& store, const Model& model, std::uint64_t upto) {
    for (std::uint64_t i = 0; i < upto; ++i) {
      auto got = sync_wait(store.get_lease(key_of(i)));
      auto it = model.find(i);
      if (it == model.end()) {
        EXPECT_EQ(got.code(), ErrorCode::NotFound) << "lease " << i << " should be absent";
      } else {
        ASSERT_TRUE(got.ok()) << "lease " << i << ": " << got.error().to_string();
        EXPECT_EQ(got->metadata.custom_data, it->second) << "lease " << i;
      }
    }
    auto stats = sync_wait(store.stats());
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->total_keys, model.size());
  }

  VerifyReport verify() {
    auto rt = runtime();
    auto report = sync_wait(verify_cow_btree_files(config(), *rt));
    EXPECT_TRUE(report.ok()) << report.error().to_string();
    return report.ok() ? std::move(report.value()) : VerifyReport{};
  }

  static std::string problems(const VerifyReport& report) {
    std::string out;
    for (const auto& p : report.problems) out += p.file + " offset " + std::to_string(p.offset) + ": " + p.what + "\n";
    return out;
  }

  std::string dir;
};

TEST_P(CowStoreTest, CheckpointTruncatesTheWalAndReopenReplaysNothing) {
  CowStoreOptions o = quiet();
  o.wal_segment_size = 32 * 1024;
  Model model;
  {
    auto store = open(o);
    ASSERT_TRUE(store);
    write(*store, 0, 600, "a", model);
    const std::size_t segments_before = count_files(dir + "/orbit.wal", ".wal");
    EXPECT_GT(segments_before, 2u);
    auto checkpointed = sync_wait(store->checkpoint());
    ASSERT_TRUE(checkpointed.ok()) << checkpointed.error().to_string();
    EXPECT_EQ(count_files(dir + "/orbit.wal", ".wal"), 1u) << "every segment below the checkpoint LSN is gone";
    CowEngineStats counters = store->engine_counters();
    EXPECT_EQ(counters.checkpoints, 1u);
    EXPECT_GT(counters.checkpointed_lsn, 0u);
    write(*store, 600, 700, "b", model);
    ASSERT_TRUE(sync_wait(store->close()).ok());
  }
  auto store = open(o);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->recovery().replayed_records, 0u) << "close() checkpointed";
  EXPECT_GT(store->recovery().loaded_entries, 0u);
  expect_contents(*store, model, 700);
  auto stats = sync_wait(store->stats());
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->recovery_time.count(), 0);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  VerifyReport report = verify();
  EXPECT_TRUE(report.ok()) << problems(report);
}

TEST_P(CowStoreTest, ReopenFromTheWalAloneAndAfterAPartialCheckpoint) {
  CowStoreOptions o = quiet();
  o.checkpoint_on_close = false;
  Model model;
  {
    auto store = open(o);
    ASSERT_TRUE(store);
    write(*store, 0, 120, "a", model);
    ASSERT_TRUE(sync_wait(store->close()).ok());
  }
  {
    auto store = open(o);
    ASSERT_TRUE(store);
    EXPECT_GT(store->recovery().replayed_records, 0u);
    expect_contents(*store, model, 150);
    ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
    write(*store, 100, 150, "b", model);  // after the checkpoint: WAL only
    ASSERT_TRUE(sync_wait(store->close()).ok());
  }
  auto store = open(o);
  ASSERT_TRUE(store);
  EXPECT_GT(store->recovery().replayed_records, 0u);
  EXPECT_LT(store->recovery().replayed_records, 100u) << "only the records after the checkpoint";
  expect_contents(*store, model, 150);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  VerifyReport report = verify();
  EXPECT_TRUE(report.ok()) << problems(report);
}

// Power loss at the n-th file operation of a checkpoint (for every n): the
// operation and all later ones fail, unsynced data is dropped (or a random
// prefix kept, the last write torn), and the reopened store holds exactly
// the acknowledged writes.
TEST_P(CowStoreTest, PowerLossAtEveryStepOfACheckpointKeepsAcknowledgedWrites) {
  std::uint64_t steps = 0;
  for (std::uint64_t n = 0; n == 0 || n <= steps + 1; ++n) {  // n = 0: a clean run that counts the steps
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    Model model;
    auto rt = runtime();
    io::Runtime* raw = rt.get();
    auto fault = std::make_unique<FaultFileSystem>(raw->fs(), n + 1);
    CowStoreOptions o = quiet();
    o.file_system = fault.get();
    o.wal_prepare_spare = false;
    o.checkpoint_on_close = false;
    o.wal_segment_size = 32 * 1024;
    // Fan-out 64: a checkpoint writes a handful of node runs, so the sweep
    // over its file operations stays short.
    auto opened = try_open(o, config(64), std::move(rt));
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    std::unique_ptr<CowBTreeStore> store = std::move(opened.value());
    write(*store, 0, 80, "a", model);
    ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
    write(*store, 40, 160, "b", model);

    fault->reset_counts();
    if (n != 0) fault->fail_nth(FaultOp::Any, n, EIO, /*sticky=*/true);
    auto checkpointed = sync_wait(store->checkpoint());
    if (n == 0) {
      ASSERT_TRUE(checkpointed.ok()) << checkpointed.error().to_string();
      steps = fault->count(FaultOp::Any);
      ASSERT_GT(steps, 5u);
      std::printf("a checkpoint takes %llu file operations\n", static_cast<unsigned long long>(steps));
    }
    // One more write: acknowledged or not, the reopen must agree.
    const std::string data = "{\"v\":\"late\"}";
    auto late = sync_wait(store->store_lease(lease_of(5, data)));
    if (late.ok()) model[5] = data;

    io::testing::CrashOptions crash;
    crash.keep_random_prefix = n % 2 == 0;
    if (n % 3 == 0) crash.tear_last_write_at = 100;
    auto crashed = raw->block_on(fault->crash(crash));
    ASSERT_TRUE(crashed.ok());
    fault->fail_nth(FaultOp::Any, 1, EIO, /*sticky=*/true);  // the dying store writes nothing more
    store.reset();
    fault.reset();

    auto reopened = try_open(quiet(), config(64));
    ASSERT_TRUE(reopened.ok()) << "step " << n << ": " << reopened.error().to_string();
    expect_contents(*reopened.value(), model, 160);
    ASSERT_TRUE(sync_wait(reopened.value()->close()).ok());
    VerifyReport report = verify();
    EXPECT_TRUE(report.ok()) << "step " << n << ": " << problems(report);
    if (HasFailure()) {
      ADD_FAILURE() << "failed at file operation " << n << " of " << steps;
      return;
    }
  }
}

TEST_P(CowStoreTest, CheckpointIoErrorLosesNothingAndSurfaces) {
  auto rt = runtime();
  io::Runtime* raw = rt.get();
  FaultFileSystem fault(raw->fs(), 7);
  CowStoreOptions o = quiet();
  o.file_system = &fault;
  o.wal_prepare_spare = false;
  auto opened = try_open(o, config(), std::move(rt));
  ASSERT_TRUE(opened.ok());
  auto store = std::move(opened.value());
  Model model;
  write(*store, 0, 50, "a", model);
  fault.fail_nth(FaultOp::DataSync, 1, EIO);  // the page file's first datasync
  auto failed = sync_wait(store->checkpoint());
  ASSERT_FALSE(failed.ok());
  auto again = sync_wait(store->checkpoint());
  EXPECT_FALSE(again.ok()) << "later checkpoints report the failure until reopen";
  write(*store, 50, 60, "b", model);  // writes go on through the WAL
  EXPECT_EQ(store->engine_counters().checkpoint_failures, 2u);
  EXPECT_TRUE(store->engine_counters().checkpoint_error.has_value());
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  auto reopened = open();
  ASSERT_TRUE(reopened);
  expect_contents(*reopened, model, 60);
}

// A write whose log write fails changes nothing readers see, whether its
// tree was staged (a lone writer's: built while the write was in flight) or
// was to be changed after the write (a group too large to stage).
TEST_P(CowStoreTest, AFailedLogWriteChangesNothingReadersSee) {
  for (const bool large : {false, true}) {
    SCOPED_TRACE(large ? "a batch of 40 leases" : "one lease");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto rt = runtime();
    FaultFileSystem fault(rt->fs(), 11);
    CowStoreOptions o = quiet();
    o.file_system = &fault;
    o.wal_prepare_spare = false;
    auto opened = try_open(o, config(), std::move(rt));
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    auto store = std::move(opened.value());
    Model model;
    write(*store, 0, 30, "a", model);

    fault.fail_nth(FaultOp::Write, 1, EIO);  // the log's next write
    Result<void> failed;
    if (large) {
      WriteBatch batch;
      for (std::uint64_t i = 0; i < 40; ++i) batch.put(lease_of(i, "{\"v\":\"lost\"}", "node-2"));
      failed = sync_wait(store->apply_batch(std::move(batch)));
    } else {
      failed = sync_wait(store->store_lease(lease_of(3, "{\"v\":\"lost\"}", "node-2")));
    }
    ASSERT_FALSE(failed.ok());
    expect_contents(*store, model, 40);
    auto moved = sync_wait(store->list_by_node("node-2"));
    ASSERT_TRUE(moved.ok()) << moved.error().to_string();
    EXPECT_TRUE(moved->empty()) << moved->size() << " leases of the failed write listed";
    (void)sync_wait(store->close());  // the log fail-stopped: close may report it
  }
}

TEST_P(CowStoreTest, BackgroundCheckpointsWhileWritersRun) {
  CowStoreOptions o;
  o.checkpoint_wal_bytes = 8 * 1024;
  o.checkpoint_poll = 1ms;
  o.wal_segment_size = 32 * 1024;
  auto store = open(o);
  ASSERT_TRUE(store);
  constexpr int kWriters = 4;
  const std::uint64_t per_writer = ci() ? 100 : 300;
  std::vector<std::thread> writers;
  std::vector<Model> models(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (std::uint64_t j = 0; j < per_writer; ++j) {
        const std::uint64_t i = static_cast<std::uint64_t>(w) * 100000 + j % 150;
        const std::string data = "{\"w\":" + std::to_string(j) + "}";
        auto stored = sync_wait(store->store_lease(lease_of(i, data)));
        ASSERT_TRUE(stored.ok()) << stored.error().to_string();
        models[static_cast<std::size_t>(w)][i] = data;
        if (j % 50 == 0) {
          auto scan = sync_wait(store->scan_by_actor_type("Room", ScanOptions(20)));
          ASSERT_TRUE(scan.ok());
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_TRUE(sync_wait(store->close()).ok());
  const CowEngineStats counters = store->engine_counters();
  EXPECT_GE(counters.checkpoints, 2u) << "the WAL grew past 8 KiB many times";
  EXPECT_EQ(counters.checkpoint_failures, 0u);
  store.reset();
  auto reopened = open();
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->recovery().replayed_records, 0u);
  std::uint64_t total = 0;
  for (const Model& m : models) {
    total += m.size();
    for (const auto& [i, data] : m) {
      auto got = sync_wait(reopened->get_lease(key_of(i)));
      ASSERT_TRUE(got.ok()) << i;
      EXPECT_EQ(got->metadata.custom_data, data);
    }
  }
  auto stats = sync_wait(reopened->stats());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_keys, total);
}

TEST_P(CowStoreTest, SnapshotsKeepTheirPointInTimeAndCanBeListedOpenedAndDeleted) {
  auto store = open();
  ASSERT_TRUE(store);
  Model model;
  write(*store, 0, 100, "old", model);
  const Tree reader = store->current_tree();  // an in-memory reader of the same moment
  auto first = sync_wait(store->create_snapshot());
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  const Model at_first = model;
  write(*store, 0, 100, "new", model);
  auto later = sync_wait(store->store_lease(lease_of(1000, "{}")));
  ASSERT_TRUE(later.ok());

  auto snap = sync_wait(store->open_snapshot(first->name));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  for (std::uint64_t i = 0; i < 100; ++i) {
    auto got = (*snap)->get_lease(key_of(i));
    auto it = at_first.find(i);
    if (it == at_first.end()) {
      EXPECT_EQ(got.code(), ErrorCode::NotFound);
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ(got->metadata.custom_data, it->second) << "the snapshot sees the old value";
    auto in_reader = reader.get(codec::primary_key(key_of(i)));
    EXPECT_TRUE(in_reader.has_value()) << "the old in-memory tree too";
  }
  EXPECT_EQ((*snap)->get_lease(key_of(1000)).code(), ErrorCode::NotFound);
  EXPECT_EQ((*snap)->lease_count(), at_first.size());
  EXPECT_EQ((*snap)->metadata().lease_count, at_first.size());
  EXPECT_EQ((*snap)->tree().check_invariants(), "");

  auto second = sync_wait(store->create_snapshot());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->name, second->name);
  auto listed = sync_wait(store->list_snapshots());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, first->name);
  EXPECT_EQ((*listed)[1].name, second->name);
  EXPECT_GT((*listed)[1].metadata.lsn, (*listed)[0].metadata.lsn);
  EXPECT_EQ((*listed)[0].metadata.page_size, 4096u);

  ASSERT_TRUE(sync_wait(store->delete_snapshot(first->name)).ok());
  listed = sync_wait(store->list_snapshots());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, second->name);
  EXPECT_EQ(sync_wait(store->open_snapshot(first->name)).code(), ErrorCode::NotFound);
  EXPECT_EQ(sync_wait(store->delete_snapshot("../orbit.pages")).code(), ErrorCode::InvalidArgument);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  VerifyReport report = verify();
  EXPECT_TRUE(report.ok()) << problems(report);
}

TEST_P(CowStoreTest, PeriodicSnapshotsEveryNthCheckpoint) {
  PersistenceConfig c = config();
  c.cow_config.enable_snapshots = true;
  c.cow_config.snapshot_interval = 2;
  auto opened = try_open(quiet(), c);
  ASSERT_TRUE(opened.ok());
  auto store = std::move(opened.value());
  Model model;
  for (int round = 0; round < 4; ++round) {
    write(*store, 0, 20, "r" + std::to_string(round), model);
    ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  }
  auto listed = sync_wait(store->list_snapshots());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u) << "checkpoints 2 and 4";
  ASSERT_TRUE(sync_wait(store->close()).ok());
}

TEST_P(CowStoreTest, PagesAreReusedWithoutLeaksUnderManyUpdates) {
  // 1M updates in Release, fewer in CI and Debug builds.
  const std::uint64_t updates = (ci() || !release_build()) ? 40000 : 1000000;
  constexpr std::uint64_t kLeases = 2000;
  constexpr std::uint64_t kBatch = 500;
  PersistenceConfig c = config(16);
  c.durability = DurabilityMode::None;
  CowStoreOptions o = quiet();
  auto opened = try_open(o, c);
  ASSERT_TRUE(opened.ok());
  auto store = std::move(opened.value());
  // About 50 checkpoints over the run; the page count is sampled after 10.
  const std::uint64_t batches = updates / kBatch;
  const std::uint64_t checkpoint_every = std::max<std::uint64_t>(1, batches / 50);
  std::uint64_t pages_after_warmup = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t done = 0;
  for (std::uint64_t round = 0; round < batches; ++round) {
    WriteBatch batch;
    for (std::uint64_t j = 0; j < kBatch; ++j, ++done) {
      const std::uint64_t i = (done * 7919) % kLeases;
      batch.put(lease_of(i, "{\"u\":" + std::to_string(done) + "}", "node-" + std::to_string(done % 5)));
    }
    ASSERT_TRUE(sync_wait(store->apply_batch(std::move(batch))).ok());
    if (round % checkpoint_every == checkpoint_every - 1) {
      ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
      if (++checkpoints == 10) pages_after_warmup = store->engine_counters().page_count;
    }
  }
  ASSERT_GT(pages_after_warmup, 0u);
  ASSERT_TRUE(sync_wait(store->checkpoint()).ok());
  const CowEngineStats counters = store->engine_counters();
  EXPECT_LE(counters.page_count, pages_after_warmup * 3 / 2 + 64)
      << "the page file stops growing once freed pages are reused";
  EXPECT_GT(counters.free_pages, 0u);
  ASSERT_TRUE(sync_wait(store->close()).ok());
  store.reset();
  VerifyReport report = verify();
  EXPECT_TRUE(report.ok()) << problems(report);  // includes: no page both reachable and free, none leaked
}

TEST_P(CowStoreTest, CorruptedPageIsReportedWithFileAndOffset) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    Model model;
    write(*store, 0, 200, "a", model);
    ASSERT_TRUE(sync_wait(store->close()).ok());
  }
  // Flip one byte inside the root node (metadata.json names its page).
  std::ifstream in(dir + "/metadata.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto metadata = decode_metadata(text, "metadata.json");
  ASSERT_TRUE(metadata.ok()) << metadata.error().to_string();
  const std::uint64_t offset = metadata->root_page * 4096;
  {
    std::fstream f(dir + "/orbit.pages", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset + 40));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(static_cast<std::streamoff>(offset + 40));
    f.write(&c, 1);
  }
  auto reopened = try_open(quiet(), config());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.code(), ErrorCode::Corruption);
  EXPECT_NE(reopened.error().message.find("orbit.pages offset " + std::to_string(offset)), std::string::npos)
      << reopened.error().message;
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems[0].file, "orbit.pages");
  EXPECT_EQ(report.problems[0].offset, offset);
}

// metadata.json only describes: a damaged one is reported by verify, and the
// store still opens from its meta slot (which wins) and rewrites it at the
// next checkpoint.
TEST_P(CowStoreTest, DamagedMetadataIsReportedButTheMetaSlotWins) {
  Model model;
  {
    auto store = open();
    ASSERT_TRUE(store);
    write(*store, 0, 50, "a", model);
    ASSERT_TRUE(sync_wait(store->close()).ok());
  }
  {
    std::fstream f(dir + "/metadata.json", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);
    f.put('#');
  }
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems[0].file, "metadata.json");
  EXPECT_NE(report.problems[0].what.find("checksum"), std::string::npos) << report.problems[0].what;
  {
    auto store = open();
    ASSERT_TRUE(store);
    expect_contents(*store, model, 50);
    write(*store, 50, 60, "b", model);
    ASSERT_TRUE(sync_wait(store->close()).ok());  // checkpoints: metadata.json rewritten
  }
  report = verify();
  EXPECT_TRUE(report.ok()) << problems(report);
  EXPECT_GT(report.leases_checked, 0u);
}

TEST_P(CowStoreTest, RefusesAnotherBackendsDirectory) {
  std::ofstream(dir + "/CURRENT") << "MANIFEST-000001\n";
  auto opened = try_open(quiet(), config());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.code(), ErrorCode::InvalidArgument);
  EXPECT_NE(opened.error().message.find("CURRENT"), std::string::npos) << opened.error().message;
  std::filesystem::remove(dir + "/CURRENT");
  std::filesystem::create_directories(dir + "/sstables");
  opened = try_open(quiet(), config());
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("sstables"), std::string::npos) << opened.error().message;
}

TEST_P(CowStoreTest, LeftoverOfACrashedCreationOpensAsANewStore) {
  std::ofstream(dir + "/orbit.pages.new") << "half-written page file";
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->recovery().created);
  EXPECT_FALSE(std::filesystem::exists(dir + "/orbit.pages.new"));
  ASSERT_TRUE(sync_wait(store->close()).ok());
}

TEST_P(CowStoreTest, ScansAndIndexesFollowTheTree) {
  auto store = open(quiet(), 4);
  ASSERT_TRUE(store);
  for (std::uint64_t i = 0; i < 60; ++i) {
    Lease lease = lease_of(i, "{}", i % 2 == 0 ? "even" : "odd");
    lease.expires_at = SystemTime(std::chrono::seconds(1000 + i));
    ASSERT_TRUE(sync_wait(store->store_lease(lease)).ok());
  }
  auto even = sync_wait(store->list_by_node("even"));
  ASSERT_TRUE(even.ok());
  EXPECT_EQ(even->size(), 30u);
  auto expiring = sync_wait(store->list_expiring_before(SystemTime(std::chrono::seconds(1010))));
  ASSERT_TRUE(expiring.ok());
  ASSERT_EQ(expiring->size(), 10u);
  for (std::size_t i = 1; i < expiring->size(); ++i)
    EXPECT_LT((*expiring)[i - 1].expires_at, (*expiring)[i].expires_at);
  auto players = sync_wait(store->scan_by_actor_type("Player", ScanOptions(5)));
  ASSERT_TRUE(players.ok());
  EXPECT_EQ(players->size(), 5u);
  EXPECT_EQ(store->current_tree().check_invariants(), "");
  EXPECT_EQ(store->current_tree().size(), 180u) << "three entries per lease";
  ASSERT_TRUE(sync_wait(store->close()).ok());
}

ORBIT_INSTANTIATE_ON_BOTH_IO_BACKENDS(CowStoreTest);

}  // namespace
}  // namespace orbit::cow_btree
