// Net over io_uring (accept/connect/send/recv SQEs). Internal to io/uring.
#pragma once

#include "io/net.hpp"

namespace orbit::io::uring_backend {

class Core;

class UringNet final : public Net {
 public:
  explicit UringNet(Core& core) : core_(core) {}
  IoResult<std::unique_ptr<Listener>> listen(std::string host, std::uint16_t port) override;
  Task<IoResult<std::unique_ptr<Socket>>> connect(std::string host, std::uint16_t port) override;

 private:
  Core& core_;
};

}  // namespace orbit::io::uring_backend
