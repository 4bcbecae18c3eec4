// Fuzz target (libFuzzer): the LSM decoders of bytes read from disk (block
// envelope, block contents with restart array, SSTable header and footer,
// bloom filter probes) on arbitrary input. Goal: no crash, no sanitizer
// report, iteration always terminates, and every failure is Corruption.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engines/lsm/block_reader.hpp"
#include "engines/lsm/block_trailer.hpp"
#include "engines/lsm/bloom.hpp"
#include "engines/lsm/sstable_footer.hpp"

namespace {

using namespace orbit::lsm;

void walk(std::string contents, KeyCompare compare) {
  auto block = Block::parse(std::move(contents), {"fuzz.sst", 0}, compare);
  if (!block.ok()) {
    if (block.code() != orbit::ErrorCode::Corruption) std::abort();
    return;
  }
  Block::Iterator it(block.value());
  std::size_t steps = 0;
  for (it.seek_to_first(); it.valid(); it.next()) {
    // Every entry consumes at least three bytes.
    if (++steps > block.value()->size()) std::abort();
  }
  if (!it.status().ok() && it.status().code() != orbit::ErrorCode::Corruption) std::abort();
  Block::Iterator seeker(block.value());
  seeker.seek(make_internal_key("lease/k", 7, ValueType::Put));
  if (!seeker.status().ok() && seeker.status().code() != orbit::ErrorCode::Corruption) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  auto decoded = decode_block(bytes, {"fuzz.sst", 0});
  if (decoded.ok()) {
    walk(decoded.value(), internal_key_compare);
  } else if (decoded.code() != orbit::ErrorCode::Corruption) {
    std::abort();
  }
  walk(std::string(bytes), internal_key_compare);
  walk(std::string(bytes), bytewise_compare);

  if (size >= kSstableFooterSize) {
    auto footer = decode_sstable_footer(bytes.substr(0, kSstableFooterSize), "fuzz.sst", 1u << 20);
    if (!footer.ok() && footer.code() != orbit::ErrorCode::Corruption) std::abort();
  }
  if (size >= kSstableHeaderSize) (void)check_sstable_header(bytes.substr(0, kSstableHeaderSize), "fuzz.sst");
  (void)bloom_may_contain(bytes, "lease/k");
  return 0;
}
