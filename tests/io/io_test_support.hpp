// Shared fixture for the io tests: one Runtime per test, parametrized over
// both backends, and a fresh temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "io/runtime.hpp"
#include "tests/support/runtime_fixture.hpp"

namespace orbit::io::testing {

using test_support::make_temp_dir;

using test_support::backend_name;

class RuntimeTest : public ::testing::TestWithParam<BackendChoice> {
 protected:
  void SetUp() override { SetUpWith(RuntimeOptions{}); }
  void SetUpWith(RuntimeOptions options) {
    options.backend = GetParam();
    std::string why;
    auto created = Runtime::create(options, &why);
    ASSERT_TRUE(created.ok()) << "cannot start " << backend_name({GetParam(), 0}) << ": " << why;
    rt = std::move(created.value());
    ASSERT_EQ(rt->kind(), GetParam() == BackendChoice::IoUring ? BackendKind::IoUring : BackendKind::Asio);
    dir = make_temp_dir();
    ASSERT_FALSE(dir.empty());
  }
  void TearDown() override {
    rt.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }

  std::unique_ptr<Runtime> rt;
  std::string dir;
};

// Counts finished tasks so a plain thread can wait for spawned work.
struct WaitGroup {
  std::atomic<long> pending{0};
  void add(long n) { pending.fetch_add(n); }
  void done() {
    if (pending.fetch_sub(1) == 1) pending.notify_all();
  }
  void wait() {
    for (long v = pending.load(); v != 0; v = pending.load()) pending.wait(v);
  }
};

inline std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

#define ORBIT_INSTANTIATE_BACKENDS(suite)                                                          \
  INSTANTIATE_TEST_SUITE_P(Backends, suite,                                                          \
                           ::testing::Values(::orbit::io::BackendChoice::IoUring,                   \
                                             ::orbit::io::BackendChoice::Asio),                     \
                           ::orbit::io::testing::backend_name)

}  // namespace orbit::io::testing
