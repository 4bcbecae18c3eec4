// Fuzz target (libFuzzer): decode_log_entry on arbitrary bytes. Goal: no
// crash, no sanitizer report, and whatever decodes survives an encode and a
// second decode unchanged (varints need not be minimal on input, so the
// values are compared, not the bytes).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/kv/changes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace orbit::kv;
  auto entry = decode_log_entry(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!entry.ok()) {
    if (entry.code() != orbit::ErrorCode::Corruption) std::abort();
    return 0;
  }
  std::string bytes;
  encode_log_entry(entry.value(), bytes);
  auto again = decode_log_entry(bytes);
  if (!again.ok()) std::abort();
  const LogEntry& a = entry.value();
  const LogEntry& b = again.value();
  if (a.delta.keys != b.delta.keys || a.delta.key_bytes != b.delta.key_bytes ||
      a.delta.value_bytes != b.delta.value_bytes || a.changes.size() != b.changes.size())
    std::abort();
  for (std::size_t i = 0; i < a.changes.size(); ++i)
    if (a.changes[i].key != b.changes[i].key || a.changes[i].value != b.changes[i].value ||
        a.changes[i].erase != b.changes[i].erase)
      std::abort();
  return 0;
}
