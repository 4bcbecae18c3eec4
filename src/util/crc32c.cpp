// CRC32C: a byte-at-a-time table (slice-by-4) everywhere, and the SSE4.2
// crc32 instruction where the CPU has it.
//
// Both implementations work on the reflected polynomial 0x82F63B78 with the
// usual pre- and post-inversion, so extend(0, "123456789") == 0xE3069283.
// The choice is made once: __builtin_cpu_supports reads CPUID, and the
// hardware function is compiled with target("sse4.2") so the rest of the
// build needs no -msse4.2 and still runs on older CPUs.
#include "src/util/crc32c.hpp"

#include <array>
#include <cstring>

namespace orbit::crc32c {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78u;  // Castagnoli, reflected

// kTables[0] is the classic byte table; kTables[k][b] is the CRC of byte b
// followed by k zero bytes, which lets the loop fold four bytes at a time.
constexpr std::array<std::array<std::uint32_t, 256>, 4> make_tables() {
  std::array<std::array<std::uint32_t, 256>, 4> tables{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomial : 0u);
    tables[0][b] = crc;
  }
  for (std::uint32_t b = 0; b < 256; ++b) {
    for (std::size_t k = 1; k < 4; ++k) {
      std::uint32_t prev = tables[k - 1][b];
      tables[k][b] = (prev >> 8) ^ tables[0][prev & 0xFF];
    }
  }
  return tables;
}

constexpr auto kTables = make_tables();

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t extend_sse42(std::uint32_t crc, const void* data,
                                                             std::size_t size) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t state = ~crc;
  // Byte steps until p is 8-aligned, so the wide loads below are aligned.
  while (size > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7u) != 0) {
    state = __builtin_ia32_crc32qi(static_cast<std::uint32_t>(state), *p++);
    --size;
  }
  while (size >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    state = __builtin_ia32_crc32di(state, word);
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    state = __builtin_ia32_crc32qi(static_cast<std::uint32_t>(state), *p++);
    --size;
  }
  return ~static_cast<std::uint32_t>(state);
}
#endif

using ExtendFn = std::uint32_t (*)(std::uint32_t, const void*, std::size_t) noexcept;

ExtendFn choose() noexcept { return hardware_available() ? &extend_hardware : &extend_portable; }

}  // namespace

std::uint32_t extend_portable(std::uint32_t crc, const void* data, std::size_t size) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t state = ~crc;
  while (size >= 4) {
    // Little-endian composition by hand: correct on any host byte order.
    state ^= static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
             static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
    state = kTables[3][state & 0xFF] ^ kTables[2][(state >> 8) & 0xFF] ^ kTables[1][(state >> 16) & 0xFF] ^
            kTables[0][state >> 24];
    p += 4;
    size -= 4;
  }
  while (size > 0) {
    state = (state >> 8) ^ kTables[0][(state ^ *p++) & 0xFF];
    --size;
  }
  return ~state;
}

std::uint32_t extend_hardware(std::uint32_t crc, const void* data, std::size_t size) noexcept {
#if defined(__x86_64__)
  return extend_sse42(crc, data, size);
#else
  return extend_portable(crc, data, size);
#endif
}

bool hardware_available() noexcept {
#if defined(__x86_64__)
  // __builtin_cpu_init is needed when this runs before main (static init).
  static const bool available = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return available;
#else
  return false;
#endif
}

std::uint32_t extend(std::uint32_t crc, const void* data, std::size_t size) noexcept {
  static const ExtendFn fn = choose();
  return fn(crc, data, size);
}

}  // namespace orbit::crc32c
