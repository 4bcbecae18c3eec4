#include "engines/lsm/lsm_store.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <unordered_set>

#include "engines/lsm/compaction_merge.hpp"
#include "engines/lsm/merging_iterator.hpp"
#include "src/layout/data_dir.hpp"

namespace orbit {

Task<OpenedStore> open_lsm_store(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime) {
  return lsm::LsmStore::open(std::move(config), std::move(runtime));
}

namespace lsm {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes of data blocks a compaction reads from one input at a time.
constexpr std::size_t kCompactionRunBytes = 256 << 10;
// A scan steps over this many versions of one user key before it seeks past them.
constexpr std::size_t kMaxVersionSteps = 8;

}  // namespace

// Another backend's files in the directory (src/layout/data_dir.hpp) are refused.
Result<void> check_data_dir_is_ours(const std::string& data_dir) {
  return layout::check_owned_by(data_dir, layout::list_names(data_dir), PersistenceBackend::LsmTree);
}

std::size_t row_cache_bytes(const LsmConfig& config) noexcept {
  return (static_cast<std::size_t>(config.block_cache_mb) << 20) / 8;
}

std::size_t block_cache_bytes(const LsmConfig& config) noexcept {
  return (static_cast<std::size_t>(config.block_cache_mb) << 20) - row_cache_bytes(config);
}

void add_log_entry(Memtable& table, std::span<const kv::KvChange> changes, std::uint64_t lsn) {
  auto add = [&](const kv::KvChange& c) {
    table.add(lsn, c.erase ? ValueType::Delete : ValueType::Put, c.key, c.value);
  };
  if (changes.size() <= 16) {
    for (std::size_t i = 0; i < changes.size(); ++i) {
      bool later = false;
      for (std::size_t j = i + 1; j < changes.size() && !later; ++j) later = changes[j].key == changes[i].key;
      if (!later) add(changes[i]);
    }
    return;
  }
  std::unordered_set<std::string_view> seen;
  std::vector<const kv::KvChange*> keep;
  for (auto it = changes.rbegin(); it != changes.rend(); ++it)
    if (seen.insert(it->key).second) keep.push_back(&*it);
  for (auto it = keep.rbegin(); it != keep.rend(); ++it) add(**it);
}

namespace {

// What one source says about a key: resolved (Found or Deleted) or not.
bool resolve(const LookupResult& r, std::optional<std::string>& out) {
  if (r.state == LookupState::NotFound) return false;
  if (r.state == LookupState::Found) out = r.value;
  return true;
}

// Point lookup over the SSTables of `version`, newest first, without I/O:
// true (the answer in `r`; NotFound when no table has the key) when every
// table asked answered from memory (filter, cached blocks), false when one
// needs a read. `r` is the caller's, reused: a hot read allocates nothing.
bool lookup_tables_now(const Version& version, std::string_view key, SequenceNumber snapshot, LookupResult& r) {
  r.state = LookupState::NotFound;
  CandidateTables candidates(version, key);
  while (Table* table = candidates.next()) {
    if (!table->reader->get_without_io(key, snapshot, r)) return false;
    if (r.state != LookupState::NotFound) return true;
  }
  return true;
}

// The same, reading files where the cache does not hold a block.
Task<Result<std::optional<std::string>>> lookup_tables(VersionPtr version, std::string key, SequenceNumber snapshot) {
  std::optional<std::string> out;
  CandidateTables candidates(*version, key);
  LookupResult r;
  while (Table* table = candidates.next()) {
    if (!table->reader->get_without_io(key, snapshot, r)) {
      auto got = co_await table->reader->get(key, snapshot);
      if (!got) co_return std::move(got).error();
      r = std::move(got).value();
    }
    if (resolve(r, out)) co_return out;
  }
  co_return out;
}

}  // namespace

// ---- View ----------------------------------------------------------------------

class LsmStore::View final : public kv::KvView {
 public:
  explicit View(LsmStore& store)
      : snapshot_(store.applied_lsn()), mem_(store.mem_), version_(store.version_) {
    for (auto it = store.imms_.rbegin(); it != store.imms_.rend(); ++it) imms_.push_back(it->table);
  }

  Task<Result<std::optional<std::string>>> get(std::string key) override {
    std::optional<std::string> out;
    if (resolve(mem_->get(key, snapshot_), out)) co_return out;
    for (const auto& imm : imms_)
      if (resolve(imm->get(key, snapshot_), out)) co_return out;
    co_return co_await lookup_tables(version_, std::move(key), snapshot_);
  }

  Task<Result<std::vector<kv::KvPair>>> range(std::string seek, std::string upper, std::size_t limit) override {
    std::vector<std::unique_ptr<InternalIterator>> children;
    children.push_back(make_memtable_iterator(mem_));
    for (const auto& imm : imms_) children.push_back(make_memtable_iterator(imm));
    for (const TablePtr& t : version_->levels[0]) children.push_back(make_table_iterator(t));
    for (std::size_t level = 1; level < version_->levels.size(); ++level)
      if (!version_->levels[level].empty()) children.push_back(make_level_iterator(version_->levels[level]));
    MergingIterator it(std::move(children));

    std::vector<kv::KvPair> out;
    Status s = co_await it.seek(make_internal_key(seek, kMaxSequenceNumber, kValueTypeForSeek));
    std::string current;  // user key whose newest visible version was taken
    bool have_current = false;
    std::size_t steps = 0;
    while (s.ok() && it.valid()) {
      ParsedInternalKey parsed;
      if (!parse_internal_key(it.key(), parsed))
        co_return make_error(ErrorCode::Corruption, "scan met an entry whose key is not an internal key");
      if (!upper.empty() && parsed.user_key >= std::string_view(upper)) break;
      if (have_current && parsed.user_key == std::string_view(current)) {
        if (++steps > kMaxVersionSteps) {
          // Many versions of one key (a hot lease): seek past them all.
          s = co_await it.seek(make_internal_key(current, 0, ValueType::Delete));
          if (s.ok() && it.valid() && extract_user_key(it.key()) == std::string_view(current)) s = co_await it.next();
          steps = 0;
          continue;
        }
        s = co_await it.next();
        continue;
      }
      if (parsed.sequence > snapshot_) {  // written after the view was taken
        s = co_await it.next();
        continue;
      }
      current.assign(parsed.user_key);
      have_current = true;
      steps = 0;
      if (parsed.type == ValueType::Put) {
        out.push_back(kv::KvPair{current, std::string(it.value())});
        if (limit != 0 && out.size() >= limit) break;
      }
      s = co_await it.next();
    }
    if (!s.ok()) co_return std::move(s).error();
    co_return out;
  }

 private:
  SequenceNumber snapshot_;
  std::shared_ptr<const Memtable> mem_;
  std::vector<std::shared_ptr<const Memtable>> imms_;  // newest first
  VersionPtr version_;
};

// ---- Open and recovery -----------------------------------------------------------

LsmStore::LsmStore(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime, LsmStoreOptions options)
    : KvStore(std::move(config), std::move(runtime), "LsmTree"),
      options_(options),
      fs_(options.file_system != nullptr ? options.file_system : &this->runtime().fs()),
      lsm_(this->config().lsm_config),
      sstable_options_(SstableOptions::from_config(lsm_)),
      dir_(this->config().data_dir),
      sst_dir_((std::filesystem::path(dir_) / "sstables").string()),
      memtable_bytes_(static_cast<std::size_t>(lsm_.memtable_size_mb) << 20),
      // A first guess of its keys: one per 192 bytes of memtable. A lease
      // renewal adds about 400 bytes and one or two new keys; orbit-bench's
      // renew-heavy mix at 256 writers fills 64 MB with 260-270k keys.
      next_mem_keys_(memtable_bytes_ / 192),
      mem_(std::make_shared<Memtable>(next_mem_keys_)),
      cache_(std::make_unique<BlockCache>(block_cache_bytes(lsm_))),
      rows_(row_cache_bytes(lsm_)),
      compact_pointer_(lsm_.max_levels) {
  mem_->prefault();  // here, at open, rather than on the first commits
  auto empty = std::make_shared<Version>();
  empty->levels.resize(lsm_.max_levels);
  version_ = std::move(empty);
  counters_.compactions_into_level.resize(lsm_.max_levels);
}

LsmStore::~LsmStore() { close_in_destructor(); }

Task<OpenedStore> LsmStore::open(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime,
                                 LsmStoreOptions options) {
  io::Runtime& rt = *runtime;
  co_await rt.schedule();
  if (auto ours = check_data_dir_is_ours(config.data_dir); !ours) co_return OpenedStore(std::move(ours).error());
  std::unique_ptr<LsmStore> store(new LsmStore(std::move(config), std::move(runtime), options));
  auto recovered = co_await store->recover();
  if (!recovered) co_return OpenedStore(std::move(recovered).error());
  std::unique_ptr<PersistenceProvider> provider = std::move(store);
  co_return OpenedStore(std::move(provider));
}

void LsmStore::fill_cache_from(SstableBuilder& builder, std::uint64_t number, const std::string& path,
                               CacheFill& fill) {
  if (cache_->capacity_bytes() == 0) return;
  // The new file's blocks go into the cache as they are written: the keys
  // just flushed are the ones about to be read again (a renewal reads its
  // lease before writing it), and without this every flush would turn the
  // hot set's reads into cold misses at once.
  builder.set_data_block_observer([&fill, number, path](std::uint64_t offset, std::string_view contents) {
    auto block = Block::parse(std::string(contents), BlockLocation{path, offset}, internal_key_compare);
    if (block) fill.blocks.push_back({number, offset, std::move(block).value()});
  });
}

void LsmStore::insert_cached(CacheFill& fill) {
  for (CacheFill::Entry& entry : fill.blocks) cache_->insert(entry.number, entry.offset, std::move(entry.block));
  fill.blocks.clear();
}

Task<Result<TablePtr>> LsmStore::open_table(FileMeta meta) {
  const std::string path = sst_dir_ + "/" + meta.name;
  auto reader = co_await SstableReader::open(fs(), path);
  if (!reader) co_return std::move(reader).error();
  if (reader.value()->entry_count() != meta.entries || reader.value()->file_size() != meta.size ||
      meta.smallest.size() < kInternalKeyTagSize || meta.largest.size() < kInternalKeyTagSize)
    co_return make_error(ErrorCode::Corruption,
                         "sstable " + path + ": has " + std::to_string(reader.value()->entry_count()) +
                             " entries in " + std::to_string(reader.value()->file_size()) +
                             " bytes, manifest.json says " + std::to_string(meta.entries) + " in " +
                             std::to_string(meta.size));
  auto table = std::make_shared<Table>();
  table->smallest_user.assign(extract_user_key(meta.smallest));
  table->largest_user.assign(extract_user_key(meta.largest));
  table->meta = std::move(meta);
  table->reader = std::move(reader).value();
  table->reader->attach_block_cache(cache_.get(), table->meta.number);
  co_return table;
}

Task<Result<void>> LsmStore::recover() {
  const auto started = Clock::now();
  if (auto locked = lock_data_dir(); !locked) co_return locked;
  if (auto made = fs().create_dirs(sst_dir_); !made)
    co_return make_error(ErrorCode::IOError, "create " + sst_dir_ + ": " + made.message());
  auto manifest = co_await read_manifest(fs(), dir_, lsm_.max_levels);
  if (!manifest) co_return std::move(manifest).error();
  auto version = std::make_shared<Version>();
  version->levels.resize(lsm_.max_levels);
  std::unordered_set<std::uint64_t> live_numbers;
  if (manifest.value()) {
    ManifestState& state = *manifest.value();
    next_file_number_ = state.next_file_number;
    flushed_lsn_ = state.flushed_lsn;
    flushed_live_ = state.live;
    for (std::size_t level = 0; level < state.levels.size(); ++level) {
      for (FileMeta& meta : state.levels[level]) {
        live_numbers.insert(meta.number);
        auto table = co_await open_table(std::move(meta));
        if (!table) {
          Error error = std::move(table).error();
          error.message = "open an SSTable manifest.json names: " + error.message;
          co_return error;
        }
        version->levels[level].push_back(std::move(table).value());
      }
    }
    std::sort(version->levels[0].begin(), version->levels[0].end(),
              [](const TablePtr& a, const TablePtr& b) { return a->meta.number > b->meta.number; });
    for (std::size_t level = 1; level < version->levels.size(); ++level)
      std::sort(version->levels[level].begin(), version->levels[level].end(), [](const TablePtr& a, const TablePtr& b) {
        return internal_key_compare(a->meta.smallest, b->meta.smallest) < 0;
      });
  }
  version_ = std::move(version);

  // Files of an interrupted flush or compaction: never named by a manifest.
  if (auto names = fs().list_dir(sst_dir_); names) {
    for (const std::string& name : names.value()) {
      const std::uint64_t number = sstable_file_number(name);
      if (number == 0 || live_numbers.count(number)) continue;
      co_await remove_unnamed(sst_dir_ + "/" + name);
    }
  }
  if (fs().exists(dir_ + "/manifest.json.tmp")) co_await remove_unnamed(dir_ + "/manifest.json.tmp");
  add_recovery_time(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started));

  wal::WalOptions options;
  options.buffer_bytes = static_cast<std::uint64_t>(lsm_.write_buffer_mb) << 20;
  options.prepare_spare = options_.wal_prepare_spare;
  options.file_system = options_.file_system;
  if (options_.wal_segment_size != 0) options.segment_size = options_.wal_segment_size;
  auto logged = co_await open_log(options, flushed_lsn_, flushed_live_);
  if (!logged) co_return logged;
  start_background();
  co_return Result<void>();
}

// ---- Writes ------------------------------------------------------------------------

void LsmStore::apply(std::span<const kv::KvChange> changes, std::uint64_t lsn) {
  maybe_switch_memtable();
  add_log_entry(*mem_, changes, lsn);
  for (const kv::KvChange& c : changes) rows_.write_through(c.key, c.erase, c.value);
  update_memory_used();
}

// A group of 256 renewals adds ~770 entries, each a probe of the memtable's
// index: a slot, then the key's head, two cache misses in a row. Made here,
// while the loop waits for the group's log write, they overlap: every slot
// is prefetched, then every head is loaded; apply() then mostly hits.
void LsmStore::prepare_apply(std::span<const std::span<const kv::KvChange>> entries) {
  for (const auto& changes : entries)
    for (const kv::KvChange& c : changes) mem_->prefetch(c.key);
  for (const auto& changes : entries)
    for (const kv::KvChange& c : changes) mem_->touch(c.key);
}

void LsmStore::update_memory_used() noexcept {
  std::uint64_t memory = mem_->approximate_memory_usage() + cache_->usage_bytes() + rows_.usage_bytes();
  if (next_mem_) memory += next_mem_->approximate_memory_usage();
  for (const Immutable& imm : imms_) memory += imm.table->approximate_memory_usage();
  memory_used_.store(memory, std::memory_order_relaxed);
}

namespace {
// What memtable_size_mb bounds: the entries' bytes plus a per-entry charge,
// as RocksDB's write_buffer_size counts its arena (internal key, value,
// their two length varints and the skiplist node), so the same setting
// flushes after about the same number of writes in both, and both have the
// same chance to drop an overwritten version before it reaches disk. The
// charge is measured: RocksDB 7.8's flush_started events in orbit-bench's
// LOG (2 MB write buffer) show memory_usage 2.04 MB for 22.9k entries
// whose key, tag and value take 65.2 B each: 24 B more per entry. The
// std::map holding ours costs more (Memtable::approximate_memory_usage(),
// reported as memory).
std::size_t memtable_charge(const Memtable& table) {
  constexpr std::size_t kChargePerEntry = 24;
  return table.data_bytes() + table.entry_count() * kChargePerEntry;
}
}  // namespace

void LsmStore::maybe_switch_memtable() {
  if (!mem_->empty() && memtable_charge(*mem_) >= memtable_bytes_) switch_memtable();
}

void LsmStore::switch_memtable() {
  // Called between entries: applied_lsn() and live() describe exactly what
  // the memtable holds.
  // The next memtable likely sees as many keys (its index is sized for them).
  const std::size_t keys = mem_->key_count();
  imms_.push_back(Immutable{std::move(mem_), applied_lsn(), live()});
  next_mem_keys_ = keys + keys / 8;
  mem_ = next_mem_ ? std::exchange(next_mem_, nullptr) : std::make_shared<Memtable>(next_mem_keys_);
  schedule_flush();
}

Task<Result<void>> LsmStore::before_commit() {
  if (background_error_) co_return *background_error_;
  maybe_switch_memtable();
  if (!background_enabled_) co_return Result<void>();
  const std::size_t l0_stop = static_cast<std::size_t>(lsm_.compaction_threshold) * kL0StopFactor;
  auto must_wait = [&] { return imms_.size() >= kMaxImmutables || version_->levels[0].size() >= l0_stop; };
  if (!must_wait()) co_return Result<void>();
  ++counters_.stalls;
  const auto started = Clock::now();
  while (must_wait() && !background_error_) {
    schedule_flush();
    schedule_compaction();
    co_await background_progress();
  }
  counters_.stall_time += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  if (background_error_) co_return *background_error_;
  co_return Result<void>();
}

// ---- Reads -------------------------------------------------------------------------

std::unique_ptr<kv::KvView> LsmStore::view() { return std::make_unique<View>(*this); }

// The memtables answer without I/O; the SSTables when the blocks a lookup
// needs are cached (a hot lease's are).
kv::ValueNow LsmStore::read_latest_now(std::string_view key) {
  Memtable::Found found = mem_->find(key);
  for (auto it = imms_.rbegin(); found.state == LookupState::NotFound && it != imms_.rend(); ++it)
    found = it->table->find(key);
  switch (found.state) {
    case LookupState::Found: return {kv::ValueNow::State::Found, found.value};
    case LookupState::Deleted: return {kv::ValueNow::State::Absent, {}};
    case LookupState::NotFound: break;
  }
  if (const std::string* cached = rows_.lookup(key)) return {kv::ValueNow::State::Found, *cached};
  if (!lookup_tables_now(*version_, key, kMaxSequenceNumber, table_lookup_)) return {};
  if (table_lookup_.state != LookupState::Found) return {kv::ValueNow::State::Absent, {}};
  // Newest (no memtable has the key) and read without suspending: nothing
  // was applied since, so it may be cached (row_cache.hpp).
  rows_.insert(key, table_lookup_.value);
  return {kv::ValueNow::State::Found, table_lookup_.value};
}

Task<Result<std::optional<std::string>>> LsmStore::read_latest(std::string key) {
  if (const kv::ValueNow now = read_latest_now(key); now.answered()) co_return now.copy();
  co_return co_await lookup_tables(version_, std::move(key), kMaxSequenceNumber);
}

// ---- Background work ------------------------------------------------------------------

void LsmStore::start_background() {
  background_enabled_ = options_.background;
  schedule_flush();
  schedule_compaction();
}

void LsmStore::schedule_flush() {
  if (!background_enabled_ || flush_running_ || (imms_.empty() && next_mem_) || background_error_) return;
  flush_running_ = true;
  runtime().spawn(flush_loop());
}

void LsmStore::schedule_compaction() {
  if (!background_enabled_ || compaction_running_ || stopping_ || background_error_) return;
  if (!pick_compaction()) return;
  compaction_running_ = true;
  runtime().spawn(compaction_loop());
}

void LsmStore::set_background_error(Error error) {
  note_background_error(error.to_string());
  if (!background_error_) {
    error.message = "the LsmTree store in data_dir '" + dir_ + "' stopped writing after a background error: " +
                    error.message;
    background_error_ = std::move(error);
  }
  wake_waiters();
}

void LsmStore::wake_waiters() {
  auto waiters = std::exchange(waiters_, {});
  for (auto h : waiters) runtime().post(h);
}

Task<void> LsmStore::flush_loop() {
  co_await prepare_next_memtable();
  while (!imms_.empty() && !background_error_) {
    auto flushed = co_await flush_one(imms_.front());
    if (!flushed) {
      set_background_error(std::move(flushed).error());
      break;
    }
    schedule_compaction();
    co_await prepare_next_memtable();
  }
  flush_running_ = false;
  wake_waiters();
}

// A memtable's index for a million keys is 16 MB of pages to fault in:
// milliseconds that, on the loop, fell on the commits right after a
// switch. So the next memtable is built and faulted in here, on a worker,
// before the one just switched out is flushed (and once at open).
Task<void> LsmStore::prepare_next_memtable() {
  if (next_mem_) co_return;
  const std::size_t keys = next_mem_keys_;
  auto table = co_await runtime().offload_background([keys] {
    auto built = std::make_shared<Memtable>(keys);
    built->prefault();
    return built;
  });
  if (!next_mem_) next_mem_ = std::move(table);
  update_memory_used();
}

Task<void> LsmStore::compaction_loop() {
  while (!stopping_ && !background_error_) {
    auto job = pick_compaction();
    if (!job) break;
    auto done = co_await run_compaction(std::move(*job));
    if (!done) {
      set_background_error(std::move(done).error());
      break;
    }
    wake_waiters();
  }
  compaction_running_ = false;
  wake_waiters();
}

Task<Result<void>> LsmStore::compact_until_idle() {
  while (flush_running_ || compaction_running_) co_await background_progress();
  if (background_error_) co_return *background_error_;
  // Hold both "running" flags so no background loop starts meanwhile.
  flush_running_ = compaction_running_ = true;
  Result<void> result;
  while (result && !imms_.empty()) result = co_await flush_one(imms_.front());
  while (result) {
    auto job = pick_compaction();
    if (!job) break;
    result = co_await run_compaction(std::move(*job));
  }
  flush_running_ = compaction_running_ = false;
  wake_waiters();
  schedule_flush();
  co_return result;
}

Task<Result<void>> LsmStore::flush_one(Immutable imm) {
  Edit edit;
  edit.flushed_lsn = imm.last_lsn;
  edit.live = imm.live;
  if (!imm.table->empty()) {
    const std::uint64_t number = next_file_number_++;
    FileMeta meta;
    meta.number = number;
    meta.name = sstable_file_name(0, number);
    const std::string path = sst_dir_ + "/" + meta.name;
    auto created = co_await SstableBuilder::create(fs(), path, sstable_options_);
    if (!created) co_return std::move(created).error();
    std::unique_ptr<SstableBuilder> builder = std::move(created).value();
    CacheFill fill;
    fill_cache_from(*builder, number, path, fill);
    Memtable::Iterator it(*imm.table);
    it.seek_to_first();
    Status status;
    // Each step encodes up to write_buffer_bytes on a worker, then the loop
    // writes them. The memtable is immutable and `builder` is this frame's.
    // Only each key's newest version is written (and visited): nothing reads
    // the older ones once it is in an SSTable.
    while (status.ok() && (it.valid() || builder->should_flush())) {
      status = co_await runtime().offload_background([&] {
        Status added;
        while (added.ok() && it.valid() && !builder->should_flush()) {
          added = builder->add(it.key(), it.value());
          it.next_key();
        }
        if (added.ok() && !it.valid()) builder->seal();
        return added;
      });
      insert_cached(fill);
      if (status.ok() && builder->should_flush()) status = co_await builder->flush();
    }
    if (!status.ok()) {
      co_await abandon(*builder);
      co_return status;
    }
    auto info = co_await builder->finish();
    if (!info) {
      co_await abandon(*builder);
      co_return std::move(info).error();
    }
    counters_.sstable_bytes_written += info->file_size;
    counters_.versions_dropped += imm.table->entry_count() - info->entry_count;
    auto synced = co_await fs().sync_dir(sst_dir_);
    if (!synced) co_return make_error(ErrorCode::IOError, "sync directory " + sst_dir_ + ": " + synced.message());
    meta.size = info->file_size;
    meta.entries = info->entry_count;
    meta.smallest = info->smallest_key;
    meta.largest = info->largest_key;
    auto table = co_await open_table(std::move(meta));
    if (!table) co_return std::move(table).error();
    edit.added.emplace_back(0, std::move(table).value());
  }
  auto installed = co_await install(std::move(edit));
  if (!installed) co_return installed;
  // Only the flush loop (or a caller with background work off) pops.
  if (!imms_.empty() && imms_.front().table == imm.table) imms_.pop_front();
  update_memory_used();
  ++counters_.flushes;
  wake_waiters();
  // Every entry up to last_lsn is now in a durable SSTable named by a durable manifest.
  auto cut = co_await log().truncate_before(imm.last_lsn + 1);
  log_cut_lsn_ = std::max(log_cut_lsn_, imm.last_lsn);
  wake_waiters();
  // Nobody else holds the flushed memtable (else its last holder frees
  // it): free it on a worker, not on the loop.
  if (imm.table.use_count() == 1) co_await runtime().offload_background([&] { imm.table.reset(); });
  if (!cut) co_return cut;
  co_return Result<void>();
}

Task<Result<void>> LsmStore::install(Edit edit) {
  while (installing_) co_await background_progress();
  installing_ = true;
  auto next = std::make_shared<Version>(*version_);
  if (!edit.removed.empty()) {
    for (auto& level : next->levels)
      std::erase_if(level, [&](const TablePtr& t) {
        return std::find(edit.removed.begin(), edit.removed.end(), t->meta.number) != edit.removed.end();
      });
  }
  for (auto& [level, table] : edit.added) next->levels[level].push_back(table);
  std::sort(next->levels[0].begin(), next->levels[0].end(),
            [](const TablePtr& a, const TablePtr& b) { return a->meta.number > b->meta.number; });
  for (std::size_t level = 1; level < next->levels.size(); ++level)
    std::sort(next->levels[level].begin(), next->levels[level].end(), [](const TablePtr& a, const TablePtr& b) {
      return internal_key_compare(a->meta.smallest, b->meta.smallest) < 0;
    });

  ManifestState state;
  state.next_file_number = next_file_number_;
  state.flushed_lsn = edit.flushed_lsn.value_or(flushed_lsn_);
  state.live = edit.live.value_or(flushed_live_);
  state.levels.resize(next->levels.size());
  for (std::size_t level = 0; level < next->levels.size(); ++level)
    for (const TablePtr& t : next->levels[level]) state.levels[level].push_back(t->meta);
  auto wrote = co_await write_manifest(fs(), dir_, state);
  installing_ = false;
  if (!wrote) {
    wake_waiters();
    co_return std::move(wrote).error();
  }
  counters_.manifest_bytes_written += wrote.value();
  version_ = std::move(next);
  flushed_lsn_ = state.flushed_lsn;
  flushed_live_ = state.live;
  wake_waiters();
  co_return Result<void>();
}

Task<void> LsmStore::delete_files(std::vector<TablePtr> tables) {
  // Views that still hold these tables keep reading them through their open
  // descriptors; the names go now.
  // Their cached blocks are left to age out of the LRU (file numbers are
  // never reused): dropping them here would walk the whole cache per file.
  for (const TablePtr& t : tables) co_await remove_unnamed(sst_dir_ + "/" + t->meta.name);
}

Task<void> LsmStore::remove_unnamed(std::string path) {
  auto removed = co_await fs().remove(path);
  if (!removed && removed.error() != ENOENT)
    note_background_error("remove " + path + " (no manifest names it): " + removed.message());
}

Task<void> LsmStore::abandon(SstableBuilder& builder) {
  auto abandoned = co_await builder.abandon();
  if (!abandoned.ok()) note_background_error(abandoned.error().to_string());
}

std::uint64_t LsmStore::level_target_bytes(std::size_t level) const {
  // Level 1 holds at least what compaction_threshold memtables hold, and at
  // least RocksDB's max_bytes_for_level_base (256 MiB), so that the same
  // memtable size, multiplier and threshold give the same level shape as
  // the RocksDb backend (and a comparable write amplification).
  constexpr std::uint64_t kMinLevel1Bytes = 256ull << 20;
  std::uint64_t target =
      options_.level1_target_bytes != 0
          ? options_.level1_target_bytes
          : std::max(kMinLevel1Bytes, static_cast<std::uint64_t>(memtable_bytes_) *
                                          std::max<std::uint32_t>(lsm_.compaction_threshold, 1));
  for (std::size_t l = 1; l < level; ++l) {
    if (target > (std::uint64_t{1} << 56) / lsm_.level_size_multiplier) return std::uint64_t{1} << 56;
    target *= lsm_.level_size_multiplier;
  }
  return target;
}

std::uint64_t LsmStore::target_file_bytes() const {
  if (options_.target_file_bytes != 0) return options_.target_file_bytes;
  return std::max<std::uint64_t>(memtable_bytes_, 1u << 20);
}

std::optional<LsmStore::CompactionJob> LsmStore::pick_compaction() {
  const Version& v = *version_;
  if (v.levels.size() < 2) return std::nullopt;
  if (!v.levels[0].empty() && v.levels[0].size() >= lsm_.compaction_threshold) {
    CompactionJob job;
    job.level = 0;
    job.inputs = v.levels[0];
    std::string smallest = job.inputs.front()->smallest_user, largest = job.inputs.front()->largest_user;
    for (const TablePtr& t : job.inputs) {
      smallest = std::min(smallest, t->smallest_user);
      largest = std::max(largest, t->largest_user);
    }
    job.next_inputs = v.overlapping(1, smallest, largest);
    return job;
  }
  double best_score = 1.0;
  std::size_t best_level = 0;
  for (std::size_t level = 1; level + 1 < v.levels.size(); ++level) {
    const double score =
        static_cast<double>(v.level_bytes(level)) / static_cast<double>(level_target_bytes(level));
    if (score > best_score) {
      best_score = score;
      best_level = level;
    }
  }
  if (best_level == 0) return std::nullopt;
  const auto& files = v.levels[best_level];
  TablePtr pick = files.front();
  for (const TablePtr& t : files) {
    if (t->smallest_user > compact_pointer_[best_level]) {
      pick = t;
      break;
    }
  }
  CompactionJob job;
  job.level = best_level;
  job.inputs.push_back(pick);
  job.next_inputs = v.overlapping(best_level + 1, pick->smallest_user, pick->largest_user);
  job.trivial_move = job.next_inputs.empty();
  return job;
}

Task<Result<void>> LsmStore::run_compaction(CompactionJob job) {
  const std::size_t out_level = job.level + 1;
  if (job.level >= 1) compact_pointer_[job.level] = job.inputs.back()->largest_user;
  if (job.trivial_move) {
    Edit edit;
    edit.removed.push_back(job.inputs.front()->meta.number);
    edit.added.emplace_back(out_level, job.inputs.front());
    auto installed = co_await install(std::move(edit));
    if (!installed) co_return installed;
    ++counters_.trivial_moves;
    co_return Result<void>();
  }

  std::vector<std::unique_ptr<CompactionInput>> inputs;
  for (const TablePtr& t : job.inputs)  // newest first at level 0
    inputs.push_back(std::make_unique<CompactionInput>(std::vector<TablePtr>{t}, kCompactionRunBytes));
  if (!job.next_inputs.empty())
    inputs.push_back(std::make_unique<CompactionInput>(job.next_inputs, kCompactionRunBytes));
  // Levels below out_level change only by this compaction.
  CompactionMerge merge(std::move(inputs), version_, out_level, target_file_bytes());

  struct Output {
    FileMeta meta;
    std::string path;
  };
  std::vector<Output> outputs;
  CacheFill fill;
  std::unique_ptr<SstableBuilder> builder;
  Output current;
  Status status;
  bool stopped = false;

  auto finish_output = [&]() -> Task<Status> {
    co_await runtime().offload_background([&] { builder->seal(); });
    insert_cached(fill);
    auto info = co_await builder->finish();
    if (!info) co_return std::move(info).error();
    counters_.sstable_bytes_written += info->file_size;
    current.meta.size = info->file_size;
    current.meta.entries = info->entry_count;
    current.meta.smallest = info->smallest_key;
    current.meta.largest = info->largest_key;
    outputs.push_back(std::move(current));
    current = Output{};
    builder.reset();
    co_return Status{};
  };

  // The merge runs on a worker in steps; between steps the loop reads the
  // inputs' next runs of blocks and creates, writes and finishes outputs.
  while (status.ok()) {
    if (stopping_) {
      stopped = true;
      break;
    }
    for (const auto& input : merge.inputs())
      while (status.ok() && input->needs_fill()) status = co_await input->fill();
    if (!status.ok()) break;
    auto step = co_await runtime().offload_background([&] { return merge.step(builder.get()); });
    insert_cached(fill);
    if (!step) {
      status = std::move(step).error();
      break;
    }
    const CompactionMerge::Stop stop = step.value();
    if (stop == CompactionMerge::Stop::Done) break;
    if (stop == CompactionMerge::Stop::NeedOutput) {
      current.meta.number = next_file_number_++;
      current.meta.name = sstable_file_name(static_cast<std::uint32_t>(out_level), current.meta.number);
      current.path = sst_dir_ + "/" + current.meta.name;
      auto created = co_await SstableBuilder::create(fs(), current.path, sstable_options_);
      if (!created) {
        status = std::move(created).error();
        break;
      }
      builder = std::move(created).value();
      // Level-1 outputs hold what was flushed moments ago; deeper outputs
      // would only push hot blocks out of the cache.
      if (out_level == 1) fill_cache_from(*builder, current.meta.number, current.path, fill);
    } else if (stop == CompactionMerge::Stop::FlushOutput) {
      status = co_await builder->flush();
    } else if (stop == CompactionMerge::Stop::OutputFull) {
      status = co_await finish_output();
    }
  }
  if (status.ok() && !stopped && builder) status = co_await finish_output();
  if (!status.ok() || stopped) {
    if (builder) co_await abandon(*builder);
    for (const Output& o : outputs) co_await remove_unnamed(o.path);
    if (stopped) co_return Result<void>();
    co_return status;
  }
  auto synced = co_await fs().sync_dir(sst_dir_);
  if (!synced) co_return make_error(ErrorCode::IOError, "sync directory " + sst_dir_ + ": " + synced.message());

  Edit edit;
  for (const TablePtr& t : job.inputs) edit.removed.push_back(t->meta.number);
  for (const TablePtr& t : job.next_inputs) edit.removed.push_back(t->meta.number);
  for (Output& o : outputs) {
    auto table = co_await open_table(std::move(o.meta));
    if (!table) co_return std::move(table).error();
    edit.added.emplace_back(out_level, std::move(table).value());
  }
  auto installed = co_await install(std::move(edit));
  if (!installed) co_return installed;
  ++counters_.compactions;
  ++counters_.compactions_into_level[out_level];
  counters_.versions_dropped += merge.versions_dropped();
  counters_.tombstones_dropped += merge.tombstones_dropped();
  std::vector<TablePtr> obsolete = std::move(job.inputs);
  obsolete.insert(obsolete.end(), job.next_inputs.begin(), job.next_inputs.end());
  co_await delete_files(std::move(obsolete));
  co_return Result<void>();
}

// ---- Maintenance ------------------------------------------------------------------------

Task<Result<void>> LsmStore::do_checkpoint() {
  if (auto e = check_open()) co_return std::move(*e);
  ActiveOp active(*this);
  if (background_error_) co_return *background_error_;
  ++counters_.checkpoints;
  if (!mem_->empty()) switch_memtable();
  if (imms_.empty()) co_return Result<void>();
  const std::uint64_t target = imms_.back().last_lsn;
  if (background_enabled_) {
    schedule_flush();
    while (log_cut_lsn_ < target && !background_error_) co_await background_progress();
    if (background_error_) co_return *background_error_;
    co_return Result<void>();
  }
  while (!imms_.empty()) {
    auto flushed = co_await flush_one(imms_.front());
    if (!flushed) co_return flushed;
  }
  co_return Result<void>();
}

Task<Result<void>> LsmStore::close_engine() {
  stopping_ = true;
  if (!mem_->empty() && !background_error_) switch_memtable();
  while (flush_running_ || compaction_running_) co_await background_progress();
  while (!imms_.empty() && !background_error_) {
    auto flushed = co_await flush_one(imms_.front());
    if (!flushed) set_background_error(std::move(flushed).error());
  }
  // The store is closed: drop the tables (and their open files) now.
  auto empty = std::make_shared<Version>();
  empty->levels.resize(lsm_.max_levels);
  version_ = std::move(empty);
  if (background_error_) co_return *background_error_;
  co_return Result<void>();
}

void LsmStore::engine_stats(StorageStats& stats) {
  update_memory_used();
  stats.memory_usage_bytes = memory_used_.load(std::memory_order_relaxed);
  stats.write_stalls = counters_.stalls;
  stats.write_stall_time = counters_.stall_time;
  stats.compactions = counters_.compactions;
  stats.flushes = counters_.flushes;
  stats.checkpoints = counters_.checkpoints;
  stats.disk_bytes_written += counters_.sstable_bytes_written + counters_.manifest_bytes_written;
}

LsmCounters LsmStore::counters() const {
  LsmCounters out = counters_;
  out.cache_hits = cache_->hits();
  out.cache_misses = cache_->misses();
  out.row_cache_hits = rows_.hits();
  out.row_cache_misses = rows_.misses();
  return out;
}

std::vector<std::vector<FileMeta>> LsmStore::files_per_level() const {
  std::vector<std::vector<FileMeta>> out(version_->levels.size());
  for (std::size_t level = 0; level < version_->levels.size(); ++level)
    for (const TablePtr& t : version_->levels[level]) out[level].push_back(t->meta);
  return out;
}

}  // namespace lsm
}  // namespace orbit
