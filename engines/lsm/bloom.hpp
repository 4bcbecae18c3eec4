// Bloom filter: a compact set of keys that answers "maybe present" or
// "certainly absent", so a point lookup can skip an SSTable without reading
// a data block.
//
// Hashing: one XXH3_64bits per key, then double hashing (Kirsch and
// Mitzenmacher) derives the k probe positions h1 + i*h2 from that single
// hash. k = round(bits_per_key * ln 2), clamped to [1, 30], which minimises
// the false-positive rate (about 0.82% at 10 bits per key).
//
// Promises: a key added to the builder always probes true (no false
// negatives). A filter that fails to parse (too short, k out of range)
// probes true: a damaged filter costs a read, never a lost key.
// The byte layout is in FORMAT.md. Builder: one thread; may_contain: any.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace orbit::lsm {

class BloomFilterBuilder {
 public:
  // REQUIRES: bits_per_key >= 1
  explicit BloomFilterBuilder(std::uint32_t bits_per_key);

  // Remembers the key's hash (8 bytes per key, not the key).
  void add_key(std::string_view key);
  std::size_t key_count() const noexcept { return hashes_.size(); }

  // The filter for every key added so far; the builder may be reused after
  // reset().
  std::string finish() const;
  void reset() { hashes_.clear(); }

  std::uint32_t bits_per_key() const noexcept { return bits_per_key_; }
  std::uint32_t probe_count() const noexcept { return probes_; }

 private:
  std::uint32_t bits_per_key_;
  std::uint32_t probes_;
  std::vector<std::uint64_t> hashes_;
};

// True when `key` may be in the set `filter` was built from.
bool bloom_may_contain(std::string_view filter, std::string_view key) noexcept;

// The hash the filter uses (exposed for tests and FORMAT.md's example).
std::uint64_t bloom_hash(std::string_view key) noexcept;

}  // namespace orbit::lsm
