#include "net/posix/posix_network.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "support/process.h"

namespace sublink {
namespace {

struct Recorder : SocketEvents {
  Status resolve_status;
  AddressList addresses;
  bool resolved = false, connected = false;
  Status error;
  bool errored = false;
  std::string data;
  void on_resolved(Status s, const AddressList& a) override {
    resolved = true;
    resolve_status = s;
    addresses = a;
  }
  void on_connected(SocketId) override { connected = true; }
  void on_received(SocketId, std::span<const uint8_t> b) override { data.append(b.begin(), b.end()); }
  void on_writable(SocketId) override {}
  void on_socket_error(SocketId, Status s) override {
    errored = true;
    error = s;
  }
};

template <class Pred>
void pump(PosixNetwork& net, Pred done) {
  for (int i = 0; i < 200 && !done(); ++i) net.wait(20);
}

TEST(PosixNetwork, ResolvesLocalhostAndLiterals) {
  PosixNetwork net;
  Recorder r;
  net.set_events(&r);
  net.resolve("localhost");
  pump(net, [&] { return r.resolved; });
  ASSERT_TRUE(r.resolve_status.ok());
  ASSERT_GE(r.addresses.count, 1u);
  r.resolved = false;
  net.resolve("::1");
  pump(net, [&] { return r.resolved; });
  ASSERT_EQ(r.addresses.count, 1u);
  EXPECT_EQ(r.addresses.items[0].family, 6);
}

TEST(PosixNetwork, UnresolvableNameIsDnsFailure) {
  PosixNetwork net;
  Recorder r;
  net.set_events(&r);
  net.resolve("no-such-host.invalid");
  pump(net, [&] { return r.resolved; });
  EXPECT_EQ(r.resolve_status.reason(), Reason::dns_failed);
}

TEST(PosixNetwork, RefusedPortIsConnectRefused) {
  PosixNetwork net;
  Recorder r;
  net.set_events(&r);
  int port = test::free_port();
  Status st = net.open(1, IpAddress::parse("127.0.0.1"), static_cast<uint16_t>(port));
  if (st.ok()) {
    pump(net, [&] { return r.errored; });
    st = r.error;
  }
  EXPECT_EQ(st.reason(), Reason::connect_refused);
  EXPECT_EQ(net.open_sockets(), 0u);
}

TEST(PosixNetwork, ConnectsSendsReceivesAndSeesPeerClose) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
  listen(ls, 1);

  PosixNetwork net;
  Recorder r;
  net.set_events(&r);
  ASSERT_TRUE(net.open(7, IpAddress::parse("127.0.0.1"), ntohs(a.sin_port)).ok());
  pump(net, [&] { return r.connected; });
  ASSERT_TRUE(r.connected);
  int peer = accept(ls, nullptr, nullptr);
  std::string hello = "hello";
  auto sent = net.send(7, {reinterpret_cast<const uint8_t*>(hello.data()), hello.size()});
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, hello.size());
  char buf[16] = {};
  ASSERT_EQ(recv(peer, buf, sizeof buf, 0), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  ASSERT_EQ(::send(peer, "world", 5, 0), 5);
  pump(net, [&] { return r.data.size() == 5; });
  EXPECT_EQ(r.data, "world");
  ::close(peer);
  pump(net, [&] { return r.errored; });
  EXPECT_EQ(r.error.reason(), Reason::connection_closed);
  EXPECT_EQ(net.open_sockets(), 0u);
  ::close(ls);
}

}  // namespace
}  // namespace sublink
