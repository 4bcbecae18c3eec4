// Goal: the in-memory copy-on-write B+ tree matches std::map under random
// upserts and erases at every node size, keeps its invariants (order, fan-out
// bounds, equal leaf depth) after every step, and never changes a version a
// reader holds (COW isolation, structural sharing).
#include "engines/cow_btree/tree.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace orbit::cow_btree {
namespace {

std::string key_of(std::uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "k%010llu", static_cast<unsigned long long>(i));
  return buf;
}

void expect_same(const Tree& tree, const std::map<std::string, std::string>& model) {
  ASSERT_EQ(tree.check_invariants(), "");
  ASSERT_EQ(tree.size(), model.size());
  auto it = tree.begin();
  for (const auto& [k, v] : model) {
    ASSERT_TRUE(it.valid());
    ASSERT_EQ(it.key(), k);
    ASSERT_EQ(it.value(), v);
    it.next();
  }
  EXPECT_FALSE(it.valid());
}

class TreeSizes : public ::testing::TestWithParam<std::size_t> {};

TEST_P(TreeSizes, RandomOperationsMatchStdMap) {
  const std::size_t max_keys = GetParam();
  const std::uint64_t seed = 1234 + max_keys;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Tree tree(max_keys);
  std::map<std::string, std::string> model;
  const std::uint64_t key_space = max_keys >= 4096 ? 9000 : 600;
  const int steps = max_keys >= 4096 ? 8000 : 6000;
  for (int step = 0; step < steps; ++step) {
    std::string key = key_of(rng() % key_space);
    // Phases: mostly inserts, then mostly erases, so the tree grows and shrinks.
    bool insert_phase = (step / (steps / 4)) % 2 == 0;
    bool do_insert = (rng() % 10) < (insert_phase ? 8u : 2u);
    if (do_insert) {
      std::string value = "v" + std::to_string(step);
      bool inserted = false;
      tree = tree.upsert(key, value, &inserted);
      EXPECT_EQ(inserted, model.count(key) == 0);
      model[key] = value;
    } else {
      bool erased = false;
      tree = tree.erase(key, &erased);
      EXPECT_EQ(erased, model.erase(key) == 1);
    }
    if (step % 97 == 0 || max_keys < 16) {
      ASSERT_EQ(tree.check_invariants(), "") << "step " << step;
    }
    std::string probe = key_of(rng() % key_space);
    auto got = tree.get(probe);
    auto want = model.find(probe);
    ASSERT_EQ(got.has_value(), want != model.end());
    if (got) {
      ASSERT_EQ(*got, want->second);
    }
  }
  expect_same(tree, model);
}

TEST_P(TreeSizes, SeekFindsFirstKeyNotLess) {
  const std::size_t max_keys = GetParam();
  Tree tree(max_keys);
  std::map<std::string, std::string> model;
  for (std::uint64_t i = 0; i < 3000; i += 3) {
    tree = tree.upsert(key_of(i), std::to_string(i));
    model[key_of(i)] = std::to_string(i);
  }
  for (std::uint64_t probe = 0; probe < 3005; probe += 1) {
    auto it = tree.seek(key_of(probe));
    auto want = model.lower_bound(key_of(probe));
    if (want == model.end()) {
      EXPECT_FALSE(it.valid()) << probe;
      continue;
    }
    ASSERT_TRUE(it.valid()) << probe;
    EXPECT_EQ(it.key(), want->first);
    // A range scan of a few entries from there.
    for (int n = 0; n < 5 && want != model.end(); ++n, ++want) {
      ASSERT_TRUE(it.valid());
      EXPECT_EQ(it.key(), want->first);
      it.next();
    }
  }
  EXPECT_FALSE(tree.seek("zzz").valid());
  EXPECT_FALSE(Tree(max_keys).seek("a").valid());
  EXPECT_FALSE(Tree(max_keys).begin().valid());
}

TEST_P(TreeSizes, SplitsAndMergesKeepInvariants) {
  // Ascending inserts force splits up to several levels; erasing everything
  // (front, back, then middle) forces borrows and merges down to one leaf.
  const std::size_t max_keys = GetParam();
  // At 4096 a third level would need ~8M entries: two levels and many leaves suffice.
  const std::uint64_t n = max_keys >= 4096 ? 4096 * 2 + 2049 : max_keys * max_keys * 6 + 17;
  Tree tree(max_keys);
  for (std::uint64_t i = 0; i < n; ++i) tree = tree.upsert(key_of(i), "x");
  ASSERT_EQ(tree.check_invariants(), "");
  EXPECT_GE(tree.height(), max_keys >= 4096 ? 2u : 3u);
  std::uint64_t lo = 0, hi = n;
  std::size_t checks = 0;
  while (lo < hi) {
    tree = tree.erase(key_of(lo++));
    if (lo < hi) tree = tree.erase(key_of(--hi));
    if (++checks % (max_keys < 16 ? 1 : max_keys < 4096 ? 50 : 1000) == 0) {
      ASSERT_EQ(tree.check_invariants(), "") << lo << " " << hi;
    }
  }
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.height(), 1u);
  ASSERT_EQ(tree.check_invariants(), "");
}

TEST_P(TreeSizes, OldVersionsNeverChange) {
  const std::size_t max_keys = GetParam();
  std::mt19937_64 rng(99 + max_keys);
  Tree tree(max_keys);
  std::map<std::string, std::string> model;
  std::vector<std::pair<Tree, std::map<std::string, std::string>>> versions;
  for (int step = 0; step < 3000; ++step) {
    std::string key = key_of(rng() % 500);
    if (rng() % 3 != 0) {
      tree = tree.upsert(key, "s" + std::to_string(step));
      model[key] = "s" + std::to_string(step);
    } else {
      tree = tree.erase(key);
      model.erase(key);
    }
    if (step % 250 == 0) versions.emplace_back(tree, model);
  }
  for (const auto& [version, expected] : versions) expect_same(version, expected);
}

// The writer's in-place updates: same results as std::map, invariants after
// every step (splits and merges at every node size), and every version a
// reader took (a Tree copy, an iterator) keeps exactly its contents while
// the writer goes on changing nodes no reader can reach.
TEST_P(TreeSizes, InPlaceUpdatesMatchStdMapAndNeverChangeReaders) {
  const std::size_t max_keys = GetParam();
  std::mt19937_64 rng(1234 + max_keys);
  Tree tree(max_keys);
  std::map<std::string, std::string> model;
  struct Reader {
    Tree version;
    std::map<std::string, std::string> expected;
  };
  std::vector<Reader> readers;
  const int steps = max_keys >= 1024 ? 12000 : 6000;
  for (int step = 0; step < steps; ++step) {
    const std::string key = key_of(rng() % 1500);
    if (rng() % 3 == 0) {
      const bool present = model.erase(key) != 0;
      ASSERT_EQ(tree.remove(key), present) << key;
    } else {
      const std::string value = "v" + std::to_string(step);
      bool inserted = false;
      const bool fresh = model.count(key) == 0;
      tree.insert_or_assign(key, value, &inserted);
      ASSERT_EQ(inserted, fresh);
      model[key] = value;
    }
    if (step % 97 == 0) {
      ASSERT_EQ(tree.check_invariants(), "") << "step " << step;
    }
    if (step % 500 == 0) readers.push_back({tree, model});
  }
  expect_same(tree, model);
  for (const Reader& r : readers) expect_same(r.version, r.expected);
  // Empty it completely: merges down to a lone leaf root.
  for (const auto& [k, v] : std::map<std::string, std::string>(model)) ASSERT_TRUE(tree.remove(k));
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.height(), 1u);
  EXPECT_EQ(tree.check_invariants(), "");
  for (const Reader& r : readers) expect_same(r.version, r.expected);
}

TEST(Tree, InPlaceUpdateCopiesOnlyWhatAReaderShares) {
  Tree tree(4);
  for (int i = 0; i < 200; ++i) tree.insert_or_assign(key_of(static_cast<std::uint64_t>(i)), "a");
  const Node* root_before = tree.root().get();
  tree.insert_or_assign(key_of(5), "b");
  EXPECT_EQ(tree.root().get(), root_before) << "no reader: the root is changed in place";
  const Tree reader = tree;
  auto it = reader.seek(key_of(5));
  tree.insert_or_assign(key_of(5), "c");
  EXPECT_NE(tree.root().get(), root_before) << "a reader holds the root: it is copied";
  EXPECT_EQ(reader.root().get(), root_before);
  ASSERT_TRUE(it.valid());
  EXPECT_EQ(it.value(), "b");
  EXPECT_EQ(*reader.get(key_of(5)), "b");
  EXPECT_EQ(*tree.get(key_of(5)), "c");
}

INSTANTIATE_TEST_SUITE_P(NodeSizes, TreeSizes, ::testing::Values(4, 5, 16, 64, 4096));

TEST(Tree, UpdateSharesUntouchedSubtrees) {
  Tree tree(4);
  for (std::uint64_t i = 0; i < 200; ++i) tree = tree.upsert(key_of(i), "a");
  Tree updated = tree.upsert(key_of(0), "b");
  ASSERT_FALSE(tree.root()->leaf);
  EXPECT_NE(tree.root(), updated.root());
  // Only the leftmost path was copied: the rightmost child is the same node.
  EXPECT_EQ(tree.root()->children.back(), updated.root()->children.back());
  EXPECT_NE(tree.root()->children.front(), updated.root()->children.front());
  EXPECT_EQ(*tree.get(key_of(0)), "a");
  EXPECT_EQ(*updated.get(key_of(0)), "b");
  // Erasing an absent key returns the same version.
  Tree same = updated.erase("nope");
  EXPECT_EQ(same.root(), updated.root());
}

TEST(Tree, IteratorKeepsItsVersionAlive) {
  Tree tree(4);
  for (std::uint64_t i = 0; i < 50; ++i) tree = tree.upsert(key_of(i), "a");
  auto it = tree.begin();
  for (std::uint64_t i = 0; i < 50; ++i) tree = tree.erase(key_of(i));
  tree = Tree(4);  // drop every other owner of the old version
  std::size_t n = 0;
  for (; it.valid(); it.next()) ++n;
  EXPECT_EQ(n, 50u);
}

}  // namespace
}  // namespace orbit::cow_btree
