// MapStore: a KvStore engine over a plain in-memory map, for tests of the
// shared machinery (src/kv) and of the crash/fault harnesses. It persists
// nothing of its own: every open replays the whole log, so its state after a
// crash is exactly what the WAL kept. Copy-on-write map: a view keeps the
// map it was taken from.
#pragma once

#include <gtest/gtest.h>

#include <coroutine>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "orbit/sync_wait.hpp"
#include "src/factory/engine_registry.hpp"
#include "src/kv/kv_store.hpp"

namespace orbit::test_support {

using MapStoreMap = std::map<std::string, std::string>;

class MapView final : public kv::KvView {
 public:
  MapView(std::shared_ptr<const MapStoreMap> map, std::shared_ptr<std::uint64_t> gets)
      : map_(std::move(map)), gets_(std::move(gets)) {}
  Task<Result<std::optional<std::string>>> get(std::string key) override {
    ++*gets_;
    auto it = map_->find(key);
    co_return it == map_->end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
  }
  Task<Result<std::vector<kv::KvPair>>> range(std::string seek, std::string upper, std::size_t limit) override {
    std::vector<kv::KvPair> out;
    for (auto it = map_->lower_bound(seek); it != map_->end(); ++it) {
      if (!upper.empty() && it->first >= upper) break;
      if (limit != 0 && out.size() >= limit) break;
      out.push_back({it->first, it->second});
    }
    co_return out;
  }

 private:
  std::shared_ptr<const MapStoreMap> map_;
  std::shared_ptr<std::uint64_t> gets_;
};

// Copy-on-write map: a view keeps the map it was taken from.
class MapStore final : public kv::KvStore {
 public:
  // An engine open function (src/factory/engine_registry.hpp). Runs the
  // replay on the runtime's loop and blocks the calling thread meanwhile.
  static Task<OpenedStore> open(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime) {
    std::unique_ptr<MapStore> store(new MapStore(std::move(config), std::move(runtime)));
    if (auto locked = store->lock_data_dir(); !locked) co_return OpenedStore(std::move(locked).error());
    wal::WalOptions log;
    log.segment_size = 1 << 20;
    auto opened = store->runtime().block_on(store->open_log(log, 0, {}));
    if (!opened) co_return OpenedStore(std::move(opened).error());
    co_return OpenedStore(std::unique_ptr<PersistenceProvider>(std::move(store)));
  }
  // The same on a new runtime of the given I/O backend.
  static Result<std::unique_ptr<MapStore>> open(const std::string& dir, io::BackendChoice io) {
    io::RuntimeOptions options;
    options.backend = io;
    std::string why;
    auto runtime = io::Runtime::create(options, &why);
    if (!runtime) return make_error(ErrorCode::Unavailable, why);
    PersistenceConfig config;
    config.data_dir = dir;
    auto opened = sync_wait(open(std::move(config), std::move(runtime).value()));
    if (!opened) return std::move(opened).error();
    return std::unique_ptr<MapStore>(static_cast<MapStore*>(opened.value().release()));
  }
  ~MapStore() override { close_in_destructor(); }

  PersistenceBackend backend() const noexcept override { return PersistenceBackend::LsmTree; }
  std::shared_ptr<const MapStoreMap> map() const { return map_; }
  std::uint64_t last_applied() const { return applied_lsn(); }
  // Reads of single keys through a view (the loop's count: read it after
  // the operations ended).
  std::uint64_t view_gets() const { return *view_gets_; }

  // For tests of what runs while a group commits: while held, each commit
  // group waits in before_commit(), before its writes are built.
  void hold_commits() { runtime().block_on(set_held(true)); }
  void release_commits() { runtime().block_on(set_held(false)); }
  // Returns once everything already posted to the loop has run.
  void settle() { runtime().block_on(nothing()); }

 protected:
  std::unique_ptr<kv::KvView> view() override { return std::make_unique<MapView>(map_, view_gets_); }
  Task<Result<void>> before_commit() override {
    struct Held {
      MapStore* store;
      bool await_ready() const noexcept { return !store->held_; }
      void await_suspend(std::coroutine_handle<> h) noexcept { store->held_commit_ = h; }
      void await_resume() const noexcept {}
    };
    co_await Held{this};
    co_return Result<void>();
  }
  void apply(std::span<const kv::KvChange> changes, std::uint64_t lsn) override {
    EXPECT_GT(lsn, last_lsn_) << "applies out of LSN order";
    last_lsn_ = lsn;
    auto next = std::make_shared<MapStoreMap>(*map_);
    for (const kv::KvChange& c : changes) {
      if (c.erase)
        next->erase(c.key);
      else
        (*next)[c.key] = c.value;
    }
    map_ = std::move(next);
  }
  Task<Result<void>> close_engine() override { co_return Result<void>(); }
  void engine_stats(StorageStats& stats) override { stats.memory_usage_bytes = map_->size(); }
  Task<Result<void>> do_checkpoint() override {
    co_return make_error(ErrorCode::NotSupported, "the map store has no checkpoint");
  }
  std::uint64_t memory_used() const noexcept override { return 0; }

 private:
  MapStore(PersistenceConfig config, std::unique_ptr<io::Runtime> runtime)
      : KvStore(std::move(config), std::move(runtime), "map") {}

  static Task<void> nothing() { co_return; }
  Task<void> set_held(bool held) {
    held_ = held;
    if (!held_ && held_commit_) post(std::exchange(held_commit_, {}));
    co_return;
  }

  std::shared_ptr<const MapStoreMap> map_ = std::make_shared<MapStoreMap>();
  std::uint64_t last_lsn_ = 0;
  std::shared_ptr<std::uint64_t> view_gets_ = std::make_shared<std::uint64_t>(0);
  bool held_ = false;
  std::coroutine_handle<> held_commit_;
};

}  // namespace orbit::test_support
