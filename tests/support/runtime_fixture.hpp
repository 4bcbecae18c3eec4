// RuntimeTest: the fixture every test of code that runs on an io::Runtime
// shares — one runtime per test, parametrized over both I/O backends, a fresh
// directory under $ORBIT_TEST_TMPDIR (or /tmp) removed afterwards, and run()
// to drive a Task to completion from the test thread.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "io/runtime.hpp"

namespace orbit::test_support {

// A new empty directory named <prefix>-XXXXXX; empty string on failure.
inline std::string make_temp_dir(const std::string& prefix = "orbit") {
  const char* base = std::getenv("ORBIT_TEST_TMPDIR");
  std::string root = base != nullptr ? base : "/tmp";
  std::filesystem::create_directories(root);
  std::string pattern = root + "/" + prefix + "-XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  return made != nullptr ? std::string(made) : std::string();
}

inline std::string backend_name(const ::testing::TestParamInfo<io::BackendChoice>& info) {
  return info.param == io::BackendChoice::IoUring ? "IoUring" : "Asio";
}

class RuntimeTest : public ::testing::TestWithParam<io::BackendChoice> {
 protected:
  void SetUp() override {
    io::RuntimeOptions options;
    options.backend = GetParam();
    std::string why;
    auto created = io::Runtime::create(options, &why);
    ASSERT_TRUE(created.ok()) << "cannot start runtime: " << why;
    rt = std::move(created.value());
    root = make_temp_dir();
    ASSERT_FALSE(root.empty());
  }
  void TearDown() override {
    rt.reset();
    if (!root.empty()) std::filesystem::remove_all(root);
  }

  template <typename T>
  T run(Task<T> task) {
    return rt->block_on(std::move(task));
  }

  std::unique_ptr<io::Runtime> rt;
  std::string root;
};

}  // namespace orbit::test_support

// Instantiates a RuntimeTest-derived suite over io_uring and Asio.
#define ORBIT_INSTANTIATE_ON_BOTH_IO_BACKENDS(Suite)                                                  \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                           \
                           ::testing::Values(::orbit::io::BackendChoice::IoUring,                     \
                                             ::orbit::io::BackendChoice::Asio),                       \
                           ::orbit::test_support::backend_name)
