#include "engines/rocksdb/range_scan.hpp"

#include <memory>
#include <optional>

#include "engines/rocksdb/rocksdb_status.hpp"
#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"

namespace orbit::rocksdb_engine {
namespace {

class SnapshotHold {
 public:
  explicit SnapshotHold(rocksdb::DB& db) : db_(db), snapshot_(db.GetSnapshot()) {}
  ~SnapshotHold() { db_.ReleaseSnapshot(snapshot_); }
  SnapshotHold(const SnapshotHold&) = delete;
  SnapshotHold& operator=(const SnapshotHold&) = delete;
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB& db_;
  const rocksdb::Snapshot* snapshot_;
};

std::string printable(const rocksdb::Slice& key) { return key.ToString(/*hex=*/true); }

Result<Lease> decode_stored(const rocksdb::Slice& key, const rocksdb::Slice& value) {
  auto lease = codec::decode_lease(std::string_view(value.data(), value.size()));
  if (!lease) {
    Error error = std::move(lease).error();
    error.message = "lease under key " + printable(key) + ": " + error.message;
    return error;
  }
  return lease;
}


}  // namespace

Result<std::vector<Lease>> scan_range(rocksdb::DB& db, const codec::ScanRange& scan) {
  SnapshotHold snapshot(db);
  rocksdb::ReadOptions options;
  options.snapshot = snapshot.get();
  rocksdb::Slice upper(scan.upper);
  if (!scan.upper.empty()) options.iterate_upper_bound = &upper;

  std::vector<Lease> out;
  std::vector<std::string> primaries;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options));
  for (it->Seek(scan.seek); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (!scan.skip.empty() && key == rocksdb::Slice(scan.skip)) continue;
    if (scan.limit != 0 && out.size() + primaries.size() >= scan.limit) break;
    if (scan.tag == codec::kPrimaryTag) {
      auto lease = decode_stored(key, it->value());
      if (!lease) return std::move(lease).error();
      out.push_back(std::move(lease).value());
      continue;
    }
    auto actor = codec::decode_index_key(scan.tag, std::string_view(key.data(), key.size()));
    if (!actor)
      return make_error(ErrorCode::Corruption, "index key " + printable(key) + " does not decode");
    primaries.push_back(codec::primary_key(*actor));
  }
  if (!it->status().ok()) return to_error(it->status(), "scan from key " + printable(scan.seek));
  if (scan.tag == codec::kPrimaryTag) return out;

  // The index names the leases; fetch them from the same snapshot.
  std::vector<rocksdb::Slice> keys(primaries.begin(), primaries.end());
  std::vector<std::string> values;
  std::vector<rocksdb::Status> statuses = db.MultiGet(options, keys, &values);
  out.reserve(primaries.size());
  for (std::size_t i = 0; i < primaries.size(); ++i) {
    if (statuses[i].IsNotFound())
      return make_error(ErrorCode::Corruption,
                        "index entry points at lease key " + printable(keys[i]) + ", which is not stored");
    if (!statuses[i].ok()) return to_error(statuses[i], "read lease key " + printable(keys[i]));
    auto lease = decode_stored(keys[i], values[i]);
    if (!lease) return std::move(lease).error();
    out.push_back(std::move(lease).value());
  }
  return out;
}

}  // namespace orbit::rocksdb_engine
