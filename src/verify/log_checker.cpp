#include "src/verify/log_checker.hpp"

#include <map>
#include <vector>

#include "src/util/coding.hpp"
#include "src/wal/format.hpp"
#include "src/wal/segment_reader.hpp"

namespace orbit::verify {

std::uint64_t offset_in(const std::string& message) {
  const auto at = message.rfind("offset ");
  if (at == std::string::npos) return 0;
  std::uint64_t value = 0;
  for (std::size_t i = at + 7; i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i)
    value = value * 10 + static_cast<std::uint64_t>(message[i] - '0');
  return value;
}

namespace {

// The entries of one logical record (one, or a batch's), or nullopt if a
// batch does not split into them.
std::optional<std::vector<std::string_view>> entries_of(const wal::LogicalRecord& record) {
  std::vector<std::string_view> entries;
  if (!record.batch) {
    entries.push_back(record.payload);
    return entries;
  }
  coding::Reader in(record.payload);
  std::uint64_t count = 0;
  bool ok = in.get_varint64(count);
  for (std::uint64_t i = 0; ok && i < count; ++i) {
    std::string_view entry;
    ok = in.get_length_prefixed(entry, wal::kMaxRecordBytes);
    entries.push_back(entry);
  }
  if (!ok || in.remaining() != 0) return std::nullopt;
  return entries;
}

}  // namespace

Task<bool> check_log(io::FileSystem& fs, std::string data_dir, std::uint64_t from_lsn, LogEntryFn apply,
                     VerifyReport& report) {
  const std::string wal_dir = data_dir + "/orbit.wal";
  const std::size_t problems_before = report.problems.size();
  if (!fs.exists(wal_dir)) {
    if (from_lsn > 0) add_problem(report, "orbit.wal", 0, "the log folder is missing");
    co_return report.problems.size() == problems_before;
  }
  auto names = fs.list_dir(wal_dir);
  if (!names.ok()) {
    add_problem(report, "orbit.wal", 0, "cannot list the log folder: " + names.message());
    co_return false;
  }
  std::map<std::uint64_t, std::string> segments;
  for (const auto& name : names.value())
    if (auto number = wal::parse_segment_file_name(name)) segments[*number] = name;

  std::uint64_t expected = 0;  // the next LSN (0: not known yet)
  std::size_t index = 0;
  for (const auto& [number, name] : segments) {
    const bool last = ++index == segments.size();
    const std::string file = "orbit.wal/" + name;
    auto opened = co_await fs.open(wal_dir + "/" + name, io::OpenOptions::read_only());
    if (!opened.ok()) {
      add_problem(report, file, 0, "cannot open: " + opened.message());
      continue;
    }
    io::File& segment = *opened.value();
    ++report.files_checked;
    auto size = segment.size();
    std::string header_bytes(wal::kSegmentHeaderSize, '\0');
    auto read = co_await segment.read_at(std::as_writable_bytes(std::span(header_bytes.data(), header_bytes.size())), 0);
    if (!read.ok() || !size.ok()) {
      add_problem(report, file, 0, "cannot read the segment header");
      continue;
    }
    header_bytes.resize(read.value());
    wal::SegmentHeader header;
    std::string why;
    const auto state = wal::decode_segment_header(header_bytes, header, &why);
    if (state == wal::HeaderState::Uninitialized && last) continue;  // a segment being created
    if (state != wal::HeaderState::Valid || header.segment_number != number) {
      add_problem(report, file, 0,
                  "bad segment header: " +
                      (state == wal::HeaderState::Valid ? "names segment " + std::to_string(header.segment_number)
                                                        : why));
      continue;
    }
    if (expected == 0 && header.first_lsn > from_lsn + 1) {
      add_problem(report, file, 0,
                  "the log starts at LSN " + std::to_string(header.first_lsn) + " but the store's files hold only up to " +
                      std::to_string(from_lsn) + ": the records in between are missing");
    } else if (expected != 0 && header.first_lsn != expected) {
      add_problem(report, file, 0, "the segment starts at LSN " + std::to_string(header.first_lsn) +
                                       " but the previous one ends at " + std::to_string(expected));
    }

    wal::SegmentReader reader(segment, name, wal::kSegmentHeaderSize, size.value(), header.first_lsn);
    wal::LogicalRecord record;
    while (true) {
      auto step = co_await reader.next(record);
      if (!step.ok()) {
        add_problem(report, file, reader.stop_offset(), "read error: " + step.error().message);
        break;
      }
      if (step.value() == wal::SegmentReader::Step::Record) {
        auto entries = entries_of(record);
        if (!entries) {
          add_problem(report, file, record.offset, "a batch record does not split into its entries");
          continue;
        }
        for (std::size_t i = 0; i < entries->size(); ++i) {
          const std::uint64_t lsn = record.lsn + i;
          if (lsn <= from_lsn) continue;
          if (auto applied = apply(lsn, (*entries)[i]); !applied)
            add_problem(report, file, record.offset,
                        "log record LSN " + std::to_string(lsn) + ": " + applied.error().message);
        }
        continue;
      }
      const bool clean_eof = step.value() == wal::SegmentReader::Step::End && reader.stop_reason() == "end of file";
      if (last && clean_eof) break;
      if (!last) {
        // Segments roll only after the previous one is synced: an earlier
        // segment runs up to the next one's first LSN (checked above).
        if (step.value() == wal::SegmentReader::Step::Bad)
          add_problem(report, file, reader.stop_offset(), "damaged record before the end of the log: " + reader.stop_reason());
        break;
      }
      // The last segment: a torn or zero-filled tail, unless valid records follow.
      auto newer = co_await reader.find_newer_fragment();
      if (!newer.ok()) {
        add_problem(report, file, reader.stop_offset(), "read error: " + newer.error().message);
      } else if (newer.value()) {
        add_problem(report, file, reader.stop_offset(),
                    reader.stop_reason() + "; valid records follow at offset " + std::to_string(newer.value()->offset));
      }
      break;
    }
    expected = reader.next_lsn();
    report.bytes_checked += reader.good_end();
  }
  co_return report.problems.size() == problems_before;
}

}  // namespace orbit::verify
