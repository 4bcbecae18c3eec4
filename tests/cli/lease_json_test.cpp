// Goal: the JSON lease line and the export framing round-trip every lease
// exactly (any bytes in the strings, any time), and bad lines are rejected
// with a message naming the field.
#include <gtest/gtest.h>

#include "tests/cli/cli_test_support.hpp"
#include "tools/orbit-cli/lease_json.hpp"

namespace orbit::cli {
namespace {

TEST(LeaseJson, RoundTripsVariedLeasesExactly) {
  for (const Lease& lease : cli_test::make_leases(5000, 7)) {
    std::string line;
    append_lease_json(lease, line);
    ASSERT_EQ(line.find('\n'), std::string::npos);
    auto back = parse_lease_json(line);
    ASSERT_TRUE(back) << back.error().message << "\n" << line;
    EXPECT_EQ(*back, lease) << line;
    std::string again;
    append_lease_json(*back, again);
    EXPECT_EQ(again, line);  // deterministic: equal leases, equal bytes
  }
}

TEST(LeaseJson, NonUtf8BytesUseBase64) {
  Lease lease;
  lease.key = ActorKey(Uuid::from_u64(1), "T");
  lease.node_id = "n";
  lease.metadata.custom_data = std::string("\xc3\x28", 2);  // invalid UTF-8
  std::string line;
  append_lease_json(lease, line);
  EXPECT_NE(line.find("\"custom_data\":{\"base64\":\"wyg=\"}"), std::string::npos) << line;
}

TEST(LeaseJson, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
}

TEST(LeaseJson, Base64RoundTripsAllLengths) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    auto back = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, bytes);
    bytes += static_cast<char>(i * 37);
  }
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab=c"));
  EXPECT_FALSE(base64_decode("a*cd"));
}

TEST(LeaseJson, BadLinesNameTheProblem) {
  struct Case {
    std::string line;
    std::string expect;
  };
  const std::string ok_tail =
      R"("node_id":"n","expires_at":1,"lease_duration_ms":1,"version":1,"created_at":0,"last_renewed":0,"renewal_count":0,"custom_data":""})";
  const std::vector<Case> cases{
      {"{\"actor_type\":", "malformed JSON"},
      {"[1,2]", "expected a JSON object"},
      {R"({"actor_id":"00000000-0000-0000-0000-000000000001",)" + ok_tail, "missing field \"actor_type\""},
      {R"({"actor_type":"A","actor_id":"nope",)" + ok_tail, "is not a UUID"},
      {R"({"actor_type":"A","actor_id":"00000000-0000-0000-0000-000000000001","extra":1,)" + ok_tail,
       "unknown field \"extra\""},
      {R"({"actor_type":"A","actor_id":"00000000-0000-0000-0000-000000000001","node_id":"n","expires_at":"x","lease_duration_ms":1,"version":1,"created_at":0,"last_renewed":0,"renewal_count":0,"custom_data":""})",
       "field \"expires_at\" must be an integer"},
      {R"({"actor_type":"A","actor_id":"00000000-0000-0000-0000-000000000001","node_id":"n","expires_at":1,"lease_duration_ms":1,"version":-1,"created_at":0,"last_renewed":0,"renewal_count":0,"custom_data":""})",
       "field \"version\" must be a non-negative integer"},
      {R"({"actor_type":{"base64":"!!"},"actor_id":"00000000-0000-0000-0000-000000000001",)" + ok_tail,
       "invalid base64"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_lease_json(c.line);
    ASSERT_FALSE(parsed) << c.line;
    EXPECT_NE(parsed.error().message.find(c.expect), std::string::npos) << parsed.error().message;
  }
}

TEST(LeaseJson, HeaderAndTrailer) {
  ExportHeader h;
  h.source_backend = "RocksDb";
  h.count = 42;
  auto back = parse_header_json(header_json(h));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->source_backend, "RocksDb");
  EXPECT_EQ(back->count, 42u);
  EXPECT_FALSE(parse_header_json(R"({"format":"other","version":1})"));
  EXPECT_FALSE(parse_header_json(R"({"format":"orbit-leases","version":2})"));
  auto end = parse_trailer_json(trailer_json(9));
  ASSERT_TRUE(end && *end);
  EXPECT_EQ(end->value(), 9u);
  EXPECT_FALSE(parse_trailer_json(R"({"actor_type":"end"})"));
}

}  // namespace
}  // namespace orbit::cli
