// The on-disk format of the write-ahead log: constants and the segment header.
//
// FORMAT.md beside this file is the specification; this header is its code.
// A log is a directory of segment files "<number>.wal". Each segment starts
// with a 32-byte header; after it the file is a sequence of 32 KiB blocks
// (counted from the start of the file, header included) holding fragments.
// A fragment never crosses a block boundary; a logical record too large for
// the rest of a block is split into FIRST/MIDDLE.../LAST fragments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orbit::wal {

inline constexpr std::size_t kBlockSize = 32 * 1024;

// Fragment header: masked crc32c (4) | length (2) | type (1) | lsn (8).
// The CRC covers type, length, lsn and payload, in that order on disk
// after the CRC field itself (bytes 4..15+length).
inline constexpr std::size_t kFragmentHeaderSize = 4 + 2 + 1 + 8;

// Low 3 bits of the type byte: where the fragment sits in its record.
enum class FragmentKind : std::uint8_t {
  Zero = 0,  // preallocated / zero-filled space: never written by the writer
  Full = 1,
  First = 2,
  Middle = 3,
  Last = 4,
};
// Bit 4 of the type byte: the logical record is a batch of several records
// (count + length-prefixed entries) that replays all or nothing.
inline constexpr std::uint8_t kBatchFlag = 0x10;
inline constexpr std::uint8_t kKindMask = 0x07;

// Segment header: magic (8) | version (4) | segment number (8) |
// first lsn (8) | masked crc32c of the previous 28 bytes (4).
inline constexpr std::size_t kSegmentHeaderSize = 32;
inline constexpr char kSegmentMagic[8] = {'O', 'R', 'B', 'W', 'A', 'L', '0', '1'};
inline constexpr std::uint32_t kFormatVersion = 1;

// Largest payload accepted for one logical record (a batch counts as one).
inline constexpr std::size_t kMaxRecordBytes = std::size_t{1} << 30;

// Past the point where a segment's records stop, this many bytes of blocks
// that hold nothing of the log at or after that point (zero fill, or stale
// records of an earlier use of a recycled file) end every search of the
// segment: for later valid records (evidence of corruption, not a torn tail)
// and for non-zero leftovers past zero fill. The writer never leaves such a
// block inside what it wrote (each 32 KiB block it writes starts with a
// fragment of the current record), and a crash tears only writes not yet
// synced: recovery assumes their leftovers hold no gap this long. So opening
// a log in a prepared or recycled 64 MiB segment reads a few MiB past its
// end, not the whole file.
inline constexpr std::uint64_t kDeadRunEnd = std::uint64_t{4} << 20;

struct SegmentHeader {
  std::uint64_t segment_number = 0;
  std::uint64_t first_lsn = 0;  // LSN of the first record this segment holds
};

// Exactly kSegmentHeaderSize bytes.
std::string encode_segment_header(const SegmentHeader& header);

enum class HeaderState : std::uint8_t {
  Valid,
  Uninitialized,  // all zero or shorter than a header: a segment being created
  Invalid,        // non-zero bytes that are not a header (bad magic, version or CRC)
};
// Decodes the first bytes of a segment file (may be shorter than a header).
HeaderState decode_segment_header(std::string_view bytes, SegmentHeader& out, std::string* why = nullptr);

// "000042.wal"; free (recyclable) segments are "000042.wal.free".
std::string segment_file_name(std::uint64_t number);
std::string free_segment_file_name(std::uint64_t number);
// The number in a segment file name, or nullopt for other names.
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);
std::optional<std::uint64_t> parse_free_segment_file_name(std::string_view name);
// Any "*.wal.free" name: freed segments and prepared spares ("spare-000007.wal.free").
bool is_free_segment_file_name(std::string_view name);

}  // namespace orbit::wal
