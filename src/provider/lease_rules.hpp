// The rules of the lease primitives, once for every backend.
//
// Each function looks at the lease currently stored (if any) and the
// caller's request, and returns the lease to write or the Conflict/NotFound
// error to report. Pure: no I/O, no clock reads (now is passed in).
#pragma once

#include <optional>

#include "orbit/lease.hpp"
#include "orbit/provider.hpp"
#include "orbit/result.hpp"

namespace orbit {

// Absent or expired -> a new epoch owned by request.node_id (version =
// previous + 1, so a holder of the old epoch can no longer renew).
Result<Lease> decide_acquire(const std::optional<Lease>& current, const AcquireRequest& request, SystemTime now);
// Owned by request.node_id at expected_version -> renewed (version + 1).
Result<Lease> decide_renew(const std::optional<Lease>& current, const RenewRequest& request, SystemTime now);
// Owned by request.node_id at expected_version -> ok to remove.
Result<void> check_release(const std::optional<Lease>& current, const ReleaseRequest& request);

}  // namespace orbit
