// Fuzz target (libFuzzer): config_from_json_text on arbitrary bytes. Goal: no
// crash, no exception escaping, no sanitizer report; an accepted config
// survives to_json() and back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "orbit/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = orbit::config_from_json_text(text, orbit::PersistenceConfig{});
  if (!config.ok()) return 0;
  std::string json = config->to_json();
  auto again = orbit::config_from_json_text(json, orbit::PersistenceConfig{});
  if (!again.ok() || again->to_json() != json) std::abort();
  return 0;
}
