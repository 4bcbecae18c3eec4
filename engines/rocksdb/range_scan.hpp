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
#include "src/codec/key_layout.hpp"

namespace orbit::rocksdb_engine {

Result<std::vector<Lease>> scan_range(rocksdb::DB& db, const codec::ScanRange& scan);

}  // namespace orbit::rocksdb_engine
