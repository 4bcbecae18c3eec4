// Lease, ActorKey and Uuid helpers of the public API.
#include "orbit/lease.hpp"

#include <random>

namespace orbit {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Uuid> Uuid::parse(std::string_view text) noexcept {
  // 8-4-4-4-12: 36 characters, dashes at 8, 13, 18, 23.
  if (text.size() != 36) return std::nullopt;
  Uuid out;
  std::size_t byte = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int hi = hex_value(text[i]);
    int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.bytes[byte++] = static_cast<std::uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

Uuid Uuid::random() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  Uuid out;
  std::uint64_t a = generator(), b = generator();
  for (int i = 0; i < 8; ++i) {
    out.bytes[i] = static_cast<std::uint8_t>(a >> (56 - 8 * i));
    out.bytes[8 + i] = static_cast<std::uint8_t>(b >> (56 - 8 * i));
  }
  out.bytes[6] = static_cast<std::uint8_t>((out.bytes[6] & 0x0F) | 0x40);  // version 4
  out.bytes[8] = static_cast<std::uint8_t>((out.bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return out;
}

Uuid Uuid::from_u64(std::uint64_t n) noexcept {
  Uuid out;
  for (int i = 0; i < 8; ++i) out.bytes[8 + i] = static_cast<std::uint8_t>(n >> (56 - 8 * i));
  return out;
}

std::string Uuid::to_string() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xF]);
  }
  return out;
}

std::string ActorKey::to_string() const { return actor_type + "/" + actor_id.to_string(); }

Lease Lease::create(ActorKey key, std::string node_id, Millis duration, SystemTime now) {
  Lease lease;
  lease.key = std::move(key);
  lease.node_id = std::move(node_id);
  lease.lease_duration = duration;
  lease.expires_at = now + duration;
  lease.version = 1;
  lease.metadata.created_at = now;
  lease.metadata.last_renewed = now;
  return lease;
}

void Lease::renew(Millis duration, SystemTime now) {
  lease_duration = duration;
  expires_at = now + duration;
  metadata.last_renewed = now;
  ++metadata.renewal_count;
  ++version;
}

}  // namespace orbit
