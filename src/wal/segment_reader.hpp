// SegmentReader: streams the logical records of one segment file, in order,
// verifying every fragment's checksum and LSN.
//
// It reads whole 32 KiB blocks a few at a time (never the whole segment) and
// reassembles FIRST/MIDDLE/LAST fragments. It stops at the first thing that
// is not the next record and says why: End (clean: end of file, zero fill,
// or a stale record left by an earlier use of a recycled segment) or Bad
// (torn, checksum mismatch, LSN from the future, broken fragment sequence).
// Whether Bad is a torn tail or mid-log corruption is the caller's call:
// find_newer_fragment() tells whether valid later records follow.
//
// Runs on the loop thread of the runtime owning `file`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "io/file_system.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::wal {

struct LogicalRecord {
  std::uint64_t lsn = 0;    // LSN of the record (of the first entry of a batch)
  std::uint64_t count = 1;  // LSNs it takes: 1, or the number of batch entries
  bool batch = false;       // payload is count + length-prefixed entries
  std::string payload;
  std::uint64_t offset = 0;  // file offset of its first fragment
};

class SegmentReader {
 public:
  enum class Step { Record, End, Bad };

  // Reads from `offset` (just past the segment header, or a resync point) up
  // to `limit` bytes of file, expecting the next record to carry `next_lsn`.
  SegmentReader(io::File& file, std::string name, std::uint64_t offset, std::uint64_t limit,
                std::uint64_t next_lsn);

  // Fills `out` and returns Record, or returns End / Bad (see stop_*()).
  // An error result is an I/O failure reading the file.
  Task<Result<Step>> next(LogicalRecord& out);

  std::uint64_t next_lsn() const noexcept { return next_lsn_; }
  // End of the last good record: where a writer continues this segment.
  std::uint64_t good_end() const noexcept { return good_end_; }
  // Where and why the last next() stopped (End or Bad).
  std::uint64_t stop_offset() const noexcept { return stop_offset_; }
  const std::string& stop_reason() const noexcept { return stop_reason_; }

  struct Fragment {
    std::uint64_t offset = 0;
    std::uint64_t lsn = 0;
  };
  // After a stop: the first valid fragment past it (at any offset in the
  // rest of the stop's block, then at later block starts) that belongs to a
  // record newer than the damaged one: a FULL/FIRST with LSN >= next_lsn(),
  // or a MIDDLE/LAST with a greater LSN (then Fragment::lsn is 0 unless a
  // later record start was found to resync to). Such a fragment means
  // records written after the damage exist: corruption, not a torn tail.
  // The search ends early after kDeadRunEnd bytes of blocks holding nothing
  // newer (zero fill, stale records of an earlier use of the file).
  Task<Result<std::optional<Fragment>>> find_newer_fragment();

  // Continue at `fragment` (from find_newer_fragment), skipping the damage.
  void resync(const Fragment& fragment);

 private:
  enum class Parse { Ok, Zero, Short, Bad };
  struct Header {
    std::uint32_t crc = 0;
    std::uint16_t length = 0;
    std::uint8_t type = 0;
    std::uint64_t lsn = 0;
  };
  // Makes the block holding `pos` readable; returns bytes available from pos in its block.
  Task<Result<std::size_t>> load(std::uint64_t pos);
  // The same without I/O when that block is already loaded (nullopt if not):
  // hot loops must not create a coroutine per fragment or per byte.
  std::optional<std::size_t> cached(std::uint64_t pos) const;
  Parse parse_at(std::uint64_t pos, std::size_t available, Header& header, std::string* why) const;
  Step stop(Step step, std::uint64_t offset, std::string reason);

  io::File& file_;
  std::string name_;
  std::uint64_t pos_;
  std::uint64_t limit_;
  std::uint64_t next_lsn_;
  std::uint64_t good_end_;
  std::uint64_t stop_offset_ = 0;
  std::string stop_reason_;

  std::string chunk_;  // bytes of the file from chunk_start_
  std::uint64_t chunk_start_ = 0;
  bool chunk_valid_ = false;
};

}  // namespace orbit::wal
