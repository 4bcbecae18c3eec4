// The public wrappers of PersistenceProvider: hop onto the store's loop,
// validate the caller's input, time the operation, tag its metrics, and turn
// any exception into an Error. Backends implement the do_* methods (and
// get_now, where they can answer a read without suspending).
#include "orbit/provider.hpp"

#include <chrono>
#include <exception>
#include <new>
#include <optional>
#include <string>

#include "src/util/tick_clock.hpp"

namespace orbit {
namespace {

std::optional<Error> check_key(const ActorKey& key) {
  if (key.actor_type.empty())
    return make_error(ErrorCode::InvalidArgument, "actor_type is empty; accepted: 1.." +
                                                      std::to_string(kMaxActorTypeBytes) + " bytes");
  if (key.actor_type.size() > kMaxActorTypeBytes)
    return make_error(ErrorCode::InvalidArgument,
                      "actor_type is " + std::to_string(key.actor_type.size()) + " bytes; accepted: 1.." +
                          std::to_string(kMaxActorTypeBytes));
  return std::nullopt;
}

std::optional<Error> check_node(const std::string& node_id) {
  if (node_id.empty() || node_id.size() > kMaxNodeIdBytes)
    return make_error(ErrorCode::InvalidArgument, "node_id '" + node_id.substr(0, 64) + "' is " +
                                                      std::to_string(node_id.size()) + " bytes; accepted: 1.." +
                                                      std::to_string(kMaxNodeIdBytes));
  return std::nullopt;
}

std::optional<Error> check_lease(const Lease& lease) {
  if (auto e = check_key(lease.key)) return e;
  if (auto e = check_node(lease.node_id)) return e;
  if (lease.metadata.custom_data.size() > kMaxCustomDataBytes)
    return make_error(ErrorCode::InvalidArgument,
                      "custom_data of " + lease.key.to_string() + " is " +
                          std::to_string(lease.metadata.custom_data.size()) + " bytes; accepted: at most " +
                          std::to_string(kMaxCustomDataBytes));
  if (lease.version == 0)
    return make_error(ErrorCode::InvalidArgument,
                      "version of " + lease.key.to_string() + " is 0; accepted: 1 or more");
  if (lease.lease_duration.count() < 0)
    return make_error(ErrorCode::InvalidArgument, "lease_duration of " + lease.key.to_string() +
                                                      " is negative; accepted: 0 or more ms");
  return std::nullopt;
}

std::optional<Error> check_duration(Millis duration) {
  if (duration.count() <= 0)
    return make_error(ErrorCode::InvalidArgument,
                      "lease duration " + std::to_string(duration.count()) + " ms; accepted: 1 or more ms");
  return std::nullopt;
}

template <typename T>
Task<Result<T>> fail_now(Error error) {
  co_return Result<T>(std::move(error));
}

// What an exception escaping an operation becomes. REQUIRES: called from a
// catch block (it rethrows the exception being handled to classify it).
Error internal_error(OperationType type) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::NoSpace, std::string(to_string(type)) + ": out of memory", true);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::IOError, std::string(to_string(type)) + ": internal error: " + e.what());
  } catch (...) {
    return make_error(ErrorCode::IOError, std::string(to_string(type)) + ": unknown internal error");
  }
}

}  // namespace

// The first reading decides and calibrates the operation clock (2 ms, once
// per process), here rather than in some store's first operation.
PersistenceProvider::PersistenceProvider() { (void)tick_clock::now(); }

template <typename T>
void PersistenceProvider::finish(OperationType type, tick_clock::Ticks start, Result<T>& out) const noexcept {
  PersistenceMetrics& m = out.metrics();
  m.operation_type = type;
  m.latency = tick_clock::elapsed(start, tick_clock::now());
  m.memory_used = memory_used();
  m.success = out.ok();
}

template <typename T>
Task<Result<T>> PersistenceProvider::run(OperationType type, Task<Result<T>> body) {
  const tick_clock::Ticks start = tick_clock::now();
  co_await LoopHop{this};
  std::optional<Result<T>> out;
  try {
    out.emplace(co_await std::move(body));
  } catch (...) {
    out.emplace(internal_error(type));
  }
  finish(type, start, *out);
  co_return std::move(*out);
}

std::optional<Result<Lease>> PersistenceProvider::get_now(const ActorKey&) { return std::nullopt; }

Task<Result<void>> PersistenceProvider::store_lease(Lease lease) {
  if (auto e = check_lease(lease)) return run(OperationType::Store, fail_now<void>(std::move(*e)));
  return run(OperationType::Store, do_store(std::move(lease)));
}

// The hot read is a coroutine of its own rather than run(do_get(key)): one
// frame in all, when the backend answers from memory (get_now).
Task<Result<Lease>> PersistenceProvider::get_lease(ActorKey key) {
  const tick_clock::Ticks start = tick_clock::now();
  co_await LoopHop{this};
  // Built in place: a Lease moved is three strings copied.
  std::optional<Result<Lease>> out = [&]() -> std::optional<Result<Lease>> {
    try {
      if (auto e = check_key(key)) return Result<Lease>(std::move(*e));
      return get_now(key);
    } catch (...) {
      return Result<Lease>(internal_error(OperationType::Get));
    }
  }();
  if (!out) {
    try {
      out.emplace(co_await do_get(std::move(key)));
    } catch (...) {
      out.emplace(internal_error(OperationType::Get));
    }
  }
  finish(OperationType::Get, start, *out);
  co_return std::move(*out);
}

Task<Result<void>> PersistenceProvider::remove_lease(ActorKey key) {
  if (auto e = check_key(key)) return run(OperationType::Remove, fail_now<void>(std::move(*e)));
  return run(OperationType::Remove, do_remove(std::move(key)));
}

Task<Result<void>> PersistenceProvider::apply_batch(WriteBatch batch) {
  for (const auto& op : batch.ops) {
    auto e = op.kind == BatchOp::Kind::Put ? check_lease(op.lease) : check_key(op.lease.key);
    if (e) return run(OperationType::Batch, fail_now<void>(std::move(*e)));
  }
  return run(OperationType::Batch, do_batch(std::move(batch)));
}

Task<Result<std::vector<Lease>>> PersistenceProvider::scan_by_actor_type(std::string actor_type,
                                                                        ScanOptions options) {
  return run(OperationType::ScanByActorType, do_scan_by_actor_type(std::move(actor_type), std::move(options)));
}

Task<Result<std::vector<Lease>>> PersistenceProvider::list_by_node(std::string node_id, ScanOptions options) {
  return run(OperationType::ListByNode, do_list_by_node(std::move(node_id), std::move(options)));
}

Task<Result<std::vector<Lease>>> PersistenceProvider::list_expiring_before(SystemTime before, std::size_t limit) {
  return run(OperationType::ListExpiring, do_list_expiring_before(before, limit));
}

Task<Result<std::vector<Lease>>> PersistenceProvider::scan_all(ScanOptions options) {
  return run(OperationType::ScanByActorType, do_scan_all(std::move(options)));
}

Task<Result<std::vector<Lease>>> PersistenceProvider::do_scan_all(ScanOptions) {
  co_return make_error(ErrorCode::NotSupported,
                       "scan_all is not implemented by the " + std::string(to_string(backend())) + " backend yet");
}

Task<Result<Lease>> PersistenceProvider::acquire_lease(AcquireRequest request) {
  std::optional<Error> e = check_key(request.key);
  if (!e) e = check_node(request.node_id);
  if (!e) e = check_duration(request.duration);
  if (e) return run(OperationType::Acquire, fail_now<Lease>(std::move(*e)));
  return run(OperationType::Acquire, do_acquire(std::move(request)));
}

Task<Result<Lease>> PersistenceProvider::renew_lease(RenewRequest request) {
  std::optional<Error> e = check_key(request.key);
  if (!e) e = check_node(request.node_id);
  if (!e) e = check_duration(request.duration);
  if (e) return run(OperationType::Renew, fail_now<Lease>(std::move(*e)));
  return run(OperationType::Renew, do_renew(std::move(request)));
}

Task<Result<void>> PersistenceProvider::release_lease(ReleaseRequest request) {
  std::optional<Error> e = check_key(request.key);
  if (!e) e = check_node(request.node_id);
  if (e) return run(OperationType::Release, fail_now<void>(std::move(*e)));
  return run(OperationType::Release, do_release(std::move(request)));
}

Task<Result<StorageStats>> PersistenceProvider::stats() { return run(OperationType::Stats, do_stats()); }
Task<Result<void>> PersistenceProvider::flush() { return run(OperationType::Flush, do_flush()); }
Task<Result<void>> PersistenceProvider::checkpoint() { return run(OperationType::Checkpoint, do_checkpoint()); }
Task<Result<void>> PersistenceProvider::close() { return run(OperationType::Close, do_close()); }

}  // namespace orbit
