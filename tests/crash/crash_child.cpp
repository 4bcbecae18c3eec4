#include "tests/crash/crash_child.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "orbit/factory.hpp"
#include "orbit/sync_wait.hpp"
#include "tests/crash/crash_model.hpp"

namespace orbit::crash {
namespace {

struct ChildState {
  std::unique_ptr<PersistenceProvider> store;
  int log_fd = -1;
  std::uint64_t seed = 0;
  std::atomic<std::uint64_t> next_batch{0};
  // A key's seq counter is touched only by the writer holding its claim;
  // the claim's acquire/release orders the hand-over between threads.
  std::array<std::atomic<bool>, kKeyCount> claimed{};
  std::array<std::uint64_t, kKeyCount> last_seq{};
  std::atomic<std::uint64_t> writes_started{0};
  int drop_percent = 0;
};

// One write(2) per call on an O_APPEND fd: the text reaches the page cache
// whole or not at all, and the page cache outlives a SIGKILL.
void append(int fd, const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::perror("orbit-crash child: side log write");
      ::_exit(4);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::string line(std::string_view status, int key, std::uint64_t seq, std::uint64_t batch, std::string_view op) {
  std::string out(status);
  out += ' ';
  out += std::to_string(key);
  out += ' ';
  out += std::to_string(seq);
  out += ' ';
  out += batch ? std::to_string(batch) : std::string("-");
  out += ' ';
  out += op;
  return out;
}

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n') c = ' ';
  return text;
}

bool try_claim(ChildState& st, int key) {
  bool expected = false;
  return st.claimed[static_cast<std::size_t>(key)].compare_exchange_strong(expected, true, std::memory_order_acquire);
}
void unclaim(ChildState& st, int key) { st.claimed[static_cast<std::size_t>(key)].store(false, std::memory_order_release); }

int claim_random_key(ChildState& st, Rng& rng) {
  for (;;) {
    int key = static_cast<int>(rng.uniform(0, kKeyCount - 1));
    if (try_claim(st, key)) return key;
  }
}

Task<void> write_one(ChildState* st, Rng* rng) {
  const int key = claim_random_key(*st, *rng);
  const std::uint64_t seq = ++st->last_seq[static_cast<std::size_t>(key)];
  const bool remove = rng->uniform(0, 99) < 20;
  const std::string_view op = remove ? "remove" : "put";
  append(st->log_fd, line("pending", key, seq, 0, op) + "\n");
  Status result;
  if (remove) {
    ActorKey actor_key = key_of(key);
    result = co_await st->store->remove_lease(std::move(actor_key));
    // Nothing stored under the key: it is absent afterwards either way.
    if (!result.ok() && result.code() == ErrorCode::NotFound) result = Status();
  } else if (st->drop_percent > 0 && static_cast<int>(rng->uniform(0, 99)) < st->drop_percent) {
    result = Status();  // --self-test-drop-percent: a lie the oracle must catch
  } else {
    Lease lease = make_lease(key, seq, 0);
    result = co_await st->store->store_lease(std::move(lease));
  }
  if (result.ok())
    append(st->log_fd, line("ack", key, seq, 0, op) + "\n");
  else
    append(st->log_fd, line("fail", key, seq, 0, op) + " " + one_line(result.error().to_string()) + "\n");
  unclaim(*st, key);
}

Task<void> write_batch(ChildState* st, Rng* rng) {
  const int members = static_cast<int>(rng->uniform(2, 5));
  std::vector<int> keys;
  while (static_cast<int>(keys.size()) < members) {
    int key = static_cast<int>(rng->uniform(0, kKeyCount - 1));
    if (try_claim(*st, key)) keys.push_back(key);
  }
  const std::uint64_t batch_id = st->next_batch.fetch_add(1) + 1;
  std::vector<std::uint64_t> seqs;
  std::string pending;
  WriteBatch batch;
  for (int key : keys) {
    const std::uint64_t seq = ++st->last_seq[static_cast<std::size_t>(key)];
    seqs.push_back(seq);
    pending += line("pending", key, seq, batch_id, "batch") + "\n";
    batch.put(make_lease(key, seq, batch_id));
  }
  append(st->log_fd, pending);
  Status result = co_await st->store->apply_batch(std::move(batch));
  std::string done;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (result.ok())
      done += line("ack", keys[i], seqs[i], batch_id, "batch") + "\n";
    else
      done += line("fail", keys[i], seqs[i], batch_id, "batch") + " " + one_line(result.error().to_string()) + "\n";
  }
  append(st->log_fd, done);
  for (int key : keys) unclaim(*st, key);
}

Task<void> writer(ChildState* st, int id) {
  Rng rng(st->seed ^ (0x51ed27ULL * static_cast<std::uint64_t>(id + 1)));
  for (;;) {
    st->writes_started.fetch_add(1, std::memory_order_relaxed);
    if (rng.uniform(0, 99) < 20)
      co_await write_batch(st, &rng);
    else
      co_await write_one(st, &rng);
  }
}

// Flushes, checkpoints (memtable flush / compaction trigger) and stats calls
// from a plain thread, so they interleave with the writers at random.
void maintenance(ChildState* st) {
  Rng rng(st->seed ^ 0xfeedULL);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(rng.uniform(3, 30)));
    const auto pick = rng.uniform(0, 9);
    if (pick < 5) {
      auto r = sync_wait(st->store->checkpoint());
      if (!r.ok() && r.code() != ErrorCode::NotSupported)
        std::fprintf(stderr, "orbit-crash child: checkpoint failed: %s\n", r.error().to_string().c_str());
    } else if (pick < 9) {
      auto r = sync_wait(st->store->flush());
      if (!r.ok()) std::fprintf(stderr, "orbit-crash child: flush failed: %s\n", r.error().to_string().c_str());
    } else {
      auto r = sync_wait(st->store->stats());
      (void)r;
    }
  }
}

}  // namespace

int run_child(const ChildOptions& options) {
  auto* st = new ChildState();  // never freed: the child ends by SIGKILL
  st->seed = options.seed;
  st->drop_percent = options.drop_percent;
  st->next_batch = options.batch_base;
  st->last_seq.fill(options.seq_base);
  st->log_fd = ::open(options.side_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (st->log_fd < 0) {
    std::perror("orbit-crash child: open side log");
    return 2;
  }
  auto opened = sync_wait(PersistenceFactory::create_provider(options.config));
  if (!opened.ok()) {
    append(st->log_fd, "open-failed " + one_line(opened.error().to_string()) + "\n");
    std::fprintf(stderr, "orbit-crash child: open failed: %s\n", opened.error().to_string().c_str());
    return 2;
  }
  st->store = std::move(opened).value();
  append(st->log_fd, "opened\n");

  // Detached writers: each runs here until its first operation hops it onto
  // the store's loop, and lives there until the kill.
  for (int i = 0; i < options.writers; ++i) writer(st, i).release().resume();
  std::thread(maintenance, st).detach();

  if (options.ready_fd >= 0) {
    const char ready = 'R';
    (void)!::write(options.ready_fd, &ready, 1);
    ::close(options.ready_fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(options.max_run_ms));
  std::fprintf(stderr, "orbit-crash child: not killed within %llu ms, exiting\n",
               static_cast<unsigned long long>(options.max_run_ms));
  ::_exit(3);
}

}  // namespace orbit::crash
