// BackgroundErrors: the tally of I/O errors no caller saw (a background
// flush, compaction or checkpoint, preparing a log segment, removing a file
// nothing names any more). The work is retried, skipped, or stops further
// writes; the error is counted here and reported in
// StorageStats::background_errors / last_background_error, never dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace orbit {

struct BackgroundErrors {
  std::uint64_t count = 0;
  std::string last;  // the most recent, naming file and cause
  std::chrono::steady_clock::time_point last_at{};

  void note(std::string what) {
    ++count;
    last = std::move(what);
    last_at = std::chrono::steady_clock::now();
  }
  // Adds `other`'s errors; the most recent of both stays `last`.
  void merge(const BackgroundErrors& other) {
    count += other.count;
    if (other.count > 0 && (last.empty() || other.last_at > last_at)) {
      last = other.last;
      last_at = other.last_at;
    }
  }
};

}  // namespace orbit
