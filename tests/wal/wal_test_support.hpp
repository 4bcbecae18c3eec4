// Shared fixture for the wal tests: a Runtime per test, parametrized over
// both I/O backends, a fresh directory, and small helpers to open, append
// and replay synchronously from the test thread.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io/runtime.hpp"
#include "tests/support/runtime_fixture.hpp"
#include "src/wal/wal.hpp"

namespace orbit::wal::testing {

using test_support::make_temp_dir;

using test_support::backend_name;

struct Replayed {
  std::vector<std::pair<std::uint64_t, std::string>> records;
  ReplayStats stats;
};

class WalTest : public test_support::RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    dir = root + "/wal";
  }

  // Wal::stats() belongs to the loop thread (background spare preparation
  // updates it there), so the test thread reads it through the loop.
  WalStats stats_of(Wal& wal) { return run(read_stats(&wal)); }
  static Task<WalStats> read_stats(Wal* wal) { co_return wal->stats(); }

  WalOptions options() const {
    WalOptions o;
    o.dir = dir;
    o.segment_size = 1 << 20;
    return o;
  }


  Result<std::unique_ptr<Wal>> open(WalOptions o) { return run(Wal::open(*rt, std::move(o))); }

  std::unique_ptr<Wal> must_open(WalOptions o) {
    auto wal = open(std::move(o));
    EXPECT_TRUE(wal.ok()) << wal.error().to_string();
    return wal.ok() ? std::move(wal.value()) : nullptr;
  }

  Result<Replayed> replay(Wal& wal, std::uint64_t from_lsn) {
    Replayed out;
    auto stats = run(wal.replay(from_lsn, [&](std::uint64_t lsn, std::string_view payload) -> Result<void> {
      out.records.emplace_back(lsn, std::string(payload));
      return {};
    }));
    if (!stats) return std::move(stats).error();
    out.stats = stats.value();
    return out;
  }

  // Appends from `writers` coroutines at once; returns their results in writer order.
  std::vector<Result<AppendResult>> append_concurrently(Wal& wal, const std::vector<std::string>& payloads) {
    std::vector<std::optional<Result<AppendResult>>> results(payloads.size());
    std::latch done(static_cast<std::ptrdiff_t>(payloads.size()));
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      rt->spawn(
          [](Wal* w, std::string p, std::optional<Result<AppendResult>>* out, std::latch* l) -> Task<void> {
            out->emplace(co_await w->append(std::move(p)));
            l->count_down();
          }(&wal, payloads[i], &results[i], &done));
    }
    done.wait();
    std::vector<Result<AppendResult>> out;
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
  }

  // Reads the Wal's durable LSN on its loop thread.
  std::uint64_t durable_lsn(Wal& wal) { return run(read_durable_lsn(&wal)); }
  static Task<std::uint64_t> read_durable_lsn(Wal* wal) { co_return wal->durable_lsn(); }

  // Waits (up to 10 s) until stats().segments_created reaches `created`:
  // a spare counts once it is ready (zero-filled, synced, waiting).
  bool wait_for_created(Wal& wal, std::uint64_t created) {
    for (int i = 0; i < 5000; ++i) {
      if (stats_of(wal).segments_created >= created) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  std::string segment_path(std::uint64_t number) const {
    char name[32];
    std::snprintf(name, sizeof(name), "/%06llu.wal", static_cast<unsigned long long>(number));
    return dir + name;
  }

  std::string dir;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string payload_for(std::uint64_t i, std::size_t size = 100) {
  std::string s = "record-" + std::to_string(i) + "-";
  while (s.size() < size) s += static_cast<char>('a' + (s.size() * 7 + i) % 26);
  s.resize(size);
  return s;
}

#define ORBIT_WAL_INSTANTIATE(suite)                                                            \
  INSTANTIATE_TEST_SUITE_P(                                                                     \
      Backends, suite,                                                                          \
      ::testing::Values(::orbit::io::BackendChoice::IoUring, ::orbit::io::BackendChoice::Asio), \
      ::orbit::wal::testing::backend_name)

}  // namespace orbit::wal::testing
