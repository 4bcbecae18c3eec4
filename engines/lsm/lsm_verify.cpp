// verify_lsm_files: PersistenceFactory::verify_store for the LsmTree backend.
//
// Physical checks: manifest.json (JSON, format, version, crc32c); every
// SSTable it names (footer and header magic and version, footer checksum,
// index and filter block checksums, every data block's checksum, entries in
// strictly increasing internal-key order, entry count and smallest/largest
// key as the manifest records them, every user key present in the bloom
// filter); files of levels >= 1 not overlapping. The write-ahead log is
// replayed read-only into a scratch memtable: Wal::open may cut a torn
// tail, so it runs on a copy of orbit.wal/ in a temporary directory, never
// on the store's own files.
// Logical checks: every live (key, value) pair, newest version of each key
// from the replayed log and all SSTables merged, goes in key order through
// src/verify's LayoutChecker when this build has it; the live key count is
// checked against manifest.json's live counts plus the replayed deltas.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "engines/lsm/lsm_store.hpp"
#include "engines/lsm/merging_iterator.hpp"
#include "src/codec/key_layout.hpp"
#include "src/verify/layout_checker.hpp"

namespace orbit {
namespace {

namespace fs = std::filesystem;

// The byte offset an error message names ("... offset 1234: ..."), or 0.
std::uint64_t offset_in(const std::string& message) {
  auto at = message.rfind("offset ");
  if (at == std::string::npos) return 0;
  std::uint64_t value = 0;
  for (std::size_t i = at + 7; i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i)
    value = value * 10 + static_cast<std::uint64_t>(message[i] - '0');
  return value;
}

void add_problem(VerifyReport& report, std::string file, std::uint64_t offset, std::string what) {
  report.problems.push_back(FileProblem{std::move(file), offset, std::move(what)});
}

// Reads every entry of one SSTable; reports what is wrong. Returns the open
// table when it is sound enough to feed the logical check.
Task<lsm::TablePtr> verify_table(io::FileSystem& fs, std::string dir, lsm::FileMeta meta, VerifyReport& report) {
  const std::string relative = "sstables/" + meta.name;
  const std::string path = dir + "/" + relative;
  ++report.files_checked;
  auto opened = co_await lsm::SstableReader::open(fs, path);
  if (!opened) {
    add_problem(report, relative, offset_in(opened.error().message), opened.error().message);
    co_return nullptr;
  }
  auto table = std::make_shared<lsm::Table>();
  table->reader = std::move(opened).value();
  lsm::SstableReader& reader = *table->reader;
  const std::size_t before = report.problems.size();
  if (reader.file_size() != meta.size)
    add_problem(report, relative, 0,
                "file is " + std::to_string(reader.file_size()) + " bytes, manifest.json says " +
                    std::to_string(meta.size));
  if (reader.entry_count() != meta.entries)
    add_problem(report, relative, reader.file_size() - lsm::kSstableFooterSize,
                "footer counts " + std::to_string(reader.entry_count()) + " entries, manifest.json says " +
                    std::to_string(meta.entries));

  lsm::SstableReader::Iterator it(reader);
  Status s = co_await it.seek_to_first();
  std::string previous, first;
  std::uint64_t entries = 0;
  std::string last_user;
  while (s.ok() && it.valid()) {
    lsm::ParsedInternalKey parsed;
    if (!lsm::parse_internal_key(it.key(), parsed)) {
      add_problem(report, relative, 0, "entry " + std::to_string(entries) + " has no valid internal key");
      break;
    }
    if (entries == 0) first.assign(it.key());
    if (entries > 0 && lsm::internal_key_compare(previous, it.key()) >= 0) {
      add_problem(report, relative, 0, "entry " + std::to_string(entries) + " is not after the one before it");
      break;
    }
    if (entries == 0 || parsed.user_key != std::string_view(last_user)) {
      if (!reader.may_contain(parsed.user_key))
        add_problem(report, relative, reader.footer().filter.offset,
                    "bloom filter misses key " + lsm::to_hex(parsed.user_key));
      last_user.assign(parsed.user_key);
    }
    previous.assign(it.key());
    ++entries;
    s = co_await it.next();
  }
  if (!s.ok()) add_problem(report, relative, offset_in(s.error().message), s.error().message);
  if (s.ok() && entries != reader.entry_count())
    add_problem(report, relative, reader.file_size() - lsm::kSstableFooterSize,
                "holds " + std::to_string(entries) + " entries, its footer says " +
                    std::to_string(reader.entry_count()));
  if (s.ok() && entries > 0 && (first != meta.smallest || previous != meta.largest))
    add_problem(report, relative, 0, "smallest/largest keys differ from manifest.json's");
  if (report.problems.size() != before) co_return nullptr;
  report.bytes_checked += reader.file_size();
  table->smallest_user.assign(lsm::extract_user_key(meta.smallest));
  table->largest_user.assign(lsm::extract_user_key(meta.largest));
  table->meta = std::move(meta);
  co_return table;
}

std::string make_scratch_dir() {
  std::string pattern = (fs::temp_directory_path() / "orbit-lsm-verify-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  return made != nullptr ? std::string(made) : std::string();
}

}  // namespace

Task<Result<VerifyReport>> verify_lsm_files(PersistenceConfig config, io::Runtime& runtime) {
  using Out = Result<VerifyReport>;
  co_await runtime.schedule();
  const std::string dir = config.data_dir;
  if (auto ours = lsm::check_data_dir_is_ours(dir); !ours) co_return Out(std::move(ours).error());
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / "manifest.json", ec) && !fs::exists(fs::path(dir) / "orbit.wal", ec))
    co_return Out(make_error(ErrorCode::InvalidArgument,
                             "data_dir '" + dir + "' holds no LsmTree store (neither manifest.json nor orbit.wal/)"));
  io::FileSystem& files = runtime.fs();
  VerifyReport report;
  const std::uint32_t max_levels = config.lsm_config.max_levels;

  auto manifest = co_await lsm::read_manifest(files, dir, max_levels);
  if (!manifest) {
    add_problem(report, "manifest.json", 0, manifest.error().message);
    co_return Out(std::move(report));
  }
  lsm::ManifestState state;
  state.levels.resize(max_levels);
  if (manifest.value()) {
    state = std::move(*manifest.value());
    ++report.files_checked;
    if (auto size = files.file_size(dir + "/manifest.json"); size) report.bytes_checked += size.value();
  }

  auto version = std::make_shared<lsm::Version>();
  version->levels.resize(max_levels);
  bool tables_sound = true;
  for (std::size_t level = 0; level < state.levels.size(); ++level) {
    for (lsm::FileMeta& meta : state.levels[level]) {
      auto table = co_await verify_table(files, dir, meta, report);
      if (!table) {
        tables_sound = false;
        continue;
      }
      version->levels[level].push_back(std::move(table));
    }
  }
  std::sort(version->levels[0].begin(), version->levels[0].end(),
            [](const lsm::TablePtr& a, const lsm::TablePtr& b) { return a->meta.number > b->meta.number; });
  for (std::size_t level = 1; level < version->levels.size(); ++level) {
    auto& tables = version->levels[level];
    std::sort(tables.begin(), tables.end(), [](const lsm::TablePtr& a, const lsm::TablePtr& b) {
      return lsm::internal_key_compare(a->meta.smallest, b->meta.smallest) < 0;
    });
    for (std::size_t i = 1; i < tables.size(); ++i) {
      if (tables[i - 1]->largest_user >= tables[i]->smallest_user)
        add_problem(report, "manifest.json", 0,
                    "level " + std::to_string(level) + " files " + tables[i - 1]->meta.name + " and " +
                        tables[i]->meta.name + " overlap");
    }
  }

  // The log, replayed read-only (on a copy) into a scratch memtable.
  auto scratch = std::make_shared<lsm::Memtable>();
  std::int64_t live_keys = static_cast<std::int64_t>(state.live.keys);
  bool log_sound = true;
  const fs::path wal_dir = fs::path(dir) / "orbit.wal";
  if (fs::exists(wal_dir, ec)) {
    const std::string copy_root = make_scratch_dir();
    if (copy_root.empty()) co_return Out(make_error(ErrorCode::IOError, "cannot make a scratch directory to read the log"));
    const std::string copy = copy_root + "/orbit.wal";
    fs::copy(wal_dir, copy, fs::copy_options::recursive, ec);
    if (ec) {
      fs::remove_all(copy_root, ec);
      co_return Out(make_error(ErrorCode::IOError, "copy " + wal_dir.string() + " to read it: " + ec.message()));
    }
    for (const auto& entry : fs::directory_iterator(copy, ec)) {
      ++report.files_checked;
      report.bytes_checked += entry.file_size(ec);
    }
    wal::WalOptions options;
    options.dir = copy;
    options.durability = wal::Durability::None;
    options.prepare_spare = false;
    options.recycle = 0;
    auto opened = co_await wal::Wal::open(runtime, options);
    if (!opened) {
      add_problem(report, "orbit.wal", offset_in(opened.error().message), opened.error().message);
      log_sound = false;
    } else {
      std::unique_ptr<wal::Wal> log = std::move(opened).value();
      auto replayed = co_await log->replay(state.flushed_lsn + 1, [&](std::uint64_t lsn, std::string_view payload) {
        auto entry = kv::decode_log_entry(payload);
        if (!entry) {
          Error error = std::move(entry).error();
          error.message = "log record LSN " + std::to_string(lsn) + ": " + error.message;
          return Result<void>(std::move(error));
        }
        lsm::add_log_entry(*scratch, entry->changes, lsn);
        live_keys += entry->delta.keys;
        return Result<void>();
      });
      if (!replayed) {
        add_problem(report, "orbit.wal", offset_in(replayed.error().message), replayed.error().message);
        log_sound = false;
      } else if (replayed->first_lsn > state.flushed_lsn + 1) {
        add_problem(report, "orbit.wal", 0,
                    "the log starts at LSN " + std::to_string(replayed->first_lsn) +
                        ", but manifest.json's SSTables cover only up to " + std::to_string(state.flushed_lsn));
        log_sound = false;
      }
      (void)co_await log->close();
    }
    fs::remove_all(copy_root, ec);
  }

  if (!tables_sound || !log_sound) co_return Out(std::move(report));

  // Logical pass: newest version of every key, in key order.
  std::vector<std::unique_ptr<lsm::InternalIterator>> children;
  children.push_back(lsm::make_memtable_iterator(scratch));
  for (const lsm::TablePtr& t : version->levels[0]) children.push_back(lsm::make_table_iterator(t));
  for (std::size_t level = 1; level < version->levels.size(); ++level)
    if (!version->levels[level].empty()) children.push_back(lsm::make_level_iterator(version->levels[level]));
  lsm::MergingIterator it(std::move(children));
  verify::LayoutChecker checker(report);
  std::uint64_t primary_keys = 0;
  std::string current;
  bool have_current = false;
  Status s = co_await it.seek_to_first();
  while (s.ok() && it.valid()) {
    std::string_view user = lsm::extract_user_key(it.key());
    if (!have_current || user != std::string_view(current)) {
      current.assign(user);
      have_current = true;
      lsm::ParsedInternalKey parsed;
      lsm::parse_internal_key(it.key(), parsed);
      if (parsed.type == lsm::ValueType::Put) {
        if (!current.empty() && current[0] == codec::kPrimaryTag) ++primary_keys;
        checker.add(current, it.value());
      }
    }
    s = co_await it.next();
  }
  if (!s.ok()) add_problem(report, "", offset_in(s.error().message), s.error().message);
  checker.finish();
  if (s.ok() && static_cast<std::int64_t>(primary_keys) != live_keys)
    add_problem(report, "manifest.json", 0,
                "the store holds " + std::to_string(primary_keys) + " leases, manifest.json's live_keys plus the " +
                    "log's changes say " + std::to_string(live_keys));
  co_return Out(std::move(report));
}

}  // namespace orbit
