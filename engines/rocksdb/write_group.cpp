#include "engines/rocksdb/write_group.hpp"

#include <string>
#include <unordered_map>
#include <utility>

#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include "engines/rocksdb/rocksdb_status.hpp"
#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"
#include "src/kv/changes.hpp"

namespace orbit::rocksdb_engine {
namespace {

using kv::StoredLease;
using Overlay = std::unordered_map<std::string, std::optional<StoredLease>>;

// Replays one writer's WriteBatch into the group's.
class AppendTo : public rocksdb::WriteBatch::Handler {
 public:
  explicit AppendTo(rocksdb::WriteBatch& into) : into_(into) {}
  void Put(const rocksdb::Slice& key, const rocksdb::Slice& value) override { status_ = into_.Put(key, value); }
  void Delete(const rocksdb::Slice& key) override { status_ = into_.Delete(key); }
  rocksdb::Status status_;

 private:
  rocksdb::WriteBatch& into_;
};

// The lease stored under `primary` as this writer sees it: its own earlier
// changes, then the group's, then the database.
Result<std::optional<StoredLease>> lookup(rocksdb::DB& db, const std::string& primary, const ActorKey& key,
                                          const Overlay& mine, const Overlay& group) {
  if (auto it = mine.find(primary); it != mine.end()) return it->second;
  if (auto it = group.find(primary); it != group.end()) return it->second;
  std::string value;
  rocksdb::Status status = db.Get(rocksdb::ReadOptions(), primary, &value);
  if (status.IsNotFound()) return std::optional<StoredLease>();
  if (!status.ok()) return to_error(status, "read " + key.to_string() + " before writing it");
  auto stored = kv::stored_lease(key, value);
  if (!stored) {
    Error error = std::move(stored).error();
    error.message += " (needed to update its indexes)";
    return error;
  }
  return std::optional<StoredLease>(std::move(stored).value());
}

// Adds one writer's changes (src/kv/changes.hpp: the key layout's puts and
// erases) to `own`; on failure `own` and `mine` are to be discarded.
std::optional<Error> build_writer_batch(rocksdb::DB& db, PendingWrite& writer, const Overlay& group,
                                        rocksdb::WriteBatch& own, Overlay& mine) {
  std::vector<kv::KvChange> changes;
  kv::LiveDelta delta;
  for (const BatchOp& op : writer.ops) {
    const ActorKey& key = op.lease.key;
    std::string primary = codec::primary_key(key);
    auto current = lookup(db, primary, key, mine, group);
    if (!current) return std::move(current).error();
    if (op.kind == BatchOp::Kind::Remove && !current.value() && writer.missing_is_error)
      return make_error(ErrorCode::NotFound, "no lease stored for " + key.to_string());
    mine[std::move(primary)] = kv::add_op_changes(op, current.value(), changes, delta);
  }
  for (const kv::KvChange& change : changes) {
    rocksdb::Status status = change.erase ? own.Delete(change.key) : own.Put(change.key, change.value);
    if (!status.ok()) return to_error(status, "assemble the write batch");
  }
  writer.keys_delta = delta.keys;
  writer.key_bytes_delta = delta.key_bytes;
  writer.value_bytes_delta = delta.value_bytes;
  return std::nullopt;
}

}  // namespace

GroupOutcome commit_group(rocksdb::DB& db, const rocksdb::WriteOptions& options, std::span<PendingWrite*> group) {
  GroupOutcome outcome;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::WriteBatch combined;
  Overlay overlay;
  std::vector<PendingWrite*> written;
  written.reserve(group.size());

  for (PendingWrite* writer : group) {
    rocksdb::WriteBatch own;
    Overlay mine;
    rocksdb::get_perf_context()->Reset();
    std::optional<Error> failed;
    try {
      failed = build_writer_batch(db, *writer, overlay, own, mine);
    } catch (const std::exception& e) {
      failed = make_error(ErrorCode::IOError, std::string("building the write batch: ") + e.what());
    }
    writer->bytes_read = rocksdb::get_perf_context()->block_read_byte;
    if (failed) {
      writer->error = std::move(failed);
      writer->keys_delta = writer->key_bytes_delta = writer->value_bytes_delta = 0;
      continue;
    }
    if (own.Count() == 0) continue;  // nothing to write (a batch removing absent leases)
    AppendTo append(combined);
    rocksdb::Status status = own.Iterate(&append);
    if (status.ok()) status = append.status_;
    if (!status.ok()) {
      writer->error = to_error(status, "assemble the group's write batch");
      writer->keys_delta = writer->key_bytes_delta = writer->value_bytes_delta = 0;
      continue;
    }
    writer->bytes_written = own.GetDataSize();
    for (auto& [primary, state] : mine) overlay[primary] = std::move(state);
    written.push_back(writer);
  }

  if (combined.Count() == 0) return outcome;
  rocksdb::WriteOptions write_options = options;
  rocksdb::Status status = db.Write(write_options, &combined);
  if (!status.ok()) {
    Error error = to_error(status, "write a group of " + std::to_string(written.size()) + " writers");
    for (PendingWrite* writer : written) {
      writer->error = error;
      writer->bytes_written = 0;
      writer->keys_delta = writer->key_bytes_delta = writer->value_bytes_delta = 0;
    }
    return outcome;
  }
  outcome.sequence = db.GetLatestSequenceNumber();
  outcome.writers = static_cast<std::uint32_t>(written.size());
  return outcome;
}

}  // namespace orbit::rocksdb_engine
