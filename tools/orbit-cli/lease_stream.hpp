// Reading and writing export files: JSON Lines or the binary format
// (FORMAT.md in this folder), one lease at a time, so memory stays bounded
// however large the store. "-" is stdout / stdin.
//
// A writer writes to "<path>.partial" and renames it to <path> in finish(),
// so a failed export never leaves a file that looks complete; stdout gets
// the bytes directly (the missing end line tells the reader it was cut).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "orbit/lease.hpp"
#include "orbit/result.hpp"
#include "tools/orbit-cli/lease_json.hpp"

namespace orbit::cli {

enum class ExportFormat { Json, Binary };

class LeaseWriter {
 public:
  static Result<std::unique_ptr<LeaseWriter>> open(std::string path, ExportFormat format, const ExportHeader& header);
  ~LeaseWriter();  // an unfinished file is removed
  LeaseWriter(const LeaseWriter&) = delete;
  LeaseWriter& operator=(const LeaseWriter&) = delete;

  Result<void> write(const Lease& lease);
  // Writes the end line/record with `count`, flushes and (for a file) renames.
  Result<void> finish(std::uint64_t count);

 private:
  LeaseWriter(std::string path, std::FILE* file, ExportFormat format);
  Result<void> put(std::string_view bytes);

  std::string path_;  // "-" for stdout
  std::FILE* file_;
  ExportFormat format_;
  std::string buffer_;
  bool finished_ = false;
};

class LeaseReader {
 public:
  // Detects the format from the first byte ('{' JSON, 'O' binary) and reads the header.
  static Result<std::unique_ptr<LeaseReader>> open(std::string path);
  ~LeaseReader();
  LeaseReader(const LeaseReader&) = delete;
  LeaseReader& operator=(const LeaseReader&) = delete;

  // true: `out` holds the next lease; false: the end line was read and its
  // count matches. Errors name the position ("line 7: ...").
  Result<bool> next(Lease& out);

  const ExportHeader& header() const noexcept { return header_; }
  ExportFormat format() const noexcept { return format_; }
  // Line number (JSON, header = line 1) or record number (binary, header =
  // record 0) of the item last returned.
  std::uint64_t position() const noexcept { return position_; }
  std::string_view unit() const noexcept { return format_ == ExportFormat::Json ? "line" : "record"; }
  std::uint64_t leases_read() const noexcept { return leases_; }

 private:
  LeaseReader(std::string path, std::FILE* file, ExportFormat format);
  Result<bool> read_line(std::string& line);
  Error at(std::string what) const;

  std::string path_;
  std::FILE* file_;
  ExportFormat format_;
  ExportHeader header_;
  std::uint64_t position_ = 0;
  std::uint64_t leases_ = 0;
  char* line_ = nullptr;
  std::size_t line_capacity_ = 0;
  std::string record_;
};

}  // namespace orbit::cli
