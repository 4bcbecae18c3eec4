// Wal: the write-ahead log with group commit, shared by the COW B+ tree and
// LSM engines and streamed to followers by replication.
//
// Records are opaque byte strings. Each gets a log sequence number (LSN):
// 1, 2, 3... with no gaps, in the order they were appended. A batch appended
// by one call takes consecutive LSNs and replays all or nothing.
//
// Group commit: any number of coroutines may co_await append() at once.
// While one write + fdatasync is in flight, new appends queue; when it
// completes, the queue (up to buffer_bytes) goes out as ONE write + ONE
// fdatasync and every writer in it resumes with its LSN. The writer at the
// head of the queue does the I/O for everyone (LevelDB's DBImpl::Write), so
// there is no thread or task per writer and no writer waits for a batch
// after its own.
//
// Durability: with Durability::Durable (the default) an append completes
// successfully only after its bytes are on stable storage. A failed write or
// fdatasync fails every writer of that batch and fail-stops the log: every
// later call fails with Unavailable naming the original error, because the
// state of the file is unknown after a failed fdatasync (fsyncgate). Reopen
// to recover.
//
// Threading: every method may be awaited from any coroutine; each hops onto
// the runtime's loop thread first and completes there. stats() and the LSN
// accessors read plain fields: call them on the loop thread.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdlib>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/runtime.hpp"
#include "src/util/background_errors.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::wal {

enum class Durability : std::uint8_t {
  Durable,   // ack after fdatasync (default)
  Buffered,  // ack after write; fdatasync every sync_interval in the background
  None,      // ack after write; never fdatasync unless sync() is called (benchmarks)
};

// How Durability::Durable makes a batch durable (other modes always use
// plain writes and fdatasync). wal_bench measures both on the target disk:
// on ext4 here O_DSYNC is one io-wq round trip per commit instead of two
// (write, then the linked fdatasync), 4-12% lower p50 at 1 writer.
enum class SyncMethod : std::uint8_t {
  WriteThenDatasync,  // write + fdatasync, linked in one submission on io_uring
  OpenDsync,          // segments opened O_DSYNC: each write returns durable
};

enum class RecoveryMode : std::uint8_t {
  // A damaged record followed by valid later records fails open/replay with
  // Corruption naming segment file and offset. A damaged tail is cut.
  Strict,
  // Skips damaged records (reported in ReplayStats) and continues with the
  // next intact one. LSNs of the skipped records are lost.
  SkipCorrupted,
};

struct WalOptions {
  std::string dir;                           // created if missing
  std::uint64_t segment_size = 64ull << 20;  // roll to a new segment past this
  std::uint64_t buffer_bytes = 1ull << 20;   // max payload bytes per group-commit batch
  Durability durability = Durability::Durable;
  std::chrono::milliseconds sync_interval{10};  // Buffered only
  SyncMethod sync_method = SyncMethod::OpenDsync;
  bool preallocate = true;  // fallocate each new segment to segment_size
  // With Durable + SyncMethod::OpenDsync, open segments O_DIRECT as well:
  // a commit is then one write the kernel hands to the device from the
  // submitting thread, no io-wq worker and no page cache (io_uring 4 KiB
  // overwrite here: 0.9-0.95x of a pwrite + fdatasync's time, against
  // 1.1-1.4x buffered O_DSYNC). Writes cover whole kDirectAlign pages: the
  // last partial page is written again with each commit, zeros after the
  // log's end. Buffered where the file system refuses O_DIRECT (EINVAL:
  // tmpfs before Linux 6.6, FaultFileSystem) or segment_size is not a
  // multiple of kDirectAlign.
  bool direct_io = true;
  // Keep up to this many segments freed by truncate_before() and reuse them
  // as new segments (rename + overwrite: fdatasync then has no file-size or
  // extent metadata to flush). 0 deletes them.
  std::uint32_t recycle = 2;
  // When no freed segment is waiting, prepare a spare in the background: a
  // new file, fallocated and written full of zeros, so the next segment is
  // overwrite-only too. A log whose writes grow their file (a new store, a
  // reopened log whose last segment was not prepared) moves onto a waiting
  // file early, without waiting for its segment to fill (Durable and
  // Buffered). The zeros go out in kSpareChunkBytes writes, each synced
  // before the next, so the log's fdatasyncs never wait behind more than
  // one chunk of them. Requires recycle > 0. Tests that destroy a Wal
  // without close() (power-loss simulation) turn it off.
  bool prepare_spare = true;
  RecoveryMode recovery = RecoveryMode::Strict;
  // The file system to use (tests pass a fault-injecting one); null: the runtime's.
  io::FileSystem* file_system = nullptr;
};

struct AppendResult {
  std::uint64_t lsn = 0;                   // LSN of the record (of the first entry of a batch)
  std::uint64_t bytes_written = 0;         // this writer's share of the batch's write, framing included
  std::chrono::nanoseconds queue_time{0};  // from the call until its batch's write started
  std::uint32_t batch_records = 0;         // records (LSNs) that shared the write (+ fdatasync)
  std::uint32_t batch_writers = 0;         // appends that shared it
};

struct ReplayStats {
  std::uint64_t records = 0;        // delivered to the callback
  std::uint64_t payload_bytes = 0;  // delivered to the callback
  std::uint64_t first_lsn = 0;      // first delivered (0 if none)
  std::uint64_t last_lsn = 0;       // last delivered (0 if none)
  std::uint64_t next_lsn = 0;       // LSN after the end of the replayed log
  std::uint32_t segments = 0;       // segment files read
  // What open() cut off the end of the log (a torn or zero-filled tail).
  // The file is truncated at tail_offset, unless everything after it is
  // zeros (a prepared segment): appends overwrite those.
  bool tail_truncated = false;
  std::string tail_segment;       // file name
  std::uint64_t tail_offset = 0;  // where the log now ends in it
  std::uint64_t tail_bytes_dropped = 0;
  std::string tail_reason;
  // Of those, bytes open() truncated away: a torn or half-written record
  // (zeros of a prepared segment are kept, not cut).
  std::uint64_t tail_bytes_cut = 0;
  // RecoveryMode::SkipCorrupted only: damage skipped ("000003.wal offset 4096: ...").
  std::uint64_t corrupted_regions_skipped = 0;
  std::vector<std::string> skipped;
};

struct WalStats {
  std::uint64_t records = 0;        // LSNs appended since open
  std::uint64_t appends = 0;        // append()/append_batch() calls completed successfully
  std::uint64_t batches = 0;        // group-commit writes
  std::uint64_t syncs = 0;          // fdatasyncs of segment data (O_DSYNC writes count too)
  std::uint64_t bytes_written = 0;  // to segment files, framing and headers included
  std::uint64_t payload_bytes = 0;  // user bytes appended
  std::uint64_t segments_created = 0;
  std::uint64_t segments_recycled = 0;
  std::uint64_t segments_removed = 0;
  // Failures no append saw: preparing a spare segment, fallocate after a
  // tail cut, closing a synced segment. Each only costs speed (a plain
  // segment instead of a prepared one); counted so none goes unseen.
  BackgroundErrors background_errors;
  double records_per_sync() const {
    return syncs ? static_cast<double>(records) / static_cast<double>(syncs) : 0.0;
  }
  double writes_per_sync() const {
    return syncs ? static_cast<double>(batches) / static_cast<double>(syncs) : 0.0;
  }
};

// Called once per record, in LSN order. An error stops the replay and is returned.
using ReplayCallback = std::function<Result<void>(std::uint64_t lsn, std::string_view payload)>;

class Wal {
 public:
  static constexpr std::uint64_t kSpareChunkBytes = std::uint64_t{1} << 20;
  static constexpr std::size_t kDirectAlign = 4096;

  // Opens (creating if needed) the log in options.dir. Finds the end of the
  // log: verifies every segment header and every record of the last segment,
  // cuts a torn or zero-filled tail (the file is truncated to the end of the
  // last good record unless only zeros follow it; see recovery_stats() and
  // the first replay()), and fails with Corruption naming segment file and
  // offset if a damaged record is followed by valid ones (Strict mode).
  // Earlier segments' records are verified by replay(), not here.
  static Task<Result<std::unique_ptr<Wal>>> open(io::Runtime& runtime, WalOptions options);

  // REQUIRES: close() has completed, unless the log has no background work
  // (Durability::Buffered and prepare_spare both start background tasks).
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends one record; completes per options.durability. Empty payloads are allowed.
  Task<Result<AppendResult>> append(std::string payload);
  // Appends entries as one atomic batch with consecutive LSNs (result.lsn is
  // the first). Replay delivers all of them or none. REQUIRES: !entries.empty()
  Task<Result<AppendResult>> append_batch(std::vector<std::string> entries);

  // Makes every record appended before the call durable (joins the group-commit queue).
  Task<Result<void>> sync();

  // Delivers every record with LSN >= from_lsn, in order, verifying every
  // checksum; reads a bounded window of each segment at a time. Records
  // appended while the replay runs may or may not be delivered. Records
  // below the oldest kept segment are gone (stats.first_lsn tells).
  Task<Result<ReplayStats>> replay(std::uint64_t from_lsn, ReplayCallback callback);

  // Deletes (or keeps for recycling) every segment all of whose records have
  // LSN < checkpoint_lsn, then syncs the directory. The current segment stays.
  Task<Result<void>> truncate_before(std::uint64_t checkpoint_lsn);

  // Waits for queued appends, syncs (unless Durability::None), stops the
  // background syncer and closes the segment. Later calls fail Unavailable.
  Task<Result<void>> close();

  std::uint64_t next_lsn() const noexcept { return next_lsn_; }
  // Every record below this LSN is on stable storage.
  std::uint64_t durable_lsn() const noexcept { return durable_lsn_; }
  // REQUIRES: the runtime's loop thread (background work updates it there).
  WalStats stats() const noexcept { return stats_; }
  // The current segment is written with O_DIRECT (WalOptions::direct_io).
  bool direct_io() const noexcept { return direct_; }
  // What open() found at the end of the log (tail_* fields).
  const ReplayStats& recovery_stats() const noexcept { return open_stats_; }
  const WalOptions& options() const noexcept { return options_; }

 private:
  struct Segment {
    std::uint64_t number = 0;
    std::uint64_t first_lsn = 0;
  };
  struct Writer;
  class WriterAwaiter;

  Wal(io::Runtime& runtime, WalOptions options);

  // Where a segment scan stopped: the next LSN and the end of the last good record.
  struct ScanEnd {
    std::uint64_t next_lsn = 0;
    std::uint64_t end_offset = 0;
  };

  Task<Result<void>> recover();
  Task<void> enqueue(Writer& writer);
  Task<void> lead(Writer& self);
  Task<void> commit(std::vector<Writer*>& batch);
  // Whether a batch of `bytes` goes to a new segment: it does not fit in the
  // rest of segment_size, or it would grow the file while a free file waits.
  bool roll_first(std::uint64_t bytes) const;
  Task<Result<void>> roll(std::uint64_t first_lsn);
  Task<Result<void>> create_segment(std::uint64_t number, std::uint64_t first_lsn);
  Task<void> background_sync();
  void maybe_prepare_spare();
  Task<void> prepare_spare();
  // Reads one segment. stop_lsn: first LSN of the next segment (UINT64_MAX
  // for the last); limit: bytes of the file to read (UINT64_MAX: its size).
  // at_open: a damaged tail of the last segment is reported in stats.tail_*
  // (the caller cuts it) instead of being an error.
  Task<Result<ScanEnd>> scan_segment(Segment segment, std::uint64_t stop_lsn, std::uint64_t limit,
                                     std::uint64_t from_lsn, const ReplayCallback* callback, bool at_open,
                                     ReplayStats& stats);
  void fail_stop(const Error& error);
  void note_background_error(std::string what);
  Result<void> check_open() const;
  std::string path_of(std::uint64_t number) const;
  // Opens a segment for writing with O_DIRECT when the options allow it
  // and the file system takes it; null when it does not (EINVAL).
  Task<io::IoResult<std::unique_ptr<io::File>>> open_direct(const std::string& path, io::OpenOptions options);
  // Direct writes: `bytes` at logical `offset` of `file`, written as whole
  // pages starting with `tail` (the file's bytes from the page boundary to
  // `offset`), zeros after. On success `tail` is the new last partial page.
  Task<io::IoResult<void>> write_pages(io::File& file, std::string& tail, std::uint64_t offset, std::string_view bytes);
  bool use_dsync() const noexcept {
    return options_.sync_method == SyncMethod::OpenDsync && options_.durability == Durability::Durable;
  }
  io::FileSystem& fs() const noexcept { return options_.file_system ? *options_.file_system : rt_.fs(); }

  io::Runtime& rt_;
  WalOptions options_;

  std::vector<Segment> segments_;           // live, ascending; back() is being written
  std::vector<std::string> free_segments_;  // recyclable file names (*.wal.free)
  std::unique_ptr<io::File> file_;          // segment_.back()
  std::uint64_t write_offset_ = 0;          // end of the last completed write in file_
  bool file_dirty_ = false;                 // written since its last fdatasync
  // Writes ending at or below this offset of file_ overwrite bytes the file
  // already holds (its size when it became the segment): their fdatasync has
  // no file size or extents to flush. Past it, every write grows the file.
  std::uint64_t overwrite_end_ = 0;

  std::uint64_t next_lsn_ = 1;
  std::uint64_t durable_lsn_ = 1;
  std::deque<Writer*> queue_;
  bool leader_active_ = false;
  std::uint64_t resumes_pending_ = 0;  // finished writers posted but not yet resumed
  bool closed_ = false;
  std::unique_ptr<Error> failure_;  // set once: fail-stopped
  std::uint32_t active_replays_ = 0;

  std::string batch_buffer_;
  bool direct_ = false;    // file_ is open O_DIRECT (write_pages)
  std::string tail_page_;  // direct_: file_'s bytes from the last page boundary to write_offset_
  struct FreeAligned {
    void operator()(std::byte* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<std::byte[], FreeAligned> page_buffer_;  // kDirectAlign-aligned
  std::size_t page_buffer_size_ = 0;
  WalStats stats_;
  ReplayStats open_stats_;  // tail cut by open(), reported by replay()
  bool open_stats_reported_ = false;

  io::CancelToken sync_cancel_;
  bool background_running_ = false;
  std::coroutine_handle<> background_waiter_;
  std::coroutine_handle<> drain_waiter_;
  bool spare_running_ = false;
  std::uint64_t spare_id_ = 0;
  std::coroutine_handle<> spare_waiter_;
};

}  // namespace orbit::wal
