#include "src/wal/wal.hpp"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <optional>
#include <utility>

#include "src/util/coding.hpp"
#include "src/wal/format.hpp"
#include "src/wal/record_encoder.hpp"
#include "src/wal/segment_reader.hpp"

namespace orbit::wal {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

Error io_error(int err, const std::string& what, const std::string& message) {
  return make_error(err == ENOSPC ? ErrorCode::NoSpace : ErrorCode::IOError, what + ": " + message);
}

std::string where(const std::string& path, std::uint64_t offset) {
  return "wal segment " + path + " offset " + std::to_string(offset);
}

// What spare segments are filled from, one iovec per block. Read-only
// data of the binary: a 1 MiB std::string of zeros, built on the loop for
// every spare, cost 256 fresh pages to fault in and clear there, 1-3 ms
// in which no commit completed.
alignas(4096) const char kZeroBlock[64 << 10] = {};

}  // namespace

// One append (or sync request) waiting in the group-commit queue. Lives in
// the frame of the append coroutine, which stays suspended until it is Done.
struct Wal::Writer {
  enum class Kind : std::uint8_t { Record, Batch, Sync };
  enum class State : std::uint8_t { Queued, Leading, Done };

  Kind kind = Kind::Record;
  State state = State::Queued;
  std::string payload;
  std::vector<std::string> entries;
  std::uint64_t payload_bytes = 0;
  std::uint32_t count = 0;  // LSNs taken
  Clock::time_point enqueued{};
  std::coroutine_handle<> handle;
  std::optional<Error> error;
  AppendResult result;
};

class Wal::WriterAwaiter {
 public:
  explicit WriterAwaiter(Writer& writer) : writer_(writer) {}
  bool await_ready() const noexcept { return writer_.state != Writer::State::Queued; }
  void await_suspend(std::coroutine_handle<> handle) noexcept { writer_.handle = handle; }
  void await_resume() const noexcept {}

 private:
  Writer& writer_;
};

namespace {
// Suspends until `slot` is resumed by whoever stores a handle there.
struct HandleSlotAwaiter {
  std::coroutine_handle<>* slot;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle) noexcept { *slot = handle; }
  void await_resume() const noexcept {}
};
}  // namespace

Wal::Wal(io::Runtime& runtime, WalOptions options) : rt_(runtime), options_(std::move(options)) {}

Wal::~Wal() = default;

std::string Wal::path_of(std::uint64_t number) const {
  return options_.dir + "/" + segment_file_name(number);
}

Result<void> Wal::check_open() const {
  if (failure_) {
    return make_error(
        ErrorCode::Unavailable,
        "wal " + options_.dir + " is fail-stopped after an earlier error: " + failure_->to_string());
  }
  if (closed_) return make_error(ErrorCode::Unavailable, "wal " + options_.dir + " is closed");
  return {};
}

void Wal::fail_stop(const Error& error) {
  if (!failure_) failure_ = std::make_unique<Error>(error);
}

void Wal::note_background_error(std::string what) {
  stats_.background_errors.note(std::move(what));
}

// ---- open ----------------------------------------------------------------

namespace {
// True if bytes [from, to) of `file` are all zero, taking the first
// kDeadRunEnd of them as proof for the rest (see format.hpp).
Task<Result<bool>> rest_is_zero(io::File& file, std::uint64_t from, std::uint64_t to) {
  std::string chunk;
  to = std::min(to, from + kDeadRunEnd);
  for (std::uint64_t offset = from; offset < to;) {
    chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(1 << 20, to - offset)));
    auto n =
        co_await file.read_at(std::as_writable_bytes(std::span<char>(chunk.data(), chunk.size())), offset);
    if (!n) co_return io_error(n.error(), where(file.path(), offset) + ": read", n.message());
    if (n.value() == 0) break;
    if (!coding::is_zero(std::string_view(chunk.data(), n.value()))) co_return false;
    offset += n.value();
  }
  co_return true;
}
}  // namespace

Task<Result<std::unique_ptr<Wal>>> Wal::open(io::Runtime& runtime, WalOptions options) {
  co_await runtime.schedule();
  if (options.dir.empty()) co_return make_error(ErrorCode::InvalidArgument, "wal dir is empty");
  if (options.segment_size < kBlockSize) {
    co_return make_error(ErrorCode::InvalidArgument,
                         "wal segment_size " + std::to_string(options.segment_size) +
                             " is below the minimum " + std::to_string(kBlockSize));
  }
  if (options.buffer_bytes == 0) co_return make_error(ErrorCode::InvalidArgument, "wal buffer_bytes is 0");
  if (options.durability == Durability::Buffered && options.sync_interval.count() <= 0) {
    co_return make_error(ErrorCode::InvalidArgument, "wal sync_interval must be positive in Buffered mode");
  }
  std::unique_ptr<Wal> wal(new Wal(runtime, std::move(options)));
  auto recovered = co_await wal->recover();
  if (!recovered) co_return std::move(recovered).error();
  if (wal->options_.durability == Durability::Buffered) {
    wal->background_running_ = true;
    runtime.spawn(wal->background_sync());
  }
  wal->maybe_prepare_spare();
  co_return std::move(wal);
}

Task<Result<void>> Wal::recover() {
  io::FileSystem& fs = this->fs();
  const std::string& dir = options_.dir;
  if (auto made = fs.create_dirs(dir); !made)
    co_return io_error(made.error(), "wal create_dirs " + dir, made.message());
  auto names = fs.list_dir(dir);
  if (!names) co_return io_error(names.error(), "wal list_dir " + dir, names.message());

  std::vector<std::uint64_t> numbers;
  for (const auto& name : names.value()) {
    if (auto n = parse_segment_file_name(name)) {
      numbers.push_back(*n);
    } else if (is_free_segment_file_name(name)) {
      if (free_segments_.size() < options_.recycle) {
        free_segments_.push_back(name);
      } else if (auto removed = co_await fs.remove(dir + "/" + name); !removed) {
        co_return io_error(removed.error(), "wal remove " + dir + "/" + name, removed.message());
      }
    }
  }
  std::sort(numbers.begin(), numbers.end());

  // Every segment header; a last segment whose header was never written (a
  // crash while creating or recycling it) held no records and is dropped.
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    std::string path = path_of(numbers[i]);
    auto file = co_await fs.open(path, io::OpenOptions::read_only());
    if (!file) co_return io_error(file.error(), "wal open " + path, file.message());
    std::string bytes(kSegmentHeaderSize, '\0');
    auto n = co_await file.value()->read_at(
        std::as_writable_bytes(std::span<char>(bytes.data(), bytes.size())), 0);
    if (!n) co_return io_error(n.error(), where(path, 0) + ": read", n.message());
    bytes.resize(n.value());
    SegmentHeader header;
    std::string why;
    HeaderState state = decode_segment_header(bytes, header, &why);
    bool last = i + 1 == numbers.size();
    if (state == HeaderState::Valid && header.segment_number == numbers[i]) {
      if (!segments_.empty() && header.first_lsn < segments_.back().first_lsn) {
        co_return make_error(ErrorCode::Corruption, where(path, 0) + ": first lsn " +
                                                        std::to_string(header.first_lsn) +
                                                        " is below the previous segment's");
      }
      segments_.push_back({numbers[i], header.first_lsn});
      continue;
    }
    if (last && (state == HeaderState::Uninitialized || state == HeaderState::Valid)) {
      (void)co_await file.value()->close();
      if (auto removed = co_await fs.remove(path); !removed) {
        co_return io_error(removed.error(), "wal remove " + path, removed.message());
      }
      if (auto synced = co_await fs.sync_dir(dir); !synced) {
        co_return io_error(synced.error(), "wal sync_dir " + dir, synced.message());
      }
      break;
    }
    if (state == HeaderState::Valid) why = "header names segment " + std::to_string(header.segment_number);
    co_return make_error(ErrorCode::Corruption, where(path, 0) + ": " + why);
  }

  if (segments_.empty()) {
    std::uint64_t number = numbers.empty() ? 1 : numbers.back();
    co_return co_await create_segment(number, 1);
  }

  // Find the end of the log in the last segment and cut what follows it.
  ReplayStats stats;
  auto end = co_await scan_segment(segments_.back(), kNoLimit, kNoLimit, kNoLimit, nullptr, true, stats);
  if (!end) co_return std::move(end).error();
  std::string path = path_of(segments_.back().number);
  io::OpenOptions rw;
  rw.write = true;
  rw.dsync = use_dsync();
  auto file = co_await fs.open(path, rw);
  if (!file) co_return io_error(file.error(), "wal open " + path, file.message());
  file_ = std::move(file.value());
  bool zero_tail = false;
  if (stats.tail_truncated && stats.tail_reason == "zero-filled space") {
    // A prepared (zero-filled) segment: keep the zeros, appends overwrite
    // them. Leftovers that are not zero would be truncated below.
    auto zero = co_await rest_is_zero(*file_, end->end_offset, end->end_offset + stats.tail_bytes_dropped);
    if (!zero) co_return std::move(zero).error();
    zero_tail = zero.value();
  }
  if (stats.tail_truncated && !zero_tail) {
    auto cut = co_await file_->truncate(end->end_offset);
    if (!cut)
      co_return io_error(cut.error(), where(path, end->end_offset) + ": truncate torn tail", cut.message());
    stats.tail_bytes_cut = stats.tail_bytes_dropped;
    if (options_.preallocate) {
      // A failed fallocate only costs metadata syncs later.
      auto allocated = co_await file_->allocate(0, options_.segment_size);
      if (!allocated && allocated.error() != EOPNOTSUPP)
        note_background_error("wal fallocate " + path + " after cutting its tail: " + allocated.message());
    }
  }
  // Records found may sit only in the page cache (a crash of a process that
  // did not sync); make them durable before counting them as such.
  auto synced = co_await file_->datasync();
  if (!synced)
    co_return io_error(synced.error(), where(path, end->end_offset) + ": fdatasync", synced.message());
  // Appends with O_DIRECT rewrite the last partial page: keep its bytes.
  // (The checks above read at any offset, so they used a buffered file.)
  auto writer = co_await open_direct(path, rw);
  if (!writer) co_return io_error(writer.error(), "wal open " + path, writer.message());
  const bool direct = writer.value() != nullptr;
  if (direct) {
    tail_page_.resize(end->end_offset % kDirectAlign);
    auto got = co_await file_->read_at(std::as_writable_bytes(std::span<char>(tail_page_.data(), tail_page_.size())),
                                       end->end_offset - tail_page_.size());
    if (!got || got.value() != tail_page_.size()) {
      co_return make_error(ErrorCode::IOError, where(path, end->end_offset - tail_page_.size()) +
                                                   ": read the last partial page: " +
                                                   (got ? std::string("short read") : got.message()));
    }
    std::swap(file_, writer.value());
    // Synced above; nothing is lost if closing the buffered descriptor fails.
    if (auto closed = co_await writer.value()->close(); !closed)
      note_background_error("wal close " + path + " (buffered, after recovery): " + closed.message());
  }
  direct_ = direct;
  write_offset_ = end->end_offset;
  // Kept zeros are overwritten in place; otherwise the file ends where the
  // log does, every append would grow it, and the log rolls early.
  overwrite_end_ = zero_tail ? end->end_offset + stats.tail_bytes_dropped : end->end_offset;
  next_lsn_ = durable_lsn_ = end->next_lsn;
  open_stats_ = stats;
  co_return Result<void>();
}

// ---- segments -------------------------------------------------------------

Task<Result<void>> Wal::create_segment(std::uint64_t number, std::uint64_t first_lsn) {
  io::FileSystem& fs = this->fs();
  std::string path = path_of(number);
  io::OpenOptions rw;
  rw.write = true;
  rw.dsync = use_dsync();
  bool recycled = false;
  bool spare = false;
  if (!free_segments_.empty()) {
    std::string old = free_segments_.back();
    free_segments_.pop_back();
    spare = old.starts_with("spare-");
    std::string from = options_.dir + "/" + old;
    auto renamed = co_await fs.rename(from, path);
    if (!renamed)
      co_return io_error(renamed.error(), "wal rename " + from + " to " + path, renamed.message());
    recycled = true;
  } else {
    rw.create = true;
    rw.exclusive = true;
  }
  auto file = co_await open_direct(path, rw);
  const bool direct = file && file.value() != nullptr;
  if (file && !direct) {
    // A refused O_DIRECT open may have created the file already (tmpfs
    // before Linux 6.6 checks O_DIRECT after creating): not exclusive now.
    io::OpenOptions plain = rw;
    plain.exclusive = false;
    file = co_await fs.open(path, plain);
  }
  if (!file) co_return io_error(file.error(), "wal create " + path, file.message());
  if (!recycled && options_.preallocate) {
    auto allocated = co_await file.value()->allocate(0, options_.segment_size);
    if (!allocated && allocated.error() == ENOSPC) {
      co_return io_error(allocated.error(), "wal fallocate " + path, allocated.message());
    }
    // Other failures only cost metadata syncs later; EOPNOTSUPP is no error.
    if (!allocated && allocated.error() != EOPNOTSUPP)
      note_background_error("wal fallocate " + path + ": " + allocated.message());
  }
  std::string header = encode_segment_header({number, first_lsn});
  iovec iov{header.data(), header.size()};
  std::string tail;
  io::IoResult<void> written;
  if (direct) {
    written = co_await write_pages(*file.value(), tail, 0, header);  // O_DSYNC: durable on return
  } else {
    written = co_await file.value()->write_and_datasync(std::span<const iovec>(&iov, 1), 0);
  }
  if (!written) {
    // A partly written header would read as a damaged segment at open. The
    // file never held records of this segment: remove it.
    Error error = io_error(written.error(), where(path, 0) + ": write header", written.message());
    (void)co_await file.value()->close();
    if (auto removed = co_await fs.remove(path); !removed)
      note_background_error("wal remove " + path + " after a failed header write: " + removed.message());
    co_return error;
  }
  // A reused file is overwrite-only up to its size; a new one only the header.
  auto size = file.value()->size();
  if (!size) note_background_error("wal fstat " + path + ": " + size.message());
  auto synced = co_await fs.sync_dir(options_.dir);
  if (!synced) co_return io_error(synced.error(), "wal sync_dir " + options_.dir, synced.message());

  if (file_) {
    // The old segment was synced before the roll: a failed close loses nothing.
    if (auto closed = co_await file_->close(); !closed)
      note_background_error("wal close " + file_->path() + ": " + closed.message());
  }
  file_ = std::move(file.value());
  direct_ = direct;
  tail_page_ = std::move(tail);
  segments_.push_back({number, first_lsn});
  write_offset_ = kSegmentHeaderSize;
  overwrite_end_ = size ? size.value() : kSegmentHeaderSize;
  file_dirty_ = false;
  stats_.bytes_written += header.size();
  if (!spare) ++(recycled ? stats_.segments_recycled : stats_.segments_created);
  maybe_prepare_spare();
  co_return Result<void>();
}

void Wal::maybe_prepare_spare() {
  if (!options_.prepare_spare || options_.recycle == 0 || !free_segments_.empty() || spare_running_ ||
      closed_ || failure_) {
    return;
  }
  spare_running_ = true;
  rt_.spawn(prepare_spare());
}

Task<void> Wal::prepare_spare() {
  // Runs beside the commit path (other file, same loop). Failures only mean
  // the next segment is a plain fallocated one.
  std::string name = "spare-" + segment_file_name(segments_.back().number + 1 + spare_id_++) + ".free";
  std::string path = options_.dir + "/" + name;
  io::OpenOptions create;
  create.write = true;
  create.create = true;
  create.exclusive = true;
  std::string failed;  // the step that failed, with its error
  auto step = [&failed](const char* what, const io::IoResult<void>& r) {
    if (!r && failed.empty()) failed = std::string(what) + ": " + r.message();
    return failed.empty();
  };
  auto file = co_await fs().open(path, create);
  if (!file) {
    note_background_error("wal prepare spare segment " + path + ": create: " + file.message());
  } else {
    auto allocated = co_await file.value()->allocate(0, options_.segment_size);
    bool ok = allocated.error() == EOPNOTSUPP || step("fallocate", allocated);  // zeros are written anyway
    // Each chunk is synced before the next is written: the log's own
    // fdatasyncs, on the same device, then queue behind at most one chunk
    // of zeros. Written whole and synced once, a 64 MiB spare's writeback
    // held every log sync behind it for 25-35 ms.
    std::vector<iovec> zeros;
    for (std::uint64_t offset = 0; ok && offset < options_.segment_size && !closed_;
         offset += kSpareChunkBytes) {
      const std::uint64_t n = std::min<std::uint64_t>(kSpareChunkBytes, options_.segment_size - offset);
      zeros.clear();
      for (std::uint64_t at = 0; at < n; at += sizeof kZeroBlock) {
        const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof kZeroBlock, n - at));
        zeros.push_back({const_cast<char*>(kZeroBlock), length});  // never written through
      }
      ok = step("write zeros", co_await file.value()->writev_at(zeros, offset));
      if (ok) ok = step("fdatasync", co_await file.value()->datasync());
    }
    ok = ok && !closed_;
    step("close", co_await file.value()->close());
    ok = ok && step("sync_dir", co_await fs().sync_dir(options_.dir));
    if (ok) {
      free_segments_.push_back(name);
      ++stats_.segments_created;
    } else {
      // Left unfinished by close() (not an error), or failed: the next
      // segment is a plain fallocated one. Either way the file goes.
      auto removed = co_await fs().remove(path);
      if (!removed) step("remove", removed);
      if (!failed.empty()) note_background_error("wal prepare spare segment " + path + ": " + failed);
    }
  }
  spare_running_ = false;
  if (spare_waiter_) rt_.post(std::exchange(spare_waiter_, {}));
}

Task<io::IoResult<std::unique_ptr<io::File>>> Wal::open_direct(const std::string& path, io::OpenOptions options) {
  if (!options_.direct_io || !options.dsync || options_.segment_size % kDirectAlign != 0)
    co_return std::unique_ptr<io::File>();
  options.direct = true;
  auto file = co_await fs().open(path, options);
  if (!file && file.error() == EINVAL) co_return std::unique_ptr<io::File>();  // no O_DIRECT here
  co_return file;
}

Task<io::IoResult<void>> Wal::write_pages(io::File& file, std::string& tail, std::uint64_t offset,
                                          std::string_view bytes) {
  const std::size_t used = tail.size() + bytes.size();
  const std::size_t length = (used + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
  if (length > page_buffer_size_) {
    page_buffer_.reset(static_cast<std::byte*>(std::aligned_alloc(kDirectAlign, length)));
    page_buffer_size_ = page_buffer_ ? length : 0;
    if (!page_buffer_) co_return io::Errno{ENOMEM};
  }
  char* out = reinterpret_cast<char*>(page_buffer_.get());
  std::memcpy(out, tail.data(), tail.size());
  std::memcpy(out + tail.size(), bytes.data(), bytes.size());
  std::memset(out + used, 0, length - used);
  iovec iov{out, length};
  auto written = co_await file.writev_at(std::span<const iovec>(&iov, 1), offset - tail.size());
  if (written) tail.assign(out + used - used % kDirectAlign, used % kDirectAlign);
  co_return written;
}

bool Wal::roll_first(std::uint64_t bytes) const {
  std::uint64_t end = write_offset_ + bytes;
  // A batch larger than a whole segment goes into an empty one as it is.
  if (end > options_.segment_size) return write_offset_ > kSegmentHeaderSize;
  // A write that grows the file makes its fdatasync commit the new size too
  // (about twice the device's fdatasync time), batch after batch until the
  // segment is full. A waiting free file takes the same writes as
  // overwrites: move now. Durability::None never waits for a sync.
  return end > overwrite_end_ && !free_segments_.empty() && options_.durability != Durability::None;
}

Task<Result<void>> Wal::roll(std::uint64_t first_lsn) {
  if (file_dirty_) {
    // A later segment must never hold synced records while an earlier one
    // may still lose its tail: that would be a hole, not a torn tail.
    auto synced = co_await file_->datasync();
    if (!synced) {
      co_return io_error(synced.error(), where(file_->path(), write_offset_) + ": fdatasync before roll",
                         synced.message());
    }
    file_dirty_ = false;
    ++stats_.syncs;
  }
  co_return co_await create_segment(segments_.back().number + 1, first_lsn);
}

// ---- group commit -----------------------------------------------------------

Task<void> Wal::enqueue(Writer& writer) {
  writer.enqueued = Clock::now();
  queue_.push_back(&writer);
  if (leader_active_) {
    co_await WriterAwaiter(writer);
    if (writer.state == Writer::State::Done) {
      --resumes_pending_;
      co_return;
    }
  } else {
    leader_active_ = true;
    if (resumes_pending_ > 0) {
      // Writers of the batch that just finished are about to run; most
      // append again at once. Let them queue first, so they share this
      // batch instead of waiting a whole fdatasync for the next one.
      co_await rt_.yield();
    }
  }
  co_await lead(writer);
}

Task<void> Wal::lead(Writer& self) {
  // The leader is always at the head of the queue: it leads only when the
  // queue was empty or when the previous leader handed over to the head.
  std::vector<Writer*> batch;
  std::uint64_t bytes = 0;
  while (!queue_.empty()) {
    Writer* w = queue_.front();
    if (!batch.empty() && bytes + w->payload_bytes > options_.buffer_bytes) break;
    batch.push_back(w);
    queue_.pop_front();
    bytes += w->payload_bytes;
  }
  co_await commit(batch);
  for (Writer* w : batch) {
    w->state = Writer::State::Done;
    if (w != &self) {
      ++resumes_pending_;
      rt_.post(w->handle);
    }
  }
  if (!queue_.empty()) {
    Writer* next = queue_.front();
    next->state = Writer::State::Leading;
    rt_.post(next->handle);
  } else {
    leader_active_ = false;
    if (drain_waiter_) rt_.post(std::exchange(drain_waiter_, {}));
  }
}

Task<void> Wal::commit(std::vector<Writer*>& batch) {
  auto fail_all = [&](const Error& error) {
    for (Writer* w : batch) w->error = error;
  };
  if (failure_) {
    fail_all(check_open().error());
    co_return;
  }
  bool want_sync = options_.durability == Durability::Durable;
  bool has_data = false;
  std::uint32_t records = 0;
  for (Writer* w : batch) {
    want_sync = want_sync || w->kind == Writer::Kind::Sync;
    has_data = has_data || w->kind != Writer::Kind::Sync;
    records += w->count;
  }
  Clock::time_point started = Clock::now();

  if (!has_data) {
    if (file_dirty_) {
      auto synced = co_await file_->datasync();
      if (!synced) {
        Error error =
            io_error(synced.error(), where(file_->path(), write_offset_) + ": fdatasync", synced.message());
        fail_stop(error);
        fail_all(error);
        co_return;
      }
      file_dirty_ = false;
      ++stats_.syncs;
    }
    durable_lsn_ = next_lsn_;
    co_return;
  }

  auto encode = [&] {
    batch_buffer_.clear();
    RecordEncoder encoder(batch_buffer_, write_offset_);
    std::uint64_t lsn = next_lsn_;
    for (Writer* w : batch) {
      std::uint64_t before = encoder.offset();
      if (w->kind == Writer::Kind::Record) encoder.add_record(lsn, w->payload);
      if (w->kind == Writer::Kind::Batch) encoder.add_batch(lsn, w->entries);
      w->result.lsn = lsn;
      w->result.bytes_written = encoder.offset() - before;
      lsn += w->count;
    }
  };
  encode();
  if (roll_first(batch_buffer_.size())) {
    auto rolled = co_await roll(next_lsn_);
    if (!rolled) {
      fail_stop(rolled.error());
      fail_all(rolled.error());
      co_return;
    }
    encode();
  }

  iovec iov{batch_buffer_.data(), batch_buffer_.size()};
  std::span<const iovec> buffers(&iov, 1);
  bool datasync = want_sync && !use_dsync();
  io::IoResult<void> written;
  if (datasync) {
    written = co_await file_->write_and_datasync(buffers, write_offset_);
  } else if (direct_) {
    written = co_await write_pages(*file_, tail_page_, write_offset_, batch_buffer_);  // returns durable
  } else if (use_dsync()) {
    written = co_await file_->writev_at(buffers, write_offset_);  // returns durable: off the loop
  } else {
    // Nobody waits for this write to be durable (buffered or none): into
    // the page cache from the loop, a few microseconds instead of a worker
    // hop's tens.
    written = file_->writev_now(buffers, write_offset_);
  }
  if (!written) {
    // The file's contents past write_offset_ are unknown now, and after a
    // failed fdatasync so is what the kernel kept: stop (FORMAT.md, fsyncgate).
    Error error = io_error(
        written.error(), where(file_->path(), write_offset_) + (datasync ? ": write + fdatasync" : ": write"),
        written.message());
    fail_stop(error);
    fail_all(error);
    co_return;
  }
  write_offset_ += batch_buffer_.size();
  next_lsn_ += records;
  bool durable = want_sync || use_dsync();
  if (durable) {
    durable_lsn_ = next_lsn_;
    file_dirty_ = false;
    ++stats_.syncs;
  } else {
    file_dirty_ = true;
  }
  ++stats_.batches;
  stats_.records += records;
  stats_.bytes_written += batch_buffer_.size();
  std::uint32_t writers = 0;
  for (Writer* w : batch) writers += w->kind != Writer::Kind::Sync;
  for (Writer* w : batch) {
    stats_.payload_bytes += w->kind == Writer::Kind::Sync ? 0 : w->payload_bytes;
    w->result.queue_time = std::chrono::duration_cast<std::chrono::nanoseconds>(started - w->enqueued);
    w->result.batch_records = records;
    w->result.batch_writers = writers;
  }
}

// ---- public writes ------------------------------------------------------------

namespace {
PersistenceMetrics append_metrics(const AppendResult& r, Clock::time_point start) {
  PersistenceMetrics m;
  m.operation_type = OperationType::Store;
  m.latency = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
  m.disk_bytes_written = r.bytes_written;
  m.queue_time = r.queue_time;
  m.batch_records = r.batch_records;
  m.lsn = r.lsn;
  return m;
}
}  // namespace

Task<Result<AppendResult>> Wal::append(std::string payload) {
  Clock::time_point start = Clock::now();
  co_await rt_.schedule();
  if (auto open = check_open(); !open) co_return std::move(open).error();
  if (payload.size() > kMaxRecordBytes) {
    co_return make_error(ErrorCode::InvalidArgument, "wal record of " + std::to_string(payload.size()) +
                                                         " bytes exceeds the limit of " +
                                                         std::to_string(kMaxRecordBytes));
  }
  Writer writer;
  writer.kind = Writer::Kind::Record;
  writer.payload_bytes = payload.size();
  writer.payload = std::move(payload);
  writer.count = 1;
  co_await enqueue(writer);
  if (writer.error)
    co_return Result<AppendResult>::failure(std::move(*writer.error), append_metrics({}, start));
  ++stats_.appends;
  co_return Result<AppendResult>::success(writer.result, append_metrics(writer.result, start));
}

Task<Result<AppendResult>> Wal::append_batch(std::vector<std::string> entries) {
  Clock::time_point start = Clock::now();
  co_await rt_.schedule();
  if (auto open = check_open(); !open) co_return std::move(open).error();
  if (entries.empty()) co_return make_error(ErrorCode::InvalidArgument, "wal append_batch with no entries");
  std::uint64_t size = RecordEncoder::batch_payload_size(entries);
  if (size > kMaxRecordBytes || entries.size() > std::numeric_limits<std::uint32_t>::max()) {
    co_return make_error(ErrorCode::InvalidArgument, "wal batch of " + std::to_string(entries.size()) +
                                                         " entries, " + std::to_string(size) +
                                                         " bytes exceeds the limit of " +
                                                         std::to_string(kMaxRecordBytes) + " bytes");
  }
  Writer writer;
  writer.kind = Writer::Kind::Batch;
  writer.payload_bytes = size;
  writer.count = static_cast<std::uint32_t>(entries.size());
  writer.entries = std::move(entries);
  co_await enqueue(writer);
  if (writer.error)
    co_return Result<AppendResult>::failure(std::move(*writer.error), append_metrics({}, start));
  ++stats_.appends;
  co_return Result<AppendResult>::success(writer.result, append_metrics(writer.result, start));
}

Task<Result<void>> Wal::sync() {
  co_await rt_.schedule();
  if (auto open = check_open(); !open) co_return open;
  Writer writer;
  writer.kind = Writer::Kind::Sync;
  co_await enqueue(writer);
  if (writer.error) co_return std::move(*writer.error);
  co_return Result<void>();
}

Task<void> Wal::background_sync() {
  while (!closed_ && !failure_) {
    bool slept = co_await rt_.sleep_for(options_.sync_interval, &sync_cancel_);
    if (!slept || closed_) break;
    if (file_dirty_) (void)co_await sync();  // a failure fail-stops the log
  }
  background_running_ = false;
  if (background_waiter_) rt_.post(std::exchange(background_waiter_, {}));
}

Task<Result<void>> Wal::close() {
  co_await rt_.schedule();
  if (closed_) co_return Result<void>();
  closed_ = true;
  if (leader_active_) co_await HandleSlotAwaiter{&drain_waiter_};
  if (background_running_) {
    sync_cancel_.cancel();
    if (background_running_) co_await HandleSlotAwaiter{&background_waiter_};
  }
  if (spare_running_) co_await HandleSlotAwaiter{&spare_waiter_};
  Result<void> outcome;
  if (failure_) {
    outcome = make_error(
        ErrorCode::Unavailable,
        "wal " + options_.dir + " was fail-stopped after an earlier error: " + failure_->to_string());
  } else if (file_dirty_ && options_.durability != Durability::None) {
    auto synced = co_await file_->datasync();
    if (!synced) {
      outcome = io_error(synced.error(), where(file_->path(), write_offset_) + ": fdatasync at close",
                         synced.message());
      fail_stop(outcome.error());
    } else {
      file_dirty_ = false;
      durable_lsn_ = next_lsn_;
      ++stats_.syncs;
    }
  }
  if (file_) {
    auto closed = co_await file_->close();
    if (!closed && outcome.ok())
      outcome = io_error(closed.error(), "wal close " + file_->path(), closed.message());
  }
  co_return outcome;
}

// ---- truncation -----------------------------------------------------------------

Task<Result<void>> Wal::truncate_before(std::uint64_t checkpoint_lsn) {
  co_await rt_.schedule();
  if (closed_) co_return make_error(ErrorCode::Unavailable, "wal " + options_.dir + " is closed");
  std::vector<std::uint64_t> victims;
  while (segments_.size() > 1 && segments_[1].first_lsn <= checkpoint_lsn) {
    victims.push_back(segments_.front().number);
    segments_.erase(segments_.begin());
  }
  if (victims.empty()) co_return Result<void>();
  io::FileSystem& fs = this->fs();
  std::size_t keep = free_segments_.size();
  for (std::uint64_t number : victims) {
    std::string path = path_of(number);
    // A replay in progress may still read the segment: only delete then
    // (the open file survives unlinking; a recycled one would be overwritten).
    bool reuse = keep < options_.recycle && active_replays_ == 0;
    if (reuse) {
      // A file cut short by an early roll would soon grow again as a
      // segment: delete it; a prepared spare takes its place.
      auto size = fs.file_size(path);
      if (!size) co_return io_error(size.error(), "wal stat " + path, size.message());
      reuse = size.value() >= options_.segment_size / 2;
    }
    if (reuse) {
      std::string to = options_.dir + "/" + free_segment_file_name(number);
      auto renamed = co_await fs.rename(path, to);
      if (!renamed)
        co_return io_error(renamed.error(), "wal rename " + path + " to " + to, renamed.message());
      free_segments_.push_back(free_segment_file_name(number));
      ++keep;
    } else {
      auto removed = co_await fs.remove(path);
      if (!removed) co_return io_error(removed.error(), "wal remove " + path, removed.message());
      ++stats_.segments_removed;
    }
  }
  auto synced = co_await fs.sync_dir(options_.dir);
  if (!synced) co_return io_error(synced.error(), "wal sync_dir " + options_.dir, synced.message());
  maybe_prepare_spare();
  co_return Result<void>();
}

// ---- replay ---------------------------------------------------------------------

Task<Result<Wal::ScanEnd>> Wal::scan_segment(Segment segment, std::uint64_t stop_lsn, std::uint64_t limit,
                                             std::uint64_t from_lsn, const ReplayCallback* callback,
                                             bool at_open, ReplayStats& stats) {
  std::string path = path_of(segment.number);
  auto opened = co_await fs().open(path, io::OpenOptions::read_only());
  if (!opened) co_return io_error(opened.error(), "wal open " + path, opened.message());
  io::File& file = *opened.value();
  auto size = file.size();
  if (!size) co_return io_error(size.error(), "wal fstat " + path, size.message());
  limit = std::min(limit, size.value());
  ++stats.segments;

  bool tolerant = options_.recovery == RecoveryMode::SkipCorrupted;
  SegmentReader reader(file, path, kSegmentHeaderSize, limit, segment.first_lsn);
  LogicalRecord record;
  std::string damage;
  while (reader.next_lsn() < stop_lsn) {
    auto step = co_await reader.next(record);
    if (!step) co_return std::move(step).error();
    if (step.value() == SegmentReader::Step::Record) {
      if (!callback || record.lsn + record.count <= from_lsn) continue;
      auto deliver = [&](std::uint64_t lsn, std::string_view payload) -> Result<void> {
        if (lsn < from_lsn) return {};
        if (stats.records == 0) stats.first_lsn = lsn;
        stats.last_lsn = lsn;
        ++stats.records;
        stats.payload_bytes += payload.size();
        return (*callback)(lsn, payload);
      };
      if (!record.batch) {
        if (auto r = deliver(record.lsn, record.payload); !r) co_return std::move(r).error();
        continue;
      }
      // Decode the whole batch before delivering any of it: all or nothing.
      coding::Reader in(record.payload);
      std::uint64_t count = 0;
      std::vector<std::string_view> entries;
      bool ok = in.get_varint64(count);
      for (std::uint64_t i = 0; ok && i < count; ++i) {
        std::string_view entry;
        ok = in.get_length_prefixed(entry, kMaxRecordBytes);
        entries.push_back(entry);
      }
      if (!ok || in.remaining() != 0) {
        co_return make_error(ErrorCode::Corruption,
                             where(path, record.offset) + ": malformed batch record (checksum was valid)");
      }
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (auto r = deliver(record.lsn + i, entries[i]); !r) co_return std::move(r).error();
      }
      continue;
    }

    // The segment stopped before stop_lsn.
    bool clean_eof = step.value() == SegmentReader::Step::End && reader.stop_reason() == "end of file";
    bool last = stop_lsn == kNoLimit;
    if (last && clean_eof) break;
    std::string what = where(path, reader.stop_offset()) + ": " + reader.stop_reason();
    if (!last) {
      // Segments roll only after the previous one is synced, so an earlier
      // segment must run up to the next segment's first LSN.
      what += "; the segment ends at lsn " + std::to_string(reader.next_lsn()) +
              " but the next starts at lsn " + std::to_string(stop_lsn);
      if (!tolerant) co_return make_error(ErrorCode::Corruption, what);
      ++stats.corrupted_regions_skipped;
      stats.skipped.push_back(what);
      break;
    }
    // Valid records after the damage mean it is not the tail: corruption.
    auto found = co_await reader.find_newer_fragment();
    if (!found) co_return std::move(found).error();
    std::optional<SegmentReader::Fragment> newer = found.value();
    // After open() cut the tail, everything up to the writer's offset must be intact.
    if (newer || !at_open) {
      if (newer) what += "; valid records follow at offset " + std::to_string(newer->offset);
      if (!tolerant) co_return make_error(ErrorCode::Corruption, what);
      ++stats.corrupted_regions_skipped;
      stats.skipped.push_back(what);
      if (newer && newer->lsn != 0) {
        reader.resync(*newer);
        continue;
      }
      break;
    }
    // A torn or zero-filled tail, or stale bytes of a recycled segment.
    if (at_open && size.value() > reader.good_end()) {
      stats.tail_truncated = true;
      stats.tail_segment = segment_file_name(segment.number);
      stats.tail_offset = reader.good_end();
      stats.tail_bytes_dropped = size.value() - reader.good_end();
      stats.tail_reason = reader.stop_reason();
    }
    break;
  }
  (void)co_await file.close();
  co_return ScanEnd{reader.next_lsn(), reader.good_end()};
}

Task<Result<ReplayStats>> Wal::replay(std::uint64_t from_lsn, ReplayCallback callback) {
  co_await rt_.schedule();
  if (closed_) co_return make_error(ErrorCode::Unavailable, "wal " + options_.dir + " is closed");
  std::vector<Segment> segments = segments_;
  std::uint64_t last_limit = write_offset_;
  ReplayStats stats;
  if (!open_stats_reported_) {
    stats = open_stats_;
    stats.segments = 0;
    open_stats_reported_ = true;
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].first_lsn <= from_lsn) start = i;
  }
  ++active_replays_;
  std::uint64_t next = segments.empty() ? next_lsn_ : segments[start].first_lsn;
  Result<void> outcome;
  for (std::size_t i = start; i < segments.size(); ++i) {
    bool last = i + 1 == segments.size();
    auto end = co_await scan_segment(segments[i], last ? kNoLimit : segments[i + 1].first_lsn,
                                     last ? last_limit : kNoLimit, from_lsn, &callback, false, stats);
    if (!end) {
      outcome = std::move(end).error();
      break;
    }
    next = end->next_lsn;
  }
  --active_replays_;
  if (!outcome) co_return std::move(outcome).error();
  stats.next_lsn = next;
  co_return stats;
}

}  // namespace orbit::wal
