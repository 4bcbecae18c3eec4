#include "tools/orbit-cli/lease_stream.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "src/codec/lease_codec.hpp"
#include "src/util/coding.hpp"
#include "src/util/crc32c.hpp"

namespace orbit::cli {
namespace {

using namespace orbit::coding;

constexpr char kBinaryMagic[8] = {'O', 'R', 'B', 'T', 'L', 'E', 'X', 1};
constexpr std::uint32_t kMaxRecordBytes = 1 << 20;
constexpr std::size_t kStdioBuffer = 1 << 20;

Error io_error(const std::string& what) {
  return make_error(ErrorCode::IOError, what + ": " + std::strerror(errno));
}

std::string describe(const std::string& path) { return path == "-" ? std::string("standard output") : "'" + path + "'"; }

}  // namespace

// ---- Writer ------------------------------------------------------------------

LeaseWriter::LeaseWriter(std::string path, std::FILE* file, ExportFormat format)
    : path_(std::move(path)), file_(file), format_(format) {}

LeaseWriter::~LeaseWriter() {
  if (file_ && file_ != stdout) std::fclose(file_);
  if (!finished_ && path_ != "-") {
    std::error_code ec;
    std::filesystem::remove(path_ + ".partial", ec);
  }
}

Result<std::unique_ptr<LeaseWriter>> LeaseWriter::open(std::string path, ExportFormat format,
                                                        const ExportHeader& header) {
  std::FILE* file = stdout;
  if (path != "-") {
    file = std::fopen((path + ".partial").c_str(), "wb");
    if (!file) return io_error("cannot create output file '" + path + ".partial'");
  }
  std::setvbuf(file, nullptr, _IOFBF, kStdioBuffer);
  std::unique_ptr<LeaseWriter> writer(new LeaseWriter(std::move(path), file, format));
  if (format == ExportFormat::Json) {
    std::string line = header_json(header);
    line += '\n';
    if (auto ok = writer->put(line); !ok) return std::move(ok).error();
  } else {
    std::string bytes(kBinaryMagic, sizeof kBinaryMagic);
    bytes += static_cast<char>(header.source_backend.size());
    bytes += header.source_backend.substr(0, 255);
    bytes += static_cast<char>(header.count ? 1 : 0);
    put_fixed64(bytes, header.count.value_or(0));
    put_fixed32(bytes, crc32c::mask(crc32c::value(bytes)));
    if (auto ok = writer->put(bytes); !ok) return std::move(ok).error();
  }
  return writer;
}

Result<void> LeaseWriter::put(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    return io_error("writing " + describe(path_));
  return {};
}

Result<void> LeaseWriter::write(const Lease& lease) {
  buffer_.clear();
  if (format_ == ExportFormat::Json) {
    append_lease_json(lease, buffer_);
    buffer_ += '\n';
  } else {
    buffer_.resize(4);
    codec::encode_lease(lease, buffer_);
    encode_fixed32(buffer_.data(), static_cast<std::uint32_t>(buffer_.size() - 4));
  }
  return put(buffer_);
}

Result<void> LeaseWriter::finish(std::uint64_t count) {
  std::string end;
  if (format_ == ExportFormat::Json) {
    end = trailer_json(count);
    end += '\n';
  } else {
    put_fixed32(end, 0);
    std::string count_bytes;
    put_fixed64(count_bytes, count);
    end += count_bytes;
    put_fixed32(end, crc32c::mask(crc32c::value(count_bytes)));
  }
  if (auto ok = put(end); !ok) return ok;
  if (std::fflush(file_) != 0) return io_error("writing " + describe(path_));
  if (path_ != "-") {
    if (::fsync(fileno(file_)) != 0) return io_error("syncing '" + path_ + ".partial'");
    std::fclose(file_);
    file_ = nullptr;
    std::error_code ec;
    std::filesystem::rename(path_ + ".partial", path_, ec);
    if (ec) return make_error(ErrorCode::IOError, "renaming '" + path_ + ".partial' to '" + path_ + "': " + ec.message());
  }
  finished_ = true;
  return {};
}

// ---- Reader ------------------------------------------------------------------

LeaseReader::LeaseReader(std::string path, std::FILE* file, ExportFormat format)
    : path_(std::move(path)), file_(file), format_(format) {}

LeaseReader::~LeaseReader() {
  std::free(line_);
  if (file_ && file_ != stdin) std::fclose(file_);
}

Error LeaseReader::at(std::string what) const {
  return make_error(ErrorCode::InvalidArgument, std::string(unit()) + " " + std::to_string(position_) + ": " + what);
}

Result<std::unique_ptr<LeaseReader>> LeaseReader::open(std::string path) {
  std::FILE* file = stdin;
  if (path != "-") {
    file = std::fopen(path.c_str(), "rb");
    if (!file) return io_error("cannot open input file '" + path + "'");
  }
  std::setvbuf(file, nullptr, _IOFBF, kStdioBuffer);
  const int first = std::fgetc(file);
  const std::string name = path == "-" ? std::string("standard input") : "'" + path + "'";
  if (first == EOF) {
    if (file != stdin) std::fclose(file);
    return make_error(ErrorCode::InvalidArgument, "input " + name + " is empty (expected an orbit-cli export)");
  }
  std::ungetc(first, file);
  ExportFormat format = first == 'O' ? ExportFormat::Binary : ExportFormat::Json;
  std::unique_ptr<LeaseReader> reader(new LeaseReader(path, file, format));
  if (first != '{' && first != 'O')
    return make_error(ErrorCode::InvalidArgument,
                      "input " + name + " is not an orbit-cli export (neither JSON Lines nor the binary format)");

  reader->position_ = format == ExportFormat::Json ? 1 : 0;
  if (format == ExportFormat::Json) {
    std::string line;
    auto got = reader->read_line(line);
    if (!got) return std::move(got).error();
    auto header = parse_header_json(line);
    if (!header) return reader->at(header.error().message);
    reader->header_ = std::move(header).value();
    return reader;
  }
  // Binary header: magic, name length + name, has_count, count, masked CRC.
  std::string bytes(sizeof kBinaryMagic + 1, '\0');
  if (std::fread(bytes.data(), 1, bytes.size(), file) != bytes.size() ||
      std::memcmp(bytes.data(), kBinaryMagic, sizeof kBinaryMagic) != 0)
    return reader->at("not an orbit-cli binary export (bad magic or unknown version)");
  const std::size_t name_length = static_cast<std::uint8_t>(bytes.back());
  std::string rest(name_length + 1 + 8 + 4, '\0');
  if (std::fread(rest.data(), 1, rest.size(), file) != rest.size()) return reader->at("truncated header");
  bytes += rest;
  const std::size_t crc_at = bytes.size() - 4;
  if (crc32c::unmask(decode_fixed32(bytes.data() + crc_at)) != crc32c::value(bytes.data(), crc_at))
    return reader->at("header checksum mismatch");
  reader->header_.source_backend = bytes.substr(sizeof kBinaryMagic + 1, name_length);
  if (bytes[sizeof kBinaryMagic + 1 + name_length] != 0)
    reader->header_.count = decode_fixed64(bytes.data() + sizeof kBinaryMagic + 2 + name_length);
  return reader;
}

Result<bool> LeaseReader::read_line(std::string& line) {
  errno = 0;
  const ssize_t n = ::getline(&line_, &line_capacity_, file_);
  if (n < 0) {
    if (std::ferror(file_)) return io_error("reading the input after " + std::string(unit()) + " " + std::to_string(position_));
    return false;
  }
  line.assign(line_, static_cast<std::size_t>(n));
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return true;
}

Result<bool> LeaseReader::next(Lease& out) {
  if (format_ == ExportFormat::Json) {
    std::string line;
    for (;;) {
      auto got = read_line(line);
      if (!got) return std::move(got).error();
      if (!*got)
        return make_error(ErrorCode::InvalidArgument, "input ends after " + std::string(unit()) + " " +
                                                          std::to_string(position_) +
                                                          " without the end line (a truncated export?)");
      ++position_;
      if (!line.empty()) break;  // blank lines are allowed (hand-edited files)
    }
    if (auto end = parse_trailer_json(line)) {
      if (!*end) return at(end->error().message);
      if (end->value() != leases_)
        return at("the end line says " + std::to_string(end->value()) + " leases but " + std::to_string(leases_) +
                  " were read");
      return false;
    }
    auto lease = parse_lease_json(line);
    if (!lease) return at(lease.error().message);
    out = std::move(lease).value();
    ++leases_;
    return true;
  }

  ++position_;
  char length_bytes[4];
  const std::size_t got = std::fread(length_bytes, 1, 4, file_);
  if (got != 4) {
    if (std::ferror(file_)) return io_error("reading the input at record " + std::to_string(position_));
    return at("input ends without the end record (a truncated export?)");
  }
  const std::uint32_t length = decode_fixed32(length_bytes);
  if (length == 0) {
    char end[12];
    if (std::fread(end, 1, sizeof end, file_) != sizeof end) return at("truncated end record");
    if (crc32c::unmask(decode_fixed32(end + 8)) != crc32c::value(end, 8)) return at("end record checksum mismatch");
    const std::uint64_t count = decode_fixed64(end);
    if (count != leases_)
      return at("the end record says " + std::to_string(count) + " leases but " + std::to_string(leases_) +
                " were read");
    return false;
  }
  if (length > kMaxRecordBytes)
    return at("record length " + std::to_string(length) + " exceeds " + std::to_string(kMaxRecordBytes) +
              " bytes (corrupt input?)");
  record_.resize(length);
  if (std::fread(record_.data(), 1, length, file_) != length) return at("input ends inside a record (truncated?)");
  auto lease = codec::decode_lease(record_);
  if (!lease) return at(lease.error().message);
  out = std::move(lease).value();
  ++leases_;
  return true;
}

}  // namespace orbit::cli
