// The fixed-size pieces at the two ends of an SSTable file: the header that
// opens it (magic + format version) and the footer that closes it (where
// the index and filter blocks are, how many entries the file holds, the
// format version again, a checksum, and the magic). Also BlockHandle, the
// (offset, size) pointer the index stores for each data block.
//
// Promises: decode_* rejects, as Corruption naming the file and offset, any
// footer or header whose magic, version or checksum is wrong, and any
// handle that points outside the file's block region.
// Byte layouts: FORMAT.md. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "orbit/result.hpp"

namespace orbit::lsm {

// On disk (little-endian) the eight bytes read "ORBITLS1".
inline constexpr std::uint64_t kSstableMagic = 0x31534c544942524full;
inline constexpr std::uint32_t kSstableFormatVersion = 1;
inline constexpr std::size_t kSstableHeaderSize = 16;
inline constexpr std::size_t kSstableFooterSize = 56;

// A stored block: `size` is the payload without the 5-byte trailer.
struct BlockHandle {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};
void append_block_handle(std::string& out, const BlockHandle& handle);  // two varint64s
// False on malformed bytes.
bool decode_block_handle(std::string_view in, BlockHandle& out);

struct SstableFooter {
  BlockHandle index;
  BlockHandle filter;  // size 0: the file has no filter
  std::uint64_t entry_count = 0;
  std::uint32_t format_version = kSstableFormatVersion;
};

std::string encode_sstable_header();
std::string encode_sstable_footer(const SstableFooter& footer);

// `bytes` is the header as read from offset 0 of `file`.
Status check_sstable_header(std::string_view bytes, const std::string& file);
// `bytes` is the footer as read from `offset` (= file_size - footer size).
// Also checks both handles (plus trailers) lie in [header end, offset).
Result<SstableFooter> decode_sstable_footer(std::string_view bytes, const std::string& file,
                                            std::uint64_t offset);

}  // namespace orbit::lsm
