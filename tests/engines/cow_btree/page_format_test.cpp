// Goal: leaf and branch nodes survive encode/decode byte for byte, big nodes
// spill over several pages, and any damage (a flipped bit, a stale or
// misdirected page, a truncated run) is a Corruption error naming the file
// and byte offset.
#include "engines/cow_btree/page_format.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "src/util/coding.hpp"

namespace orbit::cow_btree {
namespace {

constexpr std::size_t kPage = 4096;

PageRef ref_of(const std::string& run, std::uint64_t page_id) {
  return PageRef{page_id, static_cast<std::uint32_t>(run.size() / kPage), coding::decode_fixed32(run.data())};
}

std::vector<std::pair<std::string, std::string>> entries_of(const Node& node) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < node.entries.size(); ++i)
    out.emplace_back(std::string(node.entries.key(i)), std::string(node.entries.value(i)));
  return out;
}

Node leaf_with(int n, std::size_t value_size) {
  Node leaf;
  for (int i = 0; i < n; ++i) {
    leaf.entries.push_back("key-" + std::to_string(1000 + i), std::string(value_size, static_cast<char>('a' + i % 26)));
  }
  return leaf;
}

TEST(PageFormat, LeafRoundTrips) {
  Node leaf = leaf_with(64, 40);
  std::string run = encode_node(leaf, 7, kPage);
  ASSERT_EQ(run.size(), kPage);
  auto decoded = decode_node(run, ref_of(run, 7), kPage, "pages.db");
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_TRUE(decoded->node.leaf);
  EXPECT_EQ(entries_of(decoded->node), entries_of(leaf));
  EXPECT_EQ(decoded->node.disk, ref_of(run, 7));
}

TEST(PageFormat, BigLeafSpillsOverSeveralPages) {
  Node leaf = leaf_with(100, 300);
  std::uint32_t pages = pages_needed(leaf, kPage);
  EXPECT_GT(pages, 7u);
  std::string run = encode_node(leaf, 2, kPage);
  ASSERT_EQ(run.size(), pages * kPage);
  auto decoded = decode_node(run, ref_of(run, 2), kPage, "pages.db");
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(entries_of(decoded->node), entries_of(leaf));
}

TEST(PageFormat, BranchKeepsChildReferences) {
  Node branch;
  branch.leaf = false;
  for (int i = 0; i < 3; ++i) {
    auto child = std::make_shared<Node>();
    child->disk = PageRef{static_cast<std::uint64_t>(10 + i), 1, 0xabc0u + static_cast<std::uint32_t>(i)};
    branch.children.push_back(child);
  }
  branch.entries.push_back("m", {});
  branch.entries.push_back("t", {});
  std::string run = encode_node(branch, 20, kPage);
  auto decoded = decode_node(run, ref_of(run, 20), kPage, "pages.db");
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_FALSE(decoded->node.leaf);
  EXPECT_EQ(entries_of(decoded->node), entries_of(branch));
  ASSERT_EQ(decoded->children.size(), 3u);
  EXPECT_EQ(decoded->children[2], (PageRef{12, 1, 0xabc2u}));
}

TEST(PageFormat, EveryBitFlipIsCorruptionNamingFileAndOffset) {
  std::string run = encode_node(leaf_with(10, 8), 5, kPage);
  PageRef ref = ref_of(run, 5);
  for (std::size_t byte = 0; byte < run.size(); byte += 37) {
    std::string damaged = run;
    damaged[byte] = static_cast<char>(damaged[byte] ^ 0x10);
    auto decoded = decode_node(damaged, ref, kPage, "pages.db");
    ASSERT_FALSE(decoded.ok()) << "byte " << byte;
    EXPECT_EQ(decoded.error().code, ErrorCode::Corruption);
    EXPECT_NE(decoded.error().message.find("pages.db offset 20480"), std::string::npos) << decoded.error().message;
  }
}

TEST(PageFormat, StaleOrMisdirectedPageIsCaught) {
  std::string old_run = encode_node(leaf_with(3, 8), 5, kPage);
  std::string new_run = encode_node(leaf_with(4, 8), 5, kPage);
  // The parent expects the new node but the disk still holds the old one.
  auto stale = decode_node(old_run, ref_of(new_run, 5), kPage, "f");
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error().message.find("parent"), std::string::npos);
  // A valid page written at the wrong place: its checksum matches, its id does not.
  std::string elsewhere = encode_node(leaf_with(3, 8), 9, kPage);
  PageRef expected = ref_of(elsewhere, 5);
  auto misdirected = decode_node(elsewhere, expected, kPage, "f");
  ASSERT_FALSE(misdirected.ok());
  EXPECT_NE(misdirected.error().message.find("misdirected"), std::string::npos);
  auto short_run = decode_node(std::string_view(old_run).substr(0, 100), ref_of(old_run, 5), kPage, "f");
  EXPECT_FALSE(short_run.ok());
}

}  // namespace
}  // namespace orbit::cow_btree
