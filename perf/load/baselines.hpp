// The two baselines every benchmark run prints beside our backends:
//  - rocksdb-direct: RocksDB used directly (not through our interface), one
//    thread per concurrent writer, the same record size, mix and sync setting;
//    a write is a Get then a Put of the lease (read-modify-write, as a renewal);
//  - device-fdatasync: one 4 KiB pwrite + fdatasync in a loop into a file
//    already written full of zeros (overwrites: no size or extent metadata
//    to commit), the floor any durable write pays on this disk.
#pragma once

#include <atomic>
#include <string>

#include "perf/load/workload.hpp"

namespace orbit::bench {

// RocksDB's defaults, except write_buffer_size = write_buffer_mb (the RocksDb
// backend's setting, 64 MiB unless configured: RocksDB's own default), so
// that a run with small memtables flushes and compacts RocksDB as well.
RunResult run_rocksdb_direct(const std::string& dir, const WorkloadOptions& options, std::uint32_t concurrency,
                             bool sync, std::uint32_t write_buffer_mb, std::atomic<std::uint64_t>& progress,
                             std::string* error);

// The device-fdatasync probe: prepared once (the file written full of
// zeros), then run for as many rounds as asked; removes its file when destroyed.
class DeviceProbe {
 public:
  DeviceProbe() = default;
  DeviceProbe(const DeviceProbe&) = delete;
  DeviceProbe& operator=(const DeviceProbe&) = delete;
  ~DeviceProbe();

  // False, with *error naming the file and the errno text, if it cannot be prepared.
  bool open(const std::string& dir, std::string* error);
  RunResult run(double seconds, std::atomic<std::uint64_t>& progress);
  // One timed write + fdatasync, recorded into `result` (its writes, ops,
  // bytes and first error).
  void write_once(RunResult& result);

 private:
  std::string path_;
  int fd_ = -1;
  std::int64_t offset_ = 0;
};

}  // namespace orbit::bench
