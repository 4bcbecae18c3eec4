// The crash suite's shared vocabulary: the key space, the self-checking
// leases the child writes, and the side log's line format.
//
// A lease is a pure function of (key index, sequence number, batch id):
// make_lease() builds it in the child and again in the parent, so a recovered
// record that differs in any field from the rebuild is torn or misdirected.
// custom_data carries k, s, b in front (so the parent can tell which write a
// record claims to be) and a hash of key + seq + batch + padding.
//
// Side log lines (one write(2) each, O_APPEND, never torn by SIGKILL):
//   pending <key> <seq> <batch|-> <put|remove|batch>
//   ack     <key> <seq> <batch|-> <op>
//   fail    <key> <seq> <batch|-> <op> <error...>
// A batch writes all its members' pending lines in one write(2), then issues.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "orbit/lease.hpp"

namespace orbit::crash {

inline constexpr int kKeyCount = 200;
inline constexpr int kActorTypeCount = 4;
inline constexpr int kNodeCount = 13;  // node_id is "node-0" .. "node-12"

std::string_view actor_type_name(int type_index);
ActorKey key_of(int key_index);

// The lease the child writes for `key_index` at `seq` (batch 0 = not in a batch).
Lease make_lease(int key_index, std::uint64_t seq, std::uint64_t batch_id);

// What a recovered record claims to be, if its custom_data parses and the
// whole lease equals make_lease() of those claims. nullopt = torn/foreign.
struct Claim {
  int key_index = -1;
  std::uint64_t seq = 0;
  std::uint64_t batch_id = 0;
};
std::optional<Claim> self_check(const Lease& lease, std::string* why);

// Deterministic 64-bit generator (splitmix64): the same seed repeats a run.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi);  // [lo, hi]
 private:
  std::uint64_t state_;
};

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed);

}  // namespace orbit::crash
