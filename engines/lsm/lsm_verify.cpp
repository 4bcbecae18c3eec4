// verify_lsm_files: PersistenceFactory::verify_store for the LsmTree backend.
//
// Physical checks: manifest.json (JSON, format, version, crc32c); every
// SSTable it names (footer and header magic and version, footer checksum,
// index and filter block checksums, every data block's checksum, entries in
// strictly increasing internal-key order, entry count and smallest/largest
// key as the manifest records them, every user key present in the bloom
// filter); files of levels >= 1 not overlapping. The write-ahead log is
// checked and replayed read-only into a scratch memtable (verify::check_log).
// Logical checks: every live (key, value) pair, newest version of each key
// from the replayed log and all SSTables merged, goes in key order through
// src/verify's LayoutChecker when this build has it; the live key count is
// checked against manifest.json's live counts plus the replayed deltas.

#include <algorithm>
#include <filesystem>

#include "engines/lsm/lsm_store.hpp"
#include "engines/lsm/merging_iterator.hpp"
#include "src/codec/key_layout.hpp"
#include "src/verify/layout_checker.hpp"
#include "src/verify/log_checker.hpp"

namespace orbit {
namespace {

namespace fs = std::filesystem;

using verify::add_problem;
using verify::offset_in;

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

  // The log, replayed read-only into a scratch memtable.
  auto scratch = std::make_shared<lsm::Memtable>();
  std::int64_t live_keys = static_cast<std::int64_t>(state.live.keys);
  const bool log_sound = co_await verify::check_log(
      files, dir, state.flushed_lsn,
      [&](std::uint64_t lsn, std::string_view payload) {
        auto entry = kv::decode_log_entry(payload);
        if (!entry) return Result<void>(std::move(entry).error());
        lsm::add_log_entry(*scratch, entry->changes, lsn);
        live_keys += entry->delta.keys;
        return Result<void>();
      },
      report);

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
