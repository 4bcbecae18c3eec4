// The child role of orbit-crash: open the store durably and write until killed.
//
// `writers` coroutines run on the store's loop, each in a loop of upserts,
// removes and atomic batches over the shared key space; a plain thread calls
// checkpoint()/flush() every few milliseconds. A key is claimed by one writer
// from its pending line until its ack line, so the side log orders every
// key's writes. The child never returns normally: the parent SIGKILLs it
// (max_run_ms is a safety net if the parent dies first).
#pragma once

#include <cstdint>
#include <string>

#include "orbit/config.hpp"

namespace orbit::crash {

struct ChildOptions {
  PersistenceConfig config;
  std::string side_log;
  std::uint64_t seed = 0;
  std::uint64_t seq_base = 0;    // every seq this child issues is > seq_base
  std::uint64_t batch_base = 0;  // every batch id is > batch_base
  int writers = 32;
  int ready_fd = -1;             // one byte is written here once the store is open
  std::uint64_t max_run_ms = 60000;
  // Self-test of the suite only: ack this percentage of upserts without
  // issuing them, so a correct engine must be reported as losing writes.
  int drop_percent = 0;
};

// Returns only on failure to open (exit code 2) or after max_run_ms (3).
int run_child(const ChildOptions& options);

}  // namespace orbit::crash
