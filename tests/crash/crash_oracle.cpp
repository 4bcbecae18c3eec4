#include "tests/crash/crash_oracle.hpp"

#include <fstream>
#include <map>
#include <sstream>

namespace orbit::crash {

std::string KeyState::to_string() const {
  if (!present) return "absent";
  return "seq " + std::to_string(seq) + (batch_id ? " (batch " + std::to_string(batch_id) + ")" : std::string());
}

KeyState SideLog::Write::outcome() const {
  if (kind == Kind::Remove) return KeyState{};
  return KeyState{true, seq, batch_id};
}

SideLog read_side_log(const std::string& path) {
  SideLog log;
  std::ifstream in(path);
  std::string text;
  // A last line without its newline is the child's write of it cut short by
  // SIGKILL (a write to a file can stop at a page boundary): that record was
  // never complete, so the write it names stays pending.
  while (std::getline(in, text) && !in.eof()) {
    if (text == "opened") {
      log.opened = true;
      continue;
    }
    if (text.rfind("open-failed ", 0) == 0) {
      log.open_error = text.substr(12);
      continue;
    }
    std::istringstream fields(text);
    std::string status, batch, op;
    long key = -1;
    std::uint64_t seq = 0;
    if (!(fields >> status >> key >> seq >> batch >> op) || key < 0 || key >= kKeyCount) {
      log.malformed.push_back(text);
      continue;
    }
    auto& writes = log.keys[static_cast<std::size_t>(key)];
    if (status == "pending") {
      SideLog::Write w;
      w.seq = seq;
      w.batch_id = batch == "-" ? 0 : std::stoull(batch);
      w.kind = op == "remove" ? SideLog::Kind::Remove : op == "batch" ? SideLog::Kind::BatchPut : SideLog::Kind::Put;
      if (!writes.empty() && writes.back().seq >= seq) log.malformed.push_back("seq not increasing: " + text);
      writes.push_back(w);
      ++log.issued;
      continue;
    }
    SideLog::Write* found = nullptr;
    for (auto it = writes.rbegin(); it != writes.rend(); ++it)
      if (it->seq == seq) {
        found = &*it;
        break;
      }
    if (!found || (status != "ack" && status != "fail")) {
      log.malformed.push_back(text);
      continue;
    }
    if (status == "ack") {
      found->status = SideLog::Status::Acked;
      ++log.acked;
    } else {
      found->status = SideLog::Status::Failed;
      log.failures.push_back(text);
    }
  }
  return log;
}

Verdict check_recovery(const std::vector<KeyState>& previous, const SideLog& log,
                       const std::vector<std::optional<Lease>>& recovered, std::vector<KeyState>* next) {
  Verdict verdict;
  verdict.acked_checked = log.acked;
  next->assign(kKeyCount, KeyState{});
  std::vector<bool> torn(kKeyCount, false);

  for (int k = 0; k < kKeyCount; ++k) {
    const auto& writes = log.keys[static_cast<std::size_t>(k)];
    const auto& got = recovered[static_cast<std::size_t>(k)];
    const std::string name = "key " + std::to_string(k) + " (" + key_of(k).to_string() + ")";

    KeyState seen;
    if (got) {
      std::string why;
      auto claim = self_check(*got, &why);
      if (!claim || claim->key_index != k) {
        ++verdict.torn;
        torn[static_cast<std::size_t>(k)] = true;
        verdict.problems.push_back("torn: " + name + ": " + (claim ? "record claims another key" : why));
        (*next)[static_cast<std::size_t>(k)] = KeyState{};
        continue;
      }
      seen = KeyState{true, claim->seq, claim->batch_id};
      // Rule 2: the write it claims was issued, for this key, in this batch.
      bool issued = previous[static_cast<std::size_t>(k)] == seen;
      for (const auto& w : writes)
        if (w.kind != SideLog::Kind::Remove && w.outcome() == seen) issued = true;
      if (!issued) {
        ++verdict.torn;
        torn[static_cast<std::size_t>(k)] = true;
        verdict.problems.push_back("never issued: " + name + " holds " + seen.to_string());
      }
    }
    (*next)[static_cast<std::size_t>(k)] = seen;
    if (torn[static_cast<std::size_t>(k)]) continue;

    // Rule 1.
    std::size_t first_allowed = 0;
    std::vector<KeyState> allowed;
    for (std::size_t i = writes.size(); i-- > 0;)
      if (writes[i].status == SideLog::Status::Acked) {
        first_allowed = i;
        break;
      }
    const bool any_ack = first_allowed < writes.size() && writes[first_allowed].status == SideLog::Status::Acked;
    if (!any_ack) allowed.push_back(previous[static_cast<std::size_t>(k)]);
    for (std::size_t i = any_ack ? first_allowed : 0; i < writes.size(); ++i) allowed.push_back(writes[i].outcome());
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == seen;
    if (!ok) {
      ++verdict.lost;
      std::string expect;
      for (const auto& a : allowed) expect += (expect.empty() ? "" : " | ") + a.to_string();
      verdict.problems.push_back("lost write: " + name + " recovered " + seen.to_string() + ", allowed: " + expect);
    }
  }

  // Rule 3: unacknowledged batches that are each member's last write.
  std::map<std::uint64_t, std::vector<int>> batches;
  for (int k = 0; k < kKeyCount; ++k) {
    const auto& writes = log.keys[static_cast<std::size_t>(k)];
    if (!writes.empty() && writes.back().kind == SideLog::Kind::BatchPut &&
        writes.back().status != SideLog::Status::Acked)
      batches[writes.back().batch_id].push_back(k);
  }
  for (const auto& [batch_id, members] : batches) {
    // Members whose last write is another (later) op than this batch were
    // left out above; if any member was, the batch cannot be judged whole.
    std::size_t expected_members = 0;
    for (int k = 0; k < kKeyCount; ++k)
      for (const auto& w : log.keys[static_cast<std::size_t>(k)])
        if (w.batch_id == batch_id) ++expected_members;
    if (expected_members != members.size()) continue;
    std::size_t showing = 0;
    bool any_torn = false;
    for (int k : members) {
      any_torn = any_torn || torn[static_cast<std::size_t>(k)];
      const auto& s = (*next)[static_cast<std::size_t>(k)];
      if (s.present && s.batch_id == batch_id) ++showing;
    }
    if (any_torn) continue;  // already counted as torn
    if (showing != 0 && showing != members.size()) {
      ++verdict.batch_violations;
      std::string detail;
      for (int k : members)
        detail += " key " + std::to_string(k) + "=" + (*next)[static_cast<std::size_t>(k)].to_string();
      verdict.problems.push_back("batch " + std::to_string(batch_id) + " half visible (" + std::to_string(showing) +
                                 "/" + std::to_string(members.size()) + "):" + detail);
    }
  }
  return verdict;
}

}  // namespace orbit::crash
