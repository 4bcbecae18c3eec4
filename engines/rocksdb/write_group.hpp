// The RocksDB engine's write path below the event loop: one group of queued
// writers becomes one rocksdb::WriteBatch and one Write (one WAL record,
// one fsync in the durable mode).
//
// Every change to a lease touches three keys (src/codec/key_layout.hpp): the
// primary 'L' key and its 'N' (by node) and 'E' (by expiry) index entries. To
// delete the old index entries a writer must know the stored lease, so each
// write reads it first. That read-then-write is consistent because the
// engine runs at most one commit_group() at a time (RocksDbStore's commit
// loop), and within a group later writers see earlier ones' effects through
// an overlay, never a stale read of the database.
//
// A writer whose own changes cannot be made (NotFound on remove_lease, a
// stored lease that does not decode) fails alone; the rest of the group is
// written. If the Write itself fails, every writer of the group fails.
// Runs on a worker thread; touches nothing but `db` and the group.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "orbit/provider.hpp"
#include "orbit/result.hpp"

namespace orbit::rocksdb_engine {

struct PendingWrite {
  std::vector<BatchOp> ops;
  bool missing_is_error = false;  // remove_lease: NotFound when nothing is stored

  // Filled by commit_group.
  std::optional<Error> error;
  std::uint64_t bytes_written = 0;  // this writer's share: its own WriteBatch
  std::uint64_t bytes_read = 0;     // block bytes its index reads fetched from files
  // Change of the live set (primary keys) this writer made, for StorageStats.
  std::int64_t keys_delta = 0;
  std::int64_t key_bytes_delta = 0;
  std::int64_t value_bytes_delta = 0;
};

struct GroupOutcome {
  std::uint64_t sequence = 0;  // RocksDB sequence number after the write (0 if nothing written)
  std::uint32_t writers = 0;   // writers whose changes went into the WriteBatch
};

// REQUIRES: no other commit_group on `db` runs concurrently.
GroupOutcome commit_group(rocksdb::DB& db, const rocksdb::WriteOptions& options, std::span<PendingWrite*> group);

}  // namespace orbit::rocksdb_engine
