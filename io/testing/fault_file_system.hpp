// FaultFileSystem: a FileSystem wrapper for tests that injects the failures
// real disks and kernels produce, deterministically from a seed.
//
// It wraps any FileSystem (normally a runtime's real one) and forwards every
// call, while it:
//  - keeps, per file, the content as of its last successful datasync/sync
//    (the "durable image", held in memory: test files are small and an
//    in-memory copy cannot be corrupted by the crash it models) and the list
//    of writes/truncates made since;
//  - keeps the namespace operations (create, rename, remove) not yet made
//    durable by sync_dir of the parent directory;
//  - on crash(): undoes the non-durable namespace operations, then rewrites
//    every file to its durable image, optionally followed by a (random)
//    prefix of the unsynced writes, some of them garbage, the last one torn
//    at a given byte;
//  - fails the Nth call of a chosen kind (or every call from the Nth on)
//    with the errno you choose (EIO, ENOSPC...), without touching the disk;
//  - makes the Nth write a short one: a seeded prefix of its bytes (at least
//    one, never all) reaches the file, then the write fails, as a pwrite
//    that wrote part of its buffer and met ENOSPC or EIO on the retry does;
//  - flips one bit in the data returned by a chosen read;
//  - counts every call by kind, so a test can sweep "crash at op N" for all N
//    (the close of a file opened read-only is not counted: it cannot fail).
//
// Files that already exist when first opened are taken as durable as found;
// directories made by create_dirs are durable at once. A rename is durable
// after sync_dir of the target's directory. Files opened with append are
// tracked at the offset they actually landed at. An open asking for
// O_DIRECT fails with EINVAL, as on tmpfs before Linux 6.6, unless
// accept_direct(true): then such a file must be read and written as the
// kernel demands (every buffer's address and length, and the offset,
// multiples of kDirectAlign, else EINVAL), and a short write lands whole
// 512-byte sectors, as a device does. The file underneath is opened without
// O_DIRECT: the wrapper models the device, whatever the base file system is.
// Threading: like any FileSystem, its coroutines run on the owning runtime's
// loop thread (and its workers, with Asio); the fault and counter methods
// may be called from the test thread while no operation is in flight,
// except count() and injected(), which may be called at any time. crash() works on a snapshot, so
// calls still running beside it (a store's background work) cannot pull
// its bookkeeping from under it; Files opened before crash() are stale after.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "io/file_system.hpp"

namespace orbit::io::testing {

enum class FaultOp : std::uint8_t {
  Open,
  Read,
  Write,     // write_at, writev_at and the write half of write_and_datasync
  DataSync,  // datasync and the sync half of write_and_datasync
  Sync,
  Allocate,
  Truncate,
  Close,
  Rename,
  Remove,
  SyncDir,
  Any,         // matches every kind above (for fail rules and total counts)
  ShortWrite,  // names a Write fault that landed a prefix (injected() only)
};
inline constexpr std::size_t kFaultOpKinds = static_cast<std::size_t>(FaultOp::Any);
// "Open", "Write", ... "Any", "ShortWrite".
std::string_view to_string(FaultOp op) noexcept;

// One fault a rule injected: what kind of call, on which file, which errno.
struct InjectedFault {
  FaultOp kind;
  std::string path;
  int error;
};

struct CrashOptions {
  // Keep a random prefix (0..all) of each file's unsynced writes, chosen from
  // the seed, instead of dropping them all.
  bool keep_random_prefix = false;
  // If set, unsynced writes are kept (all of them, or the random prefix) and
  // the last kept one survives only up to this many bytes: a torn write.
  std::optional<std::size_t> tear_last_write_at;
  // Each kept unsynced write lands, with even odds (from the seed), as
  // garbage of its length instead of its bytes: what a disk may leave of
  // writes it never promised to keep.
  bool garbage_over_kept = false;
};

class FaultFileSystem final : public FileSystem {
 public:
  explicit FaultFileSystem(FileSystem& base, std::uint64_t seed = 1);
  ~FaultFileSystem() override;

  // ---- Fault injection --------------------------------------------------------
  // The `nth` call of `kind` counted from now (1 = the next one) fails with
  // `error`; with `sticky`, every later call of that kind fails too.
  // ShortWrite: the `nth` write (write_at, writev_at, write_and_datasync)
  // writes a seeded prefix of its data, then fails (a one-byte write fails whole).
  void fail_nth(FaultOp kind, std::uint64_t nth, int error, bool sticky = false);
  // The `nth` read from now returns its data with one bit flipped (position
  // chosen from the seed).
  void flip_bit_on_nth_read(std::uint64_t nth);
  void clear_faults();
  // Accept O_DIRECT opens (see the header comment). Affects later opens.
  void accept_direct(bool accept);
  static constexpr std::size_t kDirectAlign = 4096;
  static constexpr std::size_t kSectorBytes = 512;
  // Every fault injected so far (a power-loss sweep's sticky rule adds one per failed call).
  std::vector<InjectedFault> injected() const;

  // ---- Counters -----------------------------------------------------------
  std::uint64_t count(FaultOp kind) const;  // calls seen (including failed ones); Any = all; ShortWrite = Write
  // count() of every kind, indexed by FaultOp (the last is Any).
  using Counts = std::array<std::uint64_t, kFaultOpKinds + 1>;
  void reset_counts();

  // ---- Power loss -----------------------------------------------------------
  // Simulates power loss now: see the header comment. Afterwards the wrapper
  // tracks the on-disk state afresh (everything left is durable).
  Task<IoResult<void>> crash(CrashOptions options = {});
  // Power loss under a store that still runs: every call from now on fails
  // with EIO (until clear_faults()), so background work cannot touch the
  // files beside crash() or after it, as a machine that lost power cannot;
  // then crash(options).
  Task<IoResult<void>> lose_power(CrashOptions options = {});
  // Marks everything written so far durable without a sync (test setup).
  void forget_unsynced();

  // ---- FileSystem -------------------------------------------------------------
  Task<IoResult<std::unique_ptr<File>>> open(std::string path, OpenOptions options) override;
  Task<IoResult<void>> rename(std::string from, std::string to) override;
  Task<IoResult<void>> remove(std::string path) override;
  Task<IoResult<void>> sync_dir(std::string path) override;
  IoResult<void> create_dirs(const std::string& path) override;
  IoResult<std::vector<std::string>> list_dir(const std::string& path) override;
  bool exists(const std::string& path) override;
  IoResult<std::uint64_t> file_size(const std::string& path) override;

  // For FaultFile; not for tests.
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace orbit::io::testing
