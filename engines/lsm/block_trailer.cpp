#include "engines/lsm/block_trailer.hpp"

#include <lz4.h>
#include <zstd.h>

#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace orbit::lsm {
namespace {

constexpr int kZstdLevel = 3;

Error corruption(const BlockLocation& where, std::string_view what) {
  return make_error(ErrorCode::Corruption, "sstable " + where.file + " block at offset " +
                                               std::to_string(where.offset) + ": " + std::string(what));
}

// Compressed payload: varint64 uncompressed size, then the codec's bytes.
// Returns false when the codec fails.
bool compress(std::string_view contents, CompressionType type, std::string& out) {
  coding::put_varint64(out, contents.size());
  std::size_t header = out.size();
  if (type == CompressionType::Lz4) {
    if (contents.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return false;
    int bound = LZ4_compressBound(static_cast<int>(contents.size()));
    out.resize(header + static_cast<std::size_t>(bound));
    int written =
        LZ4_compress_default(contents.data(), out.data() + header, static_cast<int>(contents.size()), bound);
    if (written <= 0) return false;
    out.resize(header + static_cast<std::size_t>(written));
    return true;
  }
  std::size_t bound = ZSTD_compressBound(contents.size());
  out.resize(header + bound);
  std::size_t written =
      ZSTD_compress(out.data() + header, bound, contents.data(), contents.size(), kZstdLevel);
  if (ZSTD_isError(written)) return false;
  out.resize(header + written);
  return true;
}

}  // namespace

std::string encode_block(std::string_view contents, CompressionType compression) {
  std::string stored;
  if (compression != CompressionType::None) {
    std::string compressed;
    if (compress(contents, compression, compressed) &&
        compressed.size() < contents.size() - contents.size() / 8) {
      stored = std::move(compressed);
    } else {
      compression = CompressionType::None;
    }
  }
  if (compression == CompressionType::None) stored.assign(contents);
  auto type = static_cast<char>(compression);
  std::uint32_t crc = crc32c::extend(crc32c::value(stored.data(), stored.size()), &type, 1);
  stored.push_back(type);
  coding::put_fixed32(stored, crc32c::mask(crc));
  return stored;
}

Result<std::string> decode_block(std::string_view stored, const BlockLocation& where) {
  if (stored.size() < kBlockTrailerSize) return corruption(where, "block shorter than its trailer");
  std::string_view payload = stored.substr(0, stored.size() - kBlockTrailerSize);
  char type = stored[payload.size()];
  std::uint32_t expected = crc32c::unmask(coding::decode_fixed32(stored.data() + payload.size() + 1));
  std::uint32_t actual = crc32c::extend(crc32c::value(payload.data(), payload.size()), &type, 1);
  if (actual != expected) return corruption(where, "block checksum mismatch");

  auto compression = static_cast<CompressionType>(static_cast<std::uint8_t>(type));
  if (compression == CompressionType::None) return std::string(payload);
  if (compression != CompressionType::Lz4 && compression != CompressionType::Zstd) {
    return corruption(where, "unknown compression type " + std::to_string(static_cast<std::uint8_t>(type)));
  }
  coding::Reader reader(payload);
  std::uint64_t size = 0;
  if (!reader.get_varint64(size) || size > kMaxBlockContentsSize) {
    return corruption(where, "bad uncompressed size");
  }
  std::string_view body = reader.rest();
  std::string contents(static_cast<std::size_t>(size), '\0');
  if (compression == CompressionType::Lz4) {
    int got = LZ4_decompress_safe(body.data(), contents.data(), static_cast<int>(body.size()),
                                  static_cast<int>(contents.size()));
    if (got < 0 || static_cast<std::uint64_t>(got) != size)
      return corruption(where, "lz4 block does not decompress");
  } else {
    std::size_t got = ZSTD_decompress(contents.data(), contents.size(), body.data(), body.size());
    if (ZSTD_isError(got) || got != size) return corruption(where, "zstd block does not decompress");
  }
  return contents;
}

}  // namespace orbit::lsm
