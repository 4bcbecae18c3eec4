#include "io/asio/asio_net.hpp"

#include <cerrno>

namespace orbit::io::asio_backend {
namespace {

Errno to_errno(const std::error_code& ec) {
  if (ec.category() == std::system_category() || ec.category() == asio::error::get_system_category()) {
    return Errno{ec.value() > 0 ? ec.value() : EIO};
  }
  return Errno{EIO};
}

// Awaits one Asio async operation whose handler gets (error_code[, size_t]).
// The handler resumes the coroutine from inside io_context::run() on the
// loop thread; Asio frees its operation before calling the handler, so the
// coroutine may destroy the socket right away.
template <typename Start>
struct AsyncOp {
  Start start;
  std::error_code ec{};
  std::size_t bytes = 0;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    struct Handler {
      AsyncOp* op;
      std::coroutine_handle<> h;
      void operator()(std::error_code e) const {
        op->ec = e;
        h.resume();
      }
      void operator()(std::error_code e, std::size_t n) const {
        op->ec = e;
        op->bytes = n;
        h.resume();
      }
    };
    start(Handler{this, h});
  }
  struct Outcome {
    std::error_code ec;
    std::size_t bytes;
  };
  Outcome await_resume() const noexcept { return {ec, bytes}; }
};
template <typename Start>
AsyncOp(Start) -> AsyncOp<Start>;

class AsioSocket final : public Socket {
 public:
  explicit AsioSocket(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  Task<IoResult<void>> send_all(std::span<const std::byte> data) override {
    auto done = co_await AsyncOp{[&](auto handler) {
      asio::async_write(socket_, asio::buffer(data.data(), data.size()), handler);
    }};
    if (done.ec) co_return to_errno(done.ec);
    co_return IoResult<void>{};
  }
  Task<IoResult<std::size_t>> recv(std::span<std::byte> buffer) override {
    auto done = co_await AsyncOp{[&](auto handler) {
      socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()), handler);
    }};
    if (done.ec == asio::error::eof) co_return std::size_t{0};
    if (done.ec) co_return to_errno(done.ec);
    co_return done.bytes;
  }
  void close() noexcept override {
    std::error_code ignored;
    socket_.close(ignored);
  }

 private:
  asio::ip::tcp::socket socket_;
};

class AsioListener final : public Listener {
 public:
  AsioListener(asio::io_context& context, asio::ip::tcp::acceptor acceptor)
      : context_(context), acceptor_(std::move(acceptor)) {
    std::error_code ec;
    port_ = acceptor_.local_endpoint(ec).port();
  }
  std::uint16_t port() const noexcept override { return port_; }
  Task<IoResult<std::unique_ptr<Socket>>> accept() override {
    asio::ip::tcp::socket socket(context_);
    auto done = co_await AsyncOp{[&](auto handler) { acceptor_.async_accept(socket, handler); }};
    if (done.ec) co_return to_errno(done.ec);
    co_return std::unique_ptr<Socket>(std::make_unique<AsioSocket>(std::move(socket)));
  }
  void close() noexcept override {
    std::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  asio::io_context& context_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
};

}  // namespace

IoResult<std::unique_ptr<Listener>> AsioNet::listen(std::string host, std::uint16_t port) {
  std::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Errno{EINVAL};
  asio::ip::tcp::acceptor acceptor(context_);
  asio::ip::tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return to_errno(ec);
  return std::unique_ptr<Listener>(std::make_unique<AsioListener>(context_, std::move(acceptor)));
}

Task<IoResult<std::unique_ptr<Socket>>> AsioNet::connect(std::string host, std::uint16_t port) {
  std::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) co_return Errno{EINVAL};
  asio::ip::tcp::socket socket(context_);
  asio::ip::tcp::endpoint endpoint(address, port);
  auto done = co_await AsyncOp{[&](auto handler) { socket.async_connect(endpoint, handler); }};
  if (done.ec) co_return to_errno(done.ec);
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  co_return std::unique_ptr<Socket>(std::make_unique<AsioSocket>(std::move(socket)));
}

}  // namespace orbit::io::asio_backend
