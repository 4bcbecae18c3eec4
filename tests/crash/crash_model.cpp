#include "tests/crash/crash_model.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdio>

namespace orbit::crash {

namespace {

constexpr std::string_view kActorTypes[kActorTypeCount] = {"alpha", "beta", "delta", "gamma"};

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Whole milliseconds only: whatever resolution a codec keeps, these survive.
SystemTime at_ms(std::uint64_t ms) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(ms)));
}

}  // namespace

std::uint64_t Rng::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t Rng::uniform(std::uint64_t lo, std::uint64_t hi) { return lo + next() % (hi - lo + 1); }

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ mix(seed);
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix(h);
}

std::string_view actor_type_name(int type_index) { return kActorTypes[type_index]; }

ActorKey key_of(int key_index) {
  return ActorKey(Uuid::from_u64(static_cast<std::uint64_t>(key_index) + 1),
                  std::string(kActorTypes[key_index % kActorTypeCount]));
}

Lease make_lease(int key_index, std::uint64_t seq, std::uint64_t batch_id) {
  const std::uint64_t shape = mix(seq * 1000003ULL + static_cast<std::uint64_t>(key_index));
  Lease lease;
  lease.key = key_of(key_index);
  lease.node_id = "node-" + std::to_string(shape % kNodeCount);
  const std::uint64_t base_ms = 1'900'000'000'000ULL;  // 2030: never expired during a run
  lease.metadata.created_at = at_ms(base_ms + seq % 1'000'000);
  lease.metadata.last_renewed = at_ms(base_ms + seq % 1'000'000 + 7);
  lease.lease_duration = Millis(static_cast<std::int64_t>(1000 + shape % 5000));
  lease.expires_at = at_ms(base_ms + seq % 1'000'000 + 1000 + shape % 5000);
  lease.version = seq;
  lease.metadata.renewal_count = seq ^ batch_id;

  // Padding of 0..1199 bytes: values of varied size fill memtables quickly.
  std::string pad(static_cast<std::size_t>(shape % 1200), 'a');
  std::uint64_t r = shape;
  for (char& c : pad) {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>('a' + (r >> 59) % 26);
  }
  const std::string identity = lease.key.to_string() + "#" + std::to_string(seq) + "#" + std::to_string(batch_id);
  char head[160];
  std::snprintf(head, sizeof head, "{\"k\":%d,\"s\":%" PRIu64 ",\"b\":%" PRIu64 ",\"h\":\"%016" PRIx64 "\",\"p\":\"",
                key_index, seq, batch_id, hash64(identity + pad, 17));
  lease.metadata.custom_data = std::string(head) + pad + "\"}";
  return lease;
}

std::optional<Claim> self_check(const Lease& lease, std::string* why) {
  Claim claim;
  unsigned long long seq = 0, batch = 0;
  int key = -1;
  if (std::sscanf(lease.metadata.custom_data.c_str(), "{\"k\":%d,\"s\":%llu,\"b\":%llu,", &key, &seq, &batch) != 3 ||
      key < 0 || key >= kKeyCount) {
    if (why) *why = "custom_data does not parse: '" + lease.metadata.custom_data.substr(0, 80) + "'";
    return std::nullopt;
  }
  claim.key_index = key;
  claim.seq = seq;
  claim.batch_id = batch;
  if (!(lease == make_lease(key, seq, batch))) {
    if (why)
      *why = "record " + lease.key.to_string() + " claims k=" + std::to_string(key) + " s=" + std::to_string(seq) +
             " b=" + std::to_string(batch) + " but differs from that write (torn or misdirected)";
    return std::nullopt;
  }
  return claim;
}

}  // namespace orbit::crash
