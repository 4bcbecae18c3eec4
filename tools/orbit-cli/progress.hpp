// A one-line progress display on standard error, redrawn at most 10 times a
// second, and only when standard error is a terminal (never in pipes, logs
// or tests).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace orbit::cli {

class Progress {
 public:
  Progress(std::string verb, std::optional<std::uint64_t> total, bool wanted)
      : verb_(std::move(verb)), total_(total), enabled_(wanted && ::isatty(STDERR_FILENO) == 1) {}
  ~Progress() { done(); }

  void update(std::uint64_t count) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    draw(count, now);
  }
  void done() {
    if (enabled_ && drawn_) std::fputs("\r\033[K", stderr);
    enabled_ = false;
  }

 private:
  void draw(std::uint64_t count, std::chrono::steady_clock::time_point now) {
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? count / seconds : 0;
    if (total_ && *total_ > 0) {
      const double fraction = std::min(1.0, double(count) / double(*total_));
      const int width = 30;
      const int filled = static_cast<int>(fraction * width);
      std::fprintf(stderr, "\r%s [%.*s%*s] %3.0f%% %llu/%llu leases, %.0f/s\033[K", verb_.c_str(), filled,
                   "##############################", width - filled, "", fraction * 100,
                   static_cast<unsigned long long>(count), static_cast<unsigned long long>(*total_), rate);
    } else {
      std::fprintf(stderr, "\r%s %llu leases, %.0f/s\033[K", verb_.c_str(), static_cast<unsigned long long>(count),
                   rate);
    }
    std::fflush(stderr);
    drawn_ = true;
  }

  std::string verb_;
  std::optional<std::uint64_t> total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace orbit::cli
