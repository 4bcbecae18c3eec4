// Little-endian fixed-width and LEB128 varint coding into std::string buffers,
// and a bounds-checked reader for decoding bytes that came from disk or the
// network: every get_* returns false instead of reading past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace orbit::coding {

// True if every byte of `bytes` is zero (an empty range is).
inline bool is_zero(std::string_view bytes) {
  return bytes.empty() || (bytes[0] == 0 && std::memcmp(bytes.data(), bytes.data() + 1, bytes.size() - 1) == 0);
}

inline void put_fixed16(std::string& out, std::uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.append(b, 2);
}
inline void put_fixed32(std::string& out, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 4);
}
inline void put_fixed64(std::string& out, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}
inline void encode_fixed32(char* dst, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void encode_fixed64(char* dst, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline std::uint16_t decode_fixed16(const char* p) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(p[0]) | static_cast<std::uint8_t>(p[1]) << 8);
}
inline std::uint32_t decode_fixed32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[i])) << (8 * i);
  return v;
}
inline std::uint64_t decode_fixed64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[i])) << (8 * i);
  return v;
}
// Big-endian: keys whose bytewise order must match numeric order.
inline void put_big_endian64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
inline std::uint64_t decode_big_endian64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<std::uint8_t>(p[i]);
  return v;
}

inline std::size_t varint_length(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
inline void put_varint64(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
inline void put_length_prefixed(std::string& out, std::string_view s) {
  put_varint64(out, s.size());
  out.append(s);
}

// Reads from a byte range; each get_* consumes on success and returns false
// (consuming nothing meaningful) when the input is too short or malformed.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::size_t remaining() const noexcept { return in_.size(); }
  std::size_t consumed_from(std::string_view whole) const noexcept {
    return static_cast<std::size_t>(in_.data() - whole.data());
  }
  std::string_view rest() const noexcept { return in_; }

  bool get_u8(std::uint8_t& v) {
    if (in_.empty()) return false;
    v = static_cast<std::uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool get_fixed16(std::uint16_t& v) { return take(2, [&](const char* p) { v = decode_fixed16(p); }); }
  bool get_fixed32(std::uint32_t& v) { return take(4, [&](const char* p) { v = decode_fixed32(p); }); }
  bool get_fixed64(std::uint64_t& v) { return take(8, [&](const char* p) { v = decode_fixed64(p); }); }
  bool get_varint64(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) return false;
      auto byte = static_cast<std::uint8_t>(in_[0]);
      in_.remove_prefix(1);
      if (shift == 63 && byte > 1) return false;  // overflows 64 bits
      v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  }
  bool get_bytes(std::size_t n, std::string_view& out) {
    if (in_.size() < n) return false;
    out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool get_length_prefixed(std::string_view& out, std::uint64_t max_length) {
    std::uint64_t n = 0;
    if (!get_varint64(n) || n > max_length) return false;
    return get_bytes(static_cast<std::size_t>(n), out);
  }

 private:
  template <typename F>
  bool take(std::size_t n, F&& f) {
    if (in_.size() < n) return false;
    f(in_.data());
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

}  // namespace orbit::coding
