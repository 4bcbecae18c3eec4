#include "engines/lsm/bloom.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cassert>

#include "io/background.hpp"

namespace orbit::lsm {
namespace {

constexpr std::uint32_t kMaxProbes = 30;
constexpr std::size_t kMinBits = 64;

// Probe positions: h1 + i * h2 (mod bits), i = 0..k-1. h2 is the hash
// rotated by 32 bits and forced odd so that it is never 0 (which would put
// all k probes on one bit).
struct Probes {
  std::uint64_t h1;
  std::uint64_t h2;
  explicit Probes(std::uint64_t hash) : h1(hash), h2(((hash >> 32) | (hash << 32)) | 1) {}
  std::uint64_t bit(std::uint32_t i, std::uint64_t bits) const { return (h1 + i * h2) % bits; }
};

}  // namespace

std::uint64_t bloom_hash(std::string_view key) noexcept { return XXH3_64bits(key.data(), key.size()); }

BloomFilterBuilder::BloomFilterBuilder(std::uint32_t bits_per_key) : bits_per_key_(bits_per_key) {
  assert(bits_per_key >= 1);
  // k = bits_per_key * ln 2, rounded.
  auto k = static_cast<std::uint32_t>(bits_per_key * 0.69314718056 + 0.5);
  probes_ = std::clamp<std::uint32_t>(k, 1, kMaxProbes);
}

void BloomFilterBuilder::add_key(std::string_view key) { hashes_.push_back(bloom_hash(key)); }

std::string BloomFilterBuilder::finish() const {
  std::size_t bits = std::max<std::size_t>(hashes_.size() * bits_per_key_, kMinBits);
  std::size_t bytes = (bits + 7) / 8;
  bits = bytes * 8;
  std::string filter(bytes + 1, '\0');
  for (std::size_t n = 0; n < hashes_.size(); ++n) {
    if (n % 1024 == 1023) io::background_checkpoint();  // a table's filter: milliseconds of work
    Probes probes(hashes_[n]);
    for (std::uint32_t i = 0; i < probes_; ++i) {
      std::uint64_t bit = probes.bit(i, bits);
      filter[bit / 8] = static_cast<char>(static_cast<std::uint8_t>(filter[bit / 8]) | (1u << (bit % 8)));
    }
  }
  filter[bytes] = static_cast<char>(probes_);
  return filter;
}

bool bloom_may_contain(std::string_view filter, std::string_view key) noexcept {
  if (filter.size() < 2) return true;
  auto probes = static_cast<std::uint8_t>(filter.back());
  if (probes < 1 || probes > kMaxProbes) return true;
  std::uint64_t bits = (filter.size() - 1) * 8;
  Probes p(bloom_hash(key));
  for (std::uint32_t i = 0; i < probes; ++i) {
    std::uint64_t bit = p.bit(i, bits);
    if ((static_cast<std::uint8_t>(filter[bit / 8]) & (1u << (bit % 8))) == 0) return false;
  }
  return true;
}

}  // namespace orbit::lsm
