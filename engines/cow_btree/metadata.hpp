// TreeMetadata: metadata.json, the human-readable description of a committed
// tree (the live store's, and one per snapshot as snapshot_<lsn>.json).
//
// It is written after the page file's meta slot and never read to open a
// store: the meta slots are the source of truth (they are written inside
// the commit protocol and checksummed with the pages), metadata.json may lag
// one checkpoint behind after a crash. Verification checks that it agrees.
// The text is a flat JSON object, one "key": value per line, ending with a
// "crc32c" line: the masked CRC32C of every byte before that line
// (FORMAT.md). It is replaced atomically: temp file, fsync, rename, fsync dir.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/file_system.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::cow_btree {

inline constexpr char kPageFileName[] = "orbit.pages";
inline constexpr char kMetadataFileName[] = "metadata.json";
inline constexpr char kSnapshotsDirName[] = "snapshots";

struct TreeMetadata {
  std::uint32_t format_version = 0;     // the page file's (meta.hpp)
  std::string page_file;                // relative to the metadata file's folder
  std::uint32_t page_size = 0;
  std::uint32_t max_keys_per_node = 0;
  std::uint64_t txn_id = 0;             // the meta slot's commit counter
  std::uint64_t lsn = 0;                // last WAL record the tree includes
  std::uint64_t root_page = 0;
  std::uint64_t page_count = 0;
  std::uint64_t entry_count = 0;        // tree entries (leases + index entries)
  std::uint64_t lease_count = 0;        // primary entries
  std::uint64_t lease_bytes = 0;        // primary key + encoded lease bytes
  std::uint64_t created_unix_ms = 0;
  friend bool operator==(const TreeMetadata&, const TreeMetadata&) = default;
};

std::string encode_metadata(const TreeMetadata& metadata);
// Corruption naming `file` and the byte offset of the bad line or checksum.
Result<TreeMetadata> decode_metadata(std::string_view text, const std::string& file);

// Reads a whole (small) file through `fs`.
Task<Result<std::string>> read_small_file(io::FileSystem& fs, std::string path);
// Writes `bytes` as `path` atomically: path.tmp, datasync, rename, sync_dir.
Task<Result<void>> write_file_atomically(io::FileSystem& fs, std::string path, std::string bytes);

}  // namespace orbit::cow_btree
