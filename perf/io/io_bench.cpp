// io_bench: what the coroutine I/O layer costs, measured side by side in one run.
//
//  (a) 4 KiB write + fdatasync into a preallocated (zero-filled) file, at concurrency 1 and
//      64: our runtime (io_uring and Asio backends, write_and_datasync) vs
//      plain pwrite+fdatasync (one thread per concurrent writer).
//  (b) per-op overhead of a no-op: a plain Task await, and a post/resume
//      round trip through the loop (Runtime::yield).
//  (c) 4 KiB random reads at QD1 and QD32: our runtime vs a raw io_uring loop,
//      O_DIRECT when the filesystem allows it.
//
//  (d) ring features with raw liburing (no runtime involved): registered file,
//      registered file + registered buffers, and SQPOLL (reads only) against a
//      plain fd, for (c)'s reads at QD1/QD32 and (a)'s write+fdatasync at
//      concurrency 1/64; alternating rounds, medians, CPU seconds, verdicts.
//
// Usage: orbit_io_bench [--dir DIR] [--seconds S] [--features-only | --no-features]
//                       [--feature-rounds N] [--feature-seconds S]
//   defaults: ./ , 1.5 s per case for (a)-(c); (d) 6 rounds x 0.2 s per variant
// Prints a table, then one JSON object per case. These machines are shared and
// noisy: read the ratios, not the absolute numbers.
#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "io/runtime.hpp"

using namespace orbit;
using namespace orbit::io;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kBlock = 4096;
constexpr std::uint64_t kWriteFileBytes = 64ull << 20;
constexpr std::uint64_t kReadFileBytes = 128ull << 20;
double g_seconds = 1.5;

struct Stats {
  std::string group, name;
  int concurrency = 1;
  double ops_per_s = 0, p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  double baseline_ops = 0;  // for the ratio column
};

std::vector<Stats> g_results;

Stats summarize(std::string group, std::string name, int concurrency, std::vector<double>& lat_us, double seconds) {
  Stats s{std::move(group), std::move(name), concurrency};
  if (!lat_us.empty()) {
    std::sort(lat_us.begin(), lat_us.end());
    auto at = [&](double q) { return lat_us[std::min(lat_us.size() - 1, static_cast<std::size_t>(q * lat_us.size()))]; };
    s.p50_us = at(0.50);
    s.p99_us = at(0.99);
    s.p999_us = at(0.999);
    s.max_us = lat_us.back();
  }
  s.ops_per_s = static_cast<double>(lat_us.size()) / seconds;
  return s;
}

double us_since(Clock::time_point t0) { return std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }

std::byte* aligned_block(unsigned char fill) {
  auto* p = static_cast<std::byte*>(std::aligned_alloc(kBlock, kBlock));
  std::memset(p, fill, kBlock);
  return p;
}

// ---- (a) write + fdatasync ---------------------------------------------------

// Zero-filled, not just fallocate()d: fallocate leaves "unwritten" extents,
// and the first fdatasync after writing into one must also commit the extent
// conversion to the journal. That would make whichever case runs first pay
// for it; a written file gives every case the same device work.
void prepare_write_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  std::vector<std::byte> zeros(1 << 20);
  for (std::uint64_t off = 0; fd >= 0 && off < kWriteFileBytes; off += zeros.size()) {
    if (::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(off)) != static_cast<ssize_t>(zeros.size())) {
      std::perror("prepare write file");
      std::exit(1);
    }
  }
  if (fd < 0 || ::fsync(fd) != 0) {
    std::perror("prepare write file");
    std::exit(1);
  }
  ::close(fd);
}

Stats plain_write_sync(const std::string& path, int concurrency) {
  int fd = ::open(path.c_str(), O_RDWR);
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(concurrency));
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(g_seconds));
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < concurrency; ++w) {
    threads.emplace_back([&, w] {
      std::byte* block = aligned_block(static_cast<unsigned char>(w));
      std::uint64_t slots = kWriteFileBytes / kBlock;
      for (std::uint64_t i = 0; Clock::now() < deadline; ++i) {
        auto offset = ((static_cast<std::uint64_t>(w) * 7919 + i * static_cast<std::uint64_t>(concurrency)) % slots) * kBlock;
        auto t0 = Clock::now();
        if (::pwrite(fd, block, kBlock, static_cast<off_t>(offset)) != static_cast<ssize_t>(kBlock) || ::fdatasync(fd) != 0) {
          std::perror("pwrite/fdatasync");
          std::exit(1);
        }
        lat[static_cast<std::size_t>(w)].push_back(us_since(t0));
      }
      std::free(block);
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  return summarize("write4k+fdatasync", "plain pwrite+fdatasync", concurrency, all, seconds);
}

Task<void> writer(File* file, int w, int concurrency, Clock::time_point deadline, std::vector<double>* lat,
                  std::atomic<int>* left) {
  std::byte* block = aligned_block(static_cast<unsigned char>(w));
  iovec part{block, kBlock};
  std::uint64_t slots = kWriteFileBytes / kBlock;
  for (std::uint64_t i = 0; Clock::now() < deadline; ++i) {
    auto offset = ((static_cast<std::uint64_t>(w) * 7919 + i * static_cast<std::uint64_t>(concurrency)) % slots) * kBlock;
    auto t0 = Clock::now();
    auto done = co_await file->write_and_datasync(std::span<const iovec>(&part, 1), offset);
    if (!done) {
      std::fprintf(stderr, "write_and_datasync: %s\n", done.message().c_str());
      std::exit(1);
    }
    lat->push_back(us_since(t0));
  }
  std::free(block);
  if (left->fetch_sub(1) == 1) left->notify_all();
}

Task<std::unique_ptr<File>> open_file(Runtime* rt, std::string path, OpenOptions options) {
  auto file = co_await rt->fs().open(path, options);
  if (!file) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), file.message().c_str());
    std::exit(1);
  }
  co_return std::move(*file);
}

Stats runtime_write_sync(Runtime* rt, const std::string& path, int concurrency) {
  OpenOptions options;
  options.write = true;
  auto file = rt->block_on(open_file(rt, path, options));
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(concurrency));
  std::atomic<int> left{concurrency};
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(g_seconds));
  for (int w = 0; w < concurrency; ++w) rt->spawn(writer(file.get(), w, concurrency, deadline, &lat[static_cast<std::size_t>(w)], &left));
  for (int v = left.load(); v != 0; v = left.load()) left.wait(v);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  return summarize("write4k+fdatasync", std::string("runtime ") + std::string(to_string(rt->kind())), concurrency, all, seconds);
}

// ---- (b) no-op overhead ------------------------------------------------------

Task<int> noop() { co_return 1; }

Task<double> await_loop(int n) {
  auto t0 = Clock::now();
  int sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await noop();
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
  co_return sum == n ? ns : -1;
}

Task<double> yield_loop(Runtime* rt, int n) {
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) co_await rt->yield();
  co_return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
}

// Cross-thread: a plain thread posts, the loop resumes, the thread waits for it.
struct CrossPost {
  Runtime* rt;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { rt->post(h); }
  void await_resume() const noexcept {}
};
Task<void> touch(Runtime*) { co_return; }

double cross_thread_roundtrip_ns(Runtime* rt, int n) {
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) rt->block_on(touch(rt));
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
}

// ---- (c) random reads ----------------------------------------------------------

void prepare_read_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) == kReadFileBytes) return;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  std::vector<std::byte> chunk(1 << 20);
  std::mt19937_64 rng(1);
  for (auto& b : chunk) b = static_cast<std::byte>(rng());
  for (std::uint64_t off = 0; off < kReadFileBytes; off += chunk.size()) {
    if (::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) != static_cast<ssize_t>(chunk.size())) {
      std::perror("prepare read file");
      std::exit(1);
    }
  }
  ::fsync(fd);
  ::close(fd);
}

bool direct_works(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECT);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

Task<void> reader(File* file, unsigned seed, Clock::time_point deadline, std::vector<double>* lat, std::atomic<int>* left) {
  std::byte* block = aligned_block(0);
  std::mt19937_64 rng(seed);
  std::uint64_t blocks = kReadFileBytes / kBlock;
  while (Clock::now() < deadline) {
    auto offset = (rng() % blocks) * kBlock;
    auto t0 = Clock::now();
    auto got = co_await file->read_at({block, kBlock}, offset);
    if (!got || *got != kBlock) {
      std::fprintf(stderr, "read_at failed\n");
      std::exit(1);
    }
    lat->push_back(us_since(t0));
  }
  std::free(block);
  if (left->fetch_sub(1) == 1) left->notify_all();
}

Stats runtime_reads(Runtime* rt, const std::string& path, int depth, bool direct) {
  OpenOptions options;
  options.direct = direct;
  auto file = rt->block_on(open_file(rt, path, options));
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(depth));
  std::atomic<int> left{depth};
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(g_seconds));
  for (int q = 0; q < depth; ++q) rt->spawn(reader(file.get(), static_cast<unsigned>(q + 1), deadline, &lat[static_cast<std::size_t>(q)], &left));
  for (int v = left.load(); v != 0; v = left.load()) left.wait(v);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  return summarize("randread4k", std::string("runtime ") + std::string(to_string(rt->kind())), depth, all, seconds);
}

Stats raw_uring_reads(const std::string& path, int depth, bool direct) {
  int fd = ::open(path.c_str(), O_RDONLY | (direct ? O_DIRECT : 0));
  io_uring ring;
  if (io_uring_queue_init(64, &ring, 0) != 0) {
    std::fprintf(stderr, "raw io_uring unavailable\n");
    return Stats{"randread4k", "raw io_uring (unavailable)", depth};
  }
  std::vector<std::byte*> buffers;
  std::vector<Clock::time_point> started(static_cast<std::size_t>(depth));
  for (int q = 0; q < depth; ++q) buffers.push_back(aligned_block(0));
  std::mt19937_64 rng(7);
  std::uint64_t blocks = kReadFileBytes / kBlock;
  auto issue = [&](int slot) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, buffers[static_cast<std::size_t>(slot)], kBlock, (rng() % blocks) * kBlock);
    io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(slot));
    started[static_cast<std::size_t>(slot)] = Clock::now();
  };
  std::vector<double> lat;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(g_seconds));
  for (int q = 0; q < depth; ++q) issue(q);
  int inflight = depth;
  while (inflight > 0) {
    io_uring_submit_and_wait(&ring, 1);
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    std::vector<int> again;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      int slot = static_cast<int>(cqe->user_data);
      if (cqe->res != static_cast<int>(kBlock)) {
        std::fprintf(stderr, "raw read failed: %d\n", cqe->res);
        std::exit(1);
      }
      lat.push_back(us_since(started[static_cast<std::size_t>(slot)]));
      --inflight;
      if (Clock::now() < deadline) again.push_back(slot);
    }
    io_uring_cq_advance(&ring, seen);
    for (int slot : again) {
      issue(slot);
      ++inflight;
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  io_uring_queue_exit(&ring);
  for (auto* b : buffers) std::free(b);
  ::close(fd);
  return summarize("randread4k", "raw io_uring", depth, lat, seconds);
}

// ---- (d) ring features, raw liburing: registered files/buffers, SQPOLL ------------
//
// Each variant is a separate raw ring (flags 0 unless SQPOLL), same loop, same
// offsets. Variants of one case run in alternating rounds (every variant once
// per round, order shuffled per round), plus an A/A control (a second,
// identical plain ring) that shows how far two equal variants drift apart. The
// the table reports medians over rounds; "ratio" is the median of the per-round
// ratios against the plain variant of the same round, "wins" how many rounds
// the variant beat plain. CPU is CLOCK_PROCESS_CPUTIME_ID around the timed loop:
// it covers every thread of the thread group, which includes io_uring's own
// kernel threads (iou-sqp-*, iou-wrk-*) since 5.12; the SQPOLL thread's share is
// also read from /proc/self/task/*/stat (comm "iou-sqp-*") as a cross-check.

int g_feature_rounds = 6;
double g_feature_round_seconds = 0.2;

struct RingVariant {
  const char* name;
  bool fixed_file = false;
  bool fixed_buf = false;
  bool sqpoll = false;
};

struct RoundResult {
  bool ok = false;
  std::string why;
  double ops = 0, p50 = 0, p99 = 0, cpu_s = 0, sq_cpu_s = 0, wall_s = 0;
};

double process_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// utime+stime of this process's io_uring SQPOLL threads (comm "iou-sqp-<pid>"), in seconds.
double sqpoll_thread_cpu_s() {
  double total = 0;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return 0;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::string path = std::string("/proc/self/task/") + e->d_name + "/stat";
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) continue;
    char buf[1024];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* open = std::strchr(buf, '(');
    const char* close = std::strrchr(buf, ')');
    if (open == nullptr || close == nullptr || std::strncmp(open + 1, "iou-sqp", 7) != 0) continue;
    // after ") ": field 3 (state) ... utime is field 14, stime field 15
    const char* p = close + 2;
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field < 14 && p != nullptr; ++field) {
      p = std::strchr(p, ' ');
      if (p != nullptr) ++p;
    }
    if (p != nullptr && std::sscanf(p, "%llu %llu", &utime, &stime) == 2)
      total += static_cast<double>(utime + stime) / tick;
  }
  ::closedir(dir);
  return total;
}

// One timed round on a fresh ring. write_mode: 4 KiB write linked to
// fsync(DATASYNC), latency to the fsync's completion; else 4 KiB random reads.
RoundResult raw_ring_round(const std::string& path, bool write_mode, bool direct, int depth, const RingVariant& v,
                           unsigned seed) {
  RoundResult r;
  int fd = write_mode ? ::open(path.c_str(), O_RDWR) : ::open(path.c_str(), O_RDONLY | (direct ? O_DIRECT : 0));
  if (fd < 0) {
    r.why = std::string("open: ") + std::strerror(errno);
    return r;
  }
  io_uring ring;
  io_uring_params params{};
  if (v.sqpoll) {
    params.flags = IORING_SETUP_SQPOLL;
    params.sq_thread_idle = 10;  // ms of spinning before the SQ thread sleeps
  }
  if (int rc = io_uring_queue_init_params(256, &ring, &params); rc < 0) {
    r.why = std::string(v.sqpoll ? "io_uring_queue_init_params(SQPOLL): " : "io_uring_queue_init_params: ") +
            std::strerror(-rc);
    ::close(fd);
    return r;
  }
  std::vector<std::byte*> buffers;
  for (int q = 0; q < depth; ++q) buffers.push_back(aligned_block(static_cast<unsigned char>(q)));
  auto teardown = [&] {
    io_uring_queue_exit(&ring);
    for (auto* b : buffers) std::free(b);
    ::close(fd);
  };
  int file_ref = fd;
  unsigned char sqe_flags = 0;
  if (v.fixed_file) {
    if (int rc = io_uring_register_files(&ring, &fd, 1); rc < 0) {
      r.why = std::string("io_uring_register_files: ") + std::strerror(-rc);
      teardown();
      return r;
    }
    file_ref = 0;
    sqe_flags = IOSQE_FIXED_FILE;
  }
  if (v.fixed_buf) {
    std::vector<iovec> iovs;
    for (auto* b : buffers) iovs.push_back(iovec{b, kBlock});
    if (int rc = io_uring_register_buffers(&ring, iovs.data(), static_cast<unsigned>(iovs.size())); rc < 0) {
      r.why = std::string("io_uring_register_buffers: ") + std::strerror(-rc);
      teardown();
      return r;
    }
  }

  std::mt19937_64 rng(seed);
  const std::uint64_t read_blocks = kReadFileBytes / kBlock;
  const std::uint64_t write_slots = kWriteFileBytes / kBlock;
  std::vector<Clock::time_point> started(static_cast<std::size_t>(depth));
  std::vector<std::uint64_t> issued(static_cast<std::size_t>(depth), 0);
  auto get_sqe = [&] {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    while (sqe == nullptr) {  // SQ full (SQPOLL thread behind): hand it over and retry
      io_uring_submit(&ring);
      sqe = io_uring_get_sqe(&ring);
    }
    return sqe;
  };
  auto issue = [&](int slot) {
    auto s = static_cast<std::size_t>(slot);
    void* buf = buffers[s];
    if (write_mode) {
      std::uint64_t offset =
          ((static_cast<std::uint64_t>(slot) * 7919 + issued[s] * static_cast<std::uint64_t>(depth)) % write_slots) *
          kBlock;
      io_uring_sqe* w = get_sqe();
      if (v.fixed_buf) io_uring_prep_write_fixed(w, file_ref, buf, kBlock, offset, slot);
      else io_uring_prep_write(w, file_ref, buf, kBlock, offset);
      w->flags |= static_cast<unsigned char>(sqe_flags | IOSQE_IO_LINK);
      io_uring_sqe_set_data64(w, static_cast<std::uint64_t>(slot) << 1);
      io_uring_sqe* f = get_sqe();
      io_uring_prep_fsync(f, file_ref, IORING_FSYNC_DATASYNC);
      f->flags |= sqe_flags;
      io_uring_sqe_set_data64(f, (static_cast<std::uint64_t>(slot) << 1) | 1);
    } else {
      std::uint64_t offset = (rng() % read_blocks) * kBlock;
      io_uring_sqe* sqe = get_sqe();
      if (v.fixed_buf) io_uring_prep_read_fixed(sqe, file_ref, buf, kBlock, offset, slot);
      else io_uring_prep_read(sqe, file_ref, buf, kBlock, offset);
      sqe->flags |= sqe_flags;
      io_uring_sqe_set_data64(sqe, (static_cast<std::uint64_t>(slot) << 1) | 1);
    }
    ++issued[s];
    started[s] = Clock::now();
  };

  std::vector<double> lat;
  lat.reserve(1 << 16);
  std::vector<int> again;
  double cpu0 = process_cpu_s();
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(g_feature_round_seconds));
  for (int q = 0; q < depth; ++q) issue(q);
  int inflight = depth;
  while (inflight > 0) {
    if (int rc = io_uring_submit_and_wait(&ring, 1); rc < 0 && rc != -EINTR) {
      r.why = std::string("io_uring_submit_and_wait: ") + std::strerror(-rc);
      teardown();
      return r;
    }
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    again.clear();
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      int slot = static_cast<int>(cqe->user_data >> 1);
      bool last = (cqe->user_data & 1) != 0;
      int want = (write_mode && last) ? 0 : static_cast<int>(kBlock);
      if (cqe->res != want && r.why.empty())
        r.why = std::string(write_mode ? (last ? "fsync" : "write") : "read") + " failed: " +
                (cqe->res < 0 ? std::strerror(-cqe->res) : std::to_string(cqe->res) + " bytes");
      if (!last) continue;
      lat.push_back(us_since(started[static_cast<std::size_t>(slot)]));
      --inflight;
      if (r.why.empty() && Clock::now() < deadline) again.push_back(slot);
    }
    io_uring_cq_advance(&ring, seen);
    for (int slot : again) {
      issue(slot);
      ++inflight;
    }
  }
  r.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu_s = process_cpu_s() - cpu0;
  if (v.sqpoll) r.sq_cpu_s = sqpoll_thread_cpu_s();  // before the ring (and its thread) goes away
  teardown();
  if (!r.why.empty()) return r;
  Stats s = summarize("", "", depth, lat, r.wall_s);
  r.ok = true;
  r.ops = s.ops_per_s;
  r.p50 = s.p50_us;
  r.p99 = s.p99_us;
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct FeatureRow {
  std::string group, variant;
  int depth = 1;
  bool ok = false;
  std::string why;
  double ops = 0, p50 = 0, p99 = 0, cpu_s = 0, sq_cpu_s = 0, cpu_us_per_op = 0, ratio = 1;
  int wins = 0, rounds = 0;
};

// Runs variants[0] (the baseline) and the others in alternating rounds.
std::vector<FeatureRow> feature_case(const std::string& group, const std::string& path, bool write_mode, bool direct,
                                     int depth, const std::vector<RingVariant>& variants) {
  std::vector<std::vector<RoundResult>> results(variants.size());
  std::vector<std::string> refused(variants.size());
  std::vector<std::size_t> order(variants.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937 shuffle_rng(12345);
  for (int round = 0; round < g_feature_rounds; ++round) {
    // Shuffle the order each round (fixed seed, so runs are comparable): a plain
    // rotation keeps the same neighbours, and the ring run right after an SQPOLL
    // ring measurably pays for that ring's teardown. A short pause between rings
    // lets the previous ring's deferred teardown finish outside the timed loop.
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    for (std::size_t i : order) {
      if (!refused[i].empty()) continue;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      RoundResult rr = raw_ring_round(path, write_mode, direct, depth, variants[i], static_cast<unsigned>(round * 31 + 7));
      if (!rr.ok) {
        refused[i] = rr.why;
        std::fprintf(stderr, "  %s / %s depth %d: skipped: %s\n", group.c_str(), variants[i].name, depth, rr.why.c_str());
        continue;
      }
      results[i].push_back(rr);
    }
  }
  std::vector<FeatureRow> rows;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    FeatureRow row;
    row.group = group;
    row.variant = variants[i].name;
    row.depth = depth;
    row.ok = refused[i].empty() && !results[i].empty();
    row.why = refused[i];
    if (row.ok) {
      std::vector<double> ops, p50, p99, ratio;
      double ops_total = 0;
      for (std::size_t k = 0; k < results[i].size(); ++k) {
        const auto& rr = results[i][k];
        ops.push_back(rr.ops);
        p50.push_back(rr.p50);
        p99.push_back(rr.p99);
        row.cpu_s += rr.cpu_s;
        row.sq_cpu_s += rr.sq_cpu_s;
        ops_total += rr.ops * rr.wall_s;
        if (refused[0].empty() && k < results[0].size() && results[0][k].ops > 0) {
          ratio.push_back(rr.ops / results[0][k].ops);
          if (rr.ops > results[0][k].ops) ++row.wins;
        }
      }
      row.ops = median(ops);
      row.p50 = median(p50);
      row.p99 = median(p99);
      row.ratio = ratio.empty() ? 0 : median(ratio);
      row.rounds = static_cast<int>(ratio.size());
      row.cpu_us_per_op = ops_total > 0 ? row.cpu_s * 1e6 / ops_total : 0;
    }
    rows.push_back(row);
  }
  return rows;
}

const FeatureRow* find_row(const std::vector<FeatureRow>& rows, const std::string& group, const std::string& variant,
                           int depth) {
  for (const auto& r : rows)
    if (r.group == group && r.variant == variant && r.depth == depth) return &r;
  return nullptr;
}

// One-sided sign test: P(at least `wins` of `n` rounds faster | no real difference).
double sign_test_p(int wins, int n) {
  double p = 0;
  for (int k = wins; k <= n; ++k) {
    double c = 1;
    for (int j = 1; j <= k; ++j) c = c * (n - k + j) / j;
    p += c;
  }
  return n > 0 ? p / std::pow(2.0, n) : 1;
}

// A feature is "worth it" only if (1) the median gain is >= 5 %, (2) it is larger
// than the A/A control's deviation (plain vs an identical plain ring, same rounds),
// and (3) it beat plain in enough rounds that chance is unlikely (sign test p <= 0.05,
// which needs >= 5 rounds). Anything less is inside this VM's noise.
std::string gain_text(const FeatureRow* r) {
  if (r == nullptr || !r->ok) return "skipped" + (r ? " (" + r->why + ")" : std::string());
  char buf[96];
  std::snprintf(buf, sizeof buf, "%+.1f%% (wins %d/%d, p=%.2f)", (r->ratio - 1) * 100, r->wins, r->rounds,
                sign_test_p(r->wins, r->rounds));
  return buf;
}
bool worth(const FeatureRow* r, const FeatureRow* control) {
  double noise = (control != nullptr && control->ok) ? std::abs(control->ratio - 1) : 0;
  return r != nullptr && r->ok && r->ratio >= 1.05 && r->ratio - 1 > noise && sign_test_p(r->wins, r->rounds) <= 0.05;
}

void run_ring_features(const std::string& read_path, const std::string& write_path, bool direct) {
  std::printf("\nring features, raw liburing (%d alternating rounds x %.2f s per variant; medians; ratio = median of "
              "per-round ratios vs plain; CPU = CLOCK_PROCESS_CPUTIME_ID incl. io_uring kernel threads)\n",
              g_feature_rounds, g_feature_round_seconds);
  const RingVariant plain{"plain fd"};
  const RingVariant reg_file{"reg file", true};
  const RingVariant reg_both{"reg file+buf", true, true};
  const RingVariant sqpoll{"SQPOLL idle=10ms", false, false, true};
  const RingVariant control{"plain fd (A/A)"};  // identical to plain: shows the noise floor
  std::vector<FeatureRow> rows;
  const char* read_group = direct ? "randread4k direct" : "randread4k buffered";
  for (int depth : {1, 32}) {
    auto r = feature_case(read_group, read_path, false, direct, depth, {plain, reg_file, reg_both, sqpoll, control});
    rows.insert(rows.end(), r.begin(), r.end());
  }
  for (int conc : {1, 64}) {
    auto r = feature_case("write4k+fdatasync", write_path, true, direct, conc, {plain, reg_file, reg_both, control});
    rows.insert(rows.end(), r.begin(), r.end());
  }
  std::printf("%-20s %-17s %5s %10s %9s %9s %8s %8s %7s %7s %5s\n", "case", "variant", "depth", "ops/s", "p50 us",
              "p99 us", "CPU s", "CPUus/op", "sqthr s", "ratio", "wins");
  for (const auto& r : rows) {
    if (!r.ok) {
      std::printf("%-20s %-17s %5d  skipped: %s\n", r.group.c_str(), r.variant.c_str(), r.depth, r.why.c_str());
      continue;
    }
    char sq[16] = "-";
    if (r.variant.rfind("SQPOLL", 0) == 0) std::snprintf(sq, sizeof sq, "%.2f", r.sq_cpu_s);
    std::printf("%-20s %-17s %5d %10.0f %9.1f %9.1f %8.2f %8.1f %7s %7.2f %2d/%-2d\n", r.group.c_str(),
                r.variant.c_str(), r.depth, r.ops, r.p50, r.p99, r.cpu_s, r.cpu_us_per_op, sq, r.ratio, r.wins,
                r.rounds);
  }

  auto rf1 = find_row(rows, read_group, "reg file", 1), rf32 = find_row(rows, read_group, "reg file", 32);
  auto rb1 = find_row(rows, read_group, "reg file+buf", 1), rb32 = find_row(rows, read_group, "reg file+buf", 32);
  auto wf1 = find_row(rows, "write4k+fdatasync", "reg file", 1), wf64 = find_row(rows, "write4k+fdatasync", "reg file", 64);
  auto wb1 = find_row(rows, "write4k+fdatasync", "reg file+buf", 1),
       wb64 = find_row(rows, "write4k+fdatasync", "reg file+buf", 64);
  auto sp1 = find_row(rows, read_group, "SQPOLL idle=10ms", 1), sp32 = find_row(rows, read_group, "SQPOLL idle=10ms", 32);
  auto p1 = find_row(rows, read_group, "plain fd", 1), p32 = find_row(rows, read_group, "plain fd", 32);
  auto c1 = find_row(rows, read_group, "plain fd (A/A)", 1), c32 = find_row(rows, read_group, "plain fd (A/A)", 32);
  auto wc1 = find_row(rows, "write4k+fdatasync", "plain fd (A/A)", 1),
       wc64 = find_row(rows, "write4k+fdatasync", "plain fd (A/A)", 64);
  auto verdict = [](bool yes) { return yes ? "worth it" : "not worth it"; };
  std::printf("\nverdicts (worth it = median gain >= +5%%, above the A/A control's deviation, and sign test p <= 0.05)\n");
  std::printf("noise floor (A/A control vs plain): reads %s at QD1, %s at QD32; writes %s at c1, %s at c64\n",
              gain_text(c1).c_str(), gain_text(c32).c_str(), gain_text(wc1).c_str(), gain_text(wc64).c_str());
  std::printf("registered files, reads: %s at QD1, %s at QD32 -> %s\n", gain_text(rf1).c_str(), gain_text(rf32).c_str(),
              verdict(worth(rf1, c1) || worth(rf32, c32)));
  std::printf("registered files+buffers, reads: %s at QD1, %s at QD32 -> %s\n", gain_text(rb1).c_str(),
              gain_text(rb32).c_str(), verdict(worth(rb1, c1) || worth(rb32, c32)));
  std::printf("registered files, write+fdatasync: %s at c1, %s at c64 -> %s\n", gain_text(wf1).c_str(),
              gain_text(wf64).c_str(), verdict(worth(wf1, wc1) || worth(wf64, wc64)));
  std::printf("registered files+buffers, write+fdatasync: %s at c1, %s at c64 -> %s\n", gain_text(wb1).c_str(),
              gain_text(wb64).c_str(), verdict(worth(wb1, wc1) || worth(wb64, wc64)));
  if (sp1 && sp1->ok && sp32 && sp32->ok && p1 && p1->ok && p32 && p32->ok) {
    // SQPOLL must pay for the core it burns: compare CPU per op, not just ops/s.
    bool cheap = sp1->cpu_us_per_op <= 1.1 * p1->cpu_us_per_op && sp32->cpu_us_per_op <= 1.1 * p32->cpu_us_per_op;
    std::printf("SQPOLL, reads: %s at QD1 (CPU/op x%.2f), %s at QD32 (CPU/op x%.2f) -> %s\n", gain_text(sp1).c_str(),
                sp1->cpu_us_per_op / p1->cpu_us_per_op, gain_text(sp32).c_str(),
                sp32->cpu_us_per_op / p32->cpu_us_per_op,
                (worth(sp1, c1) || worth(sp32, c32)) && cheap ? "worth it" : "not worth it on 2 cores (CPU cost)");
  } else {
    std::printf("SQPOLL, reads: %s -> not measured here\n", gain_text(sp1).c_str());
  }
  std::printf("\nJSON\n");
  for (const auto& r : rows) {
    if (!r.ok) {
      std::printf("{\"case\":\"%s\",\"variant\":\"%s\",\"depth\":%d,\"skipped\":\"%s\"}\n", r.group.c_str(),
                  r.variant.c_str(), r.depth, r.why.c_str());
      continue;
    }
    std::printf("{\"case\":\"%s\",\"variant\":\"%s\",\"depth\":%d,\"ops_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
                "\"cpu_s\":%.3f,\"cpu_us_per_op\":%.2f,\"sq_thread_cpu_s\":%.3f,\"ratio_vs_plain\":%.3f,\"wins\":%d,"
                "\"rounds\":%d}\n",
                r.group.c_str(), r.variant.c_str(), r.depth, r.ops, r.p50, r.p99, r.cpu_s, r.cpu_us_per_op, r.sq_cpu_s,
                r.ratio, r.wins, r.rounds);
  }
}

std::unique_ptr<Runtime> make(BackendChoice choice) {
  RuntimeOptions options;
  options.backend = choice;
  options.worker_threads = 4;  // Asio's file calls all go through the pool
  std::string why;
  auto rt = Runtime::create(options, &why);
  if (!rt) {
    std::fprintf(stderr, "cannot start %s: %s\n", choice == BackendChoice::IoUring ? "io_uring" : "asio", why.c_str());
    return nullptr;
  }
  return std::move(*rt);
}

void print_row(const Stats& s) {
  char ratio[32] = "-";
  if (s.baseline_ops > 0) std::snprintf(ratio, sizeof ratio, "%.2f", s.ops_per_s / s.baseline_ops);
  std::printf("%-18s %-24s %5d %10.0f %9.1f %9.1f %9.1f %9.1f %6s\n", s.group.c_str(), s.name.c_str(), s.concurrency,
              s.ops_per_s, s.p50_us, s.p99_us, s.p999_us, s.max_us, ratio);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = ".";
  bool features = true, layer = true;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    bool has_value = i + 1 < argc;
    if (flag == "--dir" && has_value) dir = argv[++i];
    else if (flag == "--seconds" && has_value) g_seconds = std::atof(argv[++i]);
    else if (flag == "--features-only") layer = false;
    else if (flag == "--no-features") features = false;
    else if (flag == "--feature-rounds" && has_value) g_feature_rounds = std::max(1, std::atoi(argv[++i]));
    else if (flag == "--feature-seconds" && has_value) g_feature_round_seconds = std::atof(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: %s [--dir DIR] [--seconds S] [--features-only | --no-features] [--feature-rounds N] "
                   "[--feature-seconds S]\n",
                   argv[0]);
      return 2;
    }
  }
  std::string write_path = dir + "/orbit-io-bench.write";
  std::string read_path = dir + "/orbit-io-bench.read";
  prepare_write_file(write_path);
  prepare_read_file(read_path);
  bool direct = direct_works(read_path);
  if (!layer) {
    run_ring_features(read_path, write_path, direct);
    ::unlink(write_path.c_str());
    return 0;
  }

  auto uring = make(BackendChoice::IoUring);
  auto asio = make(BackendChoice::Asio);
  std::vector<Runtime*> runtimes;
  if (uring) runtimes.push_back(uring.get());
  if (asio) runtimes.push_back(asio.get());

  // (a)
  for (int concurrency : {1, 64}) {
    Stats base = plain_write_sync(write_path, concurrency);
    base.baseline_ops = base.ops_per_s;
    g_results.push_back(base);
    for (Runtime* rt : runtimes) {
      Stats s = runtime_write_sync(rt, write_path, concurrency);
      s.baseline_ops = base.ops_per_s;
      g_results.push_back(s);
    }
  }
  // (c)
  for (int depth : {1, 32}) {
    Stats base = raw_uring_reads(read_path, depth, direct);
    base.baseline_ops = base.ops_per_s;
    g_results.push_back(base);
    for (Runtime* rt : runtimes) {
      Stats s = runtime_reads(rt, read_path, depth, direct);
      s.baseline_ops = base.ops_per_s;
      g_results.push_back(s);
    }
  }

  std::printf("orbit io_bench: %.1f s per case, dir %s, reads %s\n\n", g_seconds, dir.c_str(),
              direct ? "O_DIRECT" : "buffered (no O_DIRECT here)");
  std::printf("%-18s %-24s %5s %10s %9s %9s %9s %9s %6s\n", "case", "implementation", "conc", "ops/s", "p50 us",
              "p99 us", "p99.9 us", "max us", "ratio");
  for (const auto& s : g_results) print_row(s);

  // (b)
  std::printf("\nper-op overhead of a no-op (ns/op)\n");
  std::printf("%-10s %18s %22s %28s\n", "backend", "Task await", "yield (post+resume)", "block_on from thread (x-thr)");
  std::vector<std::string> json_overhead;
  for (Runtime* rt : runtimes) {
    double await_ns = rt->block_on(await_loop(2'000'000));
    double yield_ns = rt->block_on(yield_loop(rt, 1'000'000));
    double cross_ns = cross_thread_roundtrip_ns(rt, 20'000);
    std::printf("%-10s %18.1f %22.1f %28.1f\n", std::string(to_string(rt->kind())).c_str(), await_ns, yield_ns, cross_ns);
    char line[256];
    std::snprintf(line, sizeof line,
                  "{\"case\":\"noop_overhead\",\"backend\":\"%s\",\"task_await_ns\":%.1f,\"yield_ns\":%.1f,"
                  "\"cross_thread_block_on_ns\":%.1f}",
                  std::string(to_string(rt->kind())).c_str(), await_ns, yield_ns, cross_ns);
    json_overhead.push_back(line);
  }

  std::printf("\nJSON\n");
  for (const auto& s : g_results) {
    std::printf(
        "{\"case\":\"%s\",\"impl\":\"%s\",\"concurrency\":%d,\"ops_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
        "\"p999_us\":%.1f,\"max_us\":%.1f,\"ratio_vs_baseline\":%.3f}\n",
        s.group.c_str(), s.name.c_str(), s.concurrency, s.ops_per_s, s.p50_us, s.p99_us, s.p999_us, s.max_us,
        s.baseline_ops > 0 ? s.ops_per_s / s.baseline_ops : 0.0);
  }
  for (const auto& line : json_overhead) std::printf("%s\n", line.c_str());
  if (features) {
    // (d) with the runtimes (and their worker threads) gone, so process CPU is the rings' alone.
    uring.reset();
    asio.reset();
    std::fflush(stdout);
    run_ring_features(read_path, write_path, direct);
  }
  ::unlink(write_path.c_str());
  return 0;
}
