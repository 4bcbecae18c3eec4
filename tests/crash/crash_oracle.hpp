// The crash suite's oracle: what a store recovered after a SIGKILL may hold.
//
// Input: the state the previous cycle verified (per key: absent, or the write
// (seq, batch) it holds), this cycle's side log, and what the reopened store
// returns for every key. Per key the side log is a total order of writes
// (the child holds a key from its pending line to its ack line). Rules:
//   1. Let A be the key's last acknowledged write this cycle. The recovered
//      state must be A's outcome or the outcome of a write issued after A
//      (not acknowledged: in flight at the kill, or failed). With no ack this
//      cycle, the previous state or any issued write's outcome is allowed.
//      Anything older than A is a lost write (a resurrected key after an
//      acknowledged remove counts as lost too).
//   2. A present record must pass its self-check (equal, field by field, to
//      the lease its custom_data claims to be) and claim a write that was
//      issued for that key with that batch id; else it is torn.
//   3. A batch that was not acknowledged and is the last write of each of its
//      members shows in all members or in none; anything in between is a
//      batch atomicity violation. (Acknowledged batches are covered by 1.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "orbit/lease.hpp"
#include "tests/crash/crash_model.hpp"

namespace orbit::crash {

// A key's state: absent, or holding write `seq` (of batch `batch_id`, 0 = none).
struct KeyState {
  bool present = false;
  std::uint64_t seq = 0;
  std::uint64_t batch_id = 0;
  bool operator==(const KeyState&) const = default;
  std::string to_string() const;
};

struct SideLog {
  enum class Kind : std::uint8_t { Put, Remove, BatchPut };
  enum class Status : std::uint8_t { Pending, Acked, Failed };
  struct Write {
    std::uint64_t seq = 0;
    std::uint64_t batch_id = 0;
    Kind kind = Kind::Put;
    Status status = Status::Pending;
    KeyState outcome() const;
  };
  std::vector<std::vector<Write>> keys = std::vector<std::vector<Write>>(kKeyCount);
  bool opened = false;                  // the child got as far as opening the store
  std::string open_error;               // the child's open failed with this
  std::uint64_t issued = 0;
  std::uint64_t acked = 0;
  std::vector<std::string> failures;    // "fail" lines: writes the engine refused
  std::vector<std::string> malformed;   // lines the parser could not read
};

// Parses the file; a missing file is an empty log.
SideLog read_side_log(const std::string& path);

struct Verdict {
  std::uint64_t acked_checked = 0;
  std::uint64_t lost = 0;
  std::uint64_t torn = 0;
  std::uint64_t batch_violations = 0;
  std::vector<std::string> problems;  // one line each, for the report
};

// `recovered[k]` is get_lease(key_of(k)): nullopt = NotFound. Returns the
// verdict and fills `next` with the verified state for the next cycle.
Verdict check_recovery(const std::vector<KeyState>& previous, const SideLog& log,
                       const std::vector<std::optional<Lease>>& recovered, std::vector<KeyState>* next);

}  // namespace orbit::crash
