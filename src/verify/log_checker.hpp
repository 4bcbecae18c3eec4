// check_log: the read-only check of a store's write-ahead log
// (<data_dir>/orbit.wal) that every engine's verify function shares.
//
// Reads every segment in order without changing any file (no tail is cut):
// each segment header, every record's checksum and LSN, and the LSN chain
// across segments. Each log entry past `from_lsn` (the LSN the engine's own
// files are complete up to) goes to `apply`, which replays it into the
// engine's scratch state. Problems name the segment file (relative to
// data_dir: "orbit.wal/000001.wal") and the byte offset of the damage:
//   - a bad segment header, or a segment that does not start where the
//     previous one ended;
//   - a log that starts after from_lsn + 1 (records in between are lost);
//   - damage in an earlier segment, or damage in the last segment that valid
//     records follow (a torn tail is what a crash leaves and open() cuts;
//     not a problem);
//   - a batch that does not split into its entries, or an entry `apply`
//     refuses.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "io/file_system.hpp"
#include "orbit/factory.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::verify {

// One problem into the report.
inline void add_problem(VerifyReport& report, std::string file, std::uint64_t offset, std::string what) {
  report.problems.push_back(FileProblem{std::move(file), offset, std::move(what)});
}

// The byte offset an error message names ("... offset 1234: ..."; the last
// one if several), or 0.
std::uint64_t offset_in(const std::string& message);

using LogEntryFn = std::function<Result<void>(std::uint64_t lsn, std::string_view entry)>;

// True when the log showed no problem (so the engine's logical checks over
// its replayed state mean something).
Task<bool> check_log(io::FileSystem& fs, std::string data_dir, std::uint64_t from_lsn, LogEntryFn apply,
                     VerifyReport& report);

}  // namespace orbit::verify
