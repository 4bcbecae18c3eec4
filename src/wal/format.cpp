#include "src/wal/format.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace orbit::wal {

std::string encode_segment_header(const SegmentHeader& header) {
  std::string out(kSegmentMagic, sizeof(kSegmentMagic));
  coding::put_fixed32(out, kFormatVersion);
  coding::put_fixed64(out, header.segment_number);
  coding::put_fixed64(out, header.first_lsn);
  coding::put_fixed32(out, crc32c::mask(crc32c::value(out.data(), out.size())));
  return out;
}

HeaderState decode_segment_header(std::string_view bytes, SegmentHeader& out, std::string* why) {
  auto fail = [&](const char* reason) {
    if (why) *why = reason;
    return HeaderState::Invalid;
  };
  bool all_zero = coding::is_zero(bytes.substr(0, kSegmentHeaderSize));
  if (all_zero || bytes.size() < kSegmentHeaderSize) {
    if (!all_zero && bytes.size() < kSegmentHeaderSize &&
        std::memcmp(bytes.data(), kSegmentMagic, std::min(bytes.size(), sizeof(kSegmentMagic))) != 0) {
      return fail("short segment header with a bad magic");
    }
    if (why) *why = "segment header not written";
    return HeaderState::Uninitialized;
  }
  if (std::memcmp(bytes.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) return fail("bad segment magic");
  std::uint32_t stored = crc32c::unmask(coding::decode_fixed32(bytes.data() + 28));
  if (stored != crc32c::value(bytes.data(), 28)) return fail("segment header checksum mismatch");
  std::uint32_t version = coding::decode_fixed32(bytes.data() + 8);
  if (version != kFormatVersion) return fail("unsupported segment format version");
  out.segment_number = coding::decode_fixed64(bytes.data() + 12);
  out.first_lsn = coding::decode_fixed64(bytes.data() + 20);
  return HeaderState::Valid;
}

std::string segment_file_name(std::uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06" PRIu64 ".wal", number);
  return buf;
}

std::string free_segment_file_name(std::uint64_t number) { return segment_file_name(number) + ".free"; }

namespace {
std::optional<std::uint64_t> parse_number_with_suffix(std::string_view name, std::string_view suffix) {
  if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) return std::nullopt;
  std::string_view digits = name.substr(0, name.size() - suffix.size());
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}
}  // namespace

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  return parse_number_with_suffix(name, ".wal");
}
bool is_free_segment_file_name(std::string_view name) {
  constexpr std::string_view kSuffix = ".wal.free";
  return name.size() > kSuffix.size() && name.substr(name.size() - kSuffix.size()) == kSuffix &&
         name.find('/') == std::string_view::npos;
}

std::optional<std::uint64_t> parse_free_segment_file_name(std::string_view name) {
  return parse_number_with_suffix(name, ".wal.free");
}

}  // namespace orbit::wal
