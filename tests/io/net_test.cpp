// Net: loopback TCP on both backends.
#include <vector>

#include "tests/io/io_test_support.hpp"

namespace orbit::io::testing {
namespace {

class NetSuite : public RuntimeTest {};

Task<void> echo_server(Listener* listener, WaitGroup* wg) {
  auto conn = co_await listener->accept();
  EXPECT_TRUE(conn.ok()) << conn.message();
  if (conn) {
    std::vector<std::byte> buffer(4096);
    for (;;) {
      auto got = co_await (*conn)->recv(buffer);
      if (!got || *got == 0) break;
      auto sent = co_await (*conn)->send_all(std::span<const std::byte>(buffer.data(), *got));
      if (!sent) break;
    }
  }
  wg->done();
}

Task<void> echo_client(Runtime* rt, std::uint16_t port) {
  auto conn = co_await rt->net().connect("127.0.0.1", port);
  EXPECT_TRUE(conn.ok()) << conn.message();
  if (!conn) co_return;
  std::vector<std::byte> message(200000);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::byte>(i % 251);
  EXPECT_TRUE((co_await (*conn)->send_all(message)).ok());
  std::vector<std::byte> back;
  std::vector<std::byte> buffer(8192);
  while (back.size() < message.size()) {
    auto got = co_await (*conn)->recv(buffer);
    EXPECT_TRUE(got.ok());
    if (!got || *got == 0) break;
    back.insert(back.end(), buffer.begin(), buffer.begin() + static_cast<long>(*got));
  }
  EXPECT_EQ(back, message);
  (*conn)->close();
}

// Goal: listen on an ephemeral loopback port, accept, connect, and echo
// 200 KB through send_all/recv.
TEST_P(NetSuite, LoopbackEcho) {
  auto listener = rt->net().listen("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.message();
  EXPECT_NE((*listener)->port(), 0);
  WaitGroup wg;
  wg.add(1);
  rt->spawn(echo_server(listener->get(), &wg));
  rt->block_on(echo_client(rt.get(), (*listener)->port()));
  wg.wait();
}

Task<int> connect_error(Runtime* rt, std::uint16_t port) {
  auto conn = co_await rt->net().connect("127.0.0.1", port);
  co_return conn.error();
}

// Goal: connecting to a closed port is ECONNREFUSED; a bad address is EINVAL.
TEST_P(NetSuite, ConnectErrors) {
  auto listener = rt->net().listen("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok());
  std::uint16_t port = (*listener)->port();
  (*listener)->close();
  EXPECT_EQ(rt->block_on(connect_error(rt.get(), port)), ECONNREFUSED);
  EXPECT_EQ(rt->net().listen("not-an-address", 0).error(), EINVAL);
}

ORBIT_INSTANTIATE_BACKENDS(NetSuite);

}  // namespace
}  // namespace orbit::io::testing
