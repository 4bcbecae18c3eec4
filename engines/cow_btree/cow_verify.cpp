// verify_cow_btree_files: reads a CowBTree data directory without writing
// anything. Checks, in order: the page file (both meta slots, every node
// and the free list against their checksums, via a read-only Pager), the
// tree's invariants (order, fan-out, equal leaf depth), page accounting
// (no page both reachable and free, referenced twice, or leaked),
// metadata.json against the meta slot, the WAL past the tree's LSN
// (verify::check_log: every record's checksum, never cut), each
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
#include "src/verify/layout_checker.hpp"
#include "src/verify/log_checker.hpp"

namespace orbit {
namespace {

using cow_btree::kMetadataFileName;
using cow_btree::kPageFileName;
using cow_btree::kSnapshotsDirName;
using verify::add_problem;
using verify::offset_in;

// Page accounting of one page file: every page in [2, page_count) is
// reachable from the root, the free-list run, or listed free; never two.
void check_pages(const cow_btree::Pager& pager, const std::string& file, VerifyReport& report) {
  const cow_btree::Meta& meta = pager.meta();
  std::vector<std::uint8_t> owner(meta.page_count, 0);  // 0 none, 1 node, 2 free-list run, 3 listed free
  std::size_t reported = 0;
  auto claim = [&](std::uint64_t page, std::uint8_t who, const char* what) {
    if (page < 2 || page >= meta.page_count) {
      if (reported++ < 100) add_problem(report, file, page * meta.page_size, std::string(what) + " page outside the file");
      return;
    }
    if (owner[page] != 0) {
      static const char* names[] = {"", "a tree node", "the free-list run", "the free list"};
      if (reported++ < 100)
        add_problem(report, file, page * meta.page_size,
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
    add_problem(report, file, first_leak * meta.page_size,
        std::to_string(leaked) + " page(s) neither reachable nor free (leaked), first page " +
            std::to_string(first_leak));
}

void apply_entry(cow_btree::Tree& tree, const kv::LogEntry& entry) {
  for (const kv::KvChange& change : entry.changes) {
    tree = change.erase ? tree.erase(change.key) : tree.upsert(change.key, change.value);
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
    add_problem(report, kPageFileName, offset_in(pager.error().message), pager.error().message);
    co_return report;
  }
  const cow_btree::Pager& p = *pager.value();
  report.bytes_checked += p.bytes_read();
  for (int slot = 0; slot < 2; ++slot) {
    // An invalid older slot is normal (never written yet, or a torn meta
    // write the newer slot superseded) unless it is non-zero garbage that
    // claims to be newer: pick_newest already preferred the valid one.
    if (p.slot(slot) && p.slot(slot)->page_size != p.meta().page_size)
      add_problem(report, kPageFileName, static_cast<std::uint64_t>(slot) * p.meta().page_size,
          "meta slot " + std::to_string(slot) + " names page size " + std::to_string(p.slot(slot)->page_size));
  }
  if (std::string broken = p.tree().check_invariants(); !broken.empty())
    add_problem(report, kPageFileName, p.meta().root.page_id * p.meta().page_size, "tree invariant: " + broken);
  if (p.tree().height() > 64) add_problem(report, kPageFileName, 0, "tree deeper than 64 levels");
  check_pages(p, kPageFileName, report);

  // metadata.json: must describe the committed tree or an older one.
  auto text = co_await cow_btree::read_small_file(fs, dir + "/" + kMetadataFileName);
  if (!text) {
    add_problem(report, kMetadataFileName, 0, text.error().message);
  } else {
    ++report.files_checked;
    report.bytes_checked += text.value().size();
    auto metadata = cow_btree::decode_metadata(text.value(), kMetadataFileName);
    if (!metadata) {
      add_problem(report, kMetadataFileName, offset_in(metadata.error().message), metadata.error().message);
    } else {
      const auto& m = metadata.value();
      const auto& meta = p.meta();
      if (m.page_size != meta.page_size || m.format_version != meta.format_version ||
          m.max_keys_per_node != meta.max_keys_per_node || m.page_file != kPageFileName)
        add_problem(report, kMetadataFileName, 0, "page_file/page_size/format_version/max_keys_per_node disagree with the meta slot");
      if (m.lsn > meta.lsn || m.txn_id > meta.txn_id) {
        // metadata.json is written after the commit it describes: the meta
        // slot of that commit is damaged (the open falls back to the older one).
        const std::uint64_t slot = p.slot(0) ? 1 : 0;
        add_problem(report, kPageFileName, slot * meta.page_size,
                    "meta slot " + std::to_string(slot) + " is damaged: the newest valid commit is at LSN " +
                        std::to_string(meta.lsn) + ", but metadata.json describes a later one at LSN " +
                        std::to_string(m.lsn));
      }
      if (m.txn_id == meta.txn_id && (m.root_page != meta.root.page_id || m.entry_count != meta.entry_count))
        add_problem(report, kMetadataFileName, 0, "root_page/entry_count differ from the meta slot of the same txn");
    }
  }

  cow_btree::Tree tree = p.tree();
  co_await verify::check_log(fs, dir, p.meta().lsn, [&tree](std::uint64_t, std::string_view payload) {
    auto entry = kv::decode_log_entry(payload);
    if (!entry) return Result<void>(std::move(entry).error());
    apply_entry(tree, entry.value());
    return Result<void>();
  }, report);

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
        const std::string& why = snapshot.error().message;
        const bool in_json = why.find(file) != std::string::npos;
        add_problem(report, in_json ? std::string(kSnapshotsDirName) + "/" + file : pages, offset_in(why), why);
        continue;
      }
      if (std::string broken = snapshot.value()->tree().check_invariants(); !broken.empty())
        add_problem(report, pages, 0, "tree invariant: " + broken);
      VerifyReport layout;
      check_layout(snapshot.value()->tree(), pages, layout);
      for (auto& problem : layout.problems) report.problems.push_back(std::move(problem));
    }
  }

  check_layout(tree, kPageFileName, report);
  co_return report;
}

}  // namespace orbit
