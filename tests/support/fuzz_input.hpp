// FuzzInput: reads the structure a fuzz target builds from libFuzzer's bytes.
// Past the end every read answers zeros (or empty), so any input is usable.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace orbit::test_support {

struct FuzzInput {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;

  bool more() const { return pos < size; }
  std::uint8_t u8() { return pos < size ? data[pos++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(u8()) << (8 * i);
    return v;
  }
  // Up to `max` bytes, the count taken from the input first.
  std::string bytes(std::size_t max) {
    std::size_t n = std::min<std::size_t>(u8() % (max + 1), size - pos);
    std::string out(reinterpret_cast<const char*>(data + pos), n);
    pos += n;
    return out;
  }
  std::string_view rest() const { return {reinterpret_cast<const char*>(data + pos), size - pos}; }
};

}  // namespace orbit::test_support
