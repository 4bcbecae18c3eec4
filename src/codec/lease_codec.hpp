// The lease's binary encoding: compact, versioned, checksummed.
//
// One encoding for every backend's values, the WAL's records and the export
// format's binary variant. Layout in src/codec/FORMAT.md. No JSON on the hot
// path: custom_data is carried as opaque bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "orbit/lease.hpp"
#include "orbit/result.hpp"

namespace orbit::codec {

inline constexpr std::uint8_t kLeaseFormatVersion = 1;

// Appends the encoding of `lease` to `out`.
// REQUIRES: the lease is within the limits of orbit/lease.hpp (the provider
// rejects longer fields with InvalidArgument before they reach a backend;
// decode_lease would reject them as Corruption).
void encode_lease(const Lease& lease, std::string& out);
std::string encode_lease(const Lease& lease);
std::size_t encoded_lease_size(const Lease& lease);

// Decodes one whole encoding (trailing bytes are an error). A bad checksum,
// an unknown format version, a truncated field or an over-long one is a
// Corruption error naming the field and the offset within `bytes`.
Result<Lease> decode_lease(std::string_view bytes);

}  // namespace orbit::codec
