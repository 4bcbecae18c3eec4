// Corruption: one bit flipped at a time in every file a COW or LSM store
// keeps (page file, SSTables, manifest.json, metadata.json, snapshots, WAL
// segments), at spread-out offsets of each file. Each damaged copy is given to
// verify_store (read-only) and then opened and read back. Never a crash, and
// never silent: if what the store answers differs from what was stored, the
// damage must have been reported, naming the file, by the open, a read, or
// the log's tail cut (stats().recovery_log_bytes_cut), and verify_store must
// report it too, in that file (and perhaps its consequences in others), except
// for a damaged last log record, which to both is what a crash leaves. A flip that changes nothing (a free
// page, padding) may pass unreported.
//
// The directory is what a crash leaves: checkpointed or flushed files plus a
// log still to replay. ORBIT_CORRUPTION_FLIPS sets the offsets per file
// (default 48; CI=true 12); ORBIT_CORRUPTION_TRACE=1 prints every outcome.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "io/runtime.hpp"
#include "io/testing/fault_runtime.hpp"
#include "orbit/factory.hpp"
#include "orbit/sync_wait.hpp"
#include "src/codec/key_layout.hpp"
#include "src/factory/engine_registry.hpp"

namespace orbit {
namespace {

namespace fs = std::filesystem;
using State = std::map<std::string, Lease>;  // primary key -> lease
constexpr int kKeys = 60;

ActorKey key_of(int k) { return ActorKey(Uuid::from_u64(static_cast<std::uint64_t>(k) + 1), k % 3 ? "Player" : "Guild"); }

Lease lease_of(int k, std::uint64_t version) {
  Lease l;
  l.key = key_of(k);
  l.node_id = "node-" + std::to_string(k % 4);
  l.expires_at = SystemTime(std::chrono::seconds(1'700'000'000 + k * 11 + static_cast<int>(version)));
  l.version = version;
  l.metadata.custom_data = std::string(static_cast<std::size_t>(40 + k % 90), static_cast<char>('a' + k % 26));
  return l;
}

std::uint64_t flips_per_file() {
  if (const char* v = std::getenv("ORBIT_CORRUPTION_FLIPS"); v && *v) return std::strtoull(v, nullptr, 10);
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true" ? 12 : 48;
}

std::unique_ptr<io::Runtime> runtime() {
  auto rt = io::Runtime::create(io::RuntimeOptions{});
  return rt ? std::move(rt).value() : nullptr;
}

PersistenceConfig config_for(PersistenceBackend backend, const std::string& dir) {
  PersistenceConfig c;
  c.backend = backend;
  c.data_dir = dir;
  c.lsm_config.memtable_size_mb = 1;
  c.cow_config.max_keys_per_node = 8;
  c.cow_config.enable_snapshots = true;
  c.cow_config.snapshot_interval = 1;
  return c;
}

// Stores, checkpoints (pages / an SSTable and the manifest / a snapshot),
// stores and removes more, then loses power: the files of both kinds plus a
// log to replay. Returns the acknowledged state.
State make_store(PersistenceBackend backend, const PersistenceConfig& config) {
  auto inner = runtime();
  auto faulty = std::make_unique<io::testing::FaultRuntime>(std::move(inner), 7);
  io::testing::FaultRuntime* faults = faulty.get();
  auto opened = sync_wait(engine_open_function(backend)(config, std::move(faulty)));
  EXPECT_TRUE(opened.ok()) << opened.error().to_string();
  if (!opened) return {};
  auto store = std::move(opened).value();
  State state;
  auto put = [&](int k, std::uint64_t v) {
    Lease l = lease_of(k, v);
    EXPECT_TRUE(sync_wait(store->store_lease(l)).ok());
    state[codec::primary_key(l.key)] = l;
  };
  for (int k = 0; k < kKeys; ++k) put(k, 1);
  EXPECT_TRUE(sync_wait(store->checkpoint()).ok());
  for (int k = 0; k < kKeys; k += 3) put(k, 2);
  for (int k = 1; k < kKeys; k += 7) {
    EXPECT_TRUE(sync_wait(store->remove_lease(key_of(k))).ok());
    state.erase(codec::primary_key(key_of(k)));
  }
  EXPECT_TRUE(faults->block_on(faults->faults().lose_power()).ok());
  store.reset();
  return state;
}

// What one damaged copy did.
struct Outcome {
  bool refused = false;       // open failed
  bool read_failed = false;   // a get or stats failed
  bool tail_cut = false;      // the log cut a damaged tail
  bool verify_named = false;  // verify_store listed a problem in this file
  bool verify_other = false;  // verify_store listed a problem in another file
  std::string verify_other_detail;
  bool state_intact = false;  // every lease read back as stored
  std::vector<std::string> messages;  // errors of open/get/stats
};

Outcome try_open(PersistenceBackend backend, const PersistenceConfig& config, const std::string& file,
                 const State& expected) {
  Outcome out;
  auto verified = sync_wait(PersistenceFactory::verify_store(config));
  if (verified) {
    for (const FileProblem& p : verified->problems) {
      EXPECT_FALSE(p.what.empty());
      if (p.file == file) {
        out.verify_named = true;
      } else {
        out.verify_other = true;
        out.verify_other_detail = p.file + " offset " + std::to_string(p.offset) + ": " + p.what;
      }
    }
  } else {
    out.messages.push_back("verify: " + verified.error().message);
  }
  auto opened = sync_wait(engine_open_function(backend)(config, runtime()));
  if (!opened) {
    out.refused = true;
    out.messages.push_back(opened.error().message);
    return out;
  }
  auto store = std::move(opened).value();
  State got;
  for (int k = 0; k < kKeys; ++k) {
    auto lease = sync_wait(store->get_lease(key_of(k)));
    if (lease) {
      got[codec::primary_key(key_of(k))] = lease.value();
    } else if (lease.code() != ErrorCode::NotFound) {
      out.read_failed = true;
      out.messages.push_back(lease.error().message);
    }
  }
  auto stats = sync_wait(store->stats());
  if (stats) {
    out.tail_cut = stats->recovery_log_bytes_cut > 0;
  } else {
    out.read_failed = true;
    out.messages.push_back(stats.error().message);
  }
  (void)sync_wait(store->close());
  out.state_intact = !out.read_failed && got == expected;
  return out;
}

struct Tally {
  std::uint64_t flips = 0, refused = 0, read_failed = 0, tail_cut = 0, verify_named = 0, harmless = 0, silent = 0;
};

class Corruption : public ::testing::TestWithParam<PersistenceBackend> {};

TEST_P(Corruption, EveryFlippedBitIsHarmlessOrReportedWithItsFile) {
  const PersistenceBackend backend = GetParam();
  if (!engine_open_function(backend)) GTEST_SKIP() << to_string(backend) << " is not built";
  const fs::path root = fs::temp_directory_path() / ("orbit-corruption-" + std::to_string(::getpid()));
  const std::string dir = (root / "store").string();
  const std::string pristine = (root / "pristine").string();
  fs::remove_all(root);
  fs::create_directories(dir);
  const PersistenceConfig config = config_for(backend, dir);
  const State expected = make_store(backend, config);
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kKeys - (kKeys + 5) / 7));
  fs::copy(dir, pristine, fs::copy_options::recursive);

  // The undamaged copy: clean verify, every lease.
  {
    Outcome clean = try_open(backend, config, "", expected);
    ASSERT_FALSE(clean.refused) << clean.messages.front();
    ASSERT_TRUE(clean.state_intact);
    ASSERT_FALSE(clean.verify_named || clean.verify_other);
  }

  std::vector<std::pair<std::string, std::uint64_t>> files;  // relative path, bytes up to the last non-zero one
  std::map<std::string, std::uint64_t> beyond;                 // an offset in the zeros after them
  for (const auto& entry : fs::recursive_directory_iterator(pristine)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), pristine).string();
    // The lock file holds nothing; a spare log segment holds only zeros until used.
    if (rel == "orbit.lock" || rel.ends_with(".free") || entry.file_size() == 0) continue;
    // Flips go where the bytes are: up to the last non-zero byte (a log
    // segment is preallocated, zero-filled space past its end), plus one
    // past it if the file goes on.
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto last = bytes.find_last_not_of('\0');
    files.emplace_back(rel, last == std::string::npos ? 0 : last + 1);
    if (last != std::string::npos && last + 1 < bytes.size()) beyond[rel] = last + 1 + (bytes.size() - last) / 2;
  }
  ASSERT_GE(files.size(), 3u);

  std::map<std::string, Tally> tallies;
  const std::uint64_t per_file = flips_per_file();
  for (const auto& [rel, size] : files) {
    Tally& t = tallies[rel];
    const std::uint64_t n = std::min<std::uint64_t>(size, per_file);
    std::vector<std::uint64_t> offsets;
    for (std::uint64_t i = 0; i < n; ++i) offsets.push_back(n == size ? i : (i * (size - 1)) / (n - 1));
    if (beyond.count(rel)) offsets.push_back(beyond[rel]);
    for (const std::uint64_t offset : offsets) {
      fs::remove_all(dir);
      fs::copy(pristine, dir, fs::copy_options::recursive);
      {
        std::fstream f(dir + "/" + rel, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(offset));
        char c = 0;
        f.read(&c, 1);
        c = static_cast<char>(c ^ (1 << (offset % 8)));
        f.seekp(static_cast<std::streamoff>(offset));
        f.write(&c, 1);
      }
      const std::string at = std::string(to_string(backend)) + " " + rel + " offset " + std::to_string(offset);
      Outcome o = try_open(backend, config, rel, expected);
      ++t.flips;
      if (std::getenv("ORBIT_CORRUPTION_TRACE")) {
        std::cout << at << ": refused " << o.refused << " read_failed " << o.read_failed << " tail_cut " << o.tail_cut
                  << " verify_named " << o.verify_named << " intact " << o.state_intact << "\n";
        for (const std::string& m : o.messages) std::cout << "    " << m << "\n";
        if (o.verify_other) std::cout << "    verify: " << o.verify_other_detail << "\n";
      }
      const std::string base = fs::path(rel).filename().string();
      for (const std::string& m : o.messages)
        EXPECT_NE(m.find(base), std::string::npos) << at << ": the error does not name the file: " << m;
      if (o.refused) ++t.refused;
      else if (o.read_failed) ++t.read_failed;
      else if (o.tail_cut) ++t.tail_cut;
      else if (o.verify_named) ++t.verify_named;
      else if (o.state_intact) ++t.harmless;
      else {
        ++t.silent;
        ADD_FAILURE() << at << ": the store answered differently from what was stored and nothing reported it";
      }
      // verify_store sees what the store saw (a damaged log tail is, to
      // both, what a crash leaves) and blames this file.
      if (!o.state_intact && !o.tail_cut) {
        EXPECT_TRUE(o.verify_named) << at << ": verify_store did not report it";
      }
      EXPECT_TRUE(o.verify_named || !o.verify_other)
          << at << ": verify_store blamed only another file: " << o.verify_other_detail;
    }
  }
  for (const auto& [rel, t] : tallies)
    std::cout << to_string(backend) << " " << rel << ": " << t.flips << " flips: refused at open " << t.refused
              << ", read failed " << t.read_failed << ", log tail cut " << t.tail_cut << ", found by verify "
              << t.verify_named << ", harmless " << t.harmless << ", silent " << t.silent << "\n";
  fs::remove_all(root);
}

INSTANTIATE_TEST_SUITE_P(Engines, Corruption,
                         ::testing::Values(PersistenceBackend::CowBTree, PersistenceBackend::LsmTree),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace orbit
