// The LSM tree's set of live SSTables (a Version) and manifest.json, the
// file that records it.
//
// A Version is immutable once built: flushes and compactions build a new
// one from the current one plus an edit, write it to manifest.json, and
// only then make it current. Readers (views, point lookups, compaction
// inputs) hold a shared_ptr to the Version they started with, which holds
// the Tables (and their open file descriptors) alive: a file removed from
// the directory after a compaction can still be read by a view that began
// before it.
//
// Levels: level 0 holds flushed memtables, which may overlap, ordered
// newest (highest file number) first; levels >= 1 hold non-overlapping
// files ordered by smallest key.
//
// manifest.json (FORMAT.md, "manifest.json"): the live files per level, the
// log position they cover (flushed_lsn: every log entry up to it is in the
// SSTables), the live counts as of that LSN, the next file number, and a
// masked CRC32C over the document's canonical form. It is replaced
// atomically: manifest.json.tmp written, datasynced, renamed over
// manifest.json, directory synced.
// Threading: the owning loop thread; a Version may be read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engines/lsm/sstable_reader.hpp"
#include "io/file_system.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"
#include "src/kv/changes.hpp"

namespace orbit::lsm {

// What the manifest says about one SSTable.
struct FileMeta {
  std::uint64_t number = 0;  // unique, increasing; identifies the file
  std::string name;          // in <data_dir>/sstables/
  std::uint64_t size = 0;    // bytes
  std::uint64_t entries = 0;
  std::string smallest;  // internal keys
  std::string largest;
};

// One open live SSTable.
struct Table {
  FileMeta meta;
  std::string smallest_user;  // user keys of meta.smallest / meta.largest
  std::string largest_user;
  std::unique_ptr<SstableReader> reader;
  bool overlaps(std::string_view smallest, std::string_view largest) const noexcept {
    return !(largest_user < smallest || largest < smallest_user);
  }
  bool contains(std::string_view user_key) const noexcept {
    return smallest_user <= user_key && user_key <= largest_user;
  }
};
using TablePtr = std::shared_ptr<Table>;

struct Version {
  std::vector<std::vector<TablePtr>> levels;  // size max_levels

  std::uint64_t level_bytes(std::size_t level) const;
  std::size_t file_count() const;
  // Tables of `level` (>= 1) overlapping [smallest, largest] (user keys).
  std::vector<TablePtr> overlapping(std::size_t level, std::string_view smallest, std::string_view largest) const;
  // The table of `level` (>= 1) that may hold user_key, or null.
  const Table* find_in_level(std::size_t level, std::string_view user_key) const;
};
using VersionPtr = std::shared_ptr<const Version>;

// The tables of `version` a point lookup of `user_key` asks, newest first:
// each L0 table whose key range holds it, then the one table of each deeper
// level whose range does. next() is null after the last.
class CandidateTables {
 public:
  CandidateTables(const Version& version, std::string_view user_key) : version_(version), key_(user_key) {}
  Table* next() noexcept {
    const auto& l0 = version_.levels[0];
    while (l0_ < l0.size()) {
      Table* table = l0[l0_++].get();
      if (table->contains(key_)) return table;
    }
    while (level_ < version_.levels.size()) {
      if (const Table* table = version_.find_in_level(level_++, key_)) return const_cast<Table*>(table);
    }
    return nullptr;
  }

 private:
  const Version& version_;
  std::string_view key_;
  std::size_t l0_ = 0;
  std::size_t level_ = 1;
};

struct ManifestState {
  std::uint64_t next_file_number = 1;
  std::uint64_t flushed_lsn = 0;
  kv::LiveCounts live;
  std::vector<std::vector<FileMeta>> levels;
};

inline constexpr std::string_view kManifestFormat = "orbit-lsm-manifest";
inline constexpr std::uint32_t kManifestFormatVersion = 1;

// The JSON text of `state` (with its crc32c).
std::string encode_manifest(const ManifestState& state);
// Parses and checks (format, version, crc32c, every field's type and range,
// levels < max_levels, file names); Corruption names `path` and what is wrong.
Result<ManifestState> decode_manifest(std::string_view text, const std::string& path, std::uint32_t max_levels);

// Writes `state` to <dir>/manifest.json atomically (see above). Returns the
// bytes written.
Task<Result<std::uint64_t>> write_manifest(io::FileSystem& fs, std::string dir, const ManifestState& state);
// Reads <dir>/manifest.json; nullopt when there is none.
Task<Result<std::optional<ManifestState>>> read_manifest(io::FileSystem& fs, std::string dir,
                                                         std::uint32_t max_levels);

// "level_<level>_<unix seconds>_<number>.sst"
std::string sstable_file_name(std::uint32_t level, std::uint64_t number);
// The number in a name of that shape; 0 when the name is not one.
std::uint64_t sstable_file_number(std::string_view name);

std::string to_hex(std::string_view bytes);

}  // namespace orbit::lsm
