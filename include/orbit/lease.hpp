// The actor lease: the record the actor system stores (ActorLease in the seed).
//
// A lease says which node owns an actor until when. `version` is the epoch of
// ownership: 1 when first stored, +1 on every renewal; the lease primitives
// compare it so that a node holding a stale copy cannot renew or release.
// Leases order by key = (actor_type, actor_id): all leases of one actor type
// form one contiguous range. Backends also keep secondary orders by owning
// node and by expiry, so list_by_node and list_expiring_before are scans.
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace orbit {

using SystemTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

// A 128-bit UUID in its 16 network-order bytes; compares bytewise.
struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  // Accepts the canonical 8-4-4-4-12 hex form, either case.
  static std::optional<Uuid> parse(std::string_view text) noexcept;
  // A random version-4 UUID.
  static Uuid random();
  // Deterministic UUID from a 64-bit number (tests and benchmarks).
  static Uuid from_u64(std::uint64_t n) noexcept;
  std::string to_string() const;  // lower-case canonical form

  auto operator<=>(const Uuid&) const = default;
  bool operator==(const Uuid&) const = default;
};

// Types with std::string members that users build inline in co_await
// expressions have constructors, not aggregate initialization: g++ 12
// miscompiles aggregate-initialized temporaries inside a co_await
// expression (it frees a moved string twice). tests/api/gcc_coroutine_test.
struct ActorKey {
  ActorKey() = default;
  ActorKey(Uuid id, std::string type) : actor_id(id), actor_type(std::move(type)) {}

  Uuid actor_id;
  std::string actor_type;

  // Order: actor_type first, then actor_id, so a type is a contiguous range.
  std::strong_ordering operator<=>(const ActorKey& other) const {
    if (auto c = actor_type <=> other.actor_type; c != 0) return c;
    return actor_id <=> other.actor_id;
  }
  bool operator==(const ActorKey&) const = default;
  std::string to_string() const;  // "actor_type/uuid", for messages
};

struct LeaseMetadata {
  SystemTime created_at{};
  SystemTime last_renewed{};
  std::uint64_t renewal_count = 0;
  std::string custom_data = "{}";  // JSON text, opaque to the store

  bool operator==(const LeaseMetadata&) const = default;
};

struct Lease {
  ActorKey key;
  std::string node_id;
  SystemTime expires_at{};
  Millis lease_duration{0};
  std::uint64_t version = 1;
  LeaseMetadata metadata;

  // A fresh lease owned by `node_id` for `duration` from `now`, version 1.
  static Lease create(ActorKey key, std::string node_id, Millis duration,
                      SystemTime now = std::chrono::system_clock::now());

  // Moves expiry and last_renewed to now + duration / now, bumps version and
  // renewal_count.
  void renew(Millis duration, SystemTime now = std::chrono::system_clock::now());

  bool expired(SystemTime now = std::chrono::system_clock::now()) const { return expires_at <= now; }

  bool operator==(const Lease&) const = default;
};

using ActorLease = Lease;

// Limits the store accepts (a lease outside them is InvalidArgument).
inline constexpr std::size_t kMaxActorTypeBytes = 255;
inline constexpr std::size_t kMaxNodeIdBytes = 255;
inline constexpr std::size_t kMaxCustomDataBytes = 64 * 1024;

}  // namespace orbit
