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

// Runs every task at once (each hops onto the store's loop and they
// interleave there) and returns their results in order.
template <typename T>
std::vector<T> run_concurrently(std::vector<Task<T>> tasks) {
  struct Detached {
    struct promise_type {
      Detached get_return_object() noexcept { return {}; }
      std::suspend_never initial_suspend() const noexcept { return {}; }
      std::suspend_never final_suspend() const noexcept { return {}; }
      void return_void() noexcept {}
      void unhandled_exception() noexcept { std::terminate(); }
    };
  };
  std::vector<std::optional<T>> slots(tasks.size());
  std::latch done(static_cast<std::ptrdiff_t>(tasks.size()));
  auto drive = [](Task<T> task, std::optional<T>* slot, std::latch* latch) -> Detached {
    slot->emplace(co_await std::move(task));
    latch->count_down();
  };
  for (std::size_t i = 0; i < tasks.size(); ++i) drive(std::move(tasks[i]), &slots[i], &done);
  done.wait();
  std::vector<T> out;
  out.reserve(slots.size());
  for (auto& slot : slots) out.push_back(std::move(*slot));
  return out;
}

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
