// Lease encoding, version 1. The byte layout is specified in FORMAT.md; this
// file is its only writer and reader, and the two must change together.
//
// Decoding parses every field with bounds checks first and verifies the
// checksum last, so that a short or over-long input is reported as such (with
// the field it ends in) rather than as a bad checksum, and so that no length
// read from the bytes is trusted beyond its documented limit.
#include "src/codec/lease_codec.hpp"

#include <cassert>
#include <chrono>
#include <cstdio>
#include <optional>

#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace orbit::codec {
namespace {

using std::chrono::nanoseconds;
using coding::varint_length;

// Times travel as signed nanoseconds since the Unix epoch: exact for
// system_clock on Linux (whose tick is 1 ns) and covering 1677..2262.
std::int64_t to_nanos(SystemTime t) {
  return std::chrono::duration_cast<nanoseconds>(t.time_since_epoch()).count();
}
SystemTime from_nanos(std::int64_t n) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(nanoseconds(n)));
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}


constexpr std::size_t kChecksumBytes = 4;

// Parses `bytes` field by field, remembering where each field starts so
// that every error names the field and its offset.
class LeaseDecoder {
 public:
  explicit LeaseDecoder(std::string_view bytes) : whole_(bytes), reader_(bytes) {}

  // Fills `lease` field by field; the first problem, if any.
  std::optional<Error> decode_into(Lease& lease) {
    std::uint8_t format = 0;
    begin("format_version");
    if (!reader_.get_u8(format)) return truncated(1);
    if (format != kLeaseFormatVersion)
      return fail("unknown format version " + std::to_string(format) + " (this build reads version " +
                  std::to_string(kLeaseFormatVersion) + ")");

    begin("actor_id");
    std::string_view id;
    if (!reader_.get_bytes(16, id)) return truncated(16);
    for (std::size_t i = 0; i < 16; ++i) lease.key.actor_id.bytes[i] = static_cast<std::uint8_t>(id[i]);

    if (auto r = string_field("actor_type", kMaxActorTypeBytes, lease.key.actor_type); !r)
      return std::move(r).error();
    if (auto r = string_field("node_id", kMaxNodeIdBytes, lease.node_id); !r) return std::move(r).error();

    std::uint64_t raw = 0;
    begin("expires_at");
    if (!reader_.get_fixed64(raw)) return truncated(8);
    lease.expires_at = from_nanos(static_cast<std::int64_t>(raw));

    begin("lease_duration");
    if (!reader_.get_varint64(raw)) return bad_varint();
    lease.lease_duration = Millis(unzigzag(raw));

    begin("version");
    if (!reader_.get_varint64(lease.version)) return bad_varint();

    begin("created_at");
    if (!reader_.get_fixed64(raw)) return truncated(8);
    lease.metadata.created_at = from_nanos(static_cast<std::int64_t>(raw));

    begin("last_renewed");
    if (!reader_.get_fixed64(raw)) return truncated(8);
    lease.metadata.last_renewed = from_nanos(static_cast<std::int64_t>(raw));

    begin("renewal_count");
    if (!reader_.get_varint64(lease.metadata.renewal_count)) return bad_varint();

    if (auto r = string_field("custom_data", kMaxCustomDataBytes, lease.metadata.custom_data); !r)
      return std::move(r).error();

    begin("checksum");
    const std::size_t covered = offset_;
    std::uint32_t stored = 0;
    if (!reader_.get_fixed32(stored)) return truncated(kChecksumBytes);
    if (reader_.remaining() != 0) {
      begin("after checksum");
      return fail(std::to_string(reader_.remaining()) + " trailing bytes");
    }
    const std::uint32_t computed = crc32c::value(whole_.data(), covered);
    if (crc32c::unmask(stored) != computed) {
      char detail[96];
      std::snprintf(detail, sizeof detail, "bad checksum (stored 0x%08x, computed 0x%08x)",
                    crc32c::unmask(stored), computed);
      return fail(detail);
    }
    return std::nullopt;
  }

 private:
  void begin(const char* field) {
    field_ = field;
    offset_ = reader_.consumed_from(whole_);
  }

  Error fail(const std::string& what) const {
    return make_error(ErrorCode::Corruption, "lease encoding: offset " + std::to_string(offset_) + " (" +
                                                 std::string(field_) + "): " + what);
  }
  Error truncated(std::size_t needed) const {
    return fail("truncated (needs " + std::to_string(needed) + " bytes, " +
                std::to_string(reader_.remaining()) + " remain)");
  }
  Error bad_varint() const { return fail("truncated or malformed varint"); }

  Result<void> string_field(const char* field, std::size_t limit, std::string& out) {
    begin(field);
    std::uint64_t length = 0;
    if (!reader_.get_varint64(length)) return bad_varint();
    if (length > limit)
      return fail("length " + std::to_string(length) + " exceeds the limit of " + std::to_string(limit) +
                  " bytes");
    std::string_view bytes;
    if (!reader_.get_bytes(static_cast<std::size_t>(length), bytes))
      return fail("truncated (length " + std::to_string(length) + ", " + std::to_string(reader_.remaining()) +
                  " bytes remain)");
    out.assign(bytes);
    return {};
  }

  std::string_view whole_;
  coding::Reader reader_;
  const char* field_ = "";
  std::size_t offset_ = 0;
};

}  // namespace

std::size_t encoded_lease_size(const Lease& lease) {
  const auto& key = lease.key;
  const auto& meta = lease.metadata;
  return 1 + 16 + varint_length(key.actor_type.size()) + key.actor_type.size() +
         varint_length(lease.node_id.size()) + lease.node_id.size() + 8 +
         varint_length(zigzag(lease.lease_duration.count())) + varint_length(lease.version) + 8 + 8 +
         varint_length(meta.renewal_count) + varint_length(meta.custom_data.size()) +
         meta.custom_data.size() + kChecksumBytes;
}

void encode_lease(const Lease& lease, std::string& out) {
  // The store rejects leases over the limits before they reach the codec.
  assert(lease.key.actor_type.size() <= kMaxActorTypeBytes);
  assert(lease.node_id.size() <= kMaxNodeIdBytes);
  assert(lease.metadata.custom_data.size() <= kMaxCustomDataBytes);

  const std::size_t start = out.size();
  out.reserve(start + encoded_lease_size(lease));
  out.push_back(static_cast<char>(kLeaseFormatVersion));
  out.append(reinterpret_cast<const char*>(lease.key.actor_id.bytes.data()), lease.key.actor_id.bytes.size());
  coding::put_length_prefixed(out, lease.key.actor_type);
  coding::put_length_prefixed(out, lease.node_id);
  coding::put_fixed64(out, static_cast<std::uint64_t>(to_nanos(lease.expires_at)));
  coding::put_varint64(out, zigzag(lease.lease_duration.count()));
  coding::put_varint64(out, lease.version);
  coding::put_fixed64(out, static_cast<std::uint64_t>(to_nanos(lease.metadata.created_at)));
  coding::put_fixed64(out, static_cast<std::uint64_t>(to_nanos(lease.metadata.last_renewed)));
  coding::put_varint64(out, lease.metadata.renewal_count);
  coding::put_length_prefixed(out, lease.metadata.custom_data);
  coding::put_fixed32(out, crc32c::mask(crc32c::value(out.data() + start, out.size() - start)));
  assert(out.size() - start == encoded_lease_size(lease));
}

std::string encode_lease(const Lease& lease) {
  std::string out;
  encode_lease(lease, out);
  return out;
}

Result<Lease> decode_lease(std::string_view bytes) {
  // Decoded in place and returned as one object: a lease moved is three
  // strings copied, and every point read decodes one.
  Result<Lease> out{Lease()};
  if (auto error = LeaseDecoder(bytes).decode_into(out.value())) out = Result<Lease>(std::move(*error));
  return out;
}

}  // namespace orbit::codec
