#include "io/background.hpp"

#include <sys/prctl.h>
#include <time.h>

#include <cerrno>

namespace orbit::io {
namespace {

using Clock = std::chrono::steady_clock;

thread_local bool t_gives_way = false;
thread_local Clock::time_point t_slice_start;

}  // namespace

void background_checkpoint() noexcept {
  if (!t_gives_way) return;
  if (Clock::now() - t_slice_start < kBackgroundSlice) return;
  timespec pause{0, static_cast<long>(std::chrono::nanoseconds(kBackgroundPause).count())};
  while (::nanosleep(&pause, &pause) != 0 && errno == EINTR) {
  }
  t_slice_start = Clock::now();
}

namespace detail {

void become_background_thread() noexcept {
  t_gives_way = true;
  // Best effort: with the default 50 us of slack a 20 us sleep lasts ~70.
  (void)::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}

void begin_background_job() noexcept {
  if (t_gives_way) t_slice_start = Clock::now();
}

}  // namespace detail
}  // namespace orbit::io
