// Goal: fixed-width and varint coding round-trip at every boundary, the byte
// layout is little-endian (big-endian where documented), and Reader never
// reads past the end of its input nor accepts an over-long varint.
#include "src/util/coding.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

namespace orbit::coding {
namespace {

TEST(Coding, Fixed16RoundTripAndLayout) {
  std::string out;
  put_fixed16(out, 0x1234);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x34);
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 0x12);
  for (std::uint32_t v : {0u, 1u, 255u, 256u, 0x7FFFu, 0x8000u, 0xFFFFu}) {
    std::string s;
    put_fixed16(s, static_cast<std::uint16_t>(v));
    EXPECT_EQ(decode_fixed16(s.data()), v);
  }
}

TEST(Coding, Fixed32RoundTripAndLayout) {
  std::string out;
  put_fixed32(out, 0x01020304u);
  EXPECT_EQ(out, std::string("\x04\x03\x02\x01", 4));
  char raw[4];
  encode_fixed32(raw, 0x01020304u);
  EXPECT_EQ(std::string(raw, 4), out);
  for (std::uint32_t v = 0; v < 100000; v += 7) {
    std::string s;
    put_fixed32(s, v * 40503u);
    ASSERT_EQ(decode_fixed32(s.data()), v * 40503u);
  }
  std::string max;
  put_fixed32(max, 0xFFFFFFFFu);
  EXPECT_EQ(decode_fixed32(max.data()), 0xFFFFFFFFu);
}

TEST(Coding, Fixed64RoundTripAndLayout) {
  std::string out;
  put_fixed64(out, 0x0102030405060708ull);
  EXPECT_EQ(out, std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  char raw[8];
  encode_fixed64(raw, 0x0102030405060708ull);
  EXPECT_EQ(std::string(raw, 8), out);
  for (int power = 0; power < 64; ++power) {
    std::uint64_t v = 1ull << power;
    for (std::uint64_t x : {v - 1, v, v + 1}) {
      std::string s;
      put_fixed64(s, x);
      ASSERT_EQ(decode_fixed64(s.data()), x);
    }
  }
}

TEST(Coding, BigEndian64RoundTripAndOrder) {
  std::string out;
  put_big_endian64(out, 0x0102030405060708ull);
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(decode_big_endian64(out.data()), 0x0102030405060708ull);
  // Bytewise order of the encodings equals numeric order.
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    std::uint64_t a = rng() >> (rng() % 64), b = rng() >> (rng() % 64);
    std::string ea, eb;
    put_big_endian64(ea, a);
    put_big_endian64(eb, b);
    ASSERT_EQ(a < b, ea < eb) << a << " vs " << b;
    ASSERT_EQ(decode_big_endian64(ea.data()), a);
  }
}

TEST(Coding, Varint64RoundTripAtEveryBoundary) {
  std::vector<std::uint64_t> values = {
      0, 1, 127, 128, 255, 256, 16383, 16384, std::numeric_limits<std::uint64_t>::max()};
  for (int power = 0; power < 64; ++power) {
    std::uint64_t v = 1ull << power;
    values.push_back(v - 1);
    values.push_back(v);
    values.push_back(v + 1);
  }
  std::string buffer;
  for (auto v : values) put_varint64(buffer, v);
  Reader reader(buffer);
  for (auto v : values) {
    std::uint64_t got = 0;
    ASSERT_TRUE(reader.get_varint64(got));
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(Coding, VarintLengths) {
  auto length = [](std::uint64_t v) {
    std::string s;
    put_varint64(s, v);
    return s.size();
  };
  EXPECT_EQ(length(0), 1u);
  EXPECT_EQ(length(127), 1u);
  EXPECT_EQ(length(128), 2u);
  EXPECT_EQ(length((1ull << 14) - 1), 2u);
  EXPECT_EQ(length(1ull << 14), 3u);
  EXPECT_EQ(length(std::numeric_limits<std::uint64_t>::max()), 10u);
  std::string s;
  put_varint64(s, 300);
  EXPECT_EQ(s, std::string("\xAC\x02", 2));
}

TEST(Coding, ReaderRejectsTruncatedVarintAtEveryCut) {
  std::string full;
  put_varint64(full, std::numeric_limits<std::uint64_t>::max());
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    Reader reader(std::string_view(full).substr(0, cut));
    std::uint64_t v = 0;
    EXPECT_FALSE(reader.get_varint64(v)) << "cut " << cut;
  }
}

TEST(Coding, ReaderRejectsVarintOverflowing64Bits) {
  // Ten bytes whose last carries more than one bit: 2^64 or more.
  std::string too_big(9, '\xFF');
  too_big.push_back('\x02');
  Reader a(too_big);
  std::uint64_t v = 0;
  EXPECT_FALSE(a.get_varint64(v));
  // Eleven bytes with continuation bits: never terminates within 64 bits.
  std::string endless(11, '\x80');
  Reader b(endless);
  EXPECT_FALSE(b.get_varint64(v));
  // The largest legal ten-byte varint is accepted.
  std::string max(9, '\xFF');
  max.push_back('\x01');
  Reader c(max);
  ASSERT_TRUE(c.get_varint64(v));
  EXPECT_EQ(v, std::numeric_limits<std::uint64_t>::max());
}

TEST(Coding, ReaderFixedBoundsChecks) {
  std::string three("\x01\x02\x03", 3);
  Reader reader(three);
  std::uint32_t v32 = 0;
  std::uint64_t v64 = 0;
  EXPECT_FALSE(reader.get_fixed32(v32));
  EXPECT_FALSE(reader.get_fixed64(v64));
  EXPECT_EQ(reader.remaining(), 3u);  // failures consume nothing
  std::uint16_t v16 = 0;
  ASSERT_TRUE(reader.get_fixed16(v16));
  EXPECT_EQ(v16, 0x0201);
  EXPECT_FALSE(reader.get_fixed16(v16));
  std::uint8_t v8 = 0;
  ASSERT_TRUE(reader.get_u8(v8));
  EXPECT_EQ(v8, 3);
  EXPECT_FALSE(reader.get_u8(v8));
  EXPECT_EQ(reader.remaining(), 0u);
  EXPECT_EQ(reader.consumed_from(three), 3u);
}

TEST(Coding, ReaderSequentialMixedFields) {
  std::string buffer;
  put_fixed32(buffer, 0xDEADBEEF);
  put_varint64(buffer, 1234567);
  put_length_prefixed(buffer, std::string("a\0b", 3));
  put_fixed64(buffer, 42);
  Reader reader(buffer);
  std::uint32_t a = 0;
  std::uint64_t b = 0, d = 0;
  std::string_view c;
  ASSERT_TRUE(reader.get_fixed32(a));
  ASSERT_TRUE(reader.get_varint64(b));
  EXPECT_EQ(reader.consumed_from(buffer), 4u + 3u);
  ASSERT_TRUE(reader.get_length_prefixed(c, 100));
  ASSERT_TRUE(reader.get_fixed64(d));
  EXPECT_EQ(a, 0xDEADBEEFu);
  EXPECT_EQ(b, 1234567u);
  EXPECT_EQ(c, std::string_view("a\0b", 3));
  EXPECT_EQ(d, 42u);
  EXPECT_TRUE(reader.rest().empty());
}

TEST(Coding, LengthPrefixedLimitsAndTruncation) {
  std::string buffer;
  put_length_prefixed(buffer, "hello");
  {
    Reader r(buffer);
    std::string_view out;
    EXPECT_FALSE(r.get_length_prefixed(out, 4));  // longer than the caller's limit
  }
  {
    Reader r(buffer);
    std::string_view out;
    ASSERT_TRUE(r.get_length_prefixed(out, 5));
    EXPECT_EQ(out, "hello");
  }
  for (std::size_t cut = 0; cut < buffer.size(); ++cut) {
    Reader r(std::string_view(buffer).substr(0, cut));
    std::string_view out;
    EXPECT_FALSE(r.get_length_prefixed(out, 100)) << "cut " << cut;
  }
  std::string empty;
  put_length_prefixed(empty, "");
  Reader r(empty);
  std::string_view out = "x";
  ASSERT_TRUE(r.get_length_prefixed(out, 0));
  EXPECT_TRUE(out.empty());
}

TEST(Coding, GetBytes) {
  std::string buffer = "abcdef";
  Reader reader(buffer);
  std::string_view out;
  EXPECT_FALSE(reader.get_bytes(7, out));
  ASSERT_TRUE(reader.get_bytes(2, out));
  EXPECT_EQ(out, "ab");
  ASSERT_TRUE(reader.get_bytes(0, out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(reader.get_bytes(4, out));
  EXPECT_EQ(out, "cdef");
  EXPECT_FALSE(reader.get_bytes(1, out));
}

TEST(Coding, RandomRoundTrip) {
  const std::uint64_t seed = 99;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> values;
  std::string buffer;
  for (int i = 0; i < 5000; ++i) {
    std::uint64_t v = rng() >> (rng() % 64);
    values.push_back(v);
    if (i % 2)
      put_varint64(buffer, v);
    else
      put_fixed64(buffer, v);
  }
  Reader reader(buffer);
  for (int i = 0; i < 5000; ++i) {
    std::uint64_t v = 0;
    ASSERT_TRUE(i % 2 ? reader.get_varint64(v) : reader.get_fixed64(v));
    ASSERT_EQ(v, values[static_cast<std::size_t>(i)]);
  }
  EXPECT_EQ(reader.remaining(), 0u);
}

}  // namespace
}  // namespace orbit::coding
