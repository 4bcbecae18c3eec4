#include "io/uring/uring_net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "io/uring/uring_core.hpp"

namespace orbit::io::uring_backend {
namespace {

bool parse_ipv4(const std::string& host, std::uint16_t port, sockaddr_in* out) {
  *out = sockaddr_in{};
  out->sin_family = AF_INET;
  out->sin_port = htons(port);
  return ::inet_pton(AF_INET, host.c_str(), &out->sin_addr) == 1;
}

class UringSocket final : public Socket {
 public:
  UringSocket(Core& core, int fd) : core_(&core), fd_(fd) {}
  ~UringSocket() override { close(); }

  Task<IoResult<void>> send_all(std::span<const std::byte> data) override {
    std::size_t done = 0;
    while (done < data.size()) {
      std::size_t chunk = std::min(data.size() - done, kMaxChunk);
      int res = co_await uring_op(core_, [&](io_uring_sqe** s) {
        io_uring_prep_send(s[0], fd_, data.data() + done, chunk, MSG_NOSIGNAL);
      });
      if (res == -EINTR || res == -EAGAIN) continue;
      if (res < 0) co_return Errno{-res};
      if (res == 0) co_return Errno{EPIPE};
      done += static_cast<std::size_t>(res);
    }
    co_return IoResult<void>{};
  }

  Task<IoResult<std::size_t>> recv(std::span<std::byte> buffer) override {
    for (;;) {
      std::size_t chunk = std::min(buffer.size(), kMaxChunk);
      int res = co_await uring_op(core_, [&](io_uring_sqe** s) { io_uring_prep_recv(s[0], fd_, buffer.data(), chunk, 0); });
      if (res == -EINTR || res == -EAGAIN) continue;
      if (res < 0) co_return Errno{-res};
      co_return static_cast<std::size_t>(res);
    }
  }

  void close() noexcept override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  Core* core_;
  int fd_;
};

class UringListener final : public Listener {
 public:
  UringListener(Core& core, int fd, std::uint16_t port) : core_(&core), fd_(fd), port_(port) {}
  ~UringListener() override { close(); }
  std::uint16_t port() const noexcept override { return port_; }

  Task<IoResult<std::unique_ptr<Socket>>> accept() override {
    for (;;) {
      int res = co_await uring_op(core_, [&](io_uring_sqe** s) {
        io_uring_prep_accept(s[0], fd_, nullptr, nullptr, SOCK_CLOEXEC);
      });
      if (res == -EINTR || res == -EAGAIN) continue;
      if (res < 0) co_return Errno{-res};
      int one = 1;
      ::setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      co_return std::unique_ptr<Socket>(std::make_unique<UringSocket>(*core_, res));
    }
  }

  void close() noexcept override {
    if (fd_ >= 0) {
      ::shutdown(fd_, SHUT_RDWR);  // fails a pending accept instead of leaving it hanging
      ::close(fd_);
    }
    fd_ = -1;
  }

 private:
  Core* core_;
  int fd_;
  std::uint16_t port_;
};

}  // namespace

IoResult<std::unique_ptr<Listener>> UringNet::listen(std::string host, std::uint16_t port) {
  sockaddr_in addr{};
  if (!parse_ipv4(host, port, &addr)) return Errno{EINVAL};
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno{errno};
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return Errno{err};
  }
  return std::unique_ptr<Listener>(std::make_unique<UringListener>(core_, fd, ntohs(addr.sin_port)));
}

Task<IoResult<std::unique_ptr<Socket>>> UringNet::connect(std::string host, std::uint16_t port) {
  sockaddr_in addr{};
  if (!parse_ipv4(host, port, &addr)) co_return Errno{EINVAL};
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) co_return Errno{errno};
  int res = co_await uring_op(&core_, [&](io_uring_sqe** s) {
    io_uring_prep_connect(s[0], fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  });
  if (res < 0) {
    ::close(fd);
    co_return Errno{-res};
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  co_return std::unique_ptr<Socket>(std::make_unique<UringSocket>(core_, fd));
}

}  // namespace orbit::io::uring_backend
