// LayoutChecker: checks a store's contents against the shared key layout.
//
// Every backend keeps src/codec/key_layout.hpp: primary 'L' keys holding an
// encoded lease, and empty-valued 'N' (by node) and 'E' (by expiry) index
// keys. A backend's verify function (PersistenceFactory::verify_store)
// checks its own files first, then feeds every live (key, value) pair of
// the store, in key order, to one LayoutChecker and calls finish(). The
// checker reports into the VerifyReport it was given:
//   - a key that is none of the three kinds, or keys out of order;
//   - a primary value that does not decode (checksum, truncation, ...);
//   - a primary key that disagrees with the key inside its lease;
//   - a live lease without its by-node or by-expiry entry (or with one for
//     another time), an index entry that does not decode or has a value,
//     and orphaned index entries (naming no lease, or not its current node
//     / expiry time);
// and counts the live leases in report.leases_checked.
//
// Memory: the store's bytes are streamed, not kept. To match the three
// orders against each other in one pass the checker keeps, per live lease,
// a 64-bit fingerprint of each index entry plus the actor's UUID (and the
// expiry time) to name a mismatch: 80 bytes per lease (48 per expiry entry,
// 32 per expected node entry), so about 80 MB per million leases, up to
// twice that while a vector grows; freed by finish(). This is O(leases),
// not O(1): a bounded-memory alternative (order-independent digests of the
// three sets) would only say *that* an index disagrees, not for which lease.
// Fingerprints are 64-bit hashes, so two different entries
// colliding (and hiding one problem) has probability about n^2 / 2^65.
// Problems found only at finish() name the actor UUID (and, for an orphaned
// expiry entry, its time) rather than a file offset, which is no longer known.
//
// Threading: one thread at a time. Not copyable (it refers to the report).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "orbit/factory.hpp"

namespace orbit::verify {

// Where a pair was read from, for the problems it causes.
struct Location {
  std::string file;          // relative to data_dir; "" = the store as a whole
  std::uint64_t offset = 0;  // byte offset in that file (0 if not known)
};

class LayoutChecker {
 public:
  // `report` must outlive the checker. Stops recording problems after
  // `max_problems` (then adds one line saying how many more were found).
  explicit LayoutChecker(VerifyReport& report, std::size_t max_problems = 1000);
  LayoutChecker(const LayoutChecker&) = delete;
  LayoutChecker& operator=(const LayoutChecker&) = delete;

  // One live pair. REQUIRES: keys arrive in strictly increasing memcmp order
  // (a violation is reported as a problem, not asserted).
  void add(std::string_view key, std::string_view value, const Location& where = {});
  // After the last add(): reports the mismatches only the whole store shows
  // and adds the live lease count to report.leases_checked. Call once.
  void finish();

 private:
  struct ExpiryEntry {
    std::uint64_t actor;  // fingerprint of the actor's primary key
    std::uint64_t entry;  // fingerprint of the whole expiry key
    std::int64_t time_ns;
    std::uint8_t uuid[16];
    bool matched;
  };
  struct NodeEntry {
    std::uint64_t entry;  // fingerprint of the whole node index key
    std::uint8_t uuid[16];
    bool matched;
  };
  enum class Phase { Expiry, Primary, Node };

  void problem(const Location& where, std::string what);
  void enter(Phase phase);
  void add_expiry(std::string_view key, std::string_view value, const Location& where);
  void add_primary(std::string_view key, std::string_view value, const Location& where);
  void add_node(std::string_view key, std::string_view value, const Location& where);

  VerifyReport& report_;
  std::size_t max_problems_;
  std::uint64_t suppressed_ = 0;
  std::string previous_key_;
  bool have_previous_ = false;
  Phase phase_ = Phase::Expiry;
  std::uint64_t leases_ = 0;
  std::vector<ExpiryEntry> expiry_;
  std::vector<NodeEntry> nodes_expected_;
  std::vector<std::uint64_t> undecodable_;  // actors whose lease does not decode (rare)
  bool finished_ = false;
};

}  // namespace orbit::verify
