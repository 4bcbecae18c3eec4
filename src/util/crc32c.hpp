// CRC32C (Castagnoli), the checksum of every record, block and page on disk.
//
// Hardware (SSE4.2 crc32 instruction) when the CPU has it, a table otherwise;
// both give the same values (RFC 3720 test vectors in tests/util).
// mask()/unmask() follow LevelDB: a CRC stored next to data that itself
// contains CRCs is masked so that a CRC of a CRC does not look valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace orbit::crc32c {

// CRC of data, continuing from `crc` (0 to start).
std::uint32_t extend(std::uint32_t crc, const void* data, std::size_t size) noexcept;
inline std::uint32_t value(const void* data, std::size_t size) noexcept { return extend(0, data, size); }
inline std::uint32_t value(std::string_view data) noexcept { return extend(0, data.data(), data.size()); }
inline std::uint32_t value(std::span<const std::byte> data) noexcept { return extend(0, data.data(), data.size()); }

// The two implementations behind extend(), for tests and benchmarks; both
// give identical results. extend() picks hardware once, at first use, when
// hardware_available().
std::uint32_t extend_portable(std::uint32_t crc, const void* data, std::size_t size) noexcept;
// REQUIRES: hardware_available()
std::uint32_t extend_hardware(std::uint32_t crc, const void* data, std::size_t size) noexcept;
// True on x86-64 CPUs with SSE4.2 (checked at run time).
bool hardware_available() noexcept;

inline constexpr std::uint32_t kMaskDelta = 0xa282ead8u;
inline constexpr std::uint32_t mask(std::uint32_t crc) noexcept { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline constexpr std::uint32_t unmask(std::uint32_t masked) noexcept {
  std::uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace orbit::crc32c
