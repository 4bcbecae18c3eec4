// Goal: a long random sequence of operations leaves every backend in the
// same state as a plain std::map model, checked after every step through
// every read path (get, scans by type, lists by node, expiry order).
//
// The seed is printed on failure (SCOPED_TRACE); rerun one with
// ORBIT_TEST_SEED=<n>. ORBIT_TEST_STEPS changes the length (default 600).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "orbit/persistence.hpp"
#include "tests/conformance/conformance_fixture.hpp"

namespace orbit::conformance {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  return std::strtoull(text, nullptr, 10);
}

class Model {
 public:
  std::map<ActorKey, Lease> leases;

  std::vector<Lease> by_type(const std::string& type) const {
    std::vector<Lease> out;
    for (const auto& [key, lease] : leases)
      if (key.actor_type == type) out.push_back(lease);
    return out;
  }
  std::vector<Lease> by_node(const std::string& node) const {
    std::vector<Lease> out;
    for (const auto& [key, lease] : leases)
      if (lease.node_id == node) out.push_back(lease);
    return out;
  }
  std::vector<Lease> expiring_before(SystemTime t, std::size_t limit) const {
    std::vector<Lease> out;
    for (const auto& [key, lease] : leases)
      if (lease.expires_at < t) out.push_back(lease);
    std::sort(out.begin(), out.end(), [](const Lease& a, const Lease& b) {
      return a.expires_at != b.expires_at ? a.expires_at < b.expires_at : a.key < b.key;
    });
    if (limit && out.size() > limit) out.resize(limit);
    return out;
  }
};

class RandomRun {
 public:
  RandomRun(PersistenceProvider& store, std::uint64_t seed) : store_(store), rng_(seed) {
    now_ = std::chrono::system_clock::now();
    for (std::uint64_t n = 0; n < 8; ++n)
      for (const char* type : {"Player", "P", "Guild"}) keys_.push_back(make_key(type, n * 1000003));
  }

  void step(int i) {
    switch (pick(14)) {
      case 0: case 1: case 2: do_store(); break;
      case 3: do_remove(); break;
      case 4: case 5: do_batch(); break;
      case 6: case 7: do_acquire(); break;
      case 8: case 9: do_renew(); break;
      case 10: do_release(); break;
      case 11: do_get(); break;
      case 12: do_scan_page(); break;
      default: do_expiring(); break;
    }
    if (::testing::Test::HasFailure()) return;
    check_everything(i);
  }

 private:
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  const ActorKey& any_key() { return keys_[pick(keys_.size())]; }
  std::string any_node() { return nodes_[pick(nodes_.size())]; }
  // Far from now either way, so expired-or-not never depends on timing.
  SystemTime any_expiry() {
    auto offset = hours(1 + pick(5)) + milliseconds(pick(1000));
    return pick(3) == 0 ? now_ - offset : now_ + offset;
  }
  Lease any_lease(const ActorKey& key) {
    return make_lease(key, any_node(), any_expiry(), 1 + pick(9), pick(4) ? "{}" : std::string(pick(300), 'c'));
  }

  void do_store() {
    Lease lease = any_lease(any_key());
    auto r = sync_wait(store_.store_lease(lease));
    ASSERT_TRUE(r.ok()) << "store " << lease.key.to_string() << ": " << r.error().to_string();
    expect_metrics(r.metrics(), OperationType::Store, true);
    model_.leases[lease.key] = lease;
  }

  void do_remove() {
    const ActorKey& key = any_key();
    auto r = sync_wait(store_.remove_lease(key));
    if (model_.leases.erase(key)) {
      ASSERT_TRUE(r.ok()) << "remove " << key.to_string() << ": " << r.error().to_string();
    } else {
      ASSERT_EQ(r.code(), ErrorCode::NotFound) << "remove of absent " << key.to_string();
    }
  }

  void do_batch() {
    WriteBatch batch;
    Model after = model_;
    bool invalid = pick(10) == 0;
    std::size_t ops = 1 + pick(6);
    for (std::size_t n = 0; n < ops; ++n) {
      const ActorKey& key = any_key();
      if (pick(3) == 0) {
        batch.remove(key);
        after.leases.erase(key);
      } else {
        Lease lease = any_lease(key);
        batch.put(lease);
        after.leases[key] = lease;
      }
    }
    if (invalid) {
      Lease bad = any_lease(any_key());
      bad.node_id.clear();
      batch.ops.insert(batch.ops.begin() + static_cast<std::ptrdiff_t>(pick(batch.ops.size() + 1)),
                       BatchOp{BatchOp::Kind::Put, bad});
    }
    auto r = sync_wait(store_.apply_batch(batch));
    if (invalid) {
      ASSERT_EQ(r.code(), ErrorCode::InvalidArgument);
      return;
    }
    ASSERT_TRUE(r.ok()) << "batch of " << batch.size() << ": " << r.error().to_string();
    model_ = std::move(after);
  }

  void do_acquire() {
    const ActorKey& key = any_key();
    std::string node = any_node();
    auto r = sync_wait(store_.acquire_lease(AcquireRequest{key, node, Millis(3600 * 1000), "{\"acq\":1}"}));
    auto current = model_.leases.find(key);
    bool free = current == model_.leases.end() || current->second.expired();
    if (!free) {
      ASSERT_EQ(r.code(), ErrorCode::Conflict) << "acquire of held " << key.to_string();
      return;
    }
    ASSERT_TRUE(r.ok()) << "acquire of free " << key.to_string() << ": " << r.error().to_string();
    std::uint64_t expected_version = current == model_.leases.end() ? 1 : current->second.version + 1;
    EXPECT_EQ(r->version, expected_version);
    EXPECT_EQ(r->node_id, node);
    EXPECT_EQ(r->key, key);
    model_.leases[key] = r.value();
  }

  void do_renew() {
    const ActorKey& key = any_key();
    auto current = model_.leases.find(key);
    std::string node = current != model_.leases.end() && pick(4) ? current->second.node_id : any_node();
    std::uint64_t version = current != model_.leases.end() ? current->second.version : 1;
    if (pick(5) == 0) version += 1;
    auto r = sync_wait(store_.renew_lease(RenewRequest{key, node, version, Millis(3600 * 1000)}));
    if (current == model_.leases.end()) {
      ASSERT_EQ(r.code(), ErrorCode::NotFound);
      return;
    }
    if (current->second.node_id != node || current->second.version != version) {
      ASSERT_EQ(r.code(), ErrorCode::Conflict);
      return;
    }
    ASSERT_TRUE(r.ok()) << "renew " << key.to_string() << ": " << r.error().to_string();
    EXPECT_EQ(r->version, version + 1);
    EXPECT_EQ(r->metadata.renewal_count, current->second.metadata.renewal_count + 1);
    EXPECT_EQ(r->metadata.custom_data, current->second.metadata.custom_data);
    current->second = r.value();
  }

  void do_release() {
    const ActorKey& key = any_key();
    auto current = model_.leases.find(key);
    std::string node = current != model_.leases.end() && pick(4) ? current->second.node_id : any_node();
    std::uint64_t version = current != model_.leases.end() ? current->second.version : 1;
    if (pick(5) == 0) version -= 1;
    auto r = sync_wait(store_.release_lease(ReleaseRequest{key, node, version}));
    if (current == model_.leases.end()) {
      ASSERT_EQ(r.code(), ErrorCode::NotFound);
      return;
    }
    if (current->second.node_id != node || current->second.version != version) {
      ASSERT_EQ(r.code(), ErrorCode::Conflict);
      return;
    }
    ASSERT_TRUE(r.ok()) << "release " << key.to_string() << ": " << r.error().to_string();
    model_.leases.erase(current);
  }

  void do_get() {
    const ActorKey& key = any_key();
    auto r = sync_wait(store_.get_lease(key));
    auto it = model_.leases.find(key);
    if (it == model_.leases.end()) {
      ASSERT_EQ(r.code(), ErrorCode::NotFound);
    } else {
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      ASSERT_EQ(r.value(), it->second);
    }
  }

  void do_scan_page() {
    const char* types[] = {"Player", "P", "Guild"};
    std::string type = types[pick(3)];
    ScanOptions options;
    options.limit = 1 + pick(4);
    std::vector<Lease> expected = model_.by_type(type);
    if (!expected.empty() && pick(2)) {
      std::size_t after = pick(expected.size());
      options.start_after = expected[after].key;
      expected.erase(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(after + 1));
    }
    if (expected.size() > options.limit) expected.resize(options.limit);
    auto r = sync_wait(store_.scan_by_actor_type(type, options));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_EQ(r.value(), expected) << "paged scan of " << type;
  }

  void do_expiring() {
    SystemTime t = now_ + hours(3) * (static_cast<int>(pick(5)) - 2);
    std::size_t limit = pick(3) ? 0 : 1 + pick(5);
    auto r = sync_wait(store_.list_expiring_before(t, limit));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_EQ(r.value(), model_.expiring_before(t, limit)) << "limit " << limit;
  }

  void check_everything(int step) {
    for (const char* type : {"Player", "P", "Guild"}) {
      auto r = sync_wait(store_.scan_by_actor_type(type));
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      ASSERT_EQ(r.value(), model_.by_type(type)) << "scan of " << type << " after step " << step;
    }
    for (const auto& node : nodes_) {
      auto r = sync_wait(store_.list_by_node(node));
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      ASSERT_EQ(r.value(), model_.by_node(node)) << "list_by_node " << node << " after step " << step;
    }
    auto r = sync_wait(store_.list_expiring_before(now_ + hours(24)));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_EQ(r.value(), model_.expiring_before(now_ + hours(24), 0)) << "expiry order after step " << step;
  }

  PersistenceProvider& store_;
  std::mt19937_64 rng_;
  SystemTime now_;
  std::vector<ActorKey> keys_;
  std::vector<std::string> nodes_{"node-1", "node-10", "node-2", "n"};
  Model model_;
};

TEST_P(BackendConformance, RandomOperationsMatchAMapModel) {
  const std::uint64_t seed = env_number("ORBIT_TEST_SEED", std::random_device{}());
  const std::uint64_t steps = env_number("ORBIT_TEST_STEPS", 600);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with ORBIT_TEST_SEED=" + std::to_string(seed) + ")");
  RandomRun run(store(), seed);
  for (std::uint64_t i = 0; i < steps; ++i) {
    run.step(static_cast<int>(i));
    if (HasFailure()) {
      ADD_FAILURE() << "diverged from the model at step " << i;
      return;
    }
  }
}

}  // namespace
}  // namespace orbit::conformance
