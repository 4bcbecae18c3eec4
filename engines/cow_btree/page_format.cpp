// Header first, then a body of length-prefixed keys (and values, or child
// references); the whole run is covered by one masked CRC32C in bytes 0..3.
#include "engines/cow_btree/page_format.hpp"

#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace orbit::cow_btree {
namespace {

std::size_t body_size(const Node& node) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < node.entries.size(); ++i) {
    const std::size_t k = node.entries.key(i).size();
    n += coding::varint_length(k) + k;
    if (node.leaf) {
      const std::size_t v = node.entries.value(i).size();
      n += coding::varint_length(v) + v;
    }
  }
  if (!node.leaf) {
    n += node.children.size() * kChildRefSize;
  }
  return n;
}

Error corrupt(const std::string& file, std::uint64_t offset, const std::string& why) {
  return make_error(ErrorCode::Corruption,
                    "cow_btree page file " + file + " offset " + std::to_string(offset) + ": " + why);
}

}  // namespace

std::uint32_t pages_needed(const Node& node, std::size_t page_size) {
  std::size_t total = kNodeHeaderSize + body_size(node);
  return static_cast<std::uint32_t>((total + page_size - 1) / page_size);
}

std::string encode_node(const Node& node, std::uint64_t page_id, std::size_t page_size) {
  std::vector<PageRef> refs;
  if (!node.leaf) {
    refs.reserve(node.children.size());
    for (const auto& child : node.children) refs.push_back(child->disk);
  }
  return encode_node_with_children(node, refs, page_id, page_size);
}

std::string encode_node_with_children(const Node& node, std::span<const PageRef> children, std::uint64_t page_id,
                                      std::size_t page_size) {
  std::uint32_t pages = pages_needed(node, page_size);
  std::string out;
  out.reserve(pages * page_size);
  coding::put_fixed32(out, 0);  // checksum, filled last
  coding::put_fixed32(out, kNodeMagic);
  out.push_back(static_cast<char>(node.leaf ? kLeafKind : kBranchKind));
  out.push_back(static_cast<char>(kNodeFormatVersion));
  coding::put_fixed16(out, 0);
  coding::put_fixed32(out, pages);
  coding::put_fixed64(out, page_id);
  coding::put_fixed32(out, static_cast<std::uint32_t>(node.entries.size()));
  coding::put_fixed32(out, static_cast<std::uint32_t>(body_size(node)));
  if (node.leaf) {
    for (std::size_t i = 0; i < node.entries.size(); ++i) {
      coding::put_length_prefixed(out, node.entries.key(i));
      coding::put_length_prefixed(out, node.entries.value(i));
    }
  } else {
    for (const PageRef& child : children) {
      coding::put_fixed64(out, child.page_id);
      coding::put_fixed32(out, child.page_count);
      coding::put_fixed32(out, child.checksum);
    }
    for (std::size_t i = 0; i < node.entries.size(); ++i) coding::put_length_prefixed(out, node.entries.key(i));
  }
  out.resize(static_cast<std::size_t>(pages) * page_size, '\0');
  coding::encode_fixed32(out.data(), crc32c::mask(crc32c::value(out.data() + 4, out.size() - 4)));
  return out;
}

Result<DecodedNode> decode_node(std::string_view bytes, const PageRef& ref, std::size_t page_size,
                                const std::string& file) {
  const std::uint64_t offset = ref.page_id * page_size;
  if (bytes.size() != static_cast<std::size_t>(ref.page_count) * page_size || bytes.size() < kNodeHeaderSize) {
    return corrupt(file, offset, "short node run (" + std::to_string(bytes.size()) + " bytes)");
  }
  std::uint32_t stored = coding::decode_fixed32(bytes.data());
  if (stored != ref.checksum) return corrupt(file, offset, "node checksum differs from its parent's reference");
  if (crc32c::unmask(stored) != crc32c::value(bytes.data() + 4, bytes.size() - 4)) {
    return corrupt(file, offset, "node checksum mismatch");
  }
  coding::Reader header(bytes.substr(4, kNodeHeaderSize - 4));
  std::uint32_t magic = 0, pages = 0, count = 0, body = 0;
  std::uint8_t kind = 0, version = 0;
  std::uint16_t reserved = 0;
  std::uint64_t page_id = 0;
  if (!header.get_fixed32(magic) || !header.get_u8(kind) || !header.get_u8(version) ||
      !header.get_fixed16(reserved) || !header.get_fixed32(pages) || !header.get_fixed64(page_id) ||
      !header.get_fixed32(count) || !header.get_fixed32(body)) {
    return corrupt(file, offset, "short node header");
  }
  if (magic != kNodeMagic) return corrupt(file, offset, "bad node magic");
  if (version != kNodeFormatVersion) return corrupt(file, offset, "unknown node format version " + std::to_string(version));
  if (kind != kLeafKind && kind != kBranchKind) return corrupt(file, offset, "unknown node kind " + std::to_string(kind));
  if (pages != ref.page_count || page_id != ref.page_id) {
    return corrupt(file, offset, "node header names page " + std::to_string(page_id) + " (misdirected write)");
  }
  if (body > bytes.size() - kNodeHeaderSize) return corrupt(file, offset, "node body longer than its pages");
  coding::Reader in(bytes.substr(kNodeHeaderSize, body));
  DecodedNode out;
  out.node.leaf = kind == kLeafKind;
  if (!out.node.leaf) {
    if (static_cast<std::uint64_t>(count + 1) * kChildRefSize > body) return corrupt(file, offset, "too many children");
    for (std::uint32_t i = 0; i <= count; ++i) {
      PageRef child;
      if (!in.get_fixed64(child.page_id) || !in.get_fixed32(child.page_count) || !in.get_fixed32(child.checksum)) {
        return corrupt(file, offset, "short child reference");
      }
      if (child.page_id < 2 || child.page_count == 0) return corrupt(file, offset, "bad child reference");
      out.children.push_back(child);
    }
  }
  if (count > body) return corrupt(file, offset, "more keys than body bytes");
  out.node.entries.reserve(count, body);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view key;
    if (!in.get_length_prefixed(key, body)) return corrupt(file, offset, "short key " + std::to_string(i));
    if (key.size() > 0xFFFF) return corrupt(file, offset, "key " + std::to_string(i) + " longer than 65535 bytes");
    std::string_view value;
    if (out.node.leaf && !in.get_length_prefixed(value, body))
      return corrupt(file, offset, "short value " + std::to_string(i));
    out.node.entries.push_back(key, value);
  }
  if (in.remaining() != 0) return corrupt(file, offset, "trailing bytes in node body");
  out.node.disk = ref;
  return out;
}

}  // namespace orbit::cow_btree
