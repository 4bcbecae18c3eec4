// Fuzz target (libFuzzer): decode_lease and the key decoders on arbitrary
// bytes. Goal: no crash, no sanitizer report, and whatever decodes
// re-encodes to exactly the input (one encoding per value).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto lease = orbit::codec::decode_lease(bytes); lease.ok()) {
    // Varints need not be minimal on input, so compare values, not bytes.
    auto again = orbit::codec::decode_lease(orbit::codec::encode_lease(lease.value()));
    if (!again.ok() || !(again.value() == lease.value())) std::abort();
  }
  if (auto key = orbit::codec::decode_primary_key(bytes)) {
    if (orbit::codec::primary_key(*key) != bytes) std::abort();
  }
  if (auto key = orbit::codec::decode_node_index_key(bytes)) {
    auto node = orbit::codec::decode_node_index_node(bytes);
    if (!node || orbit::codec::node_index_key(*node, *key) != bytes) std::abort();
  }
  if (auto key = orbit::codec::decode_expiry_index_key(bytes)) {
    auto time = orbit::codec::decode_expiry_index_time(bytes);
    if (!time || orbit::codec::expiry_index_key(*time, *key) != bytes) std::abort();
  }
  return 0;
}
