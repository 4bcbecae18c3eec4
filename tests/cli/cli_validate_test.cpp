// Goal: validate exits 0 on a good store and, on a store whose SSTable has a
// flipped byte, exits non-zero listing the file and offset of the damage.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/cli/cli_test_support.hpp"

namespace orbit::cli_test {
namespace {

namespace fs = std::filesystem;

TEST(CliValidate, GoodStorePasses) {
  ScratchDir dir("validate-good");
  for (auto backend : PersistenceFactory::available_backends()) {
    const std::string store = dir / std::string(to_string(backend));
    fill_store(backend, store, make_leases(2000, 11));
    auto r = run_cli("validate --backend=" + std::string(to_string(backend)) + " --data-dir=" + store);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("ok: 0 problems"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2000 leases"), std::string::npos) << r.out;
  }
}

TEST(CliValidate, FlippedByteInRocksDbSstableIsListedWithFileAndOffset) {
  if (!PersistenceFactory::is_available(PersistenceBackend::RocksDb)) GTEST_SKIP() << "RocksDb not built";
  ScratchDir dir("validate-bad");
  const std::string store = dir / "rocks";
  fill_store(PersistenceBackend::RocksDb, store, make_leases(3000, 12));
  fs::path sst;
  for (const auto& entry : fs::directory_iterator(store))
    if (entry.path().extension() == ".sst") sst = entry.path();
  ASSERT_FALSE(sst.empty()) << "checkpoint left no .sst file";
  {
    // A byte early in the file: inside the first data block.
    std::fstream f(sst, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(100);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(100);
    f.write(&c, 1);
  }
  auto r = run_cli("validate --backend=rocksdb --data-dir=" + store);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(sst.filename().string() + ":"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("checksum"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAILED"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");  // problems are the report, not an error
}

}  // namespace
}  // namespace orbit::cli_test
