// Goal: CRC32C gives the published values, the hardware and table paths agree
// on every length and alignment, extend() composes, and mask() round-trips.
#include "src/util/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace orbit::crc32c {
namespace {

TEST(Crc32c, Rfc3720Vectors) {
  // RFC 3720 appendix B.4 and the common check value.
  std::string zeros(32, '\0');
  std::string ones(32, '\xff');
  std::string ascending(32, '\0'), descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(value(zeros), 0x8a9136aau);
  EXPECT_EQ(value(ones), 0x62a8ab43u);
  EXPECT_EQ(value(ascending), 0x46dd794eu);
  EXPECT_EQ(value(descending), 0x113fdb5cu);
  EXPECT_EQ(value(std::string_view("123456789")), 0xe3069283u);
  EXPECT_EQ(value(std::string_view("")), 0u);
}

TEST(Crc32c, Rfc3720IscsiReadCommand) {
  // RFC 3720 B.4: an iSCSI read command PDU, CRC 0xd9963a56.
  const unsigned char pdu[48] = {0x01, 0xc0, 0, 0, 0, 0, 0,    0, 0,    0, 0, 0,    0, 0, 0, 0,
                                 0x14, 0,    0, 0, 0, 0, 0x04, 0, 0,    0, 0, 0x14, 0, 0, 0, 0x18,
                                 0x28, 0,    0, 0, 0, 0, 0,    0, 0x02, 0, 0, 0,    0, 0, 0, 0};
  EXPECT_EQ(value(pdu, sizeof pdu), 0xd9963a56u);
  EXPECT_EQ(extend_portable(0, pdu, sizeof pdu), 0xd9963a56u);
}

TEST(Crc32c, PortablePathMatchesVectors) {
  EXPECT_EQ(extend_portable(0, "123456789", 9), 0xe3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(extend_portable(0, zeros.data(), zeros.size()), 0x8a9136aau);
  if (hardware_available()) {
    EXPECT_EQ(extend_hardware(0, "123456789", 9), 0xe3069283u);
    EXPECT_EQ(extend_hardware(0, zeros.data(), zeros.size()), 0x8a9136aau);
  }
}

TEST(Crc32c, SpanOverloadMatches) {
  std::string s = "hello, lease";
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(s.data()), s.size());
  EXPECT_EQ(value(bytes), value(s));
  EXPECT_EQ(value(s.data(), s.size()), value(s));
}

TEST(Crc32c, HardwareAndTableAgreeOnRandomBuffers) {
  if (!hardware_available()) GTEST_SKIP() << "CPU has no SSE4.2: only the table path exists";
  const std::uint64_t seed = 20261124;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::vector<unsigned char> buffer(4096 + 64);
  for (auto& b : buffer) b = static_cast<unsigned char>(rng());
  for (int round = 0; round < 5000; ++round) {
    std::size_t offset = rng() % 64;                    // every alignment
    std::size_t length = rng() % (buffer.size() - 64);  // every length mod 8, up to 4 KiB
    std::uint32_t start = (round % 3 == 0) ? 0u : static_cast<std::uint32_t>(rng());
    const unsigned char* p = buffer.data() + offset;
    ASSERT_EQ(extend_hardware(start, p, length), extend_portable(start, p, length))
        << "offset " << offset << " length " << length << " start " << start;
  }
  // Every small length at every alignment, exhaustively.
  for (std::size_t offset = 0; offset < 16; ++offset)
    for (std::size_t length = 0; length <= 64; ++length)
      ASSERT_EQ(extend_hardware(0, buffer.data() + offset, length),
                extend_portable(0, buffer.data() + offset, length));
}

TEST(Crc32c, ExtendComposes) {
  std::mt19937_64 rng(7);
  std::string data(1000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  std::uint32_t whole = value(data);
  for (std::size_t split = 0; split <= data.size(); split += 37) {
    std::uint32_t first = value(data.data(), split);
    EXPECT_EQ(extend(first, data.data() + split, data.size() - split), whole) << "split " << split;
    EXPECT_EQ(
        extend_portable(extend_portable(0, data.data(), split), data.data() + split, data.size() - split),
        whole);
  }
}

TEST(Crc32c, DifferentDataDifferentCrc) {
  EXPECT_NE(value(std::string_view("a")), value(std::string_view("foo")));
  EXPECT_NE(value(std::string_view("lease-1")), value(std::string_view("lease-2")));
}

TEST(Crc32c, MaskRoundTripsAndChangesValue) {
  std::uint32_t crc = value(std::string_view("foo"));
  EXPECT_NE(crc, mask(crc));
  EXPECT_NE(crc, mask(mask(crc)));
  EXPECT_EQ(crc, unmask(mask(crc)));
  EXPECT_EQ(crc, unmask(unmask(mask(mask(crc)))));
  std::mt19937 rng(11);
  for (int i = 0; i < 10000; ++i) {
    std::uint32_t v = static_cast<std::uint32_t>(rng());
    ASSERT_EQ(unmask(mask(v)), v);
  }
  static_assert(unmask(mask(0u)) == 0u);
  static_assert(mask(0u) == kMaskDelta);
}

}  // namespace
}  // namespace orbit::crc32c
