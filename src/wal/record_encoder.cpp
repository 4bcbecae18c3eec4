#include "src/wal/record_encoder.hpp"

#include <algorithm>
#include <cassert>

#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"
#include "src/wal/format.hpp"

namespace orbit::wal {

using coding::varint_length;

std::uint64_t RecordEncoder::max_encoded_size(std::uint64_t payload_size) {
  constexpr std::uint64_t kPerBlock = kBlockSize - kFragmentHeaderSize;
  std::uint64_t fragments = payload_size / kPerBlock + 2;
  return payload_size + fragments * (kFragmentHeaderSize + kFragmentHeaderSize);
}

std::uint64_t RecordEncoder::batch_payload_size(const std::vector<std::string>& entries) {
  std::uint64_t n = varint_length(entries.size());
  for (const auto& e : entries) n += varint_length(e.size()) + e.size();
  return n;
}

void RecordEncoder::add_batch(std::uint64_t lsn, const std::vector<std::string>& entries) {
  assert(!entries.empty());
  scratch_.clear();
  scratch_.reserve(batch_payload_size(entries));
  coding::put_varint64(scratch_, entries.size());
  for (const auto& e : entries) coding::put_length_prefixed(scratch_, e);
  add(lsn, scratch_, kBatchFlag);
}

void RecordEncoder::add(std::uint64_t lsn, std::string_view payload, std::uint8_t flags) {
  bool first = true;
  do {
    std::size_t left_in_block = kBlockSize - static_cast<std::size_t>(offset_ % kBlockSize);
    if (left_in_block < kFragmentHeaderSize) {
      // Too small for a header: zero the trailer and start the next block.
      out_.append(left_in_block, '\0');
      offset_ += left_in_block;
      continue;
    }
    std::size_t avail = left_in_block - kFragmentHeaderSize;
    std::size_t length = std::min(avail, payload.size());
    bool last = length == payload.size();
    FragmentKind kind = first && last ? FragmentKind::Full
                        : first       ? FragmentKind::First
                        : last        ? FragmentKind::Last
                                      : FragmentKind::Middle;
    char header[kFragmentHeaderSize];
    header[4] = static_cast<char>(length & 0xff);
    header[5] = static_cast<char>(length >> 8);
    header[6] = static_cast<char>(static_cast<std::uint8_t>(kind) | flags);
    coding::encode_fixed64(header + 7, lsn);
    std::uint32_t crc = crc32c::extend(0, header + 4, kFragmentHeaderSize - 4);
    crc = crc32c::extend(crc, payload.data(), length);
    coding::encode_fixed32(header, crc32c::mask(crc));
    out_.append(header, kFragmentHeaderSize);
    out_.append(payload.data(), length);
    offset_ += kFragmentHeaderSize + length;
    payload.remove_prefix(length);
    first = false;
    if (last) break;
  } while (true);
}

}  // namespace orbit::wal
