// Net: loopback-first TCP for replication, on the runtime's event loop.
//
// A Runtime hands out its Net (Runtime::net()). Listener::accept, connect,
// Socket::send_all and Socket::recv are coroutines that must be awaited on
// that runtime's loop thread; listen() is a plain call (socket/bind/listen)
// from any thread. Errors are negative-errno style IoResults, never throws.
// Only the loopback is tested; the interface takes any IPv4 address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "io/io_result.hpp"
#include "orbit/task.hpp"

namespace orbit::io {

class Socket {
 public:
  virtual ~Socket() = default;
  // Sends every byte (retrying partial sends) or fails.
  virtual Task<IoResult<void>> send_all(std::span<const std::byte> data) = 0;
  // Receives up to buffer.size() bytes; 0 means the peer closed.
  virtual Task<IoResult<std::size_t>> recv(std::span<std::byte> buffer) = 0;
  // Closes now (the destructor closes too).
  virtual void close() noexcept = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual std::uint16_t port() const noexcept = 0;  // the bound port
  virtual Task<IoResult<std::unique_ptr<Socket>>> accept() = 0;
  virtual void close() noexcept = 0;
};

class Net {
 public:
  virtual ~Net() = default;
  // Binds host:port (port 0 picks a free one; read it from Listener::port()).
  virtual IoResult<std::unique_ptr<Listener>> listen(std::string host = "127.0.0.1",
                                                     std::uint16_t port = 0) = 0;
  virtual Task<IoResult<std::unique_ptr<Socket>>> connect(std::string host, std::uint16_t port) = 0;
};

}  // namespace orbit::io
