// The io_uring backend's entry point; no liburing type leaks out of it.
#pragma once

#include <memory>
#include <string>

#include "io/runtime.hpp"

namespace orbit::io::uring_backend {

// Starts the loop thread and sets up the ring there. When the kernel refuses
// io_uring, returns its errno and fills `why` with the call that failed.
IoResult<std::unique_ptr<Runtime>> create_runtime(const RuntimeOptions& options, std::string* why);

}  // namespace orbit::io::uring_backend
