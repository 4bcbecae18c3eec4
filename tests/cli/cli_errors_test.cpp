// Goal: every command-line mistake is one clear line on stderr and a
// non-zero exit, never a crash or a trace: unknown flag, missing directory,
// bad backend name, malformed import line (with its number), wrong backend
// for a directory, missing input, bad format name.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/cli/cli_test_support.hpp"

namespace orbit::cli_test {
namespace {

int line_count(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

void expect_one_line_error(const RunResult& r, const std::string& must_contain) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(r.exit_code, 128) << "killed by a signal";
  EXPECT_EQ(line_count(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("orbit-cli: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(must_contain), std::string::npos) << r.err;
}

class CliErrors : public ::testing::Test {
 protected:
  ScratchDir dir{"errors"};
};

TEST_F(CliErrors, UnknownFlag) {
  expect_one_line_error(run_cli("export --backend=rocksdb --data-dir=" + dir / "x" + " --frobnicate"),
                        "--frobnicate");
}

TEST_F(CliErrors, UnknownVerbAndNoVerb) {
  expect_one_line_error(run_cli("explode"), "explode");
  expect_one_line_error(run_cli(""), "subcommand");
}

TEST_F(CliErrors, MissingDirectory) {
  for (const char* verb : {"export", "validate", "stats", "list-expiring"}) {
    auto r = run_cli(std::string(verb) + " --backend=rocksdb --data-dir=" + dir / "does-not-exist");
    expect_one_line_error(r, "does not exist");
    EXPECT_FALSE(std::filesystem::exists(dir / "does-not-exist")) << verb << " created it";
  }
}

TEST_F(CliErrors, BadBackendNameNamesValueAndAcceptedList) {
  auto r = run_cli("validate --backend=mongo --data-dir=" + dir.path().string());
  expect_one_line_error(r, "'mongo'");
  EXPECT_NE(r.err.find("cow, lsm, rocksdb, CowBTree, LsmTree, RocksDb"), std::string::npos) << r.err;
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliErrors, WrongBackendForDirectory) {
  // A directory holding an LSM store's manifest is refused by --backend=rocksdb ...
  std::filesystem::create_directories(dir / "lsm-store");
  std::ofstream(dir / "lsm-store/manifest.json") << "{}";
  expect_one_line_error(run_cli("export --backend=rocksdb --data-dir=" + dir / "lsm-store"), "LsmTree");
  // ... and a RocksDB store by any other backend name.
  fill_store(PersistenceBackend::RocksDb, dir / "rocks", make_leases(10, 1));
  for (auto other : {PersistenceBackend::CowBTree, PersistenceBackend::LsmTree}) {
    const std::string flag = other == PersistenceBackend::CowBTree ? "cow" : "lsm";
    auto r = run_cli("export --backend=" + flag + " --data-dir=" + dir / "rocks");
    expect_one_line_error(r, PersistenceFactory::is_available(other) ? "holds a RocksDb store (found CURRENT)"
                                                                     : "not available in this build");
  }
}

TEST_F(CliErrors, MalformedImportLineIsNamedAndEarlierLinesAreImported) {
  std::ofstream(dir / "bad.json")
      << R"({"format":"orbit-leases","version":1})" << "\n"
      << R"({"actor_type":"A","actor_id":"00000000-0000-0000-0000-000000000001","node_id":"n","expires_at":1,"lease_duration_ms":1,"version":1,"created_at":0,"last_renewed":0,"renewal_count":0,"custom_data":""})"
      << "\n"
      << R"({"actor_type":"A","actor_id":"00000000-0000-0000-0000-000000000002","node_id":"n","expires_at":1,"lease_duration_ms":1,"version":1,"created_at":0,"last_renewed":0,"renewal_count":0,"custom_data":""})"
      << "\n"
      << R"({"actor_type":"A","actor_id":"00000000-0000-0000-0000-000000000003","node_id":"n","expires_at":"soon"})"
      << "\n";
  auto r = run_cli("import --backend=rocksdb --data-dir=" + dir / "store" + " --input=" + dir / "bad.json");
  expect_one_line_error(r, "imported 2 leases (lines 2..3) before line 4 failed");
  EXPECT_NE(r.err.find("expires_at"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--resume=3"), std::string::npos) << r.err;
  // Nothing half-imported: exactly the two whole leases are there, and the store validates.
  auto scan = run_cli("scan --backend=rocksdb --actor-type=A --data-dir=" + dir / "store");
  EXPECT_EQ(scan.exit_code, 0) << scan.err;
  EXPECT_EQ(line_count(scan.out), 2) << scan.out;
  EXPECT_EQ(run_cli("validate --backend=rocksdb --data-dir=" + dir / "store").exit_code, 0);
}

TEST_F(CliErrors, TruncatedExportIsReported) {
  fill_store(PersistenceBackend::RocksDb, dir / "src", make_leases(50, 2));
  ASSERT_EQ(run_cli("export --backend=rocksdb --data-dir=" + dir / "src" + " -o " + dir / "all.json").exit_code, 0);
  // Keep the header and 10 leases, drop the rest and the end line.
  ASSERT_EQ(run_shell("head -n 11 " + dir / "all.json" + " > " + dir / "cut.json").exit_code, 0);
  auto r = run_cli("import --backend=rocksdb --data-dir=" + dir / "dst" + " -i " + dir / "cut.json");
  expect_one_line_error(r, "without the end line");
  EXPECT_NE(r.err.find("imported 10 leases (lines 2..11)"), std::string::npos) << r.err;
}

TEST_F(CliErrors, ResumeSkipsTheImportedPrefix) {
  fill_store(PersistenceBackend::RocksDb, dir / "src", make_leases(30, 4));
  ASSERT_EQ(run_cli("export --backend=rocksdb --data-dir=" + dir / "src" + " -o " + dir / "all.json").exit_code, 0);
  auto r = run_cli("import --backend=rocksdb --data-dir=" + dir / "dst" + " -i " + dir / "all.json" +
                   " --resume=21");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("imported 10 leases (lines 22..31)"), std::string::npos) << r.err;
}

TEST_F(CliErrors, MissingInputAndBadFormat) {
  expect_one_line_error(run_cli("import --backend=rocksdb --data-dir=" + dir / "s" + " --input=" + dir / "nope.json"),
                        "nope.json");
  EXPECT_FALSE(std::filesystem::exists(dir / "s")) << "a failed import created the store";
  std::ofstream(dir / "junk") << "hello\n";
  expect_one_line_error(run_cli("import --backend=rocksdb --data-dir=" + dir / "s" + " --input=" + dir / "junk"),
                        "not an orbit-cli export");
  fill_store(PersistenceBackend::RocksDb, dir / "src", make_leases(3, 5));
  expect_one_line_error(run_cli("export --backend=rocksdb --format=xml --data-dir=" + dir / "src"), "'xml'");
}

TEST_F(CliErrors, HelpIsNotAnError) {
  auto r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("export"), std::string::npos);
}

}  // namespace
}  // namespace orbit::cli_test
