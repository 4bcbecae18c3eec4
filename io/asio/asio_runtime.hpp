// The Asio backend: an asio::io_context run by the runtime's loop thread,
// steady_timer sleeps, and BlockingFileSystem for files. No Asio type leaks
// out of io/asio; callers go through Runtime::create.
#pragma once

#include <memory>
#include <string>

#include "io/runtime.hpp"

namespace orbit::io::asio_backend {

// `fallback_reason` is what Runtime::fallback_reason() reports (empty when
// Asio was asked for).
IoResult<std::unique_ptr<Runtime>> create_runtime(const RuntimeOptions& options, std::string fallback_reason);

}  // namespace orbit::io::asio_backend
