// Net over asio::ip::tcp on the runtime's io_context. Internal to io/asio.
#pragma once

#include <asio.hpp>

#include "io/net.hpp"

namespace orbit::io::asio_backend {

class AsioNet final : public Net {
 public:
  explicit AsioNet(asio::io_context& context) : context_(context) {}
  IoResult<std::unique_ptr<Listener>> listen(std::string host, std::uint16_t port) override;
  Task<IoResult<std::unique_ptr<Socket>>> connect(std::string host, std::uint16_t port) override;

 private:
  asio::io_context& context_;
};

}  // namespace orbit::io::asio_backend
