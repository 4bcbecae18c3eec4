#include "engines/lsm/format.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "src/util/coding.hpp"

namespace orbit::lsm {

void encode_internal_key(char* out, std::string_view user_key, SequenceNumber sequence, ValueType type) {
  assert(sequence <= kMaxSequenceNumber);
  if (!user_key.empty()) std::memcpy(out, user_key.data(), user_key.size());
  coding::encode_fixed64(out + user_key.size(), (sequence << 8) | static_cast<std::uint8_t>(type));
}

void append_internal_key(std::string& out, std::string_view user_key, SequenceNumber sequence,
                         ValueType type) {
  const std::size_t at = out.size();
  out.resize(at + user_key.size() + kInternalKeyTagSize);
  encode_internal_key(out.data() + at, user_key, sequence, type);
}

std::string make_internal_key(std::string_view user_key, SequenceNumber sequence, ValueType type) {
  std::string out;
  out.reserve(user_key.size() + kInternalKeyTagSize);
  append_internal_key(out, user_key, sequence, type);
  return out;
}

bool parse_internal_key(std::string_view internal_key, ParsedInternalKey& out) {
  if (internal_key.size() < kInternalKeyTagSize) return false;
  std::uint64_t tag = coding::decode_fixed64(internal_key.data() + internal_key.size() - kInternalKeyTagSize);
  auto type = static_cast<std::uint8_t>(tag & 0xff);
  if (type > static_cast<std::uint8_t>(ValueType::Put)) return false;
  out.user_key = extract_user_key(internal_key);
  out.sequence = tag >> 8;
  out.type = static_cast<ValueType>(type);
  return true;
}

// Eight bytes at a time, without a call to memcmp: the keys of one table
// share long prefixes (the key layout's tag and actor type), and a point
// lookup compares a few dozen of them (index seek, restart search, scan).
int bytewise_compare(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) {
      if constexpr (std::endian::native == std::endian::little) {
        x = __builtin_bswap64(x);
        y = __builtin_bswap64(y);
      }
      return x < y ? -1 : 1;
    }
  }
  for (; i < n; ++i) {
    const auto ca = static_cast<unsigned char>(a[i]), cb = static_cast<unsigned char>(b[i]);
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

int internal_key_compare(std::string_view a, std::string_view b) noexcept {
  if (a.size() < kInternalKeyTagSize || b.size() < kInternalKeyTagSize) return bytewise_compare(a, b);
  int c = bytewise_compare(extract_user_key(a), extract_user_key(b));
  if (c != 0) return c;
  // Larger tag (newer sequence, then higher type) first.
  std::uint64_t ta = coding::decode_fixed64(a.data() + a.size() - kInternalKeyTagSize);
  std::uint64_t tb = coding::decode_fixed64(b.data() + b.size() - kInternalKeyTagSize);
  if (ta > tb) return -1;
  if (ta < tb) return 1;
  return 0;
}

}  // namespace orbit::lsm
