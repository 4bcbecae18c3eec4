// Fixed little-endian fields followed by a masked CRC32C of everything before it.
#include "engines/cow_btree/meta.hpp"

#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace orbit::cow_btree {
namespace {

void put_ref(std::string& out, const PageRef& ref) {
  coding::put_fixed64(out, ref.page_id);
  coding::put_fixed32(out, ref.page_count);
  coding::put_fixed32(out, ref.checksum);
}

bool get_ref(coding::Reader& in, PageRef& ref) {
  return in.get_fixed64(ref.page_id) && in.get_fixed32(ref.page_count) && in.get_fixed32(ref.checksum);
}

}  // namespace

std::string encode_meta(const Meta& meta) {
  std::string out;
  out.reserve(meta.page_size);
  coding::put_fixed64(out, kMetaMagic);
  coding::put_fixed32(out, meta.format_version);
  coding::put_fixed32(out, meta.page_size);
  coding::put_fixed64(out, meta.txn_id);
  coding::put_fixed64(out, meta.lsn);
  put_ref(out, meta.root);
  put_ref(out, meta.free_list);
  coding::put_fixed64(out, meta.page_count);
  coding::put_fixed64(out, meta.entry_count);
  coding::put_fixed32(out, meta.max_keys_per_node);
  coding::put_fixed32(out, crc32c::mask(crc32c::value(out.data(), out.size())));
  out.resize(meta.page_size < kMetaSize ? kMetaSize : meta.page_size, '\0');
  return out;
}

std::optional<Meta> decode_meta(std::string_view bytes, std::string* why) {
  auto fail = [why](const char* reason) -> std::optional<Meta> {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  if (bytes.size() < kMetaSize) return fail("short meta page");
  std::uint32_t stored = coding::decode_fixed32(bytes.data() + kMetaSize - 4);
  if (crc32c::unmask(stored) != crc32c::value(bytes.data(), kMetaSize - 4)) return fail("meta checksum mismatch");
  coding::Reader in(bytes.substr(0, kMetaSize - 4));
  Meta meta;
  std::uint64_t magic = 0;
  if (!in.get_fixed64(magic) || !in.get_fixed32(meta.format_version) || !in.get_fixed32(meta.page_size) ||
      !in.get_fixed64(meta.txn_id) || !in.get_fixed64(meta.lsn) || !get_ref(in, meta.root) ||
      !get_ref(in, meta.free_list) || !in.get_fixed64(meta.page_count) || !in.get_fixed64(meta.entry_count) ||
      !in.get_fixed32(meta.max_keys_per_node)) {
    return fail("short meta page");
  }
  if (magic != kMetaMagic) return fail("bad meta magic");
  if (meta.format_version != kPageFileFormatVersion) return fail("unknown page file format version");
  if (meta.page_size < 4096 || (meta.page_size & (meta.page_size - 1)) != 0) return fail("bad page size");
  if (meta.root.page_id < 2 || meta.root.page_id >= meta.page_count) return fail("root outside the file");
  return meta;
}

std::optional<Meta> pick_newest(const std::optional<Meta>& slot0, const std::optional<Meta>& slot1) {
  if (!slot0) return slot1;
  if (!slot1) return slot0;
  return slot0->txn_id >= slot1->txn_id ? slot0 : slot1;
}

}  // namespace orbit::cow_btree
