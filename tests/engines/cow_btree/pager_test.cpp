// Goal: the pager commits trees copy-on-write and reopens the newest commit
// on both I/O backends; power loss at any file operation of a commit reopens
// to exactly the old or the new tree; a flipped bit is Corruption naming the
// file and offset; freed pages are reused so the file stops growing.
#include "engines/cow_btree/pager.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "io/runtime.hpp"
#include "io/testing/fault_file_system.hpp"
#include "tests/support/runtime_fixture.hpp"

namespace orbit::cow_btree {
namespace {

using io::testing::FaultFileSystem;
using io::testing::FaultOp;
using Model = std::map<std::string, std::string>;


std::string key_of(std::uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "k%08llu", static_cast<unsigned long long>(i));
  return buf;
}

Model contents(const Tree& tree) {
  Model out;
  for (auto it = tree.begin(); it.valid(); it.next()) out[std::string(it.key())] = std::string(it.value());
  return out;
}

std::uint64_t reachable_pages(const Node& node) {
  std::uint64_t n = node.disk.page_count;
  for (const auto& child : node.children) n += reachable_pages(*child);
  return n;
}

std::uint64_t accounted_pages(const Pager& pager) {
  return reachable_pages(*pager.tree().root()) + pager.meta().free_list.page_count + pager.free_page_count();
}

class PagerTest : public test_support::RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    dir = root;
  }

  PagerOptions options(const std::string& name, std::size_t max_keys = 8) const {
    PagerOptions o;
    o.path = dir + "/" + name;
    o.max_keys_per_node = max_keys;
    o.runtime = rt.get();
    return o;
  }
  Result<std::unique_ptr<Pager>> open(io::FileSystem& fs, PagerOptions o) { return run(Pager::open(fs, std::move(o))); }

  std::string dir;
};

Tree apply(Tree tree, std::uint64_t from, std::uint64_t to, const std::string& tag, Model& model) {
  for (std::uint64_t i = from; i < to; ++i) {
    tree = tree.upsert(key_of(i), tag + std::to_string(i));
    model[key_of(i)] = tag + std::to_string(i);
  }
  for (std::uint64_t i = from; i < to; i += 3) {
    tree = tree.erase(key_of(i / 2));
    model.erase(key_of(i / 2));
  }
  return tree;
}

TEST_P(PagerTest, CommitsAndReopensNewest) {
  Model model;
  {
    auto pager = open(rt->fs(), options("a.pages"));
    ASSERT_TRUE(pager.ok()) << pager.error().to_string();
    Tree tree = pager.value()->tree();
    for (int round = 0; round < 5; ++round) {
      tree = apply(tree, round * 100, round * 100 + 150, "r" + std::to_string(round), model);
      auto committed = run(pager.value()->commit(tree, 10 + round));
      ASSERT_TRUE(committed.ok()) << committed.error().to_string();
    }
  }
  auto reopened = open(rt->fs(), options("a.pages"));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  EXPECT_EQ(contents(reopened.value()->tree()), model);
  EXPECT_EQ(reopened.value()->tree().check_invariants(), "");
  EXPECT_EQ(reopened.value()->meta().lsn, 14u);
  EXPECT_EQ(reopened.value()->meta().txn_id, 6u);
}

TEST_P(PagerTest, FreedPagesAreReused) {
  auto pager = open(rt->fs(), options("b.pages"));
  ASSERT_TRUE(pager.ok());
  Tree tree = pager.value()->tree();
  Model model;
  tree = apply(tree, 0, 300, "x", model);
  ASSERT_TRUE(run(pager.value()->commit(tree, 1)).ok());
  std::uint64_t pages_after_warmup = 0;
  for (int round = 0; round < 1000; ++round) {
    tree = tree.upsert(key_of(static_cast<std::uint64_t>(round) * 7 % 300), "u" + std::to_string(round));
    ASSERT_TRUE(run(pager.value()->commit(tree, 2 + round)).ok());
    if (round == 400) pages_after_warmup = pager.value()->meta().page_count;
  }
  // Each commit rewrites one path and frees the old one: after a warm-up
  // (free pages fragment a little) the file stops growing.
  EXPECT_EQ(pager.value()->meta().page_count, pages_after_warmup);
  // No leak: every page past the metas is reachable or on the free list,
  // both in the live pager and after reopening.
  EXPECT_EQ(accounted_pages(*pager.value()), pager.value()->meta().page_count - 2);
  pager.value().reset();
  auto reopened = open(rt->fs(), options("b.pages"));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  EXPECT_EQ(accounted_pages(*reopened.value()), reopened.value()->meta().page_count - 2);
}

// Leaves of one to four pages: a node spanning several pages takes a run of
// free pages (found from one free page to the next) where one exists, so
// with free space fragmented by runs of every length the file still stops
// growing, and every page stays accounted for.
TEST_P(PagerTest, MultiPageNodesReuseFreedRuns) {
  auto pager = open(rt->fs(), options("m.pages", 4));
  ASSERT_TRUE(pager.ok());
  Tree tree = pager.value()->tree();
  auto value_of = [](std::uint64_t i, int round) {  // 100 B to 3.6 KB: leaves of 1-4 pages
    return std::string(100 + (i * 37 + static_cast<std::uint64_t>(round) * 11) % 3500, static_cast<char>('a' + i % 26));
  };
  for (std::uint64_t i = 0; i < 200; ++i) tree = tree.upsert(key_of(i), value_of(i, 0));
  ASSERT_TRUE(run(pager.value()->commit(tree, 1)).ok());
  std::uint64_t pages_after_warmup = 0;
  for (int round = 1; round <= 300; ++round) {
    for (std::uint64_t j = 0; j < 5; ++j) {
      const std::uint64_t i = (static_cast<std::uint64_t>(round) * 13 + j * 41) % 200;
      tree = tree.upsert(key_of(i), value_of(i, round));
    }
    ASSERT_TRUE(run(pager.value()->commit(tree, 1 + static_cast<std::uint64_t>(round))).ok());
    if (round == 150) pages_after_warmup = pager.value()->meta().page_count;
    ASSERT_EQ(accounted_pages(*pager.value()), pager.value()->meta().page_count - 2) << "round " << round;
  }
  EXPECT_LE(pager.value()->meta().page_count, pages_after_warmup + pages_after_warmup / 10)
      << "freed runs are reused, so the file stops growing";
  const Model model = contents(tree);
  pager.value().reset();
  auto reopened = open(rt->fs(), options("m.pages", 4));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  EXPECT_EQ(contents(reopened.value()->tree()), model);
  EXPECT_EQ(accounted_pages(*reopened.value()), reopened.value()->meta().page_count - 2);
}

// A commit that replaces every node of a big tree frees all the old pages
// (walked, and the nodes released, in slices between yields to the loop):
// nothing leaks, and a reader holding the old tree still sees all of it
// after its pages are reused.
TEST_P(PagerTest, ReplacingEveryNodeFreesEveryOldPageAndKeepsReadersTrees) {
  auto pager = open(rt->fs(), options("e.pages"));
  ASSERT_TRUE(pager.ok());
  Model old_model;
  const Tree old_tree = apply(pager.value()->tree(), 0, 3000, "old", old_model);
  ASSERT_TRUE(run(pager.value()->commit(old_tree, 1)).ok());
  Model model = old_model;
  Tree tree = old_tree;
  for (int round = 0; round < 3; ++round) {
    tree = apply(tree, 0, 3000, "r" + std::to_string(round), model);
    ASSERT_TRUE(run(pager.value()->commit(tree, 2 + round)).ok());
    EXPECT_EQ(accounted_pages(*pager.value()), pager.value()->meta().page_count - 2);
  }
  EXPECT_EQ(contents(old_tree), old_model);
  EXPECT_EQ(contents(pager.value()->tree()), model);
  pager.value().reset();
  auto reopened = open(rt->fs(), options("e.pages"));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  EXPECT_EQ(contents(reopened.value()->tree()), model);
  EXPECT_EQ(accounted_pages(*reopened.value()), reopened.value()->meta().page_count - 2);
}

TEST_P(PagerTest, PowerLossAtEveryOperationYieldsOldOrNewTree) {
  for (std::uint64_t nth = 1;; ++nth) {
    SCOPED_TRACE("fail and crash at operation " + std::to_string(nth));
    std::string name = "c" + std::to_string(nth) + ".pages";
    FaultFileSystem fs(rt->fs(), nth);
    Model old_model;
    Tree new_tree;
    Model new_model;
    {
      auto pager = open(fs, options(name));
      ASSERT_TRUE(pager.ok()) << pager.error().to_string();
      Tree tree = apply(pager.value()->tree(), 0, 200, "old", old_model);
      ASSERT_TRUE(run(pager.value()->commit(tree, 1)).ok());
      new_model = old_model;
      new_tree = apply(tree, 100, 260, "new", new_model);
      fs.reset_counts();
      fs.fail_nth(FaultOp::Any, nth, EIO, /*sticky=*/true);
      auto committed = run(pager.value()->commit(new_tree, 2));
      fs.clear_faults();
      if (committed.ok()) {
        // Past the last operation of a commit: the sweep is done.
        EXPECT_GT(nth, 3u);
        break;
      }
    }
    io::testing::CrashOptions crash;
    crash.keep_random_prefix = true;
    ASSERT_TRUE(run(fs.crash(crash)).ok());
    auto reopened = open(fs, options(name));
    ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
    Model got = contents(reopened.value()->tree());
    EXPECT_TRUE(got == old_model || got == new_model) << "a mix of the two trees";
  }
}

TEST_P(PagerTest, BitFlipIsCorruptionNamingFileAndOffset) {
  PagerOptions o = options("d.pages");
  std::uint64_t root_page = 0;
  {
    auto pager = open(rt->fs(), o);
    ASSERT_TRUE(pager.ok());
    Model model;
    ASSERT_TRUE(run(pager.value()->commit(apply(pager.value()->tree(), 0, 100, "x", model), 1)).ok());
    root_page = pager.value()->meta().root.page_id;
  }
  // Damage a byte inside the committed root node.
  const std::uint64_t at = root_page * 4096 + 100;
  {
    std::fstream f(o.path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(at));
    c = static_cast<char>(c ^ 0x04);
    f.write(&c, 1);
  }
  auto reopened = open(rt->fs(), o);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, ErrorCode::Corruption);
  EXPECT_NE(reopened.error().message.find(o.path + " offset " + std::to_string(root_page * 4096)), std::string::npos) << reopened.error().message;
}

ORBIT_INSTANTIATE_ON_BOTH_IO_BACKENDS(PagerTest);

}  // namespace
}  // namespace orbit::cow_btree
