#include "src/provider/lease_rules.hpp"

#include <string>

namespace orbit {
namespace {

std::string millis_until(SystemTime then, SystemTime now) {
  return std::to_string(std::chrono::duration_cast<Millis>(then - now).count()) + " ms";
}

Error not_found(const ActorKey& key) {
  return make_error(ErrorCode::NotFound, "no lease stored for " + key.to_string());
}

std::optional<Error> check_owner(const Lease& current, const std::string& node_id, std::uint64_t expected_version) {
  if (current.node_id != node_id)
    return make_error(ErrorCode::Conflict, "lease " + current.key.to_string() + " is owned by node '" +
                                               current.node_id + "', not '" + node_id + "'");
  if (current.version != expected_version)
    return make_error(ErrorCode::Conflict, "lease " + current.key.to_string() + " is at version " +
                                               std::to_string(current.version) + ", caller holds version " +
                                               std::to_string(expected_version));
  return std::nullopt;
}

}  // namespace

Result<Lease> decide_acquire(const std::optional<Lease>& current, const AcquireRequest& request, SystemTime now) {
  if (current && !current->expired(now))
    return make_error(ErrorCode::Conflict, "lease " + request.key.to_string() + " is held by node '" +
                                               current->node_id + "' (version " + std::to_string(current->version) +
                                               ") for another " + millis_until(current->expires_at, now),
                      true);
  Lease lease = Lease::create(request.key, request.node_id, request.duration, now);
  lease.version = current ? current->version + 1 : 1;
  lease.metadata.custom_data = request.custom_data;
  return lease;
}

Result<Lease> decide_renew(const std::optional<Lease>& current, const RenewRequest& request, SystemTime now) {
  if (!current) return not_found(request.key);
  if (auto e = check_owner(*current, request.node_id, request.expected_version)) return std::move(*e);
  Lease lease = *current;
  lease.renew(request.duration, now);
  return lease;
}

Result<void> check_release(const std::optional<Lease>& current, const ReleaseRequest& request) {
  if (!current) return not_found(request.key);
  if (auto e = check_owner(*current, request.node_id, request.expected_version)) return std::move(*e);
  return {};
}

}  // namespace orbit
