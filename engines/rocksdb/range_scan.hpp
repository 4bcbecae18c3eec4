// Range reads over the key layout: scans by actor type (primary keys), by
// node ('N' index) and by expiry ('E' index).
//
// A scan reads one consistent snapshot: the iterator over the index and the
// lookups of the primaries it names see the same state, so a lease moved to
// another node by a concurrent write is never reported under both or
// neither. Runs on a worker thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "orbit/lease.hpp"
#include "orbit/result.hpp"

namespace orbit::rocksdb_engine {

struct RangeScan {
  char tag = 'L';      // which order: codec::kPrimaryTag, kNodeIndexTag or kExpiryIndexTag
  std::string seek;    // first key to look at
  std::string skip;    // a key to leave out if met (ScanOptions::start_after); empty = none
  std::string upper;   // exclusive upper bound; empty = none
  std::size_t limit = 0;  // 0 = no limit
};

Result<std::vector<Lease>> scan_range(rocksdb::DB& db, const RangeScan& scan);

}  // namespace orbit::rocksdb_engine
