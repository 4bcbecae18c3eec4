// RecordEncoder: turns logical records into fragments at a given file offset.
//
// Pure in-memory framing (no I/O), so group commit can encode a whole batch
// of writers into one buffer and hand it to a single write. The encoder knows
// the file offset the buffer will land at, because fragments must not cross
// 32 KiB block boundaries and a block tail shorter than a fragment header is
// zero-padded (FORMAT.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace orbit::wal {

class RecordEncoder {
 public:
  // `out` receives bytes destined for file offset `offset` onward.
  RecordEncoder(std::string& out, std::uint64_t offset) : out_(out), offset_(offset) {}

  // Appends one logical record (a single payload) with LSN `lsn`.
  void add_record(std::uint64_t lsn, std::string_view payload) { add(lsn, payload, 0); }
  // Appends one logical record holding `entries`, which take LSNs lsn..lsn+n-1
  // and replay all or nothing. REQUIRES: !entries.empty()
  void add_batch(std::uint64_t lsn, const std::vector<std::string>& entries);

  // File offset just past everything appended so far.
  std::uint64_t offset() const noexcept { return offset_; }

  // Bytes a record of `payload_size` may take at most, padding included.
  static std::uint64_t max_encoded_size(std::uint64_t payload_size);
  // Payload bytes of a batch record holding these entries.
  static std::uint64_t batch_payload_size(const std::vector<std::string>& entries);

 private:
  void add(std::uint64_t lsn, std::string_view payload, std::uint8_t flags);

  std::string& out_;
  std::uint64_t offset_;
  std::string scratch_;
};

}  // namespace orbit::wal
