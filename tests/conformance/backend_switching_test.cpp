// Goal: the seed's test_backend_switching. The same scripted sequence of
// operations (including a close and reopen) runs on every available
// backend; every answer (error codes, leases returned, scan and list
// results, key counts) must be identical across backends.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "orbit/persistence.hpp"
#include "tests/conformance/conformance_fixture.hpp"

namespace orbit::conformance {
namespace {

using std::chrono::seconds;

// Records every answer as text, so two backends compare line by line.
class Transcript {
 public:
  void add(const std::string& what, ErrorCode code, bool ok) {
    lines_.push_back(what + " -> " + (ok ? std::string("ok") : std::string(to_string(code))));
  }
  template <typename R>
  void add_result(const std::string& what, const R& r) {
    add(what, r.code(), r.ok());
  }
  explicit Transcript(SystemTime base) : base_(base) {}
  void add_lease(const std::string& what, const Lease& l) {
    std::ostringstream out;
    out << what << " = " << l.key.to_string() << " node=" << l.node_id << " v=" << l.version << " exp=";
    // Leases the primitives wrote expire relative to the clock: say so
    // rather than print a time that differs from run to run.
    if (l.expires_at > base_ - std::chrono::hours(24) && l.expires_at < base_ + std::chrono::hours(24))
      out << "base+" << (l.expires_at - base_).count();
    else
      out << "clock";
    out << " renewals=" << l.metadata.renewal_count
        << " data=" << l.metadata.custom_data;
    lines_.push_back(out.str());
  }
  void add_leases(const std::string& what, const Result<std::vector<Lease>>& r) {
    add_result(what, r);
    if (!r.ok()) return;
    for (const auto& l : r.value()) add_lease("  " + what, l);
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  SystemTime base_;
  std::vector<std::string> lines_;
};

// Fixed times: the answers may not depend on the clock, except through
// lease expiry, which is far in the past or the future here.
Transcript run_script(PersistenceProvider& store, SystemTime base) {
  Transcript t(base);
  for (std::uint64_t n = 0; n < 20; ++n) {
    Lease l = make_lease(make_key(n % 2 ? "Player" : "Guild", n), "node-" + std::to_string(n % 3), base + seconds(n),
                         1 + n % 4);
    t.add_result("store " + std::to_string(n), sync_wait(store.store_lease(l)));
  }
  t.add_result("get missing", sync_wait(store.get_lease(make_key("Player", 999))));
  t.add_result("remove 4", sync_wait(store.remove_lease(make_key("Guild", 4))));
  t.add_result("remove 4 again", sync_wait(store.remove_lease(make_key("Guild", 4))));
  WriteBatch batch;
  batch.put(make_lease(make_key("Player", 100), "node-9", base + seconds(100)));
  batch.remove(make_key("Player", 1));
  t.add_result("batch", sync_wait(store.apply_batch(batch)));
  WriteBatch bad;
  bad.put(make_lease(make_key("Player", 101), "", base));
  t.add_result("bad batch", sync_wait(store.apply_batch(bad)));

  auto expired = make_lease(make_key("Player", 200), "node-1", SystemTime(seconds(1'000'000'000)), 5);
  t.add_result("store expired", sync_wait(store.store_lease(expired)));
  auto acquired = sync_wait(store.acquire_lease(AcquireRequest{expired.key, "node-2", Millis(60000), "{}"}));
  t.add_result("acquire expired", acquired);
  if (acquired.ok()) t.add("acquired version " + std::to_string(acquired->version), ErrorCode::Ok, true);
  t.add_result("acquire held", sync_wait(store.acquire_lease(AcquireRequest{make_key("Player", 3), "node-2", Millis(1000)})));
  t.add_result("renew stale", sync_wait(store.renew_lease(RenewRequest{make_key("Player", 3), "node-0", 1, Millis(1000)})));
  t.add_result("renew other", sync_wait(store.renew_lease(RenewRequest{make_key("Player", 3), "node-2", 4, Millis(1000)})));
  auto renewed = sync_wait(store.renew_lease(RenewRequest{make_key("Player", 3), "node-0", 4, Millis(1000)}));
  t.add_result("renew ok", renewed);
  if (renewed.ok()) t.add("renewed version " + std::to_string(renewed->version), ErrorCode::Ok, true);
  t.add_result("release other", sync_wait(store.release_lease(ReleaseRequest{make_key("Player", 5), "node-0", 2})));
  t.add_result("release ok", sync_wait(store.release_lease(ReleaseRequest{make_key("Player", 5), "node-2", 2})));
  t.add_result("release missing", sync_wait(store.release_lease(ReleaseRequest{make_key("Player", 5), "node-2", 2})));

  auto report = [&](const std::string& when) {
    t.add_leases(when + " scan Player", sync_wait(store.scan_by_actor_type("Player")));
    ScanOptions page;
    page.limit = 3;
    page.start_after = make_key("Guild", 6);
    t.add_leases(when + " scan Guild page", sync_wait(store.scan_by_actor_type("Guild", page)));
    for (const char* node : {"node-0", "node-1", "node-2", "node-9"})
      t.add_leases(when + " node " + node, sync_wait(store.list_by_node(node)));
    t.add_leases(when + " expiring", sync_wait(store.list_expiring_before(base + seconds(10), 5)));
    auto stats = sync_wait(store.stats());
    t.add_result(when + " stats", stats);
    if (stats.ok()) t.add(when + " total_keys " + std::to_string(stats->total_keys), ErrorCode::Ok, true);
  };
  report("before reopen");
  return t;
}

class BackendSwitching : public ::testing::TestWithParam<IoBackend> {};

TEST_P(BackendSwitching, EveryBackendGivesTheSameAnswers) {
  const SystemTime base(seconds(1'900'000'000));
  std::vector<std::pair<PersistenceBackend, std::vector<std::string>>> transcripts;
  for (PersistenceBackend backend : PersistenceFactory::available_backends()) {
    SCOPED_TRACE(std::string(to_string(backend)));
    std::string dir = make_temp_dir(std::string("switching-") + std::string(to_string(backend)));
    PersistenceConfig config;
    config.backend = backend;
    config.io_backend = GetParam();
    config.data_dir = dir;
    config.rocksdb_config.block_cache_mb = 8;
    config.rocksdb_config.write_buffer_mb = 4;
    config.lsm_config.memtable_size_mb = 4;
    std::string skip;
    auto opened = open_store(config, &skip);
    if (!skip.empty()) {
      remove_dir(dir);
      GTEST_SKIP() << skip;
    }
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    auto store = std::move(opened).value();
    Transcript t = run_script(*store, base);

    // The seed's crash-recovery step: close, reopen, the same answers again.
    ASSERT_TRUE(sync_wait(store->close()).ok());
    store.reset();
    auto reopened = open_store(config, nullptr);
    ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
    store = std::move(reopened).value();
    auto after = sync_wait(store->scan_by_actor_type("Player"));
    t.add_leases("after reopen scan Player", after);
    for (const char* node : {"node-0", "node-1", "node-2", "node-9"})
      t.add_leases(std::string("after reopen node ") + node, sync_wait(store->list_by_node(node)));
    ASSERT_TRUE(sync_wait(store->close()).ok());
    store.reset();
    remove_dir(dir);
    transcripts.emplace_back(backend, t.lines());
  }
  ASSERT_FALSE(transcripts.empty()) << "no backend is available in this build";
  const auto& [first_backend, first] = transcripts.front();
  for (const auto& [backend, lines] : transcripts) {
    ASSERT_EQ(lines.size(), first.size()) << to_string(backend) << " vs " << to_string(first_backend);
    for (std::size_t i = 0; i < lines.size(); ++i)
      EXPECT_EQ(lines[i], first[i]) << to_string(backend) << " vs " << to_string(first_backend) << " line " << i;
  }
  // Sanity: the script exercised what it meant to.
  const auto& reference = first;  // clang 14 cannot capture a structured binding
  auto has = [&](const std::string& line) {
    return std::find(reference.begin(), reference.end(), line) != reference.end();
  };
  EXPECT_TRUE(has("get missing -> NotFound"));
  EXPECT_TRUE(has("remove 4 again -> NotFound"));
  EXPECT_TRUE(has("bad batch -> InvalidArgument"));
  EXPECT_TRUE(has("acquire held -> Conflict"));
  EXPECT_TRUE(has("acquired version 6 -> ok"));
  EXPECT_TRUE(has("renewed version 5 -> ok"));
  EXPECT_TRUE(has("release ok -> ok"));
  EXPECT_TRUE(has("release missing -> NotFound"));
}

INSTANTIATE_TEST_SUITE_P(IoBackends, BackendSwitching, ::testing::Values(IoBackend::IoUring, IoBackend::Asio),
                         io_label);

}  // namespace
}  // namespace orbit::conformance
