// dump_sstable: a human-readable listing of one SSTable, like RocksDB's
// sst_dump: header and footer fields, the filter, every index entry (last
// key -> data block offset and size) and, if asked, every entry (user key
// in hex, sequence, type, value size). Reading it verifies every block's
// checksum on the way; the first error is returned (naming file and offset).
// Runs on the loop thread of the runtime owning `fs`.
#pragma once

#include <string>

#include "io/file_system.hpp"
#include "orbit/result.hpp"
#include "orbit/task.hpp"

namespace orbit::lsm {

Task<Result<std::string>> dump_sstable(io::FileSystem& fs, std::string path, bool with_entries);

}  // namespace orbit::lsm
