#include "perf/load/baselines.hpp"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "perf/load/process_stats.hpp"

namespace orbit::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string key_for(std::uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "L%016llx", static_cast<unsigned long long>(i));
  return buf;
}

}  // namespace

RunResult run_rocksdb_direct(const std::string& dir, const WorkloadOptions& options, std::uint32_t concurrency,
                             bool sync, std::uint32_t write_buffer_mb, std::atomic<std::uint64_t>& progress,
                             std::string* error) {
  RunResult result;
  result.target = "rocksdb-direct";
  result.concurrency = concurrency;
  std::filesystem::remove_all(dir);

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.write_buffer_size = static_cast<std::size_t>(write_buffer_mb) << 20;
  db_options.statistics = rocksdb::CreateDBStatistics();
  rocksdb::DB* raw = nullptr;
  auto status = rocksdb::DB::Open(db_options, dir, &raw);
  if (!status.ok()) {
    *error = "rocksdb-direct: open " + dir + ": " + status.ToString();
    return result;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(options.record_bytes, 'v');
  for (std::uint64_t i = 0; i < options.leases; ++i) db->Put(rocksdb::WriteOptions(), key_for(i), value);
  db->FlushWAL(true);
  const auto bytes_before = db_options.statistics->getTickerCount(rocksdb::BYTES_WRITTEN) +
                            db_options.statistics->getTickerCount(rocksdb::FLUSH_WRITE_BYTES) +
                            db_options.statistics->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);

  std::vector<RunResult> per_thread(concurrency);
  reset_peak_rss();
  const double cpu_before = cpu_seconds();
  const auto started = Clock::now();
  const auto deadline =
      started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  std::vector<std::thread> threads;
  for (std::uint32_t t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      RunResult& mine = per_thread[t];
      std::mt19937_64 rng(options.seed * 1000003 + t);
      rocksdb::WriteOptions write_options;
      write_options.sync = sync;
      std::string got;
      while (Clock::now() < deadline) {
        const auto start = Clock::now();
        const bool write = static_cast<double>(rng() % 1000) < options.mix.write_fraction() * 1000;
        if (write) {
          // A renewal as an actor system does it by hand: read the lease, write it back.
          const std::string key = key_for(rng() % options.leases);
          db->Get(rocksdb::ReadOptions(), key, &got);
          auto s = db->Put(write_options, key, value);
          mine.writes.record(static_cast<std::uint64_t>((Clock::now() - start).count()));
          if (!s.ok() && mine.errors++ == 0) mine.first_error = s.ToString();
          mine.user_bytes_written += value.size() + 17;
        } else {
          auto s = db->Get(rocksdb::ReadOptions(), key_for(rng() % options.leases), &got);
          mine.reads.record(static_cast<std::uint64_t>((Clock::now() - start).count()));
          if (!s.ok() && mine.errors++ == 0) mine.first_error = s.ToString();
        }
        ++mine.ops;
        progress.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.cpu_seconds = cpu_seconds() - cpu_before;
  result.peak_rss_bytes = peak_rss_bytes();
  for (auto& r : per_thread) {
    result.writes.merge(r.writes);
    result.reads.merge(r.reads);
    result.ops += r.ops;
    result.user_bytes_written += r.user_bytes_written;
    if (r.errors && !result.errors) result.first_error = r.first_error;
    result.errors += r.errors;
  }
  const auto bytes_after = db_options.statistics->getTickerCount(rocksdb::BYTES_WRITTEN) +
                           db_options.statistics->getTickerCount(rocksdb::FLUSH_WRITE_BYTES) +
                           db_options.statistics->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
  result.disk_bytes_written = bytes_after - bytes_before;
  const auto syncs = db_options.statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED);
  result.fsyncs_per_write = result.writes.count() ? static_cast<double>(syncs) / result.writes.count() : 0;
  db->Close();
  return result;
}

namespace {
constexpr std::size_t kProbeBlock = 4096;
constexpr off_t kProbeFileBytes = 64 << 20;
}  // namespace

DeviceProbe::~DeviceProbe() {
  if (fd_ < 0) return;
  ::close(fd_);
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

bool DeviceProbe::open(const std::string& dir, std::string* error) {
  std::filesystem::create_directories(dir);
  path_ = dir + "/device-probe.dat";
  // Written full of zeros first, not just fallocated: a write into
  // unwritten extents makes fdatasync commit extent metadata too (about
  // twice the time), and the floor is the overwrite, as in the WAL's
  // prepared segments.
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  bool prepared = fd_ >= 0;
  static const std::string zeros(1 << 20, '\0');
  for (off_t at = 0; prepared && at < kProbeFileBytes; at += static_cast<off_t>(zeros.size())) {
    prepared = ::pwrite(fd_, zeros.data(), zeros.size(), at) == static_cast<ssize_t>(zeros.size());
  }
  if (prepared && ::fsync(fd_) == 0) return true;
  *error = "device-fdatasync: cannot prepare " + path_ + ": " + std::strerror(errno);
  return false;
}

void DeviceProbe::write_once(RunResult& result) {
  alignas(4096) static const std::array<char, kProbeBlock> block = [] {
    std::array<char, kProbeBlock> b;
    b.fill('d');
    return b;
  }();
  const auto start = Clock::now();
  if (::pwrite(fd_, block.data(), kProbeBlock, offset_) != static_cast<ssize_t>(kProbeBlock) ||
      ::fdatasync(fd_) != 0) {
    if (result.errors++ == 0) result.first_error = std::strerror(errno);
  }
  result.writes.record(static_cast<std::uint64_t>((Clock::now() - start).count()));
  offset_ = (offset_ + static_cast<off_t>(kProbeBlock)) % kProbeFileBytes;
  ++result.ops;
  result.user_bytes_written += kProbeBlock;
}

RunResult DeviceProbe::run(double seconds, std::atomic<std::uint64_t>& progress) {
  RunResult result;
  result.target = "device-fdatasync";
  result.concurrency = 1;
  reset_peak_rss();
  const double cpu_before = cpu_seconds();
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < deadline) {
    write_once(result);
    progress.fetch_add(1, std::memory_order_relaxed);
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.cpu_seconds = cpu_seconds() - cpu_before;
  result.peak_rss_bytes = peak_rss_bytes();
  result.disk_bytes_written = result.user_bytes_written;
  result.fsyncs_per_write = 1.0;
  return result;
}

}  // namespace orbit::bench
