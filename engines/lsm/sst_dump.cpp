#include "engines/lsm/sst_dump.hpp"

#include "engines/lsm/sstable_reader.hpp"
#include "engines/lsm/version.hpp"

namespace orbit::lsm {

Task<Result<std::string>> dump_sstable(io::FileSystem& fs, std::string path, bool with_entries) {
  auto opened = co_await SstableReader::open(fs, path);
  if (!opened) co_return std::move(opened).error();
  std::unique_ptr<SstableReader> reader = std::move(opened).value();
  const SstableFooter& footer = reader->footer();
  std::string out;
  out += "sstable " + path + "\n";
  out += "  file_size " + std::to_string(reader->file_size()) + "\n";
  out += "  format_version " + std::to_string(footer.format_version) + "\n";
  out += "  entries " + std::to_string(footer.entry_count) + "\n";
  out += "  index_block offset " + std::to_string(footer.index.offset) + " size " +
         std::to_string(footer.index.size) + "\n";
  out += "  filter_block offset " + std::to_string(footer.filter.offset) + " size " +
         std::to_string(footer.filter.size);
  if (reader->has_filter())
    out += " bits " + std::to_string((reader->filter().size() - 1) * 8) + " k " +
           std::to_string(static_cast<unsigned>(static_cast<unsigned char>(reader->filter().back())));
  out += "\n";
  Block::Iterator index(reader->index_block());
  std::size_t blocks = 0;
  for (index.seek_to_first(); index.valid(); index.next()) {
    BlockHandle handle;
    decode_block_handle(index.value(), handle);
    ParsedInternalKey parsed;
    parse_internal_key(index.key(), parsed);
    out += "  data_block " + std::to_string(blocks++) + " offset " + std::to_string(handle.offset) + " size " +
           std::to_string(handle.size) + " last_key " + to_hex(parsed.user_key) + " @" +
           std::to_string(parsed.sequence) + "\n";
  }
  if (!index.status().ok()) co_return index.status().error();
  out += "  data_blocks " + std::to_string(blocks) + "\n";
  if (with_entries) {
    SstableReader::Iterator it(*reader);
    Status s = co_await it.seek_to_first();
    while (s.ok() && it.valid()) {
      ParsedInternalKey parsed;
      if (!parse_internal_key(it.key(), parsed))
        co_return make_error(ErrorCode::Corruption, "sstable " + path + ": entry key is not an internal key");
      out += "  '" + to_hex(parsed.user_key) + "' @" + std::to_string(parsed.sequence) + " " +
             (parsed.type == ValueType::Put ? "put" : "del") + " value_size " + std::to_string(it.value().size()) +
             "\n";
      s = co_await it.next();
    }
    if (!s.ok()) co_return std::move(s).error();
  }
  (void)co_await reader->close();
  co_return out;
}

}  // namespace orbit::lsm
