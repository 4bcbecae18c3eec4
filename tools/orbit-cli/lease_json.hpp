// One lease as one line of JSON, exactly reversible (tools/orbit-cli/FORMAT.md).
//
// Times are integer nanoseconds since the Unix epoch (the codec's own unit,
// so no rounding); byte strings (actor_type, node_id, custom_data) are JSON
// strings when they are valid UTF-8 and {"base64": "..."} otherwise, so any
// bytes the store accepts survive an export/import unchanged. The writer is
// deterministic: the same lease always gives the same bytes, so two exports
// of equal stores compare equal with cmp(1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "orbit/lease.hpp"
#include "orbit/result.hpp"

namespace orbit::cli {

inline constexpr std::string_view kJsonFormatName = "orbit-leases";
inline constexpr std::uint32_t kJsonFormatVersion = 1;

// Appends the lease's JSON object (no newline) to `out`.
void append_lease_json(const Lease& lease, std::string& out);

// Parses one lease line. InvalidArgument naming the field on any problem
// (malformed JSON, missing or unknown field, wrong type, out-of-range value).
Result<Lease> parse_lease_json(std::string_view line);

struct ExportHeader {
  std::string source_backend;          // "RocksDb", ...
  std::optional<std::uint64_t> count;  // live leases when the export began, if known
};
std::string header_json(const ExportHeader& header);
Result<ExportHeader> parse_header_json(std::string_view line);

std::string trailer_json(std::uint64_t count);
// nullopt: the line is not a trailer. An error: it is one but malformed.
std::optional<Result<std::uint64_t>> parse_trailer_json(std::string_view line);

// Helpers shared with the other output of the tool.
bool is_valid_utf8(std::string_view bytes) noexcept;
void append_json_string(std::string_view utf8, std::string& out);
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace orbit::cli
