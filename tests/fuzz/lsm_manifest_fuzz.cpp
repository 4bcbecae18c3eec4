// Fuzz target (libFuzzer): the LSM manifest.json decoder. (The COW page,
// meta and metadata.json decoders have theirs in tests/engines/cow_btree;
// the SSTable block, footer and filter decoders in tests/engines/lsm.)
//
// A checksum would stop almost every random input at the first check, so the
// manifest is built from the input (a valid file), then one byte is changed:
// the decoder must reject it, or decode exactly the original (a change the
// canonical form ignores). Raw input is decoded too (the JSON and checksum
// layer on arbitrary text).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engines/lsm/version.hpp"
#include "tests/support/fuzz_input.hpp"

namespace {

using namespace orbit;

using Input = test_support::FuzzInput;

void flip(std::string& text, Input& in) {
  if (text.empty()) return;
  const std::size_t at = static_cast<std::size_t>(in.u64() % text.size());
  const char x = static_cast<char>(in.u64() | 1);
  text[at] = static_cast<char>(text[at] ^ x);
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
  Input in{data, size};
  (void)lsm::decode_manifest(in.rest(), "manifest.json", 7);
  fuzz_manifest(in);
  return 0;
}
