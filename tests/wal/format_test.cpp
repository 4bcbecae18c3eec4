// Goal: the bytes on disk are exactly what FORMAT.md says: segment headers,
// fragment framing across 32 KiB blocks, block trailers, file names.
#include "src/wal/format.hpp"

#include <gtest/gtest.h>

#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"
#include "src/wal/record_encoder.hpp"

namespace orbit::wal {
namespace {

struct Fragment {
  std::uint16_t length;
  std::uint8_t type;
  std::uint64_t lsn;
  std::uint64_t offset;
};

// A reference decoder written from FORMAT.md, independent of SegmentReader.
std::vector<Fragment> fragments_of(const std::string& bytes, std::uint64_t base) {
  std::vector<Fragment> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::uint64_t file_offset = base + pos;
    std::size_t left = kBlockSize - file_offset % kBlockSize;
    if (left < kFragmentHeaderSize) {
      for (std::size_t i = 0; i < left; ++i) EXPECT_EQ(bytes[pos + i], 0) << "trailer must be zero";
      pos += left;
      continue;
    }
    const char* p = bytes.data() + pos;
    Fragment f{coding::decode_fixed16(p + 4), static_cast<std::uint8_t>(p[6]), coding::decode_fixed64(p + 7),
               file_offset};
    EXPECT_LE(kFragmentHeaderSize + f.length, left) << "fragment crosses a block at " << file_offset;
    EXPECT_EQ(crc32c::unmask(coding::decode_fixed32(p)), crc32c::value(p + 4, 11 + f.length));
    out.push_back(f);
    pos += kFragmentHeaderSize + f.length;
  }
  return out;
}

TEST(WalFormat, SegmentHeaderRoundTrips) {
  std::string bytes = encode_segment_header({7, 12345});
  ASSERT_EQ(bytes.size(), kSegmentHeaderSize);
  SegmentHeader h;
  EXPECT_EQ(decode_segment_header(bytes, h), HeaderState::Valid);
  EXPECT_EQ(h.segment_number, 7u);
  EXPECT_EQ(h.first_lsn, 12345u);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x20;
    std::string why;
    EXPECT_EQ(decode_segment_header(bad, h, &why), HeaderState::Invalid) << "flipped byte " << i;
    EXPECT_FALSE(why.empty());
  }
  EXPECT_EQ(decode_segment_header(std::string(kSegmentHeaderSize, '\0'), h), HeaderState::Uninitialized);
  EXPECT_EQ(decode_segment_header("", h), HeaderState::Uninitialized);
  EXPECT_EQ(decode_segment_header(bytes.substr(0, 10), h), HeaderState::Uninitialized);
  EXPECT_EQ(decode_segment_header("garbage", h), HeaderState::Invalid);
}

TEST(WalFormat, FileNames) {
  EXPECT_EQ(segment_file_name(3), "000003.wal");
  EXPECT_EQ(segment_file_name(12345678), "12345678.wal");
  EXPECT_EQ(free_segment_file_name(3), "000003.wal.free");
  EXPECT_EQ(parse_segment_file_name("000003.wal"), 3u);
  EXPECT_EQ(parse_segment_file_name("000003.wal.free"), std::nullopt);
  EXPECT_EQ(parse_free_segment_file_name("000003.wal.free"), 3u);
  EXPECT_EQ(parse_segment_file_name("x3.wal"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name(".wal"), std::nullopt);
}

TEST(WalFormat, SmallRecordIsOneFullFragment) {
  std::string out;
  RecordEncoder encoder(out, kSegmentHeaderSize);
  encoder.add_record(42, "hello");
  ASSERT_EQ(out.size(), kFragmentHeaderSize + 5);
  auto f = fragments_of(out, kSegmentHeaderSize);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, static_cast<std::uint8_t>(FragmentKind::Full));
  EXPECT_EQ(f[0].lsn, 42u);
  EXPECT_EQ(f[0].length, 5);
}

TEST(WalFormat, RecordSpansBlocksAsFirstMiddleLast) {
  std::string out;
  RecordEncoder encoder(out, kSegmentHeaderSize);
  std::string payload(3 * kBlockSize, 'x');
  encoder.add_record(9, payload);
  auto f = fragments_of(out, kSegmentHeaderSize);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].type, static_cast<std::uint8_t>(FragmentKind::First));
  EXPECT_EQ(f[1].type, static_cast<std::uint8_t>(FragmentKind::Middle));
  EXPECT_EQ(f[2].type, static_cast<std::uint8_t>(FragmentKind::Middle));
  EXPECT_EQ(f[3].type, static_cast<std::uint8_t>(FragmentKind::Last));
  std::size_t total = 0;
  for (auto& x : f) {
    EXPECT_EQ(x.lsn, 9u);
    total += x.length;
  }
  EXPECT_EQ(total, payload.size());
  EXPECT_EQ(f[1].offset, kBlockSize);
  EXPECT_LE(out.size(), RecordEncoder::max_encoded_size(payload.size()));
}

TEST(WalFormat, ShortBlockTailIsZeroPadded) {
  std::string out;
  std::uint64_t start = kBlockSize - 10;  // room for no header
  RecordEncoder encoder(out, start);
  encoder.add_record(1, "abc");
  ASSERT_EQ(out.size(), 10 + kFragmentHeaderSize + 3);
  EXPECT_EQ(out.substr(0, 10), std::string(10, '\0'));
  auto f = fragments_of(out, start);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].offset, kBlockSize);
  // Exactly a header's room left: an empty FIRST fragment, then the rest.
  out.clear();
  RecordEncoder exact(out, kBlockSize - kFragmentHeaderSize);
  exact.add_record(2, "abc");
  f = fragments_of(out, kBlockSize - kFragmentHeaderSize);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].type, static_cast<std::uint8_t>(FragmentKind::First));
  EXPECT_EQ(f[0].length, 0);
  EXPECT_EQ(f[1].type, static_cast<std::uint8_t>(FragmentKind::Last));
}

TEST(WalFormat, BatchIsOneLogicalRecordWithCountAndEntries) {
  std::string out;
  RecordEncoder encoder(out, kSegmentHeaderSize);
  std::vector<std::string> entries{"a", "", std::string(300, 'b')};
  encoder.add_batch(100, entries);
  auto f = fragments_of(out, kSegmentHeaderSize);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, static_cast<std::uint8_t>(FragmentKind::Full) | kBatchFlag);
  EXPECT_EQ(f[0].length, RecordEncoder::batch_payload_size(entries));
  coding::Reader in(std::string_view(out).substr(kFragmentHeaderSize));
  std::uint64_t count = 0;
  ASSERT_TRUE(in.get_varint64(count));
  EXPECT_EQ(count, 3u);
  for (const auto& e : entries) {
    std::string_view got;
    ASSERT_TRUE(in.get_length_prefixed(got, 1000));
    EXPECT_EQ(got, e);
  }
}

}  // namespace
}  // namespace orbit::wal
