// verify_rocksdb_files: PersistenceFactory::verify_store for the RocksDb backend.
//
// 1. Refuses a directory holding another backend's files or no RocksDB
//    store at all (an error: verification cannot run).
// 2. Opens the database with DB::OpenForReadOnly, which reads CURRENT, the
//    MANIFEST and the WAL (checksummed records) and writes nothing; a
//    Corruption status here is a problem naming the file RocksDB names.
// 3. Verifies every live SSTable's block checksums one file at a time
//    (SstFileReader::VerifyChecksum), so each bad file is its own problem,
//    with the offset RocksDB's message gives.
// 4. Walks every key in order (checksums verified on read) through the
//    shared LayoutChecker (src/verify/layout_checker.hpp). If the walk
//    itself fails, the index cross-check is not finished (it would call
//    every unread lease's entries orphans); the failure is the problem.
//
// RocksDB's calls block: they run on the calling thread, as
// RocksDbStore::open does; `runtime` is not used.
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <system_error>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/metadata.h>
#include <rocksdb/sst_file_reader.h>

#include "engines/rocksdb/data_dir_check.hpp"
#include "engines/rocksdb/rocksdb_options.hpp"
#include "engines/rocksdb/rocksdb_status.hpp"
#include "src/factory/engine_registry.hpp"
#include "src/verify/layout_checker.hpp"

namespace orbit {
namespace {

namespace fs = std::filesystem;

std::string relative_to(const std::string& dir, const std::string& path) {
  std::error_code ec;
  fs::path rel = fs::path(path).lexically_relative(fs::path(dir));
  if (rel.empty() || rel.native().starts_with("..")) return fs::path(path).filename().string();
  return rel.string();
}

// RocksDB names the place of a corruption in its message, e.g.
// "block checksum mismatch: stored = 1, computed = 2, type = 1  in /d/000009.sst offset 4096 size 3958".
FileProblem problem_from_status(const std::string& dir, const rocksdb::Status& status, std::string fallback_file,
                                std::string_view doing) {
  FileProblem p;
  p.file = std::move(fallback_file);
  const std::string message = status.ToString();
  static const std::regex place(R"(in (\S+) offset (\d+))");
  std::smatch m;
  if (std::regex_search(message, m, place)) {
    p.file = relative_to(dir, m[1].str());
    p.offset = std::stoull(m[2].str());
  } else {
    static const std::regex file(R"((/\S+\.(sst|log)|MANIFEST-\d+))");
    if (std::regex_search(message, m, file)) p.file = relative_to(dir, m[1].str());
  }
  p.what = std::string(doing) + ": " + message;
  return p;
}

std::uint64_t file_size_or_zero(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

}  // namespace

Task<Result<VerifyReport>> verify_rocksdb_files(PersistenceConfig config, io::Runtime& /*runtime*/) {
  using Out = Result<VerifyReport>;
  const std::string dir = config.data_dir;
  if (auto ours = rocksdb_engine::check_data_dir_is_ours(dir); !ours) co_return Out(std::move(ours).error());
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / "CURRENT", ec))
    co_return Out(make_error(ErrorCode::InvalidArgument,
                             "data_dir '" + dir + "' holds no RocksDb store (no CURRENT file)"));

  VerifyReport report;
  // Every block is read once: a block cache would only grow the memory used.
  config.rocksdb_config.block_cache_mb = 0;
  rocksdb_engine::RocksDbSetup setup = rocksdb_engine::make_rocksdb_setup(config.rocksdb_config);
  setup.options.create_if_missing = false;
  setup.options.paranoid_checks = true;

  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::OpenForReadOnly(setup.options, dir, &raw);
  if (!status.ok()) {
    if (status.IsCorruption()) {
      report.problems.push_back(problem_from_status(dir, status, "", "open read-only"));
      co_return Out(std::move(report));
    }
    co_return Out(rocksdb_engine::to_error(status, "open RocksDB read-only in data_dir '" + dir + "'"));
  }
  std::unique_ptr<rocksdb::DB> db(raw);

  // The MANIFEST and the WAL were read (and their records checksummed) by the open.
  std::vector<std::string> live;
  std::uint64_t manifest_size = 0;
  if (db->GetLiveFiles(live, &manifest_size, /*flush_memtable=*/false).ok()) {
    for (const auto& name : live) {
      if (name.find("MANIFEST") != std::string::npos) {
        ++report.files_checked;
        report.bytes_checked += manifest_size;
      }
    }
  }
  rocksdb::VectorLogPtr wals;
  if (db->GetSortedWalFiles(wals).ok()) {
    for (const auto& wal : wals) {
      ++report.files_checked;
      report.bytes_checked += wal->SizeFileBytes();
    }
  }

  std::vector<rocksdb::LiveFileMetaData> tables;
  db->GetLiveFilesMetaData(&tables);
  for (const auto& table : tables) {
    const std::string path = (fs::path(table.db_path) / fs::path(table.name).relative_path()).string();
    const std::string name = relative_to(dir, path);
    ++report.files_checked;
    rocksdb::SstFileReader reader(setup.options);
    rocksdb::Status s = reader.Open(path);
    if (s.ok()) s = reader.VerifyChecksum();
    if (!s.ok()) {
      report.problems.push_back(problem_from_status(dir, s, name, "SSTable checksum"));
      continue;
    }
    report.bytes_checked += file_size_or_zero(path);
  }

  verify::LayoutChecker checker(report);
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read));
  std::uint64_t keys_read = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    checker.add(std::string_view(it->key().data(), it->key().size()),
                std::string_view(it->value().data(), it->value().size()));
    ++keys_read;
  }
  if (!it->status().ok()) {
    report.problems.push_back(problem_from_status(
        dir, it->status(), "",
        "reading all keys stopped after " + std::to_string(keys_read) +
            " keys (index cross-check not completed)"));
    co_return Out(std::move(report));
  }
  checker.finish();
  co_return Out(std::move(report));
}

}  // namespace orbit
