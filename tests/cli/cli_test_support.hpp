// Helpers for the orbit-cli tests: a scratch directory, running the tool as
// a subprocess, and stores filled with varied leases through the public API.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "orbit/persistence.hpp"

namespace orbit::cli_test {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `orbit-cli <args>` through /bin/sh (so args may hold a pipe or a
// redirection), capturing stdout and stderr.
RunResult run_cli(const std::string& args);
// Runs an arbitrary shell command line (use cli() to name the binary).
RunResult run_shell(const std::string& command);
std::string cli();

// A fresh directory under ORBIT_TEST_TMPDIR (or /tmp), removed by the destructor.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name);
  ~ScratchDir();
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& child) const { return (path_ / child).string(); }

 private:
  std::filesystem::path path_;
};

// Deterministic, varied leases: several actor types (one with a NUL byte),
// many nodes (one with non-UTF-8 bytes), pre-epoch and far-future expiries,
// custom_data of JSON text, empty, quotes/controls and raw non-UTF-8 bytes.
std::vector<Lease> make_leases(std::size_t count, std::uint64_t seed);

// Creates a store of `backend` in `dir` holding `leases` (apply_batch, 1000
// at a time), checkpointed and closed. Fails the test on error.
void fill_store(PersistenceBackend backend, const std::string& dir, const std::vector<Lease>& leases);

// The leases as orbit-cli export writes their lines, in key order.
std::string expected_export_body(std::vector<Lease> leases);
// An export file without its first (header) line.
std::string export_body(const std::string& path);
std::string read_file(const std::string& path);

// How many leases the big tests use: 100,000 in an optimized build, 20,000
// there with CI=true, 10,000 in Debug or under sanitizers;
// ORBIT_CLI_TEST_LEASES overrides.
std::size_t test_lease_count();

}  // namespace orbit::cli_test
