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
// Usage: orbit_io_bench [--dir DIR] [--seconds S]   (default: ./ , 1.5 s per case)
// Prints a table, then one JSON object per case. These machines are shared and
// noisy: read the ratios, not the absolute numbers.
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--dir") dir = argv[i + 1];
    else if (flag == "--seconds") g_seconds = std::atof(argv[i + 1]);
  }
  std::string write_path = dir + "/orbit-io-bench.write";
  std::string read_path = dir + "/orbit-io-bench.read";
  prepare_write_file(write_path);
  prepare_read_file(read_path);
  bool direct = direct_works(read_path);

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
  ::unlink(write_path.c_str());
  return 0;
}
