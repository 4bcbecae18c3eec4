// Goal: a meta page round-trips, any damage makes the slot invalid (never a
// wrong root), and open's choice is the valid slot with the larger txn id.
#include "engines/cow_btree/meta.hpp"

#include <gtest/gtest.h>

namespace orbit::cow_btree {
namespace {

Meta sample(std::uint64_t txn) {
  Meta m;
  m.page_size = 4096;
  m.txn_id = txn;
  m.lsn = 1000 + txn;
  m.root = PageRef{5, 1, 0x1234};
  m.free_list = PageRef{7, 2, 0x5678};
  m.page_count = 40;
  m.entry_count = 77;
  m.max_keys_per_node = 64;
  return m;
}

TEST(Meta, RoundTrips) {
  std::string page = encode_meta(sample(3));
  ASSERT_EQ(page.size(), 4096u);
  auto decoded = decode_meta(page);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, sample(3));
}

TEST(Meta, AnyBitFlipInvalidatesTheSlot) {
  std::string page = encode_meta(sample(3));
  for (std::size_t bit = 0; bit < kMetaSize * 8; ++bit) {
    std::string damaged = page;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    std::string why;
    EXPECT_FALSE(decode_meta(damaged, &why).has_value()) << "bit " << bit;
    EXPECT_FALSE(why.empty());
  }
  EXPECT_FALSE(decode_meta(std::string(4096, '\0')).has_value());
  EXPECT_FALSE(decode_meta(page.substr(0, 40)).has_value());
}

TEST(Meta, PickNewestPrefersLargerValidTxn) {
  auto a = decode_meta(encode_meta(sample(4)));
  auto b = decode_meta(encode_meta(sample(5)));
  EXPECT_EQ(pick_newest(a, b)->txn_id, 5u);
  EXPECT_EQ(pick_newest(b, a)->txn_id, 5u);
  EXPECT_EQ(pick_newest(a, std::nullopt)->txn_id, 4u);
  EXPECT_EQ(pick_newest(std::nullopt, b)->txn_id, 5u);
  EXPECT_FALSE(pick_newest(std::nullopt, std::nullopt).has_value());
}

}  // namespace
}  // namespace orbit::cow_btree
