// The envelope every block of an SSTable is stored in: the (optionally
// compressed) contents followed by a 5-byte trailer, one byte naming the
// compression and a masked CRC32C of the stored bytes and that byte.
//
// Promises: decode(encode(c, t)) == c for every compression t. Any change to
// the stored bytes or trailer is reported as Corruption naming the file and
// the block's offset, before any decompression is attempted; a block that
// passes its checksum but fails to decompress is Corruption too. Encoding
// keeps a compressed form only when it saves at least 1/8 of the bytes;
// otherwise the block is stored uncompressed (type None).
// Byte layout: FORMAT.md, "Block envelope". Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engines/lsm/block_reader.hpp"
#include "orbit/result.hpp"

namespace orbit::lsm {

enum class CompressionType : std::uint8_t {
  None = 0,
  Lz4 = 1,
  Zstd = 2,
};

inline constexpr std::size_t kBlockTrailerSize = 5;  // type byte + fixed32 masked CRC32C

// Largest uncompressed block a reader accepts (a bound on the allocation a
// corrupt length could ask for).
inline constexpr std::uint64_t kMaxBlockContentsSize = 64u << 20;

// Stored bytes + trailer for `contents`, ready to be written.
std::string encode_block(std::string_view contents, CompressionType compression);

// `stored` is exactly what encode_block produced (payload and trailer), as
// read from `where`. Returns the original contents.
Result<std::string> decode_block(std::string_view stored, const BlockLocation& where);

}  // namespace orbit::lsm
