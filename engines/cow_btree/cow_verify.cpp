// verify_cow_btree_files: reads a CowBTree data directory without writing
// anything. Checks, in order: the page file (both meta slots, every node
// and the free list against their checksums, via a read-only Pager), the
// tree's invariants (order, fan-out, equal leaf depth), page accounting
// (no page both reachable and free, referenced twice, or leaked),
// metadata.json against the meta slot, the WAL past the tree's LSN (every
// record's checksum, read with wal::SegmentReader, never cut), each
// snapshot, and then the logical key layout of tree + WAL with
// verify::LayoutChecker.
#include <cstdio>
#include <map>
#include <vector>

#include "engines/cow_btree/metadata.hpp"
#include "engines/cow_btree/pager.hpp"
#include "engines/cow_btree/snapshot.hpp"
#include "src/factory/engine_registry.hpp"
#include "src/kv/changes.hpp"
#include "src/util/coding.hpp"
#include "src/wal/format.hpp"
#include "src/wal/segment_reader.hpp"
#include "src/verify/layout_checker.hpp"

namespace orbit {
namespace {

using cow_btree::kMetadataFileName;
using cow_btree::kPageFileName;
using cow_btree::kSnapshotsDirName;

// The byte offset an error message names (" offset N"), else 0.
std::uint64_t offset_in(const std::string& message) {
  const auto at = message.find(" offset ");
  if (at == std::string::npos) return 0;
  std::uint64_t v = 0;
  std::sscanf(message.c_str() + at + 8, "%llu", reinterpret_cast<unsigned long long*>(&v));
  return v;
}

void add(VerifyReport& report, std::string file, std::uint64_t offset, std::string what) {
  report.problems.push_back({std::move(file), offset, std::move(what)});
}

// Page accounting of one page file: every page in [2, page_count) is
// reachable from the root, the free-list run, or listed free; never two.
void check_pages(const cow_btree::Pager& pager, const std::string& file, VerifyReport& report) {
  const cow_btree::Meta& meta = pager.meta();
  std::vector<std::uint8_t> owner(meta.page_count, 0);  // 0 none, 1 node, 2 free-list run, 3 listed free
  std::size_t reported = 0;
  auto claim = [&](std::uint64_t page, std::uint8_t who, const char* what) {
    if (page < 2 || page >= meta.page_count) {
      if (reported++ < 100) add(report, file, page * meta.page_size, std::string(what) + " page outside the file");
      return;
    }
    if (owner[page] != 0) {
      static const char* names[] = {"", "a tree node", "the free-list run", "the free list"};
      if (reported++ < 100)
        add(report, file, page * meta.page_size,
            "page " + std::to_string(page) + " is both " + names[owner[page]] + " and " + what);
      return;
    }
    owner[page] = who;
  };
  std::vector<const cow_btree::Node*> stack{pager.tree().root().get()};
  while (!stack.empty()) {
    const cow_btree::Node* node = stack.back();
    stack.pop_back();
    for (std::uint64_t p = node->disk.page_id; p < node->disk.page_id + node->disk.page_count; ++p)
      claim(p, 1, "a tree node");
    for (const auto& child : node->children) stack.push_back(child.get());
  }
  if (meta.free_list.on_disk()) {
    for (std::uint64_t p = meta.free_list.page_id; p < meta.free_list.page_id + meta.free_list.page_count; ++p)
      claim(p, 2, "the free-list run");
  }
  for (std::uint64_t p : pager.listed_free_pages()) claim(p, 3, "listed free");
  std::uint64_t leaked = 0, first_leak = 0;
  for (std::uint64_t p = 2; p < meta.page_count; ++p) {
    if (owner[p] != 0) continue;
    if (leaked++ == 0) first_leak = p;
  }
  if (leaked != 0)
    add(report, file, first_leak * meta.page_size,
        std::to_string(leaked) + " page(s) neither reachable nor free (leaked), first page " +
            std::to_string(first_leak));
}

void apply_entry(cow_btree::Tree& tree, const kv::LogEntry& entry) {
  for (const kv::KvChange& change : entry.changes) {
    tree = change.erase ? tree.erase(change.key) : tree.upsert(change.key, change.value);
  }
}

// Reads every segment of the WAL read-only and applies the records past
// `from_lsn` to `tree`. A damaged tail of the last segment is what a crash
// leaves (open cuts it) and is not a problem; damage elsewhere is.
Task<void> check_wal(io::FileSystem& fs, std::string dir, std::uint64_t from_lsn, cow_btree::Tree& tree,
                     VerifyReport& report) {
  const std::string wal_dir = dir + "/orbit.wal";
  if (!fs.exists(wal_dir)) {
    if (from_lsn > 0) add(report, "orbit.wal", 0, "the WAL folder is missing");
    co_return;
  }
  auto names = fs.list_dir(wal_dir);
  if (!names.ok()) {
    add(report, "orbit.wal", 0, "cannot list the WAL folder");
    co_return;
  }
  std::map<std::uint64_t, std::string> segments;
  for (const auto& name : names.value())
    if (auto number = wal::parse_segment_file_name(name)) segments[*number] = name;
  std::uint64_t expected = 0;  // next LSN (0: not known yet)
  std::size_t index = 0;
  for (const auto& [number, name] : segments) {
    const bool last = ++index == segments.size();
    const std::string file = "orbit.wal/" + name;
    auto opened = co_await fs.open(wal_dir + "/" + name, io::OpenOptions::read_only());
    if (!opened.ok()) {
      add(report, file, 0, "cannot open");
      continue;
    }
    auto size = opened.value()->size();
    std::string header_bytes(wal::kSegmentHeaderSize, '\0');
    auto read = co_await opened.value()->read_at(
        std::as_writable_bytes(std::span(header_bytes.data(), header_bytes.size())), 0);
    if (!read.ok() || !size.ok()) {
      add(report, file, 0, "read error");
      continue;
    }
    header_bytes.resize(read.value());
    wal::SegmentHeader header;
    std::string why;
    const auto state = wal::decode_segment_header(header_bytes, header, &why);
    ++report.files_checked;
    if (state == wal::HeaderState::Uninitialized) continue;  // a segment being created
    if (state == wal::HeaderState::Invalid) {
      add(report, file, 0, "bad segment header: " + why);
      continue;
    }
    if (expected == 0) {
      if (header.first_lsn > from_lsn + 1)
        add(report, file, 0,
            "the WAL starts at LSN " + std::to_string(header.first_lsn) + " but the page file stops at LSN " +
                std::to_string(from_lsn) + ": records in between are missing");
    } else if (header.first_lsn != expected) {
      add(report, file, 0, "segment starts at LSN " + std::to_string(header.first_lsn) + ", expected " +
                               std::to_string(expected));
    }
    wal::SegmentReader reader(*opened.value(), name, wal::kSegmentHeaderSize, size.value(), header.first_lsn);
    wal::LogicalRecord record;
    while (true) {
      auto step = co_await reader.next(record);
      if (!step.ok()) {
        add(report, file, reader.stop_offset(), "read error: " + step.error().message);
        break;
      }
      if (step.value() == wal::SegmentReader::Step::End) break;
      if (step.value() == wal::SegmentReader::Step::Bad) {
        if (!last)
          add(report, file, reader.stop_offset(), "damaged record before the end of the log: " + reader.stop_reason());
        break;
      }
      std::vector<std::string_view> entries;
      if (!record.batch) {
        entries.push_back(record.payload);
      } else {
        coding::Reader in(record.payload);
        std::uint64_t count = 0;
        bool ok = in.get_varint64(count);
        for (std::uint64_t i = 0; ok && i < count; ++i) {
          std::string_view entry;
          ok = in.get_length_prefixed(entry, wal::kMaxRecordBytes);
          entries.push_back(entry);
        }
        if (!ok || in.remaining() != 0) {
          add(report, file, record.offset, "batch record does not split into its entries");
          continue;
        }
      }
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::uint64_t lsn = record.lsn + i;
        if (lsn <= from_lsn) continue;
        auto entry = kv::decode_log_entry(entries[i]);
        if (!entry) {
          add(report, file, record.offset, "record LSN " + std::to_string(lsn) + ": " + entry.error().message);
          continue;
        }
        apply_entry(tree, entry.value());
      }
    }
    expected = reader.next_lsn();
    report.bytes_checked += reader.good_end();
  }
}

void check_layout(const cow_btree::Tree& tree, const std::string& file, VerifyReport& report) {
  verify::LayoutChecker checker(report);
  const verify::Location where{file, 0};
  for (auto it = tree.begin(); it.valid(); it.next()) checker.add(it.key(), it.value(), where);
  checker.finish();
}

}  // namespace

Task<Result<VerifyReport>> verify_cow_btree_files(PersistenceConfig config, io::Runtime& runtime) {
  co_await runtime.schedule();
  io::FileSystem& fs = runtime.fs();
  const std::string dir = config.data_dir;
  VerifyReport report;
  if (!fs.exists(dir + "/" + kPageFileName)) {
    if (fs.exists(dir + "/orbit.wal"))
      co_return make_error(ErrorCode::NotFound, "data_dir '" + dir + "' has orbit.wal but no " + kPageFileName +
                                                    ": not a complete CowBTree store (open it once to create one)");
    co_return make_error(ErrorCode::NotFound, "data_dir '" + dir + "' holds no CowBTree store (no " +
                                                  kPageFileName + ")");
  }
  cow_btree::PagerOptions options;
  options.path = dir + "/" + kPageFileName;
  options.read_only = true;
  auto pager = co_await cow_btree::Pager::open(fs, options);
  ++report.files_checked;
  if (!pager) {
    add(report, kPageFileName, offset_in(pager.error().message), pager.error().message);
    co_return report;
  }
  const cow_btree::Pager& p = *pager.value();
  report.bytes_checked += p.bytes_read();
  for (int slot = 0; slot < 2; ++slot) {
    // An invalid older slot is normal (never written yet, or a torn meta
    // write the newer slot superseded) unless it is non-zero garbage that
    // claims to be newer: pick_newest already preferred the valid one.
    if (p.slot(slot) && p.slot(slot)->page_size != p.meta().page_size)
      add(report, kPageFileName, static_cast<std::uint64_t>(slot) * p.meta().page_size,
          "meta slot " + std::to_string(slot) + " names page size " + std::to_string(p.slot(slot)->page_size));
  }
  if (std::string broken = p.tree().check_invariants(); !broken.empty())
    add(report, kPageFileName, p.meta().root.page_id * p.meta().page_size, "tree invariant: " + broken);
  if (p.tree().height() > 64) add(report, kPageFileName, 0, "tree deeper than 64 levels");
  check_pages(p, kPageFileName, report);

  // metadata.json: must describe the committed tree or an older one.
  auto text = co_await cow_btree::read_small_file(fs, dir + "/" + kMetadataFileName);
  if (!text) {
    add(report, kMetadataFileName, 0, text.error().message);
  } else {
    ++report.files_checked;
    report.bytes_checked += text.value().size();
    auto metadata = cow_btree::decode_metadata(text.value(), kMetadataFileName);
    if (!metadata) {
      add(report, kMetadataFileName, offset_in(metadata.error().message), metadata.error().message);
    } else {
      const auto& m = metadata.value();
      const auto& meta = p.meta();
      if (m.page_size != meta.page_size || m.format_version != meta.format_version ||
          m.max_keys_per_node != meta.max_keys_per_node || m.page_file != kPageFileName)
        add(report, kMetadataFileName, 0, "page_file/page_size/format_version/max_keys_per_node disagree with the meta slot");
      if (m.lsn > meta.lsn || m.txn_id > meta.txn_id)
        add(report, kMetadataFileName, 0, "describes LSN " + std::to_string(m.lsn) + ", newer than the page file's " +
                                              std::to_string(meta.lsn));
      if (m.txn_id == meta.txn_id && (m.root_page != meta.root.page_id || m.entry_count != meta.entry_count))
        add(report, kMetadataFileName, 0, "root_page/entry_count differ from the meta slot of the same txn");
    }
  }

  cow_btree::Tree tree = p.tree();
  co_await check_wal(fs, dir, p.meta().lsn, tree, report);

  // Snapshots: each loads with every checksum, keeps the invariants and the layout.
  const std::string snapshots = dir + "/" + kSnapshotsDirName;
  if (fs.exists(snapshots)) {
    auto names = fs.list_dir(snapshots);
    for (const std::string& file : names.ok() ? names.value() : std::vector<std::string>{}) {
      if (file.size() < 5 || file.substr(file.size() - 5) != ".json") continue;
      const std::string name = file.substr(0, file.size() - 5);
      const std::string pages = std::string(kSnapshotsDirName) + "/" + name + ".pages";
      auto snapshot = co_await cow_btree::CowSnapshot::open(fs, snapshots, name);
      report.files_checked += 2;
      if (!snapshot) {
        add(report, pages, offset_in(snapshot.error().message), snapshot.error().message);
        continue;
      }
      if (std::string broken = snapshot.value()->tree().check_invariants(); !broken.empty())
        add(report, pages, 0, "tree invariant: " + broken);
      VerifyReport layout;
      check_layout(snapshot.value()->tree(), pages, layout);
      for (auto& problem : layout.problems) report.problems.push_back(std::move(problem));
    }
  }

  check_layout(tree, kPageFileName, report);
  co_return report;
}

}  // namespace orbit
