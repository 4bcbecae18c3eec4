// The LSM tree's internal key: a user key tagged with a sequence number and
// an operation type, and the one order every memtable, block and SSTable of
// this engine sorts by.
//
// Encoding (FORMAT.md): user_key bytes, then an 8-byte little-endian tag
// (sequence << 8 | type). Order: user key ascending (bytewise), then
// sequence descending, then type descending, so the newest version of a key
// comes first and a seek to (key, snapshot) lands on the newest version
// visible at that snapshot.
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orbit::lsm {

using SequenceNumber = std::uint64_t;

// Sequence numbers use 56 bits: the tag packs the type into the low byte.
inline constexpr SequenceNumber kMaxSequenceNumber = (SequenceNumber{1} << 56) - 1;

enum class ValueType : std::uint8_t {
  Delete = 0,  // a tombstone: the key is absent as of this sequence
  Put = 1,
};
// Type used when building a seek key: the highest type, so that
// (key, s, kValueTypeForSeek) sorts before every real entry (key, s, *).
inline constexpr ValueType kValueTypeForSeek = ValueType::Put;

inline constexpr std::size_t kInternalKeyTagSize = 8;

// Writes user_key + tag(sequence, type) to `out`, which has room for
// user_key.size() + kInternalKeyTagSize bytes.
// REQUIRES: sequence <= kMaxSequenceNumber
void encode_internal_key(char* out, std::string_view user_key, SequenceNumber sequence, ValueType type);
// Appends user_key + tag(sequence, type) to `out`.
// REQUIRES: sequence <= kMaxSequenceNumber
void append_internal_key(std::string& out, std::string_view user_key, SequenceNumber sequence,
                         ValueType type);
std::string make_internal_key(std::string_view user_key, SequenceNumber sequence, ValueType type);

// The internal key a point lookup seeks, (user_key, snapshot,
// kValueTypeForSeek), on the stack when it fits: a hot read allocates
// nothing. Views its own storage: not copyable.
class SeekKey {
 public:
  SeekKey(std::string_view user_key, SequenceNumber snapshot) {
    if (user_key.size() + kInternalKeyTagSize <= sizeof stack_) {
      encode_internal_key(stack_, user_key, snapshot, kValueTypeForSeek);
      view_ = std::string_view(stack_, user_key.size() + kInternalKeyTagSize);
    } else {
      heap_ = make_internal_key(user_key, snapshot, kValueTypeForSeek);
      view_ = heap_;
    }
  }
  SeekKey(const SeekKey&) = delete;
  SeekKey& operator=(const SeekKey&) = delete;
  std::string_view view() const noexcept { return view_; }

 private:
  char stack_[128];
  std::string heap_;
  std::string_view view_;
};

struct ParsedInternalKey {
  std::string_view user_key;
  SequenceNumber sequence = 0;
  ValueType type = ValueType::Put;
};

// False when `internal_key` is shorter than the tag or its type byte is
// unknown (corrupt input); `out` is then unspecified.
bool parse_internal_key(std::string_view internal_key, ParsedInternalKey& out);

// REQUIRES: internal_key.size() >= kInternalKeyTagSize
inline std::string_view extract_user_key(std::string_view internal_key) {
  return internal_key.substr(0, internal_key.size() - kInternalKeyTagSize);
}

// Over entries in internal-key order: true for the first (newest) version
// of each user key, false for the older versions after it, which nothing
// reads once a flush or compaction writes the newest out.
class NewestVersions {
 public:
  bool is_newest(std::string_view user_key) {
    if (have_last_ && user_key == std::string_view(last_)) return false;
    last_.assign(user_key);
    have_last_ = true;
    return true;
  }

 private:
  std::string last_;
  bool have_last_ = false;
};

// Three-way comparisons (<0, 0, >0).
int bytewise_compare(std::string_view a, std::string_view b) noexcept;
// The internal-key order described above. Keys too short to hold a tag
// compare bytewise (they only appear in corrupt input).
int internal_key_compare(std::string_view a, std::string_view b) noexcept;

// What a point lookup at a snapshot finds in one memtable or SSTable.
enum class LookupState : std::uint8_t {
  NotFound,  // no version of the key with sequence <= snapshot here
  Found,     // newest visible version is a Put; value filled
  Deleted,   // newest visible version is a Delete (older tables must not be asked)
};
struct LookupResult {
  LookupState state = LookupState::NotFound;
  SequenceNumber sequence = 0;  // of the version found (Found or Deleted)
  std::string value;            // Found only
};

// The comparator blocks and SSTables are built and searched with.
using KeyCompare = int (*)(std::string_view, std::string_view) noexcept;

}  // namespace orbit::lsm
