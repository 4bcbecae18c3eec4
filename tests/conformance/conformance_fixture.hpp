// The backend conformance suite's fixture: one open store per test, of every
// backend this build has (PersistenceFactory::available_backends()) on each
// I/O backend (io_uring, Asio), in a fresh directory under
// $ORBIT_TEST_TMPDIR (set by ctest) or /tmp.
//
// Tests drive the public API only, from the test's plain thread with
// orbit::sync_wait; run_concurrently() starts many operations at once so
// they interleave on the store's loop.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <latch>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "orbit/persistence.hpp"
#include "tests/support/run_concurrently.hpp"

namespace orbit::conformance {

struct BackendParam {
  PersistenceBackend backend;
  IoBackend io;
};

inline void PrintTo(const BackendParam& param, std::ostream* out) {
  *out << to_string(param.backend) << "/" << to_string(param.io);
}

// Every available backend on both I/O backends.
std::vector<BackendParam> all_backend_params();
// "RocksDb_IoUring": a test-name-safe label.
std::string param_label(const ::testing::TestParamInfo<BackendParam>& info);
std::string io_label(const ::testing::TestParamInfo<IoBackend>& info);

// A fresh, empty directory unique to this test; removed by remove_dir().
std::string make_temp_dir(const std::string& hint);
void remove_dir(const std::string& dir);

// A lease with fixed, nanosecond-exact times relative to `base`.
Lease make_lease(const ActorKey& key, const std::string& node, SystemTime expires_at, std::uint64_t version = 1,
                 std::string custom_data = "{}");
ActorKey make_key(const std::string& actor_type, std::uint64_t n);

// Checks what every operation's metrics must say.
void expect_metrics(const PersistenceMetrics& metrics, OperationType type, bool success);

// Opens `config`; on an I/O backend this machine refuses (io_uring
// disabled), sets *skip_reason instead of failing.
Result<std::unique_ptr<PersistenceProvider>> open_store(const PersistenceConfig& config, std::string* skip_reason);

using test_support::run_concurrently;

class BackendConformance : public ::testing::TestWithParam<BackendParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  PersistenceConfig config() const;
  // Closes the store (checking the result) and opens the directory again.
  void reopen();
  PersistenceProvider& store() { return *store_; }

  std::string dir_;
  std::unique_ptr<PersistenceProvider> store_;
  SystemTime base_;  // a fixed "now" for leases built by tests
};

}  // namespace orbit::conformance
