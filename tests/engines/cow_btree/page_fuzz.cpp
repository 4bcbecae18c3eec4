// Fuzz target (libFuzzer): the COW B+ tree's decoders of bytes read from
// disk (node runs, meta slots, metadata.json) on arbitrary input. The
// checksums are fixed up so the input reaches the parsers behind them.
// Goal: no crash, no sanitizer report, every failure is Corruption, and a
// node that decodes re-encodes to a run that decodes to the same entries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engines/cow_btree/meta.hpp"
#include "engines/cow_btree/metadata.hpp"
#include "engines/cow_btree/page_format.hpp"
#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace {

using namespace orbit::cow_btree;

constexpr std::size_t kPage = 128;  // small pages: the fuzzer reaches multi-page runs

void node(std::string_view input) {
  std::string run(input);
  if (run.size() < kNodeHeaderSize) run.resize(kNodeHeaderSize, '\0');
  const auto pages = static_cast<std::uint32_t>((run.size() + kPage - 1) / kPage);
  run.resize(static_cast<std::size_t>(pages) * kPage, '\0');
  if (!input.empty() && (input[0] & 1) != 0) {  // half the inputs get a consistent header
    orbit::coding::encode_fixed32(run.data() + 12, pages);
    orbit::coding::encode_fixed64(run.data() + 16, 2);
  }
  const std::uint32_t crc = orbit::crc32c::mask(orbit::crc32c::value(run.data() + 4, run.size() - 4));
  orbit::coding::encode_fixed32(run.data(), crc);
  const PageRef ref{2, pages, crc};
  auto decoded = decode_node(run, ref, kPage, "fuzz.pages");
  if (!decoded.ok()) {
    if (decoded.code() != orbit::ErrorCode::Corruption) std::abort();
    return;
  }
  const Node& n = decoded.value().node;
  if (!n.leaf && decoded.value().children.size() != n.entries.size() + 1) std::abort();
  std::string again = encode_node_with_children(n, decoded.value().children, 2, kPage);
  PageRef again_ref{2, static_cast<std::uint32_t>(again.size() / kPage), orbit::coding::decode_fixed32(again.data())};
  auto round = decode_node(again, again_ref, kPage, "fuzz.pages");
  if (!round.ok() || round.value().node.entries.size() != n.entries.size()) std::abort();
  for (std::size_t i = 0; i < n.entries.size(); ++i) {
    if (round.value().node.entries.key(i) != n.entries.key(i)) std::abort();
    if (round.value().node.entries.value(i) != n.entries.value(i)) std::abort();
  }
}

void meta(std::string_view input) {
  std::string page(input);
  if (page.size() < kMetaSize) page.resize(kMetaSize, '\0');
  orbit::coding::encode_fixed32(page.data() + 84, orbit::crc32c::mask(orbit::crc32c::value(page.data(), 84)));
  std::string why;
  (void)decode_meta(page, &why);
}

void metadata(std::string_view input) {
  std::string text(input);
  if (!text.empty() && text.back() != '\n') text += '\n';
  const std::uint32_t crc = orbit::crc32c::mask(orbit::crc32c::value(text));
  text += "  \"crc32c\": " + std::to_string(crc) + "\n}\n";
  auto decoded = decode_metadata(text, "fuzz.json");
  if (!decoded.ok() && decoded.code() != orbit::ErrorCode::Corruption) std::abort();
  if (decoded.ok()) {
    auto again = decode_metadata(encode_metadata(decoded.value()), "fuzz.json");
    if (!again.ok() || !(again.value() == decoded.value())) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  node(input);
  meta(input);
  metadata(input);
  return 0;
}
