// Per-operation metrics and storage statistics (the seed's field names).
//
// Every operation of a PersistenceProvider hands back a PersistenceMetrics in
// its Result, filled even when the operation failed. Metrics travel in the
// result, never in thread-local state: coroutines interleave on one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace orbit {

enum class OperationType : std::uint8_t {
  Store,
  Get,
  Remove,
  Batch,
  ScanByActorType,
  ListByNode,
  ListExpiring,
  Acquire,
  Renew,
  Release,
  Stats,
  Flush,
  Checkpoint,
  Close,
};

std::string_view to_string(OperationType type) noexcept;

struct PersistenceMetrics {
  OperationType operation_type = OperationType::Get;
  std::chrono::nanoseconds latency{0};  // from the call to the result, queueing included
  std::uint64_t memory_used = 0;         // bytes the store holds in memory after the operation
  std::uint64_t disk_bytes_read = 0;     // bytes this operation read from files
  std::uint64_t disk_bytes_written = 0;  // bytes this operation wrote (its share of a group commit)
  bool success = false;

  // What group commit makes worth knowing (zero where the backend has no such step).
  std::chrono::nanoseconds queue_time{0};  // waiting for an earlier fsync batch to finish
  std::uint32_t batch_records = 0;         // writers that shared this operation's fdatasync
  std::uint64_t lsn = 0;                   // log sequence number given to the write, if any
};

struct StorageStats {
  // The seed's fields.
  std::uint64_t total_keys = 0;
  std::uint64_t total_size_bytes = 0;  // encoded size of all live leases
  std::uint64_t memory_usage_bytes = 0;
  std::uint64_t disk_usage_bytes = 0;  // bytes of all files in the data directory
  std::uint64_t average_key_size = 0;
  std::uint64_t average_value_size = 0;

  // Ours: how the store got here and what it is doing.
  std::uint64_t wal_syncs = 0;            // fdatasyncs of the log since open
  std::uint64_t wal_records = 0;          // records appended since open
  double writes_per_sync = 0.0;           // wal_records / wal_syncs
  std::uint64_t disk_bytes_written = 0;   // since open, all files
  std::uint64_t disk_bytes_read = 0;      // since open, all files
  std::chrono::microseconds recovery_time{0};  // time the last open spent replaying/loading
  // Bytes of a torn or half-written log tail the last open cut off (0: the
  // log ended cleanly). Only writes never acknowledged end there. RocksDB
  // does not report it (0).
  std::uint64_t recovery_log_bytes_cut = 0;
  // I/O errors no caller saw: background flushes, compactions and
  // checkpoints, preparing log segments, removing files nothing names any
  // more, closing synced files. Such work is retried or skipped (a failed
  // flush or compaction stops writes, and the next write returns the
  // error); none is dropped silently. 0 on a healthy store.
  std::uint64_t background_errors = 0;
  std::string last_background_error;  // the most recent, naming file and cause
  std::uint64_t write_stalls = 0;         // writers that had to wait for a flush
  std::chrono::microseconds write_stall_time{0};
  std::uint64_t compactions = 0;
  std::uint64_t flushes = 0;
  std::uint64_t checkpoints = 0;
};

}  // namespace orbit
