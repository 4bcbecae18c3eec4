// Runtime::create: the probe that picks a backend, and the small shared bits.
#include "io/runtime.hpp"

#include <cstdio>

#include "io/asio/asio_runtime.hpp"
#include "io/uring/uring_runtime.hpp"

namespace orbit::io {

void CancelToken::cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  if (handler_) {
    auto handler = std::move(handler_);
    handler_ = nullptr;
    handler();
  }
}

std::string_view to_string(BackendKind kind) noexcept {
  switch (kind) {
    case BackendKind::IoUring: return "io_uring";
    case BackendKind::Asio: return "asio";
  }
  return "unknown";
}

IoResult<std::unique_ptr<Runtime>> Runtime::create(RuntimeOptions options, std::string* why) {
  if (options.backend == BackendChoice::Asio) return asio_backend::create_runtime(options, {});

  std::string reason;
  auto uring = uring_backend::create_runtime(options, &reason);
  if (uring) return uring;
  if (why != nullptr) *why = reason;
  if (options.backend == BackendChoice::IoUring) return uring;

  // Auto: say once, plainly, why the slower backend is in use.
  std::fprintf(stderr, "orbit-io: io_uring unavailable (%s); falling back to Asio\n", reason.c_str());
  return asio_backend::create_runtime(options, std::move(reason));
}

}  // namespace orbit::io
