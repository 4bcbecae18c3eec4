#include "engines/lsm/sstable_footer.hpp"

#include "engines/lsm/block_trailer.hpp"
#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace orbit::lsm {
namespace {

Error corruption(const std::string& file, std::uint64_t offset, std::string_view what) {
  return make_error(ErrorCode::Corruption,
                    "sstable " + file + " offset " + std::to_string(offset) + ": " + std::string(what));
}

bool handle_fits(const BlockHandle& handle, std::uint64_t begin, std::uint64_t end) {
  return handle.offset >= begin && handle.offset <= end && handle.size <= end - handle.offset &&
         handle.size + kBlockTrailerSize <= end - handle.offset;
}

}  // namespace

void append_block_handle(std::string& out, const BlockHandle& handle) {
  coding::put_varint64(out, handle.offset);
  coding::put_varint64(out, handle.size);
}

bool decode_block_handle(std::string_view in, BlockHandle& out) {
  coding::Reader reader(in);
  return reader.get_varint64(out.offset) && reader.get_varint64(out.size) && reader.remaining() == 0;
}

std::string encode_sstable_header() {
  std::string out;
  coding::put_fixed64(out, kSstableMagic);
  coding::put_fixed32(out, kSstableFormatVersion);
  coding::put_fixed32(out, crc32c::mask(crc32c::value(out)));
  return out;
}

std::string encode_sstable_footer(const SstableFooter& footer) {
  std::string out;
  coding::put_fixed64(out, footer.index.offset);
  coding::put_fixed64(out, footer.index.size);
  coding::put_fixed64(out, footer.filter.offset);
  coding::put_fixed64(out, footer.filter.size);
  coding::put_fixed64(out, footer.entry_count);
  coding::put_fixed32(out, footer.format_version);
  coding::put_fixed32(out, crc32c::mask(crc32c::value(out)));
  coding::put_fixed64(out, kSstableMagic);
  return out;
}

Status check_sstable_header(std::string_view bytes, const std::string& file) {
  if (bytes.size() != kSstableHeaderSize) return corruption(file, 0, "header truncated");
  if (coding::decode_fixed64(bytes.data()) != kSstableMagic)
    return corruption(file, 0, "not an sstable (bad magic)");
  std::uint32_t stored = crc32c::unmask(coding::decode_fixed32(bytes.data() + 12));
  if (stored != crc32c::value(bytes.data(), 12)) return corruption(file, 0, "header checksum mismatch");
  std::uint32_t version = coding::decode_fixed32(bytes.data() + 8);
  if (version != kSstableFormatVersion) {
    return corruption(file, 8,
                      "format version " + std::to_string(version) + " (this build reads " +
                          std::to_string(kSstableFormatVersion) + ")");
  }
  return {};
}

Result<SstableFooter> decode_sstable_footer(std::string_view bytes, const std::string& file,
                                            std::uint64_t offset) {
  if (bytes.size() != kSstableFooterSize) return corruption(file, offset, "footer truncated");
  if (coding::decode_fixed64(bytes.data() + 48) != kSstableMagic) {
    return corruption(file, offset + 48, "not an sstable (bad footer magic)");
  }
  std::uint32_t stored = crc32c::unmask(coding::decode_fixed32(bytes.data() + 44));
  if (stored != crc32c::value(bytes.data(), 44)) return corruption(file, offset, "footer checksum mismatch");
  SstableFooter footer;
  const char* p = bytes.data();
  footer.index = {coding::decode_fixed64(p), coding::decode_fixed64(p + 8)};
  footer.filter = {coding::decode_fixed64(p + 16), coding::decode_fixed64(p + 24)};
  footer.entry_count = coding::decode_fixed64(p + 32);
  footer.format_version = coding::decode_fixed32(p + 40);
  if (footer.format_version != kSstableFormatVersion) {
    return corruption(file, offset + 40,
                      "format version " + std::to_string(footer.format_version) + " (this build reads " +
                          std::to_string(kSstableFormatVersion) + ")");
  }
  if (!handle_fits(footer.index, kSstableHeaderSize, offset)) {
    return corruption(file, offset, "index handle outside the file");
  }
  if (footer.filter.size != 0 && !handle_fits(footer.filter, kSstableHeaderSize, offset)) {
    return corruption(file, offset + 16, "filter handle outside the file");
  }
  return footer;
}

}  // namespace orbit::lsm
