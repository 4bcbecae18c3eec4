#include "tests/conformance/conformance_fixture.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "orbit/sync_wait.hpp"

namespace orbit::conformance {

std::vector<BackendParam> all_backend_params() {
  std::vector<BackendParam> out;
  for (PersistenceBackend backend : PersistenceFactory::available_backends())
    for (IoBackend io : {IoBackend::IoUring, IoBackend::Asio}) out.push_back({backend, io});
  return out;
}

std::string param_label(const ::testing::TestParamInfo<BackendParam>& info) {
  return std::string(to_string(info.param.backend)) + "_" +
         (info.param.io == IoBackend::IoUring ? "IoUring" : "Asio");
}

std::string io_label(const ::testing::TestParamInfo<IoBackend>& info) {
  return info.param == IoBackend::IoUring ? "IoUring" : "Asio";
}

std::string make_temp_dir(const std::string& hint) {
  static std::atomic<std::uint64_t> counter{0};
  const char* root = std::getenv("ORBIT_TEST_TMPDIR");
  std::filesystem::path base = root && *root ? root : "/tmp";
  std::string name = "conformance-" + hint + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  for (char& c : name)
    if (c == '/') c = '_';
  auto dir = base / name;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  return dir.string();
}

void remove_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

ActorKey make_key(const std::string& actor_type, std::uint64_t n) { return ActorKey{Uuid::from_u64(n), actor_type}; }

Lease make_lease(const ActorKey& key, const std::string& node, SystemTime expires_at, std::uint64_t version,
                 std::string custom_data) {
  Lease lease;
  lease.key = key;
  lease.node_id = node;
  lease.expires_at = expires_at;
  lease.lease_duration = Millis(30000);
  lease.version = version;
  lease.metadata.created_at = expires_at - std::chrono::seconds(30);
  lease.metadata.last_renewed = expires_at - std::chrono::seconds(30) + std::chrono::nanoseconds(123);
  lease.metadata.renewal_count = version - 1;
  lease.metadata.custom_data = std::move(custom_data);
  return lease;
}

void expect_metrics(const PersistenceMetrics& metrics, OperationType type, bool success) {
  EXPECT_EQ(metrics.operation_type, type) << "metrics of " << to_string(type) << " say " << to_string(metrics.operation_type);
  EXPECT_GT(metrics.latency.count(), 0) << to_string(type);
  EXPECT_EQ(metrics.success, success) << to_string(type);
}

Result<std::unique_ptr<PersistenceProvider>> open_store(const PersistenceConfig& config, std::string* skip_reason) {
  auto opened = sync_wait(PersistenceFactory::create_provider(config));
  if (!opened.ok() && opened.code() == ErrorCode::Unavailable && config.io_backend == IoBackend::IoUring &&
      opened.error().message.find("io_backend") != std::string::npos && skip_reason)
    *skip_reason = opened.error().to_string();
  return opened;
}

PersistenceConfig BackendConformance::config() const {
  PersistenceConfig config;
  config.backend = GetParam().backend;
  config.io_backend = GetParam().io;
  config.data_dir = dir_;
  config.durability = DurabilityMode::Durable;
  // Small buffers: the suite's stores hold a few hundred leases.
  config.lsm_config.memtable_size_mb = 4;
  config.lsm_config.block_cache_mb = 8;
  config.rocksdb_config.block_cache_mb = 8;
  config.rocksdb_config.write_buffer_mb = 4;
  config.rocksdb_config.max_background_jobs = 2;
  return config;
}

void BackendConformance::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  dir_ = make_temp_dir(std::string(info->test_suite_name()) + "-" + info->name());
  base_ = SystemTime(std::chrono::seconds(1'900'000'000));  // 2030: every lease built from it is unexpired
  std::string skip;
  auto opened = open_store(config(), &skip);
  if (!skip.empty()) GTEST_SKIP() << "I/O backend refused on this machine: " << skip;
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  store_ = std::move(opened).value();
}

void BackendConformance::TearDown() {
  if (store_) {
    auto closed = sync_wait(store_->close());
    EXPECT_TRUE(closed.ok()) << closed.error().to_string();
    store_.reset();
  }
  remove_dir(dir_);
}

void BackendConformance::reopen() {
  auto closed = sync_wait(store_->close());
  ASSERT_TRUE(closed.ok()) << closed.error().to_string();
  expect_metrics(closed.metrics(), OperationType::Close, true);
  store_.reset();
  auto opened = open_store(config(), nullptr);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  store_ = std::move(opened).value();
}

}  // namespace orbit::conformance

namespace orbit::conformance {

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(BackendConformance);
INSTANTIATE_TEST_SUITE_P(AllBackends, BackendConformance, ::testing::ValuesIn(all_backend_params()), param_label);

}  // namespace orbit::conformance
