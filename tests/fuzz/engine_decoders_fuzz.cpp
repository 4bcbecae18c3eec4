// Fuzz target (libFuzzer): the decoders of the engines' own files — COW B+
// tree node runs and meta slots, the COW metadata.json and the LSM
// manifest.json. The first input byte picks the decoder.
//
// Checksums would stop almost every random input at the first check, so:
//  - node runs and meta slots get their checksum recomputed over the fuzzed
//    bytes, which sends the fuzzer into the parsers behind the check; whatever
//    decodes must re-encode and decode to the same thing;
//  - metadata.json and manifest.json are built from the input (a valid
//    file), then one byte is changed: the decoder must reject it or decode
//    exactly the original (a change the canonical form ignores).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engines/cow_btree/meta.hpp"
#include "engines/cow_btree/metadata.hpp"
#include "engines/cow_btree/page_format.hpp"
#include "engines/lsm/format.hpp"
#include "engines/lsm/version.hpp"
#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace {

using namespace orbit;

struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8 && pos < size; ++i) v |= static_cast<std::uint64_t>(data[pos++]) << (8 * i);
    return v;
  }
  std::string bytes(std::size_t max) {
    std::size_t n = pos < size ? data[pos++] % (max + 1) : 0;
    n = std::min(n, size - pos);
    std::string out(reinterpret_cast<const char*>(data + pos), n);
    pos += n;
    return out;
  }
  std::string_view rest() const { return {reinterpret_cast<const char*>(data + pos), size - pos}; }
};

void fuzz_node(std::string_view in) {
  constexpr std::size_t kPage = 512;
  const std::size_t pages = std::min<std::size_t>(8, std::max<std::size_t>(1, (in.size() + kPage - 1) / kPage));
  std::string run(in.substr(0, pages * kPage));
  run.resize(pages * kPage, '\0');
  const std::uint32_t crc = crc32c::mask(crc32c::value(run.data() + 4, run.size() - 4));
  coding::encode_fixed32(run.data(), crc);
  cow_btree::PageRef ref{2, static_cast<std::uint32_t>(pages), crc};
  auto node = cow_btree::decode_node(run, ref, kPage, "fuzz.pages");
  if (!node.ok()) {
    if (node.code() != ErrorCode::Corruption) std::abort();
    return;
  }
  // A decoded leaf must survive its own encoding.
  const cow_btree::Node& n = node.value().node;
  if (!n.leaf) return;
  const std::string again = cow_btree::encode_node(n, 2, kPage);
  cow_btree::PageRef again_ref{2, static_cast<std::uint32_t>(again.size() / kPage), coding::decode_fixed32(again.data())};
  auto back = cow_btree::decode_node(again, again_ref, kPage, "fuzz.pages");
  if (!back.ok() || back.value().node.entries.size() != n.entries.size()) std::abort();
  for (std::size_t i = 0; i < n.entries.size(); ++i)
    if (back.value().node.entries.key(i) != n.entries.key(i) || back.value().node.entries.value(i) != n.entries.value(i))
      std::abort();
}

void fuzz_meta(std::string_view in) {
  std::string bytes(in);
  if (bytes.size() < cow_btree::kMetaSize) bytes.resize(cow_btree::kMetaSize, '\0');
  coding::encode_fixed32(bytes.data() + cow_btree::kMetaSize - 4,
                         crc32c::mask(crc32c::value(bytes.data(), cow_btree::kMetaSize - 4)));
  std::string why;
  auto meta = cow_btree::decode_meta(bytes, &why);
  if (!meta) {
    if (why.empty()) std::abort();  // a refusal must say why
    return;
  }
  auto back = cow_btree::decode_meta(cow_btree::encode_meta(*meta));
  if (!back || !(*back == *meta)) std::abort();
}

void flip(std::string& text, Input& in) {
  if (text.empty()) return;
  const std::size_t at = static_cast<std::size_t>(in.u64() % text.size());
  const char x = static_cast<char>(in.u64() | 1);
  text[at] = static_cast<char>(text[at] ^ x);
}

void fuzz_metadata(Input& in) {
  cow_btree::TreeMetadata m;
  m.format_version = static_cast<std::uint32_t>(in.u64());
  m.page_file = in.bytes(40);
  m.page_size = static_cast<std::uint32_t>(in.u64());
  m.max_keys_per_node = static_cast<std::uint32_t>(in.u64());
  m.txn_id = in.u64();
  m.lsn = in.u64();
  m.root_page = in.u64();
  m.page_count = in.u64();
  m.entry_count = in.u64();
  m.lease_count = in.u64();
  m.lease_bytes = in.u64();
  m.created_unix_ms = in.u64();
  std::string text = cow_btree::encode_metadata(m);
  auto original = cow_btree::decode_metadata(text, "metadata.json");
  flip(text, in);
  auto damaged = cow_btree::decode_metadata(text, "metadata.json");
  if (damaged.ok() && !(original.ok() && damaged.value() == original.value())) std::abort();
}

void fuzz_manifest(Input& in) {
  lsm::ManifestState state;
  state.next_file_number = in.u64();
  state.flushed_lsn = in.u64();
  state.live.keys = in.u64();
  state.live.key_bytes = in.u64();
  state.live.value_bytes = in.u64();
  state.levels.resize(1 + in.u64() % 4);
  for (auto& level : state.levels) {
    const std::size_t files = in.u64() % 3;
    for (std::size_t f = 0; f < files; ++f) {
      lsm::FileMeta meta;
      meta.number = in.u64();
      meta.name = in.bytes(30);
      meta.size = in.u64();
      meta.entries = in.u64();
      meta.smallest = in.bytes(30);
      meta.largest = in.bytes(30);
      level.push_back(std::move(meta));
    }
  }
  std::string text = lsm::encode_manifest(state);
  auto original = lsm::decode_manifest(text, "manifest.json", 7);
  std::string damaged_text = text;
  flip(damaged_text, in);
  auto damaged = lsm::decode_manifest(damaged_text, "manifest.json", 7);
  if (!damaged.ok()) return;
  if (!original.ok() || lsm::encode_manifest(damaged.value()) != lsm::encode_manifest(original.value())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Input in{data + 1, size - 1};
  switch (data[0] % 4) {
    case 0: fuzz_node(in.rest()); break;
    case 1: fuzz_meta(in.rest()); break;
    case 2: fuzz_metadata(in); break;
    case 3: fuzz_manifest(in); break;
  }
  return 0;
}
