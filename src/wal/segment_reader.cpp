#include "src/wal/segment_reader.hpp"

#include <algorithm>
#include <cstring>

#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"
#include "src/wal/format.hpp"

namespace orbit::wal {

namespace {
constexpr std::size_t kChunkBlocks = 8;  // 256 KiB per read

bool is_start(FragmentKind kind) { return kind == FragmentKind::Full || kind == FragmentKind::First; }
}  // namespace

SegmentReader::SegmentReader(io::File& file, std::string name, std::uint64_t offset, std::uint64_t limit,
                             std::uint64_t next_lsn)
    : file_(file),
      name_(std::move(name)),
      pos_(offset),
      limit_(limit),
      next_lsn_(next_lsn),
      good_end_(offset) {}

Task<Result<std::size_t>> SegmentReader::load(std::uint64_t pos) {
  if (pos >= limit_) co_return std::size_t{0};
  std::uint64_t block_start = pos - pos % kBlockSize;
  std::uint64_t block_end = std::min<std::uint64_t>(block_start + kBlockSize, limit_);
  bool loaded = chunk_valid_ && block_start >= chunk_start_ && block_start < chunk_start_ + chunk_.size();
  if (!loaded) {
    std::uint64_t want = std::min<std::uint64_t>(kChunkBlocks * kBlockSize, limit_ - block_start);
    chunk_.resize(static_cast<std::size_t>(want));
    auto n = co_await file_.read_at(std::as_writable_bytes(std::span<char>(chunk_.data(), chunk_.size())),
                                    block_start);
    if (!n) {
      chunk_valid_ = false;
      co_return make_error(ErrorCode::IOError, "wal segment " + name_ + " offset " +
                                                   std::to_string(block_start) +
                                                   ": read failed: " + n.message());
    }
    chunk_.resize(n.value());
    chunk_start_ = block_start;
    chunk_valid_ = true;
  }
  std::uint64_t end = std::min<std::uint64_t>(block_end, chunk_start_ + chunk_.size());
  co_return static_cast<std::size_t>(end > pos ? end - pos : 0);
}

std::optional<std::size_t> SegmentReader::cached(std::uint64_t pos) const {
  if (pos >= limit_) return std::size_t{0};
  std::uint64_t block_start = pos - pos % kBlockSize;
  if (!chunk_valid_ || block_start < chunk_start_ || block_start >= chunk_start_ + chunk_.size())
    return std::nullopt;
  std::uint64_t end =
      std::min<std::uint64_t>({block_start + kBlockSize, limit_, chunk_start_ + chunk_.size()});
  return static_cast<std::size_t>(end > pos ? end - pos : 0);
}

SegmentReader::Parse SegmentReader::parse_at(std::uint64_t pos, std::size_t available, Header& h,
                                             std::string* why) const {
  const char* p = chunk_.data() + (pos - chunk_start_);
  if (available < kFragmentHeaderSize) {
    bool zero = std::all_of(p, p + available, [](char c) { return c == 0; });
    if (zero) return Parse::Zero;
    *why = "fragment header cut short by end of file";
    return Parse::Short;
  }
  h.crc = coding::decode_fixed32(p);
  h.length = coding::decode_fixed16(p + 4);
  h.type = static_cast<std::uint8_t>(p[6]);
  h.lsn = coding::decode_fixed64(p + 7);
  if (h.type == 0 && h.length == 0 && h.crc == 0) return Parse::Zero;
  std::uint8_t kind = h.type & kKindMask;
  if (kind < 1 || kind > 4 || (h.type & ~(kKindMask | kBatchFlag)) != 0) {
    *why = "bad fragment type " + std::to_string(h.type);
    return Parse::Bad;
  }
  std::uint64_t block_left = kBlockSize - pos % kBlockSize;
  if (kFragmentHeaderSize + h.length > block_left) {
    *why = "fragment length " + std::to_string(h.length) + " crosses a block boundary";
    return Parse::Bad;
  }
  if (kFragmentHeaderSize + h.length > available) {
    *why = "fragment cut short by end of file";
    return Parse::Short;
  }
  std::uint32_t actual = crc32c::value(p + 4, kFragmentHeaderSize - 4 + h.length);
  if (crc32c::unmask(h.crc) != actual) {
    *why = "fragment checksum mismatch";
    return Parse::Bad;
  }
  return Parse::Ok;
}

SegmentReader::Step SegmentReader::stop(Step step, std::uint64_t offset, std::string reason) {
  stop_offset_ = offset;
  stop_reason_ = std::move(reason);
  return step;
}

Task<Result<SegmentReader::Step>> SegmentReader::next(LogicalRecord& out) {
  out.payload.clear();
  bool in_record = false;
  std::uint64_t record_start = pos_;
  std::uint8_t record_flags = 0;
  std::uint64_t record_lsn = 0;
  for (;;) {
    if (pos_ >= limit_) {
      if (in_record) co_return stop(Step::Bad, record_start, "record cut short by end of file");
      co_return stop(Step::End, pos_, "end of file");
    }
    std::size_t left_in_block = kBlockSize - static_cast<std::size_t>(pos_ % kBlockSize);
    if (left_in_block < kFragmentHeaderSize) {
      pos_ += left_in_block;  // block trailer
      continue;
    }
    std::optional<std::size_t> available = cached(pos_);
    if (!available) {
      auto loaded = co_await load(pos_);
      if (!loaded) co_return std::move(loaded).error();
      available = loaded.value();
    }
    Header h;
    std::string why;
    switch (parse_at(pos_, *available, h, &why)) {
      case Parse::Zero:
        if (in_record) co_return stop(Step::Bad, record_start, "record cut short by zero-filled space");
        co_return stop(Step::End, pos_, "zero-filled space");
      case Parse::Short:
      case Parse::Bad:
        co_return stop(Step::Bad, in_record ? record_start : pos_, why);
      case Parse::Ok:
        break;
    }
    auto kind = static_cast<FragmentKind>(h.type & kKindMask);
    std::uint8_t flags = h.type & kBatchFlag;
    if (!in_record) {
      if (h.lsn < next_lsn_) {
        // Left by an earlier use of a recycled segment (FORMAT.md).
        co_return stop(Step::End, pos_,
                       "stale record with lsn " + std::to_string(h.lsn) + " (expected " +
                           std::to_string(next_lsn_) + ")");
      }
      if (h.lsn > next_lsn_) {
        co_return stop(Step::Bad, pos_,
                       "record with lsn " + std::to_string(h.lsn) + " where " + std::to_string(next_lsn_) +
                           " was expected");
      }
      if (!is_start(kind)) co_return stop(Step::Bad, pos_, "fragment continues no record");
      in_record = true;
      record_start = pos_;
      record_flags = flags;
      record_lsn = h.lsn;
    } else if (is_start(kind) || h.lsn != record_lsn || flags != record_flags) {
      co_return stop(Step::Bad, record_start, "broken fragment sequence");
    }
    const char* p = chunk_.data() + (pos_ - chunk_start_) + kFragmentHeaderSize;
    out.payload.append(p, h.length);
    pos_ += kFragmentHeaderSize + h.length;
    if (kind == FragmentKind::Full || kind == FragmentKind::Last) break;
  }
  out.lsn = record_lsn;
  out.offset = record_start;
  out.batch = record_flags != 0;
  out.count = 1;
  if (out.batch) {
    coding::Reader reader(out.payload);
    std::uint64_t count = 0;
    if (!reader.get_varint64(count) || count == 0 || count > out.payload.size()) {
      co_return stop(Step::Bad, record_start, "batch record without a valid entry count");
    }
    out.count = count;
  }
  next_lsn_ += out.count;
  good_end_ = pos_;
  co_return Step::Record;
}

Task<Result<std::optional<SegmentReader::Fragment>>> SegmentReader::find_newer_fragment() {
  // Candidates: every byte offset in the rest of the damaged block (the
  // damage may be a bad length, so later fragments of that block cannot be
  // found by skipping), then every later block start (a block always starts
  // with a fragment unless it is zero padding).
  std::uint64_t block_end = (stop_offset_ / kBlockSize + 1) * kBlockSize;
  auto next_candidate = [&](std::uint64_t c) {
    return c + 1 < block_end ? c + 1 : (c / kBlockSize + 1) * kBlockSize;
  };
  std::optional<Fragment> evidence;
  std::uint64_t dead_run = 0;  // bytes of blocks just passed that hold nothing newer
  for (std::uint64_t c = next_candidate(stop_offset_); c + kFragmentHeaderSize <= limit_;
       c = next_candidate(c)) {
    if (kBlockSize - c % kBlockSize < kFragmentHeaderSize) continue;
    std::optional<std::size_t> available = cached(c);
    if (!available) {
      auto loaded = co_await load(c);
      if (!loaded) co_return std::move(loaded).error();
      available = loaded.value();
    }
    const char* p = chunk_.data() + (c - chunk_start_);
    if (c % kBlockSize == 0) {
      // Zero fill, or a fragment older than the damaged record (stale
      // contents of a recycled file): a long run of them ends the search.
      bool dead = coding::is_zero(std::string_view(p, *available)) ||
                  (*available >= kFragmentHeaderSize && coding::decode_fixed64(p + 7) < next_lsn_);
      if (!dead) {
        dead_run = 0;
      } else if ((dead_run += *available) >= kDeadRunEnd) {
        break;
      }
    }
    if (*available < kFragmentHeaderSize) continue;
    // Cheap filter before the checksum: a fragment type and a plausible LSN.
    std::uint8_t type = static_cast<std::uint8_t>(p[6]);
    std::uint8_t kind_bits = type & kKindMask;
    if (kind_bits < 1 || kind_bits > 4 || (type & ~(kKindMask | kBatchFlag)) != 0) continue;
    if (coding::decode_fixed64(p + 7) < next_lsn_) continue;
    Header h;
    std::string why;
    if (parse_at(c, *available, h, &why) != Parse::Ok) continue;
    bool start = is_start(static_cast<FragmentKind>(h.type & kKindMask));
    if (start ? h.lsn >= next_lsn_ : h.lsn > next_lsn_) {
      // A piece of a record written after the damaged one: corruption for
      // sure. Keep looking for a record start a tolerant caller can resync to.
      if (start) co_return std::optional<Fragment>(Fragment{c, h.lsn});
      if (!evidence) evidence = Fragment{c, 0};
    }
  }
  co_return evidence;  // lsn 0: no resync point
}

void SegmentReader::resync(const Fragment& fragment) {
  pos_ = fragment.offset;
  next_lsn_ = fragment.lsn;
}

}  // namespace orbit::wal
