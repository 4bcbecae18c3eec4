#include "src/verify/layout_checker.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <utility>

#include "src/codec/key_layout.hpp"
#include "src/codec/lease_codec.hpp"

namespace orbit::verify {
namespace {

std::uint64_t fingerprint(std::string_view bytes) { return std::hash<std::string_view>{}(bytes); }

std::int64_t to_ns(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string uuid_text(const std::uint8_t (&bytes)[16]) {
  Uuid id;
  std::memcpy(id.bytes.data(), bytes, 16);
  return id.to_string();
}

// Keys may hold any bytes: show printable ASCII, escape the rest, cut long ones.
std::string printable(std::string_view key) {
  std::string out;
  for (unsigned char c : key.substr(0, 96)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (key.size() > 96) out += "...";
  return out;
}

}  // namespace

LayoutChecker::LayoutChecker(VerifyReport& report, std::size_t max_problems)
    : report_(report), max_problems_(max_problems) {}

void LayoutChecker::problem(const Location& where, std::string what) {
  if (report_.problems.size() >= max_problems_) {
    ++suppressed_;
    return;
  }
  report_.problems.push_back(FileProblem{where.file, where.offset, std::move(what)});
}

void LayoutChecker::enter(Phase phase) {
  if (phase_ == Phase::Expiry && phase != Phase::Expiry) {
    std::sort(expiry_.begin(), expiry_.end(), [](const ExpiryEntry& a, const ExpiryEntry& b) {
      return std::pair(a.actor, a.entry) < std::pair(b.actor, b.entry);
    });
    // One node entry per live lease, and a consistent store has one expiry entry per lease.
    nodes_expected_.reserve(expiry_.size());
  }
  if (phase_ != Phase::Node && phase == Phase::Node) {
    std::sort(nodes_expected_.begin(), nodes_expected_.end(),
              [](const NodeEntry& a, const NodeEntry& b) { return a.entry < b.entry; });
  }
  if (phase > phase_) phase_ = phase;
}

void LayoutChecker::add(std::string_view key, std::string_view value, const Location& where) {
  if (finished_) return;
  if (have_previous_ && !(std::string_view(previous_key_) < key))
    problem(where, "key out of order: '" + printable(key) + "' follows '" + printable(previous_key_) + "'");
  previous_key_.assign(key);
  have_previous_ = true;
  if (key.empty()) {
    problem(where, "empty key");
    return;
  }
  switch (key[0]) {
    case codec::kExpiryIndexTag:
      if (phase_ != Phase::Expiry) return problem(where, "expiry index key after primary keys (out of order)");
      return add_expiry(key, value, where);
    case codec::kPrimaryTag:
      if (phase_ == Phase::Node) return problem(where, "primary key after index keys (out of order)");
      enter(Phase::Primary);
      return add_primary(key, value, where);
    case codec::kNodeIndexTag:
      enter(Phase::Node);
      return add_node(key, value, where);
    default:
      problem(where, "key '" + printable(key) + "' is not a lease or index key (first byte not 'L', 'N' or 'E')");
  }
}

void LayoutChecker::add_expiry(std::string_view key, std::string_view value, const Location& where) {
  auto actor = codec::decode_expiry_index_key(key);
  auto time = codec::decode_expiry_index_time(key);
  if (!actor || !time) return problem(where, "expiry index key '" + printable(key) + "' does not decode");
  if (!value.empty())
    problem(where, "expiry index entry of " + actor->to_string() + " has a " + std::to_string(value.size()) +
                       "-byte value (index values are empty)");
  ExpiryEntry entry{};
  entry.actor = fingerprint(codec::primary_key(*actor));
  entry.entry = fingerprint(key);
  entry.time_ns = to_ns(*time);
  std::memcpy(entry.uuid, actor->actor_id.bytes.data(), 16);
  expiry_.push_back(entry);
}

void LayoutChecker::add_primary(std::string_view key, std::string_view value, const Location& where) {
  auto stored_under = codec::decode_primary_key(key);
  if (!stored_under) return problem(where, "primary key '" + printable(key) + "' does not decode");
  auto lease = codec::decode_lease(value);
  const std::uint64_t actor = fingerprint(key);
  auto range = std::equal_range(expiry_.begin(), expiry_.end(), ExpiryEntry{actor, 0, 0, {}, false},
                                [](const ExpiryEntry& a, const ExpiryEntry& b) { return a.actor < b.actor; });
  if (!lease) {
    // Its index entries cannot be checked; do not also call them orphans.
    for (auto it = range.first; it != range.second; ++it) it->matched = true;
    undecodable_.push_back(actor);
    return problem(where, "lease " + stored_under->to_string() + " does not decode: " + lease.error().message);
  }
  ++leases_;
  if (lease->key != *stored_under)
    problem(where, "primary key names " + stored_under->to_string() + " but the lease stored under it is " +
                       lease->key.to_string());

  const std::uint64_t expected = fingerprint(codec::expiry_index_key(lease->expires_at, lease->key));
  bool found = false;
  for (auto it = range.first; it != range.second; ++it) {
    if (it->entry == expected) {
      it->matched = true;
      found = true;
    }
  }
  if (!found) {
    std::string what = "lease " + lease->key.to_string() + " (expires_at " + std::to_string(to_ns(lease->expires_at)) +
                       " ns) has no expiry index entry";
    if (range.first != range.second) what += " for that time (one at " + std::to_string(range.first->time_ns) + " ns)";
    problem(where, std::move(what));
  }

  NodeEntry node{};
  node.entry = fingerprint(codec::node_index_key(lease->node_id, lease->key));
  std::memcpy(node.uuid, lease->key.actor_id.bytes.data(), 16);
  nodes_expected_.push_back(node);
}

void LayoutChecker::add_node(std::string_view key, std::string_view value, const Location& where) {
  auto actor = codec::decode_node_index_key(key);
  auto node = codec::decode_node_index_node(key);
  if (!actor || !node) return problem(where, "by-node index key '" + printable(key) + "' does not decode");
  if (!value.empty())
    problem(where, "by-node index entry of " + actor->to_string() + " has a " + std::to_string(value.size()) +
                       "-byte value (index values are empty)");
  const std::uint64_t entry = fingerprint(key);
  auto it = std::lower_bound(nodes_expected_.begin(), nodes_expected_.end(), entry,
                             [](const NodeEntry& a, std::uint64_t e) { return a.entry < e; });
  if (it != nodes_expected_.end() && it->entry == entry) {
    it->matched = true;
    return;
  }
  const std::uint64_t owner = fingerprint(codec::primary_key(*actor));
  if (std::find(undecodable_.begin(), undecodable_.end(), owner) != undecodable_.end()) return;
  problem(where, "by-node index entry (node '" + printable(*node) + "', " + actor->to_string() +
                     ") names no lease owned by that node (orphaned)");
}

void LayoutChecker::finish() {
  if (finished_) return;
  enter(Phase::Node);
  finished_ = true;
  const Location store_wide;
  for (const ExpiryEntry& e : expiry_)
    if (!e.matched)
      problem(store_wide, "expiry index entry for actor_id " + uuid_text(e.uuid) + " at " +
                              std::to_string(e.time_ns) + " ns names no lease expiring then (orphaned)");
  for (const NodeEntry& n : nodes_expected_)
    if (!n.matched) problem(store_wide, "lease with actor_id " + uuid_text(n.uuid) + " has no by-node index entry");
  if (suppressed_ > 0)
    report_.problems.push_back(
        FileProblem{"", 0, std::to_string(suppressed_) + " more problems not listed (limit " +
                               std::to_string(max_problems_) + ")"});
  report_.leases_checked += leases_;
  expiry_ = {};
  nodes_expected_ = {};
  undecodable_ = {};
}

}  // namespace orbit::verify
