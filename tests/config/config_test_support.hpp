// Shared by the config tests: a fixture that gives each test a clean ORBIT_*
// environment (saved before, restored after) and a scratch directory for
// config files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace orbit::testing_support {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // ORBIT_TEST_* belong to the test harness (ctest sets ORBIT_TEST_TMPDIR): keep them.
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      if (entry.rfind("ORBIT_", 0) != 0 || entry.rfind("ORBIT_TEST_", 0) == 0) continue;
      auto eq = entry.find('=');
      saved_.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
    }
    clear_orbit_environment();
    const char* base = std::getenv("ORBIT_TEST_TMPDIR");
    dir_ = std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
           ("orbit-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    clear_orbit_environment();
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static void clear_orbit_environment() {
    std::vector<std::string> names;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      if (entry.rfind("ORBIT_", 0) == 0 && entry.rfind("ORBIT_TEST_", 0) != 0)
        names.push_back(entry.substr(0, entry.find('=')));
    }
    for (const auto& name : names) ::unsetenv(name.c_str());
  }

  static void set_env(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }

  // Writes `text` to <scratch>/<name> and returns the path.
  std::string write_file(const std::string& name, const std::string& text) {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  std::filesystem::path dir_;

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

}  // namespace orbit::testing_support
