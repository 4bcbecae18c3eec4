// KvStore: the part of the COW and LSM backends that is the same for both.
//
// Both engines keep the shared key layout (changes.hpp) in an ordered
// key-value structure in memory and on disk, behind one write-ahead log
// (src/wal) in <data_dir>/orbit.wal/. KvStore owns that log and implements
// the whole PersistenceProvider on top of three engine hooks:
//
//   view()   a consistent read view of everything applied so far;
//   apply()  applies one logged entry's changes (loop thread, LSN order);
//   close_engine() / engine_stats() / do_checkpoint()  the engine's own.
//
// Write path (one commit group at a time, as LevelDB's writer queue): the
// queued writers are taken as a group, each writer's ops become KvChanges
// against the current state (read through read_latest(), with an overlay of
// the group's earlier writers), each writer's changes become one log entry,
// the group is appended to the WAL as one atomic batch (one write + one
// fdatasync), and only then are the entries applied in LSN order and the
// writers answered. Readers therefore never see a write before it is
// durable, and the next group's reads see every earlier group. A writer
// whose own changes cannot be made (remove of an absent lease, a stored
// lease that does not decode) fails alone.
//
// Recovery: the engine loads its persistent state, which covers every entry
// up to some LSN, then calls open_log(that LSN, the live counts stored with
// it): the log is opened and every later entry is applied again.
//
// Threading: everything runs on the runtime's loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "orbit/config.hpp"
#include "src/codec/key_layout.hpp"
#include "src/kv/changes.hpp"
#include "src/provider/provider_base.hpp"
#include "src/util/background_errors.hpp"
#include "src/wal/wal.hpp"

namespace orbit::kv {

// The lock file every KvStore engine holds in its data directory.
inline constexpr const char* kLockFileName = "orbit.lock";

struct KvPair {
  std::string key;
  std::string value;
};

// What a point read could tell without suspending (read_latest_now).
struct ValueNow {
  enum class State : std::uint8_t { Found, Absent, NeedsIo };
  State state = State::NeedsIo;
  std::string_view value;  // Found: the engine's own bytes; read them before the loop runs anything else

  bool answered() const noexcept { return state != State::NeedsIo; }
  // REQUIRES: answered(). The value as read_latest() returns it.
  std::optional<std::string> copy() const {
    if (state == State::Found) return std::string(value);
    return std::nullopt;
  }
};

// A consistent, point-in-time read view: later applies are not seen.
class KvView {
 public:
  virtual ~KvView() = default;
  virtual Task<Result<std::optional<std::string>>> get(std::string key) = 0;
  // Entries with seek <= key < upper (empty upper: no bound), in key order,
  // at most `limit` (0: all).
  virtual Task<Result<std::vector<KvPair>>> range(std::string seek, std::string upper, std::size_t limit) = 0;
};

class KvStore : public ProviderBase {
 public:
  ~KvStore() override;

 protected:
  // `engine_name` names the store in messages ("the LSM store in data_dir ...").
  KvStore(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime, std::string engine_name);

  // ---- For the engine ----------------------------------------------------

  // Takes the data directory's lock (<data_dir>/orbit.lock, flock): the
  // engine's open calls it before it reads or changes any file, so a second
  // open of the same directory — in another process or this one — fails
  // with Unavailable instead of two writers sharing one log. Held until the
  // store is destroyed (or its process dies).
  Result<void> lock_data_dir();

  // Opens <data_dir>/orbit.wal with `options` (dir and durability are
  // filled in here from the config) and applies every entry after
  // `applied_lsn`. Sets the live counts and the log part of recovery time.
  Task<Result<void>> open_log(wal::WalOptions options, std::uint64_t applied_lsn, LiveCounts live);

  wal::Wal& log() noexcept { return *wal_; }
  const PersistenceConfig& config() const noexcept { return config_; }
  // Every log entry up to this LSN is applied (and so in the engine's state).
  std::uint64_t applied_lsn() const noexcept { return applied_lsn_; }
  const LiveCounts& live() const noexcept { return live_; }
  const std::string& engine_name() const noexcept { return engine_name_; }
  // Unavailable once closed (or fail-stopped).
  std::optional<Error> check_open() const;
  // Adds time the engine spent loading its files to the reported recovery time.
  void add_recovery_time(std::chrono::microseconds t) noexcept { recovery_time_ += t; }
  // Counts an I/O error of work no caller waits for (StorageStats::background_errors).
  void note_background_error(std::string what) { background_errors_.note(std::move(what)); }

  // The engine's destructor calls this first (its hooks are gone by the
  // time ~KvStore runs): closes the store if the user did not.
  void close_in_destructor() noexcept;

  // ---- What the engine implements --------------------------------------

  virtual std::unique_ptr<KvView> view() = 0;
  // The newest applied value of `key`, when the engine can tell from memory
  // without suspending (the hot read: get_now). The default never can.
  virtual ValueNow read_latest_now(std::string_view key);
  // The newest applied value of `key`. The default asks read_latest_now(),
  // then reads through view().
  virtual Task<Result<std::optional<std::string>>> read_latest(std::string key);
  // Applies one entry's changes, in order, as of `lsn`. Loop thread, in LSN
  // order. Views taken before must keep seeing what they saw (a COW root, an
  // LSM sequence number).
  virtual void apply(std::span<const KvChange> changes, std::uint64_t lsn) = 0;
  // Optional: an engine that can build a group's state while the group's
  // log write is in flight, without readers seeing it (the COW tree changes
  // a copy of its root), answers true to stages(). stage() then gets the
  // group's entries, in LSN order, once the write has been submitted; once
  // it is durable publish_staged() shows them, in place of apply(); if it
  // failed discard_staged() drops them. The writers are answered without
  // waiting for the engine's own work. False (the default): apply().
  virtual bool stages(std::size_t /*changes*/) const { return false; }
  virtual void stage(std::span<const std::span<const KvChange>> /*entries*/) {}
  virtual void publish_staged() {}
  virtual void discard_staged() {}
  // Optional, for an engine that does not stage: gets the group's entries
  // while their log write is in flight, as stage() would, to ready what
  // apply() will touch (the LSM store brings its memtable index into
  // cache). It must not change what readers see.
  virtual void prepare_apply(std::span<const std::span<const KvChange>> /*entries*/) {}
  // Called before each commit group: the LSM store waits here (bounded,
  // counted) when flushing cannot keep up. Errors fail the group's writers.
  virtual Task<Result<void>> before_commit() { co_return Result<void>(); }
  // Stops background work and makes the state durable where the engine
  // wants (a final checkpoint or flush). Runs after the last operation
  // finished and before the log closes.
  virtual Task<Result<void>> close_engine() = 0;
  // Fills what only the engine knows: memory, disk usage, flushes,
  // compactions, checkpoints, stalls, its own disk bytes.
  virtual void engine_stats(StorageStats& stats) = 0;

  // ---- PersistenceProvider ----------------------------------------------
  Task<Result<void>> do_store(Lease lease) override;
  Task<Result<Lease>> do_get(ActorKey key) override;
  std::optional<Result<Lease>> get_now(const ActorKey& key) override;
  Task<Result<void>> do_remove(ActorKey key) override;
  Task<Result<void>> do_batch(WriteBatch batch) override;
  std::uint64_t read_version() const noexcept override { return applied_lsn_; }
  Task<Result<void>> store_after_read(Lease lease, ReadBefore before) override;
  Task<Result<void>> remove_after_read(ActorKey key, ReadBefore before) override;
  Task<Result<StorageStats>> do_stats() override;
  Task<Result<void>> do_flush() override;
  Task<Result<void>> do_close() override;

 private:
  struct Writer;
  struct Overlay;
  // The stored lease a lease primitive read before its write, as the write's
  // changes need it; it stands for a read while applied_lsn_ == version.
  struct KnownBefore {
    std::optional<StoredLease> lease;
    std::uint64_t version = 0;
  };
  static KnownBefore known_before(ReadBefore before);
  Task<Result<void>> submit(std::vector<BatchOp> ops, bool missing_is_error,
                            std::optional<KnownBefore> known = std::nullopt);
  Task<void> commit_group(std::vector<QueuedWrite*>& group) override;
  Task<std::optional<Error>> build_changes(Writer& writer, const Overlay& group, Overlay& mine);
  Task<Result<std::vector<Lease>>> read_range(codec::ScanRange range) override;
  Result<void> replay_entry(std::uint64_t lsn, std::string_view payload);
  static Task<void> close_detached(std::unique_ptr<wal::Wal> wal);
  // The engine's and the log's, merged.
  BackgroundErrors all_background_errors() const;

  PersistenceConfig config_;
  std::string engine_name_;
  std::unique_ptr<io::FileLock> dir_lock_;
  std::unique_ptr<wal::Wal> wal_;
  bool closed_ = false;
  std::uint64_t applied_lsn_ = 0;
  LiveCounts live_;
  std::chrono::microseconds recovery_time_{0};
  std::uint64_t recovery_log_bytes_cut_ = 0;
  BackgroundErrors background_errors_;      // the engine's (the log keeps its own)
  std::uint64_t background_errors_reported_ = 0;  // by the last stats()
  std::uint64_t log_bytes_written_ = 0;
};

}  // namespace orbit::kv
