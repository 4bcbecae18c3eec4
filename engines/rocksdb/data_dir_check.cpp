#include "engines/rocksdb/data_dir_check.hpp"

#include "src/layout/data_dir.hpp"

namespace orbit::rocksdb_engine {

Result<void> check_data_dir_is_ours(const std::string& data_dir) {
  return layout::check_owned_by(data_dir, layout::list_names(data_dir), PersistenceBackend::RocksDb);
}

}  // namespace orbit::rocksdb_engine
