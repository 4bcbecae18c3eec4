#include "io/testing/fault_file_system.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace orbit::io::testing {
namespace {

struct Pending {
  bool truncate = false;
  std::uint64_t offset = 0;  // write offset, or the new length for a truncate
  std::vector<std::byte> data;
};

struct FileState {
  std::vector<std::byte> durable;
  std::vector<Pending> pending;
  bool restore = false;  // must be rewritten on the next crash even without pending writes
};

void apply(std::vector<std::byte>& content, const Pending& op, std::size_t keep_bytes) {
  if (op.truncate) {
    content.resize(op.offset);
    return;
  }
  std::size_t size = std::min(keep_bytes, op.data.size());
  if (size == 0) return;
  if (content.size() < op.offset + size) content.resize(op.offset + size);
  std::memcpy(content.data() + op.offset, op.data.data(), size);
}

void commit(FileState& state) {
  for (const auto& op : state.pending) apply(state.durable, op, op.data.size());
  state.pending.clear();
}

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string normalize_dir(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

std::vector<std::byte> flatten(std::span<const iovec> buffers) {
  std::vector<std::byte> out;
  for (const auto& b : buffers) {
    auto* p = static_cast<const std::byte*>(b.iov_base);
    out.insert(out.end(), p, p + b.iov_len);
  }
  return out;
}

struct NamespaceOp {
  enum Kind { Create, Rename, Remove } kind;
  std::string dir;  // its sync_dir makes the operation durable
  std::string from;
  std::string to;
  std::shared_ptr<FileState> displaced;  // Rename: the replaced target; Remove: the removed file
};

struct FailRule {
  FaultOp kind;
  std::uint64_t at;  // the count of `kind` that fails
  int error;
  bool sticky;
  bool short_write = false;  // Write: a prefix lands before the error
};

// What check() decided for one call.
struct Verdict {
  int error = 0;  // 0: the call goes ahead
  bool short_write = false;
  std::uint64_t nth = 0;  // this call's number among calls of its kind
  explicit operator bool() const noexcept { return error != 0; }
};

// The first `bytes` of `buffers`.
std::vector<iovec> prefix_of(std::span<const iovec> buffers, std::size_t bytes) {
  std::vector<iovec> out;
  for (const iovec& b : buffers) {
    if (bytes == 0) break;
    const std::size_t n = std::min(bytes, b.iov_len);
    out.push_back(iovec{b.iov_base, n});
    bytes -= n;
  }
  return out;
}

}  // namespace

struct FaultFileSystem::Shared {
  Shared(FileSystem& base_in, std::uint64_t seed) : base(base_in), rng(seed) {}

  std::mutex mutex;  // guards counts and injected (see check)

  std::uint64_t total() const {
    std::uint64_t sum = 0;
    for (auto c : counts) sum += c;
    return sum;
  }

  // Counts the call on `path`; says whether (and how) to fail it. Under
  // `mutex`: calls run on the loop and on runtime workers at once (Asio),
  // and a test reads injected() while a store that lost power still runs.
  Verdict check(FaultOp kind, const std::string& path) {
    std::lock_guard lock(mutex);
    ++counts[static_cast<std::size_t>(kind)];
    std::uint64_t of_kind = counts[static_cast<std::size_t>(kind)];
    std::uint64_t all = total();
    for (const auto& rule : rules) {
      if (rule.kind != kind && rule.kind != FaultOp::Any) continue;
      std::uint64_t n = rule.kind == FaultOp::Any ? all : of_kind;
      if (n == rule.at || (rule.sticky && n > rule.at)) {
        const FaultOp as = rule.short_write ? FaultOp::ShortWrite : kind;
        injected.push_back(InjectedFault{as, path, rule.error});
        return Verdict{rule.error, rule.short_write, of_kind};
      }
    }
    return Verdict{0, false, of_kind};
  }

  // The state of `path`, snapshotting its on-disk content as durable the
  // first time. Null if the file does not exist.
  Task<std::shared_ptr<FileState>> track(std::string path) {
    if (auto it = files.find(path); it != files.end()) co_return it->second;
    if (!base.exists(path)) co_return nullptr;
    auto state = std::make_shared<FileState>();
    auto file = co_await base.open(path, OpenOptions::read_only());
    if (file) {
      auto size = (*file)->size();
      if (size) {
        state->durable.resize(*size);
        auto got = co_await (*file)->read_at(state->durable, 0);
        state->durable.resize(got ? *got : 0);
      }
      (void)co_await (*file)->close();
    }
    files[path] = state;
    co_return state;
  }

  FileSystem& base;
  std::mt19937_64 rng;
  std::array<std::uint64_t, kFaultOpKinds> counts{};
  std::vector<FailRule> rules;
  std::vector<InjectedFault> injected;
  std::optional<std::uint64_t> flip_read_at;
  bool accept_direct = false;
  std::map<std::string, std::shared_ptr<FileState>> files;
  std::vector<NamespaceOp> namespace_ops;
};

namespace {

using Shared = FaultFileSystem::Shared;

class FaultFile final : public File {
 public:
  FaultFile(std::shared_ptr<Shared> shared, std::unique_ptr<File> base, std::shared_ptr<FileState> state,
            OpenOptions options)
      : shared_(std::move(shared)),
        base_(std::move(base)),
        state_(std::move(state)),
        append_(options.append),
        writable_(options.write),
        dsync_(options.dsync),
        direct_(options.direct) {}

  const std::string& path() const noexcept override { return base_->path(); }

  Task<IoResult<std::size_t>> read_at(std::span<std::byte> buffer, std::uint64_t offset) override {
    iovec one{buffer.data(), buffer.size()};
    if (!direct_ok(std::span<const iovec>(&one, 1), offset)) co_return Errno{EINVAL};
    const Verdict verdict = shared_->check(FaultOp::Read, path());
    if (verdict) co_return Errno{verdict.error};
    const std::uint64_t this_read = verdict.nth;
    auto got = co_await base_->read_at(buffer, offset);
    if (got && *got > 0 && shared_->flip_read_at == this_read) {
      std::uint64_t bit = shared_->rng() % (*got * 8);
      buffer[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    }
    co_return got;
  }

  Task<IoResult<void>> write_at(std::span<const std::byte> data, std::uint64_t offset) override {
    iovec one{const_cast<std::byte*>(data.data()), data.size()};
    co_return co_await writev_at(std::span<const iovec>(&one, 1), offset);
  }

  Task<IoResult<void>> writev_at(std::span<const iovec> buffers, std::uint64_t offset) override {
    if (!direct_ok(buffers, offset)) co_return Errno{EINVAL};
    if (Verdict e = shared_->check(FaultOp::Write, path())) co_return co_await failed_write(e, buffers, offset);
    auto written = co_await base_->writev_at(buffers, offset);
    if (written) returned(buffers, offset);
    co_return written;
  }

  IoResult<void> writev_now(std::span<const iovec> buffers, std::uint64_t offset) override {
    if (!direct_ok(buffers, offset)) return Errno{EINVAL};
    if (Verdict e = shared_->check(FaultOp::Write, path())) {
      if (auto part = landed_prefix(e, buffers); !part.empty() && base_->writev_now(part, offset)) {
        record(flatten(part), offset);
      }
      return Errno{e.error};
    }
    auto written = base_->writev_now(buffers, offset);
    if (written) returned(buffers, offset);
    return written;
  }

  Task<IoResult<void>> datasync() override { co_return co_await synced(FaultOp::DataSync); }
  Task<IoResult<void>> sync() override { co_return co_await synced(FaultOp::Sync); }

  Task<IoResult<void>> write_and_datasync(std::span<const iovec> buffers, std::uint64_t offset) override {
    if (!direct_ok(buffers, offset)) co_return Errno{EINVAL};
    if (Verdict e = shared_->check(FaultOp::Write, path())) co_return co_await failed_write(e, buffers, offset);
    if (Verdict e = shared_->check(FaultOp::DataSync, path())) {
      // The write reaches the page cache; the sync "fails": data stays unsynced.
      auto written = co_await base_->writev_at(buffers, offset);
      if (written) record(flatten(buffers), offset);
      co_return Errno{e.error};
    }
    auto done = co_await base_->write_and_datasync(buffers, offset);
    // Even on failure part of it may be on disk: track it as unsynced.
    record(flatten(buffers), offset);
    if (done) commit(*state_);
    co_return done;
  }

  Task<IoResult<void>> allocate(std::uint64_t offset, std::uint64_t length) override {
    if (Verdict e = shared_->check(FaultOp::Allocate, path())) co_return Errno{e.error};
    co_return co_await base_->allocate(offset, length);
  }

  Task<IoResult<void>> truncate(std::uint64_t length) override {
    if (Verdict e = shared_->check(FaultOp::Truncate, path())) co_return Errno{e.error};
    auto done = co_await base_->truncate(length);
    if (done) state_->pending.push_back(Pending{true, length, {}});
    co_return done;
  }

  IoResult<std::uint64_t> size() override { return base_->size(); }

  // Closing a file opened read-only has nothing to write back and cannot
  // fail with EIO or ENOSPC: it is neither counted nor failed.
  Task<IoResult<void>> close() override {
    if (!writable_) co_return co_await base_->close();
    if (Verdict e = shared_->check(FaultOp::Close, path())) co_return Errno{e.error};
    co_return co_await base_->close();
  }

 private:
  // A write that returned: unsynced, or with O_DSYNC durable already (this
  // model makes the file's earlier writes durable with it, as an fdatasync
  // would).
  void returned(std::span<const iovec> buffers, std::uint64_t offset) {
    record(flatten(buffers), offset);
    if (dsync_) commit(*state_);
  }

  // O_DIRECT's rule, on a file opened with it: addresses, lengths and the
  // offset aligned.
  bool direct_ok(std::span<const iovec> buffers, std::uint64_t offset) const {
    if (!direct_) return true;
    constexpr std::size_t kAlign = FaultFileSystem::kDirectAlign;
    if (offset % kAlign != 0) return false;
    for (const iovec& b : buffers)
      if (reinterpret_cast<std::uintptr_t>(b.iov_base) % kAlign != 0 || b.iov_len % kAlign != 0) return false;
    return true;
  }

  // A write check() failed: nothing reaches the file, or (short write) a
  // seeded prefix of 1..size-1 units does, unsynced: bytes, or whole
  // sectors on an O_DIRECT file. The buffers of that prefix (none: nothing
  // lands).
  std::vector<iovec> landed_prefix(const Verdict& verdict, std::span<const iovec> buffers) {
    std::size_t size = 0;
    for (const iovec& b : buffers) size += b.iov_len;
    const std::size_t unit = direct_ ? FaultFileSystem::kSectorBytes : 1;
    const std::size_t units = size / unit;
    if (!verdict.short_write || units <= 1) return {};
    return prefix_of(buffers, unit * (1 + static_cast<std::size_t>(shared_->rng() % (units - 1))));
  }

  Task<IoResult<void>> failed_write(Verdict verdict, std::span<const iovec> buffers, std::uint64_t offset) {
    std::vector<iovec> part = landed_prefix(verdict, buffers);
    if (!part.empty()) {
      auto written = co_await base_->writev_at(part, offset);
      if (written) record(flatten(part), offset);
    }
    co_return Errno{verdict.error};
  }

  Task<IoResult<void>> synced(FaultOp kind) {
    if (Verdict e = shared_->check(kind, path())) co_return Errno{e.error};
    IoResult<void> done;  // (no co_await inside ?: — GCC 12 miscompiles it)
    if (kind == FaultOp::Sync) done = co_await base_->sync();
    else done = co_await base_->datasync();
    if (done) commit(*state_);
    co_return done;
  }

  void record(std::vector<std::byte> data, std::uint64_t offset) {
    if (append_) {
      auto size = base_->size();
      offset = size && *size >= data.size() ? *size - data.size() : 0;
    }
    state_->pending.push_back(Pending{false, offset, std::move(data)});
  }

  std::shared_ptr<Shared> shared_;
  std::unique_ptr<File> base_;
  std::shared_ptr<FileState> state_;
  bool append_;
  bool writable_;
  bool dsync_;   // opened O_DSYNC: a write that returns is durable
  bool direct_;  // opened O_DIRECT (accepted): alignment is checked
};

}  // namespace

FaultFileSystem::FaultFileSystem(FileSystem& base, std::uint64_t seed)
    : shared_(std::make_shared<Shared>(base, seed)) {}

FaultFileSystem::~FaultFileSystem() = default;

void FaultFileSystem::fail_nth(FaultOp kind, std::uint64_t nth, int error, bool sticky) {
  const bool short_write = kind == FaultOp::ShortWrite;
  if (short_write) kind = FaultOp::Write;
  shared_->rules.push_back(FailRule{kind, count(kind) + nth, error, sticky, short_write});
}

void FaultFileSystem::accept_direct(bool accept) { shared_->accept_direct = accept; }

void FaultFileSystem::flip_bit_on_nth_read(std::uint64_t nth) { shared_->flip_read_at = count(FaultOp::Read) + nth; }

std::vector<InjectedFault> FaultFileSystem::injected() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->injected;
}

void FaultFileSystem::clear_faults() {
  shared_->rules.clear();
  shared_->flip_read_at.reset();
}

std::uint64_t FaultFileSystem::count(FaultOp kind) const {
  std::lock_guard lock(shared_->mutex);
  if (kind == FaultOp::Any) return shared_->total();
  if (kind == FaultOp::ShortWrite) kind = FaultOp::Write;
  return shared_->counts[static_cast<std::size_t>(kind)];
}

void FaultFileSystem::reset_counts() {
  shared_->counts.fill(0);
  shared_->rules.clear();  // rules are relative to the counts
  shared_->flip_read_at.reset();
}

void FaultFileSystem::forget_unsynced() {
  for (auto& [path, state] : shared_->files) commit(*state);
  shared_->namespace_ops.clear();
}

Task<IoResult<std::unique_ptr<File>>> FaultFileSystem::open(std::string path, OpenOptions options) {
  auto& s = *shared_;
  // Refused as tmpfs refused it (not a fault point) unless accepted; the
  // file underneath is opened without it either way (FaultFile checks the
  // alignment).
  if (options.direct && !s.accept_direct) co_return Errno{EINVAL};
  OpenOptions base_options = options;
  base_options.direct = false;
  if (Verdict e = s.check(FaultOp::Open, path)) co_return Errno{e.error};
  auto state = co_await s.track(path);  // before O_TRUNC can destroy the content
  auto file = co_await s.base.open(path, base_options);
  if (!file) co_return Errno{file.error()};
  if (!state) {
    state = std::make_shared<FileState>();
    s.files[path] = state;
    s.namespace_ops.push_back(NamespaceOp{NamespaceOp::Create, normalize_dir(parent_of(path)), {}, path, nullptr});
  } else if (options.truncate) {
    state->pending.push_back(Pending{true, 0, {}});
  }
  co_return std::unique_ptr<File>(std::make_unique<FaultFile>(shared_, std::move(*file), state, options));
}

Task<IoResult<void>> FaultFileSystem::rename(std::string from, std::string to) {
  auto& s = *shared_;
  if (Verdict e = s.check(FaultOp::Rename, from)) co_return Errno{e.error};
  auto moved = co_await s.track(from);
  auto displaced = co_await s.track(to);
  auto done = co_await s.base.rename(from, to);
  if (!done) co_return done;
  s.files.erase(from);
  if (moved) s.files[to] = moved;
  s.namespace_ops.push_back(NamespaceOp{NamespaceOp::Rename, normalize_dir(parent_of(to)), from, to, displaced});
  co_return done;
}

Task<IoResult<void>> FaultFileSystem::remove(std::string path) {
  auto& s = *shared_;
  if (Verdict e = s.check(FaultOp::Remove, path)) co_return Errno{e.error};
  auto state = co_await s.track(path);
  auto done = co_await s.base.remove(path);
  if (!done) co_return done;
  s.files.erase(path);
  s.namespace_ops.push_back(NamespaceOp{NamespaceOp::Remove, normalize_dir(parent_of(path)), path, {}, state});
  co_return done;
}

Task<IoResult<void>> FaultFileSystem::sync_dir(std::string path) {
  auto& s = *shared_;
  if (Verdict e = s.check(FaultOp::SyncDir, path)) co_return Errno{e.error};
  auto done = co_await s.base.sync_dir(path);
  if (!done) co_return done;
  std::string dir = normalize_dir(path);
  std::erase_if(s.namespace_ops, [&](const NamespaceOp& op) { return op.dir == dir; });
  co_return done;
}

Task<IoResult<void>> FaultFileSystem::lose_power(CrashOptions options) {
  fail_nth(FaultOp::Any, 1, EIO, /*sticky=*/true);
  co_return co_await crash(options);
}

Task<IoResult<void>> FaultFileSystem::crash(CrashOptions options) {
  auto& s = *shared_;
  // Work on snapshots: calls still running on the loop (a store's background
  // work) may change the live bookkeeping while this awaits.
  std::vector<NamespaceOp> namespace_ops = std::move(s.namespace_ops);
  s.namespace_ops.clear();
  // 1. Undo the namespace operations no sync_dir made durable, newest first.
  for (auto it = namespace_ops.rbegin(); it != namespace_ops.rend(); ++it) {
    switch (it->kind) {
      case NamespaceOp::Create:
        (void)co_await s.base.remove(it->to);
        s.files.erase(it->to);
        break;
      case NamespaceOp::Rename: {
        auto back = co_await s.base.rename(it->to, it->from);
        if (!back) co_return back;
        if (auto moved = s.files.find(it->to); moved != s.files.end()) {
          s.files[it->from] = moved->second;
          s.files.erase(it->to);
        }
        if (it->displaced) {
          it->displaced->restore = true;
          s.files[it->to] = it->displaced;
        }
        break;
      }
      case NamespaceOp::Remove:
        if (it->displaced) {
          it->displaced->restore = true;
          s.files[it->from] = it->displaced;
        }
        break;
    }
  }

  // 2. Put every file back to its durable image, plus what survives of the
  //    unsynced writes.
  const std::vector<std::pair<std::string, std::shared_ptr<FileState>>> files(s.files.begin(), s.files.end());
  for (const auto& [path, state] : files) {
    if (state->pending.empty() && !state->restore) continue;
    std::size_t keep = 0;
    if (options.keep_random_prefix) keep = s.rng() % (state->pending.size() + 1);
    else if (options.tear_last_write_at) keep = state->pending.size();
    std::vector<std::byte> content = state->durable;
    if (options.garbage_over_kept && !options.keep_random_prefix && !options.tear_last_write_at)
      keep = state->pending.size();
    for (std::size_t i = 0; i < keep; ++i) {
      Pending op = state->pending[i];
      if (options.garbage_over_kept && !op.truncate && s.rng() % 2)
        for (std::byte& b : op.data) b = static_cast<std::byte>(s.rng());
      bool last = i + 1 == keep;
      apply(content, op, last && options.tear_last_write_at ? *options.tear_last_write_at : op.data.size());
    }
    OpenOptions rewrite = OpenOptions::read_write_create();
    rewrite.truncate = true;
    auto file = co_await s.base.open(path, rewrite);
    if (!file) co_return Errno{file.error()};
    if (!content.empty()) {
      auto written = co_await (*file)->write_at(content, 0);
      if (!written) co_return written;
    }
    auto synced = co_await (*file)->datasync();
    if (!synced) co_return synced;
    (void)co_await (*file)->close();
    state->durable = std::move(content);
    state->pending.clear();
    state->restore = false;
  }
  co_return IoResult<void>{};
}

IoResult<void> FaultFileSystem::create_dirs(const std::string& path) { return shared_->base.create_dirs(path); }
IoResult<std::vector<std::string>> FaultFileSystem::list_dir(const std::string& path) {
  return shared_->base.list_dir(path);
}
bool FaultFileSystem::exists(const std::string& path) { return shared_->base.exists(path); }
IoResult<std::uint64_t> FaultFileSystem::file_size(const std::string& path) { return shared_->base.file_size(path); }

std::string_view to_string(FaultOp op) noexcept {
  switch (op) {
    case FaultOp::Open: return "Open";
    case FaultOp::Read: return "Read";
    case FaultOp::Write: return "Write";
    case FaultOp::DataSync: return "DataSync";
    case FaultOp::Sync: return "Sync";
    case FaultOp::Allocate: return "Allocate";
    case FaultOp::Truncate: return "Truncate";
    case FaultOp::Close: return "Close";
    case FaultOp::Rename: return "Rename";
    case FaultOp::Remove: return "Remove";
    case FaultOp::SyncDir: return "SyncDir";
    case FaultOp::Any: return "Any";
    case FaultOp::ShortWrite: return "ShortWrite";
  }
  return "?";
}

}  // namespace orbit::io::testing
