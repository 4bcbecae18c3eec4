#include "tests/cli/cli_test_support.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "tools/orbit-cli/lease_json.hpp"

namespace orbit::cli_test {
namespace fs = std::filesystem;

std::string cli() { return ORBIT_CLI_PATH; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

RunResult run_shell(const std::string& command) {
  static int counter = 0;
  const fs::path base = fs::temp_directory_path() / ("orbit-cli-test-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(counter++));
  const std::string out = base.string() + ".out", err = base.string() + ".err";
  const std::string full = "( " + command + " ) >" + out + " 2>" + err + " </dev/null";
  const int status = std::system(full.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  fs::remove(out);
  fs::remove(err);
  return r;
}

RunResult run_cli(const std::string& args) { return run_shell(cli() + " " + args); }

ScratchDir::ScratchDir(const std::string& name) {
  const char* root = std::getenv("ORBIT_TEST_TMPDIR");
  fs::path base = root ? fs::path(root) : fs::temp_directory_path();
  path_ = base / ("cli-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<Lease> make_leases(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> types{"Player", "Room", "Inventory", std::string("Nul\0Type", 8), "Ünïcode-Actor",
                                       "a", std::string(255, 'T')};
  std::vector<Lease> out;
  out.reserve(count);
  const std::int64_t base_ns = 1'750'000'000'000'000'000;
  for (std::size_t i = 0; i < count; ++i) {
    Lease l;
    l.key = ActorKey(Uuid::from_u64(seed * 1'000'003 + i), types[rng() % types.size()]);
    const auto node = rng() % 37;
    l.node_id = node == 0 ? std::string("node-\xff\xfe", 7) : "node-" + std::to_string(node);
    std::int64_t expires = base_ns + static_cast<std::int64_t>(rng() % 3'600'000'000'000) - 1'800'000'000'000;
    if (i % 997 == 0) expires = -static_cast<std::int64_t>(rng() % 1'000'000'000'000);  // before 1970
    l.expires_at = SystemTime(std::chrono::nanoseconds(expires));
    l.lease_duration = Millis(rng() % 120'000);
    l.version = 1 + rng() % 1000;
    l.metadata.created_at = SystemTime(std::chrono::nanoseconds(base_ns - static_cast<std::int64_t>(rng() % 1'000'000)));
    l.metadata.last_renewed = SystemTime(std::chrono::nanoseconds(expires - 1));
    l.metadata.renewal_count = rng() % 100;
    switch (i % 5) {
      case 0: l.metadata.custom_data = "{}"; break;
      case 1: l.metadata.custom_data = "{\"seq\":" + std::to_string(i) + ",\"tag\":\"q\\\"\\n\"}"; break;
      case 2: l.metadata.custom_data = ""; break;
      case 3: l.metadata.custom_data = std::string("\x00\x01\x80\xff\"\\\n\t", 8); break;
      case 4: l.metadata.custom_data = std::string(rng() % 300, 'x'); break;
    }
    out.push_back(std::move(l));
  }
  return out;
}

void fill_store(PersistenceBackend backend, const std::string& dir, const std::vector<Lease>& leases) {
  auto built = PersistenceConfigBuilder()
                   .use_environment(false)
                   .backend(backend)
                   .data_dir(dir)
                   .durability(DurabilityMode::None)
                   .build();
  ASSERT_TRUE(built) << built.error().to_string();
  auto opened = sync_wait(PersistenceFactory::create_provider(built.value()));
  ASSERT_TRUE(opened) << opened.error().to_string();
  auto store = std::move(opened).value();
  for (std::size_t i = 0; i < leases.size(); i += 1000) {
    WriteBatch batch;
    for (std::size_t k = i; k < std::min(leases.size(), i + 1000); ++k) batch.put(leases[k]);
    auto applied = sync_wait(store->apply_batch(std::move(batch)));
    ASSERT_TRUE(applied) << applied.error().to_string();
  }
  auto checkpointed = sync_wait(store->checkpoint());
  ASSERT_TRUE(checkpointed || checkpointed.code() == ErrorCode::NotSupported) << checkpointed.error().to_string();
  auto closed = sync_wait(store->close());
  ASSERT_TRUE(closed) << closed.error().to_string();
}

std::string expected_export_body(std::vector<Lease> leases) {
  std::sort(leases.begin(), leases.end(), [](const Lease& a, const Lease& b) { return a.key < b.key; });
  std::string out;
  for (const Lease& l : leases) {
    cli::append_lease_json(l, out);
    out += '\n';
  }
  out += cli::trailer_json(leases.size());
  out += '\n';
  return out;
}

std::string export_body(const std::string& path) {
  std::string all = read_file(path);
  auto newline = all.find('\n');
  return newline == std::string::npos ? std::string() : all.substr(newline + 1);
}

std::size_t test_lease_count() {
  if (const char* n = std::getenv("ORBIT_CLI_TEST_LEASES")) return std::strtoull(n, nullptr, 10);
  bool slow_build = false;  // Debug or sanitizers: 4-10x slower, and run in CI
#ifndef NDEBUG
  slow_build = true;
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  slow_build = true;
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
  slow_build = true;
#endif
#endif
  if (slow_build) return 10'000;
  if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") return 20'000;
  return 100'000;
}

}  // namespace orbit::cli_test
