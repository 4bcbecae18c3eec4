// Snapshot files: a post-order walk writes each node after its children (so
// its child references are known), buffered into large sequential writes.
#include "engines/cow_btree/snapshot.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engines/cow_btree/page_format.hpp"
#include "engines/cow_btree/pager.hpp"
#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"
#include "src/util/coding.hpp"

namespace orbit::cow_btree {
namespace {

constexpr std::size_t kWriteChunk = 4u << 20;
constexpr std::string_view kPrefix = "snapshot_";

Error io_failure(const std::string& path, const char* what, int err, std::uint64_t offset = 0) {
  return make_error(err == ENOSPC ? ErrorCode::NoSpace : ErrorCode::IOError,
                    "cow_btree " + path + " offset " + std::to_string(offset) + ": " + what + ": " +
                        std::strerror(err));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string snapshot_name(std::uint64_t lsn) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "snapshot_%020llu", static_cast<unsigned long long>(lsn));
  return buf;
}

Result<void> check_snapshot_name(const std::string& name) {
  bool ok = name.size() == kPrefix.size() + 20 && name.compare(0, kPrefix.size(), kPrefix) == 0;
  for (std::size_t i = kPrefix.size(); ok && i < name.size(); ++i) ok = name[i] >= '0' && name[i] <= '9';
  if (!ok)
    return make_error(ErrorCode::InvalidArgument,
                      "snapshot name '" + name + "' is not snapshot_ followed by 20 digits (list_snapshots names them)");
  return Result<void>::success();
}

Task<Result<Meta>> write_tree_file(io::FileSystem& fs, std::string path, Tree tree, std::uint64_t lsn,
                                   std::uint32_t page_size) {
  io::OpenOptions create = io::OpenOptions::read_write_create();
  create.truncate = true;
  auto opened = co_await fs.open(path, create);
  if (!opened.ok()) co_return io_failure(path, "create", opened.error());
  std::unique_ptr<io::File> file = std::move(opened.value());

  struct Frame {
    const Node* node;
    std::size_t next_child = 0;
    std::vector<PageRef> refs;
  };
  std::vector<Frame> stack;
  stack.push_back({tree.root().get(), 0, {}});
  std::uint64_t next_page = 2;
  std::uint64_t buffer_page = 2;
  std::string buffer;
  PageRef root_ref;
  while (!stack.empty()) {
    if (!stack.back().node->leaf && stack.back().next_child < stack.back().node->children.size()) {
      const Node* child = stack.back().node->children[stack.back().next_child++].get();
      stack.push_back({child, 0, {}});
      continue;
    }
    std::string run = encode_node_with_children(*stack.back().node, stack.back().refs, next_page, page_size);
    PageRef ref{next_page, static_cast<std::uint32_t>(run.size() / page_size), coding::decode_fixed32(run.data())};
    next_page += ref.page_count;
    buffer += run;
    stack.pop_back();
    if (stack.empty()) {
      root_ref = ref;
    } else {
      stack.back().refs.push_back(ref);
    }
    if (buffer.size() >= kWriteChunk || stack.empty()) {
      auto wrote = co_await file->write_at(std::as_bytes(std::span(buffer.data(), buffer.size())),
                                           buffer_page * page_size);
      if (!wrote.ok()) co_return io_failure(path, "write", wrote.error(), buffer_page * page_size);
      buffer_page = next_page;
      buffer.clear();
    }
  }
  Meta meta;
  meta.page_size = page_size;
  meta.txn_id = 1;
  meta.lsn = lsn;
  meta.root = root_ref;
  meta.page_count = next_page;
  meta.entry_count = tree.size();
  meta.max_keys_per_node = static_cast<std::uint32_t>(tree.max_keys_per_node());
  std::string metas(page_size, '\0');  // slot 0: never written (zero), like a new live file
  metas += encode_meta(meta);
  auto wrote = co_await file->write_at(std::as_bytes(std::span(metas.data(), metas.size())), 0);
  if (!wrote.ok()) co_return io_failure(path, "write meta", wrote.error(), 0);
  auto synced = co_await file->datasync();
  if (!synced.ok()) co_return io_failure(path, "datasync", synced.error());
  auto closed = co_await file->close();
  if (!closed.ok()) co_return io_failure(path, "close", closed.error());
  co_return meta;
}

Task<Result<SnapshotInfo>> write_snapshot(io::FileSystem& fs, std::string snapshots_dir, Tree tree,
                                          TreeMetadata metadata) {
  if (auto made = fs.create_dirs(snapshots_dir); !made.ok())
    co_return io_failure(snapshots_dir, "create folder", made.error());
  SnapshotInfo info;
  info.name = snapshot_name(metadata.lsn);
  const std::string base = snapshots_dir + "/" + info.name;
  if (fs.exists(base + ".json")) {
    auto existing = co_await read_small_file(fs, base + ".json");
    if (!existing.ok()) co_return std::move(existing).error();
    auto decoded = decode_metadata(existing.value(), base + ".json");
    if (!decoded.ok()) co_return std::move(decoded).error();
    info.metadata = std::move(decoded).value();
    co_return info;
  }
  auto meta = co_await write_tree_file(fs, base + ".pages.tmp", tree, metadata.lsn, metadata.page_size);
  if (!meta.ok()) co_return std::move(meta).error();
  auto renamed = co_await fs.rename(base + ".pages.tmp", base + ".pages");
  if (!renamed.ok()) co_return io_failure(base + ".pages", "rename from .tmp", renamed.error());
  metadata.page_file = info.name + ".pages";
  metadata.format_version = meta.value().format_version;
  metadata.txn_id = meta.value().txn_id;
  metadata.root_page = meta.value().root.page_id;
  metadata.page_count = meta.value().page_count;
  metadata.entry_count = meta.value().entry_count;
  // The .json's rename + sync_dir also makes the .pages rename durable.
  auto written = co_await write_file_atomically(fs, base + ".json", encode_metadata(metadata));
  if (!written.ok()) co_return std::move(written).error();
  info.metadata = std::move(metadata);
  co_return info;
}

Task<Result<std::vector<SnapshotInfo>>> list_snapshots(io::FileSystem& fs, std::string snapshots_dir) {
  std::vector<SnapshotInfo> out;
  if (!fs.exists(snapshots_dir)) co_return out;
  auto names = fs.list_dir(snapshots_dir);
  if (!names.ok()) co_return io_failure(snapshots_dir, "list", names.error());
  for (const std::string& file : names.value()) {
    if (!ends_with(file, ".json") || ends_with(file, ".tmp")) continue;
    std::string name = file.substr(0, file.size() - 5);
    if (!check_snapshot_name(name).ok()) continue;
    auto text = co_await read_small_file(fs, snapshots_dir + "/" + file);
    if (!text.ok()) co_return std::move(text).error();
    auto decoded = decode_metadata(text.value(), std::string(kSnapshotsDirName) + "/" + file);
    if (!decoded.ok()) co_return std::move(decoded).error();
    out.push_back({std::move(name), std::move(decoded).value()});
  }
  co_return out;
}

Task<Result<void>> delete_snapshot(io::FileSystem& fs, std::string snapshots_dir, std::string name) {
  if (auto valid = check_snapshot_name(name); !valid) co_return valid;
  const std::string base = snapshots_dir + "/" + name;
  if (!fs.exists(base + ".json"))
    co_return make_error(ErrorCode::NotFound, "no snapshot '" + name + "' in " + snapshots_dir);
  auto removed = co_await fs.remove(base + ".json");
  if (!removed.ok()) co_return io_failure(base + ".json", "remove", removed.error());
  if (fs.exists(base + ".pages")) {
    auto pages = co_await fs.remove(base + ".pages");
    if (!pages.ok()) co_return io_failure(base + ".pages", "remove", pages.error());
  }
  auto synced = co_await fs.sync_dir(snapshots_dir);
  if (!synced.ok()) co_return io_failure(snapshots_dir, "sync_dir", synced.error());
  co_return Result<void>::success();
}

Task<Result<void>> remove_snapshot_leftovers(io::FileSystem& fs, std::string snapshots_dir) {
  if (!fs.exists(snapshots_dir)) co_return Result<void>::success();
  auto names = fs.list_dir(snapshots_dir);
  if (!names.ok()) co_return io_failure(snapshots_dir, "list", names.error());
  bool removed_any = false;
  for (const std::string& file : names.value()) {
    bool leftover = ends_with(file, ".tmp");
    if (ends_with(file, ".pages")) {
      const std::string json = file.substr(0, file.size() - 6) + ".json";
      leftover = !fs.exists(snapshots_dir + "/" + json);
    }
    if (!leftover) continue;
    auto removed = co_await fs.remove(snapshots_dir + "/" + file);
    if (!removed.ok()) co_return io_failure(snapshots_dir + "/" + file, "remove", removed.error());
    removed_any = true;
  }
  if (removed_any) {
    auto synced = co_await fs.sync_dir(snapshots_dir);
    if (!synced.ok()) co_return io_failure(snapshots_dir, "sync_dir", synced.error());
  }
  co_return Result<void>::success();
}

Task<Result<std::unique_ptr<CowSnapshot>>> CowSnapshot::open(io::FileSystem& fs, std::string snapshots_dir,
                                                             std::string name) {
  if (auto valid = check_snapshot_name(name); !valid) co_return std::move(valid).error();
  const std::string base = snapshots_dir + "/" + name;
  auto text = co_await read_small_file(fs, base + ".json");
  if (!text.ok()) co_return std::move(text).error();
  auto metadata = decode_metadata(text.value(), std::string(kSnapshotsDirName) + "/" + name + ".json");
  if (!metadata.ok()) co_return std::move(metadata).error();
  PagerOptions options;
  options.path = base + ".pages";
  options.read_only = true;
  auto pager = co_await Pager::open(fs, options);
  if (!pager.ok()) co_return std::move(pager).error();
  const Meta& meta = pager.value()->meta();
  if (meta.lsn != metadata.value().lsn || meta.root.page_id != metadata.value().root_page ||
      meta.entry_count != metadata.value().entry_count) {
    co_return make_error(ErrorCode::Corruption, "cow_btree snapshot " + name + ": " + name +
                                                    ".json does not describe " + name + ".pages (LSN " +
                                                    std::to_string(metadata.value().lsn) + " vs " +
                                                    std::to_string(meta.lsn) + ")");
  }
  Tree tree = pager.value()->tree();
  co_return std::make_unique<CowSnapshot>(std::move(name), std::move(metadata).value(), std::move(tree));
}

Result<Lease> CowSnapshot::get_lease(const ActorKey& key) const {
  auto value = tree_.get(codec::primary_key(key));
  if (!value) return make_error(ErrorCode::NotFound, "snapshot " + name_ + " holds no lease for " + key.to_string());
  return codec::decode_lease(*value);
}

Result<std::vector<Lease>> CowSnapshot::scan_by_actor_type(const std::string& actor_type) const {
  const std::string prefix = codec::actor_type_prefix(actor_type);
  const std::string upper = codec::prefix_successor(prefix);
  std::vector<Lease> out;
  for (auto it = tree_.seek(prefix); it.valid() && it.key() < upper; it.next()) {
    auto lease = codec::decode_lease(it.value());
    if (!lease) return std::move(lease).error();
    out.push_back(std::move(lease).value());
  }
  return out;
}

std::uint64_t CowSnapshot::lease_count() const {
  std::uint64_t n = 0;
  const std::string first(1, codec::kPrimaryTag);
  for (auto it = tree_.seek(first); it.valid() && !it.key().empty() && it.key()[0] == codec::kPrimaryTag; it.next())
    ++n;
  return n;
}

}  // namespace orbit::cow_btree
