// Goal: the lease encoding round-trips every field exactly (NUL bytes, empty
// and maximal strings, pre-epoch and extreme times), matches the byte layout
// in src/codec/FORMAT.md, and turns every damaged input (bit flip, truncation,
// trailing bytes, unknown version, over-long field) into a Corruption error
// naming the field and the offset.
#include "src/codec/lease_codec.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace orbit::codec {
namespace {

using std::chrono::nanoseconds;

SystemTime at_nanos(std::int64_t n) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(nanoseconds(n)));
}

Lease sample_lease() {
  Lease lease;
  lease.key.actor_id = Uuid::from_u64(0x0102030405060708ull);
  lease.key.actor_type = "Greeter";
  lease.node_id = "node-7";
  lease.expires_at = at_nanos(1'700'000'000'123'456'789);
  lease.lease_duration = Millis(30'000);
  lease.version = 42;
  lease.metadata.created_at = at_nanos(1'699'999'000'000'000'001);
  lease.metadata.last_renewed = at_nanos(1'699'999'970'123'456'789);
  lease.metadata.renewal_count = 41;
  lease.metadata.custom_data = R"({"region":"eu"})";
  return lease;
}

void expect_round_trip(const Lease& lease) {
  std::string bytes = encode_lease(lease);
  EXPECT_EQ(bytes.size(), encoded_lease_size(lease));
  auto decoded = decode_lease(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(decoded.value(), lease);
}

// Builds an encoding by hand from FORMAT.md, with a correct checksum, so that
// tests can make inputs the encoder refuses to make (over-long fields).
std::string hand_encode(std::uint8_t version, std::string_view actor_type, std::string_view node_id,
                        std::string_view custom_data, std::string_view trailing = {}) {
  std::string out;
  out.push_back(static_cast<char>(version));
  out.append(16, '\x11');
  coding::put_length_prefixed(out, actor_type);
  coding::put_length_prefixed(out, node_id);
  coding::put_fixed64(out, 5);
  coding::put_varint64(out, 6);
  coding::put_varint64(out, 7);
  coding::put_fixed64(out, 8);
  coding::put_fixed64(out, 9);
  coding::put_varint64(out, 10);
  coding::put_length_prefixed(out, custom_data);
  coding::put_fixed32(out, crc32c::mask(crc32c::value(out)));
  out.append(trailing);
  return out;
}

TEST(LeaseCodec, RoundTripSample) { expect_round_trip(sample_lease()); }

TEST(LeaseCodec, RoundTripDefaultLease) { expect_round_trip(Lease{}); }

TEST(LeaseCodec, RoundTripCreatedByLeaseCreateAndRenew) {
  Lease lease = Lease::create(ActorKey{Uuid::random(), "Counter"}, "n1", Millis(1500));
  expect_round_trip(lease);
  lease.renew(Millis(2500));
  expect_round_trip(lease);
}

TEST(LeaseCodec, RoundTripNulBytesInsideStrings) {
  Lease lease = sample_lease();
  lease.key.actor_type = std::string("a\0b\0", 4);
  lease.node_id = std::string("\0\0node\0", 7);
  lease.metadata.custom_data = std::string("\0{\0}\xff", 5);
  expect_round_trip(lease);
}

TEST(LeaseCodec, RoundTripEmptyStrings) {
  Lease lease = sample_lease();
  lease.key.actor_type.clear();
  lease.node_id.clear();
  lease.metadata.custom_data.clear();
  expect_round_trip(lease);
}

TEST(LeaseCodec, RoundTripMaximalSizes) {
  Lease lease = sample_lease();
  lease.key.actor_type.assign(kMaxActorTypeBytes, 't');
  lease.node_id.assign(kMaxNodeIdBytes, '\xff');
  lease.metadata.custom_data.assign(kMaxCustomDataBytes, 'x');
  lease.version = std::numeric_limits<std::uint64_t>::max();
  lease.metadata.renewal_count = std::numeric_limits<std::uint64_t>::max();
  lease.lease_duration = Millis(std::numeric_limits<Millis::rep>::max());
  expect_round_trip(lease);
}

TEST(LeaseCodec, RoundTripPreEpochAndExtremeTimes) {
  Lease lease = sample_lease();
  lease.expires_at = at_nanos(-1);
  lease.metadata.created_at = at_nanos(std::numeric_limits<std::int64_t>::min());
  lease.metadata.last_renewed = at_nanos(std::numeric_limits<std::int64_t>::max());
  lease.lease_duration = Millis(std::numeric_limits<Millis::rep>::min());
  expect_round_trip(lease);
  lease.expires_at = at_nanos(-86'400'000'000'000'123);  // 1969-12-31, odd nanoseconds
  lease.lease_duration = Millis(-1);
  expect_round_trip(lease);
}

TEST(LeaseCodec, RoundTripRandomLeases) {
  const std::uint64_t seed = 1234;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto random_string = [&](std::size_t max) {
    std::string s(rng() % (max + 1), '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    Lease lease;
    for (auto& b : lease.key.actor_id.bytes) b = static_cast<std::uint8_t>(rng());
    lease.key.actor_type = random_string(kMaxActorTypeBytes);
    lease.node_id = random_string(kMaxNodeIdBytes);
    lease.expires_at = at_nanos(static_cast<std::int64_t>(rng()));
    lease.lease_duration = Millis(static_cast<std::int64_t>(rng() >> (rng() % 64)));
    lease.version = rng() >> (rng() % 64);
    lease.metadata.created_at = at_nanos(static_cast<std::int64_t>(rng()));
    lease.metadata.last_renewed = at_nanos(static_cast<std::int64_t>(rng()));
    lease.metadata.renewal_count = rng() >> (rng() % 64);
    lease.metadata.custom_data = random_string(300);
    ASSERT_NO_FATAL_FAILURE(expect_round_trip(lease)) << "lease " << i;
  }
}

TEST(LeaseCodec, EncodeAppendsToExistingBuffer) {
  std::string out = "prefix";
  Lease lease = sample_lease();
  encode_lease(lease, out);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(out.substr(6), encode_lease(lease));
}

// A decoder written from FORMAT.md alone agrees with the encoder, byte by byte.
TEST(LeaseCodec, ByteLayoutMatchesFormatDocument) {
  Lease lease = sample_lease();
  std::string bytes = encode_lease(lease);
  std::string expected;
  expected.push_back('\x01');                              // format version
  expected.append("\x01\x02\x03\x04\x05\x06\x07\x08", 0);  // (nothing)
  expected.append(8, '\0');                                // uuid bytes 0..7
  expected.append("\x01\x02\x03\x04\x05\x06\x07\x08", 8);  // uuid bytes 8..15
  expected.append(
      "\x07"
      "Greeter");  // actor_type
  expected.append(
      "\x06"
      "node-7");                                                // node_id
  coding::put_fixed64(expected, 1'700'000'000'123'456'789ull);  // expires_at ns
  expected.append("\xe0\xd4\x03");                              // zigzag(30000) = 60000
  expected.push_back(42);                                       // version
  coding::put_fixed64(expected, 1'699'999'000'000'000'001ull);  // created_at ns
  coding::put_fixed64(expected, 1'699'999'970'123'456'789ull);  // last_renewed ns
  expected.push_back(41);                                       // renewal_count
  expected.append(
      "\x0f"
      R"({"region":"eu"})");                                             // custom_data
  coding::put_fixed32(expected, crc32c::mask(crc32c::value(expected)));  // masked CRC32C
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(bytes.size(), 81u);
}

TEST(LeaseCodec, NegativeDurationIsZigZag) {
  Lease lease = sample_lease();
  lease.lease_duration = Millis(-1);
  std::string bytes = encode_lease(lease);
  // zigzag(-1) = 1: one byte at the lease_duration offset (1+16+8+7+8 = 40).
  EXPECT_EQ(bytes[40], '\x01');
  expect_round_trip(lease);
}

void expect_corruption(std::string_view bytes, std::string_view message) {
  auto decoded = decode_lease(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::Corruption);
  EXPECT_EQ(decoded.error().message, message);
}

TEST(LeaseCodec, EmptyInput) {
  expect_corruption("", "lease encoding: offset 0 (format_version): truncated (needs 1 bytes, 0 remain)");
}

TEST(LeaseCodec, UnknownVersion) {
  std::string bytes = encode_lease(sample_lease());
  bytes[0] = 2;
  expect_corruption(
      bytes,
      "lease encoding: offset 0 (format_version): unknown format version 2 (this build reads version 1)");
  bytes[0] = 0;
  expect_corruption(
      bytes,
      "lease encoding: offset 0 (format_version): unknown format version 0 (this build reads version 1)");
}

TEST(LeaseCodec, BadChecksumMessage) {
  std::string bytes = encode_lease(sample_lease());
  std::uint32_t stored = crc32c::unmask(coding::decode_fixed32(bytes.data() + bytes.size() - 4));
  bytes[20] ^= 0x20;  // inside actor_type: same length, different text
  std::uint32_t computed = crc32c::value(bytes.data(), bytes.size() - 4);
  char expected[160];
  std::snprintf(expected, sizeof expected,
                "lease encoding: offset 77 (checksum): bad checksum (stored 0x%08x, computed 0x%08x)", stored,
                computed);
  expect_corruption(bytes, expected);
}

TEST(LeaseCodec, TrailingBytes) {
  std::string bytes = encode_lease(sample_lease());
  bytes += "xyz";
  expect_corruption(bytes, "lease encoding: offset 81 (after checksum): 3 trailing bytes");
}

TEST(LeaseCodec, OverLongFieldsNameFieldAndOffset) {
  std::string long_type(kMaxActorTypeBytes + 1, 'a');
  expect_corruption(hand_encode(1, long_type, "n", "{}"),
                    "lease encoding: offset 17 (actor_type): length 256 exceeds the limit of 255 bytes");
  std::string long_node(kMaxNodeIdBytes + 1, 'n');
  expect_corruption(hand_encode(1, "T", long_node, "{}"),
                    "lease encoding: offset 19 (node_id): length 256 exceeds the limit of 255 bytes");
  std::string long_data(kMaxCustomDataBytes + 1, 'd');
  // 1 + 16 + 2 ("T") + 2 ("n") + 8 + 1 + 1 + 8 + 8 + 1 = 48
  expect_corruption(hand_encode(1, "T", "n", long_data),
                    "lease encoding: offset 48 (custom_data): length 65537 exceeds the limit of 65536 bytes");
  // At the limits exactly, the hand-made encoding decodes.
  auto ok =
      decode_lease(hand_encode(1, std::string(255, 'a'), std::string(255, 'b'), std::string(65536, 'c')));
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->metadata.custom_data.size(), 65536u);
  EXPECT_EQ(ok->lease_duration, Millis(3));  // zigzag 6 -> 3
  EXPECT_EQ(ok->version, 7u);
}

TEST(LeaseCodec, HugeLengthIsRejectedBeforeAllocation) {
  std::string bytes(1, '\x01');
  bytes.append(16, '\0');
  coding::put_varint64(bytes, std::numeric_limits<std::uint64_t>::max());
  expect_corruption(
      bytes,
      "lease encoding: offset 17 (actor_type): length 18446744073709551615 exceeds the limit of 255 "
      "bytes");
}

TEST(LeaseCodec, TruncationAtEveryLengthIsCorruption) {
  std::string bytes = encode_lease(sample_lease());
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    auto decoded = decode_lease(std::string_view(bytes).substr(0, cut));
    ASSERT_FALSE(decoded.ok()) << "cut at " << cut;
    EXPECT_EQ(decoded.error().code, ErrorCode::Corruption);
    EXPECT_NE(decoded.error().message.find("truncated"), std::string::npos)
        << "cut at " << cut << ": " << decoded.error().message;
  }
  // Spot checks naming the field in which the input ends.
  expect_corruption(std::string_view(bytes).substr(0, 10),
                    "lease encoding: offset 1 (actor_id): truncated (needs 16 bytes, 9 remain)");
  expect_corruption(std::string_view(bytes).substr(0, 20),
                    "lease encoding: offset 17 (actor_type): truncated (length 7, 2 bytes remain)");
  expect_corruption(std::string_view(bytes).substr(0, 17),
                    "lease encoding: offset 17 (actor_type): truncated or malformed varint");
  expect_corruption(std::string_view(bytes).substr(0, 33),
                    "lease encoding: offset 32 (expires_at): truncated (needs 8 bytes, 1 remain)");
  expect_corruption(std::string_view(bytes).substr(0, 78),
                    "lease encoding: offset 77 (checksum): truncated (needs 4 bytes, 1 remain)");
}

TEST(LeaseCodec, EverySingleBitFlipIsDetected) {
  for (const Lease& lease : {sample_lease(), Lease{}}) {
    std::string bytes = encode_lease(lease);
    for (std::size_t byte = 0; byte < bytes.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string damaged = bytes;
        damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
        auto decoded = decode_lease(damaged);
        ASSERT_FALSE(decoded.ok()) << "flip of byte " << byte << " bit " << bit << " went unnoticed";
        EXPECT_EQ(decoded.error().code, ErrorCode::Corruption);
        EXPECT_EQ(decoded.error().message.rfind("lease encoding: offset ", 0), 0u) << decoded.error().message;
      }
    }
  }
}

TEST(LeaseCodec, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(77);
  std::string valid = encode_lease(sample_lease());
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = valid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (bytes == valid) continue;
    auto decoded = decode_lease(bytes);
    if (decoded.ok()) ADD_FAILURE() << "damaged encoding decoded, iteration " << i;
  }
}

}  // namespace
}  // namespace orbit::codec
