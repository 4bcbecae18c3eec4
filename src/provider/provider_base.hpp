// ProviderBase: what every backend shares above its storage.
//
// Owns the store's io::Runtime (destroyed last, after the engine's own
// members), answers the loop-hop questions of PersistenceProvider from it,
// and implements the lease primitives once: take the key's lock, read the
// current lease, apply lease_rules, write the result with the backend's own
// do_store / do_remove. A backend derives from this and implements storage.
#pragma once

#include <memory>

#include "io/runtime.hpp"
#include "src/codec/key_layout.hpp"
#include "orbit/provider.hpp"
#include "src/util/keyed_mutex.hpp"

namespace orbit {

class ProviderBase : public PersistenceProvider {
 public:
  ~ProviderBase() override;

 protected:
  explicit ProviderBase(std::unique_ptr<io::Runtime> runtime);

  io::Runtime& runtime() noexcept { return *runtime_; }
  // The clock the lease primitives judge expiry by.
  virtual SystemTime now() const { return std::chrono::system_clock::now(); }

  bool on_loop_thread() const noexcept override { return runtime_->on_loop_thread(); }
  void post(std::coroutine_handle<> handle) override { runtime_->post(handle); }

  // The four scans of the API, each one codec::ScanRange read by read_range().
  Task<Result<std::vector<Lease>>> do_scan_all(ScanOptions options) override;
  Task<Result<std::vector<Lease>>> do_scan_by_actor_type(std::string actor_type, ScanOptions options) override;
  Task<Result<std::vector<Lease>>> do_list_by_node(std::string node_id, ScanOptions options) override;
  Task<Result<std::vector<Lease>>> do_list_expiring_before(SystemTime before, std::size_t limit) override;
  // The leases of `range`, in its order, from one consistent view.
  virtual Task<Result<std::vector<Lease>>> read_range(codec::ScanRange range) = 0;

  Task<Result<Lease>> do_acquire(AcquireRequest request) override;
  Task<Result<Lease>> do_renew(RenewRequest request) override;
  Task<Result<void>> do_release(ReleaseRequest request) override;

 private:
  // Reads the current lease: NotFound becomes nullopt, other errors pass up.
  Task<Result<std::optional<Lease>>> read_current(ActorKey key, PersistenceMetrics& metrics);
  // Under the key's lock: read the current lease, let `decide` (a lease_rules
  // function) pick the lease to write or the error, and write it.
  template <typename Request, typename Decide>
  Task<Result<Lease>> decide_and_store(Request request, Decide decide);

  std::unique_ptr<io::Runtime> runtime_;
  KeyedMutex lease_locks_;
};

}  // namespace orbit
