#include "net/posix/posix_network.h"
#include "net/posix/posix_lookups.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <netdb.h>
#include <string>
#include <vector>

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
  void on_resolved(ResolveId, Status s, const AddressList& a) override {
    resolved = true;
    resolve_status = s;
    addresses = a;
  }
  void on_connected(SocketId) override { connected = true; }
  void on_received(SocketId, std::span<const uint8_t> b) override { data.append(b.begin(), b.end()); }
  void on_writable(SocketId) override { ++writable; }
  int writable = 0;
  void on_socket_error(SocketId, Status s) override {
    errored = true;
    error = s;
  }
};

// A TCP listener on a free loopback port; -1 when none could be made.
int listening_socket(uint16_t& port) {
  const int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (ls < 0 || bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len) != 0 || listen(ls, 4) != 0) {
    if (ls >= 0) ::close(ls);
    return -1;
  }
  port = ntohs(a.sin_port);
  return ls;
}

// A listener that is closed when the test ends, also when it fails.
struct Listener {
  uint16_t port = 0;
  int fd = listening_socket(port);
  Listener() = default;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener() {
    if (fd >= 0) ::close(fd);
  }
};

template <class Pred>
void pump(PosixNetwork& net, Pred done) {
  for (int i = 0; i < 200 && !done(); ++i) net.wait(20);
}

TEST(PosixNetwork, ResolvesLocalhostAndLiterals) {
  PosixNetwork net;
  Recorder r;
  ASSERT_TRUE(net.resolve("localhost", r).ok());
  pump(net, [&] { return r.resolved; });
  ASSERT_TRUE(r.resolve_status.ok());
  ASSERT_GE(r.addresses.count, 1u);
  r.resolved = false;
  ASSERT_TRUE(net.resolve("::1", r).ok());
  pump(net, [&] { return r.resolved; });
  ASSERT_EQ(r.addresses.count, 1u);
  EXPECT_EQ(r.addresses.items[0].family, 6);
}

TEST(PosixNetwork, UnresolvableNameIsDnsFailure) {
  PosixNetwork net;
  Recorder r;
  // A name with an empty label: the resolver refuses it itself, so the test
  // sends no query to the machine's name server (tests stay on loopback).
  ASSERT_TRUE(net.resolve("no-such-host..invalid", r).ok());
  pump(net, [&] { return r.resolved; });
  EXPECT_EQ(r.resolve_status.reason(), Reason::dns_failed);
}

TEST(PosixNetwork, RefusedPortIsConnectRefused) {
  PosixNetwork net;
  Recorder r;
  int port = test::free_port();
  const Result<SocketId> socket = net.open(IpAddress::parse("127.0.0.1"), static_cast<uint16_t>(port), r);
  Status st = socket.status();
  if (socket.ok()) {
    pump(net, [&] { return r.errored; });
    st = r.error;
  }
  EXPECT_EQ(st.reason(), Reason::connect_refused);
  EXPECT_EQ(net.open_sockets(), 0u);
}

TEST(PosixNetwork, ConnectsSendsReceivesAndSeesPeerClose) {
  Listener ls;
  ASSERT_GE(ls.fd, 0);
  const uint16_t port = ls.port;

  PosixNetwork net;
  Recorder r;
  const Result<SocketId> socket = net.open(IpAddress::parse("127.0.0.1"), port, r);
  ASSERT_TRUE(socket.ok());
  pump(net, [&] { return r.connected; });
  ASSERT_TRUE(r.connected);
  int peer = accept(ls.fd, nullptr, nullptr);
  std::string hello = "hello";
  auto sent = net.send(*socket, {reinterpret_cast<const uint8_t*>(hello.data()), hello.size()});
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
}

// A tunnel's local socket whose service half-closed (shutdown SHUT_WR, as
// a service that answers only after its input's end does to its client):
// the owner keeps it and still sends; the loop does not spin on the EOF.
TEST(PosixNetwork, APeersHalfCloseKeepsTheSocketForSending) {
  Listener ls;
  ASSERT_GE(ls.fd, 0);
  const uint16_t port = ls.port;
  struct HalfOpen : Recorder {
    int finished = 0;
    bool on_peer_finished(SocketId) override {
      ++finished;
      return true;
    }
  } r;
  PosixNetwork net;
  const Result<SocketId> socket = net.open(IpAddress::parse("127.0.0.1"), port, r);
  ASSERT_TRUE(socket.ok());
  pump(net, [&] { return r.connected; });
  const int peer = accept(ls.fd, nullptr, nullptr);
  ASSERT_GE(peer, 0);
  ASSERT_EQ(::send(peer, "question", 8, 0), 8);
  ASSERT_EQ(::shutdown(peer, SHUT_WR), 0);
  pump(net, [&] { return r.finished > 0; });
  EXPECT_EQ(r.data, "question");
  EXPECT_EQ(r.finished, 1);
  EXPECT_FALSE(r.errored) << "a half-close is not the connection's end";
  for (int i = 0; i < 5; ++i) net.wait(10);
  EXPECT_EQ(r.finished, 1) << "the EOF is reported once";
  const std::string answer = "answer";
  auto sent = net.send(*socket, {reinterpret_cast<const uint8_t*>(answer.data()), answer.size()});
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, answer.size());
  net.shutdown_send(*socket);
  std::string got;
  char buf[16];
  for (ssize_t n; (n = recv(peer, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  EXPECT_EQ(got, "answer") << "the half-closed peer still reads what the owner sends, then its EOF";
  net.close(*socket);
  EXPECT_EQ(net.open_sockets(), 0u);
  ::close(peer);
}

// A tunnel's local socket: stopped while its channel is full, the bytes wait
// in the kernel (nothing is read, even the peer's close), then come in
// reads of at most kSocketMaxReceive; a half-close still receives.
TEST(PosixNetwork, AStoppedSocketReadsNothingUntilResumedAndAHalfCloseStillReceives) {
  Listener ls;
  ASSERT_GE(ls.fd, 0);
  const uint16_t port = ls.port;
  PosixNetwork net;
  struct Chunks : Recorder {
    size_t largest = 0;
    void on_received(SocketId id, std::span<const uint8_t> b) override {
      largest = std::max(largest, b.size());
      Recorder::on_received(id, b);
    }
  } r;
  const Result<SocketId> socket = net.open(IpAddress::parse("127.0.0.1"), port, r);
  ASSERT_TRUE(socket.ok());
  pump(net, [&] { return r.connected; });
  int peer = accept(ls.fd, nullptr, nullptr);
  net.set_receiving(*socket, false);
  const std::string blob(100000, 'q');
  ASSERT_EQ(::send(peer, blob.data(), blob.size(), 0), static_cast<ssize_t>(blob.size()));
  net.shutdown_send(*socket);
  char c = 0;
  EXPECT_EQ(recv(peer, &c, 1, 0), 0) << "the half-close reached the peer";
  ::close(peer);
  for (int i = 0; i < 10; ++i) net.wait(20);
  EXPECT_TRUE(r.data.empty()) << "nothing read while stopped";
  EXPECT_FALSE(r.errored) << "the peer's close waits behind its bytes";
  net.set_receiving(*socket, true);
  pump(net, [&] { return r.errored; });
  EXPECT_EQ(r.data, blob);
  EXPECT_LE(r.largest, kSocketMaxReceive);
  EXPECT_EQ(r.error.reason(), Reason::connection_closed);
}

TEST(PosixNetwork, EachOwnerHearsOnlyItsOwnSocketsAndLookups) {
  Listener ls;
  ASSERT_GE(ls.fd, 0);
  const uint16_t port = ls.port;

  PosixNetwork net;
  Recorder link, tunnel;
  const Result<ResolveId> link_lookup = net.resolve("127.0.0.1", link);
  const Result<ResolveId> tunnel_lookup = net.resolve("localhost", tunnel);
  ASSERT_TRUE(link_lookup.ok());
  ASSERT_TRUE(tunnel_lookup.ok());
  EXPECT_NE(*link_lookup, *tunnel_lookup);
  const Result<SocketId> link_socket = net.open(IpAddress::parse("127.0.0.1"), port, link);
  const Result<SocketId> tunnel_socket = net.open(IpAddress::parse("127.0.0.1"), port, tunnel);
  ASSERT_TRUE(link_socket.ok());
  ASSERT_TRUE(tunnel_socket.ok());
  EXPECT_NE(*link_socket, *tunnel_socket);
  pump(net, [&] { return link.resolved && tunnel.resolved && link.connected && tunnel.connected; });
  ASSERT_TRUE(link.resolved && tunnel.resolved && link.connected && tunnel.connected);
  ASSERT_EQ(link.addresses.count, 1u);
  EXPECT_EQ(link.addresses.items[0], IpAddress::parse("127.0.0.1"));
  EXPECT_TRUE(tunnel.resolve_status.ok());
  int first = accept(ls.fd, nullptr, nullptr);
  int second = accept(ls.fd, nullptr, nullptr);
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  ASSERT_EQ(::send(first, "one", 3, 0), 3);
  ASSERT_EQ(::send(second, "two", 3, 0), 3);
  pump(net, [&] { return link.data.size() + tunnel.data.size() == 6; });
  // Which accepted socket is whose is the kernel's choice; each owner got
  // exactly one of the two messages.
  EXPECT_TRUE((link.data == "one" && tunnel.data == "two") || (link.data == "two" && tunnel.data == "one"))
      << link.data << " / " << tunnel.data;
  net.close(*tunnel_socket);
  EXPECT_EQ(net.open_sockets(), 1u);
  ::close(first);
  ::close(second);
  pump(net, [&] { return link.errored; });
  EXPECT_EQ(link.error.reason(), Reason::connection_closed);
  EXPECT_FALSE(tunnel.errored);
}

TEST(PosixNetwork, CancelledLookupIsNeverAnswered) {
  PosixNetwork net;
  Recorder r;
  const Result<ResolveId> lookup = net.resolve("localhost", r);
  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(net.pending_lookups(), 1u);
  net.cancel_resolve(*lookup);
  EXPECT_EQ(net.pending_lookups(), 0u);
  for (int i = 0; i < 10; ++i) net.wait(20);
  EXPECT_FALSE(r.resolved);
}

TEST(PosixNetwork, LookupsBeyondTheBoundAreRefusedAtOnce) {
  PosixNetwork net;
  Recorder r;
  for (size_t i = 0; i < PosixNetwork::kMaxLookups; ++i) ASSERT_TRUE(net.resolve("127.0.0.1", r).ok());
  const Result<ResolveId> more = net.resolve("127.0.0.1", r);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().reason(), Reason::out_of_memory);
  net.wait(0);  // answers every literal
  EXPECT_EQ(net.pending_lookups(), 0u);
  EXPECT_TRUE(net.resolve("127.0.0.1", r).ok());
}

TEST(PosixNetwork, ANameLongerThanAnyDnsNameIsNoSuchNameNotATemporaryFailure) {
  PosixNetwork net;
  Recorder r;
  ASSERT_TRUE(net.resolve(std::string(kMaxPosixLookupName + 1, 'a'), r).ok());
  net.wait(0);
  ASSERT_TRUE(r.resolved) << "answered at once: no resolver is asked";
  EXPECT_EQ(r.resolve_status, Status(Reason::dns_failed, EAI_NONAME));
  EXPECT_STREQ(posix_resolver_words(r.resolve_status.detail()), gai_strerror(EAI_NONAME));
  EXPECT_EQ(net.pending_lookups(), 0u);
}

TEST(PosixNetwork, TheSocketTableIsBoundedAndAClosedSocketFreesItsSlot) {
  Listener ls;
  ASSERT_GE(ls.fd, 0);
  const uint16_t port = ls.port;
  PosixNetwork net;
  Recorder r;
  std::vector<SocketId> open;
  for (size_t i = 0; i < PosixNetwork::kMaxSockets; ++i) {
    const Result<SocketId> s = net.open(IpAddress::parse("127.0.0.1"), port, r);
    ASSERT_TRUE(s.ok()) << i;
    open.push_back(*s);
  }
  const Result<SocketId> beyond = net.open(IpAddress::parse("127.0.0.1"), port, r);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status(), Status(Reason::out_of_memory, static_cast<int32_t>(PosixNetwork::kMaxSockets)));
  net.close(open.back());
  open.pop_back();
  const Result<SocketId> again = net.open(IpAddress::parse("127.0.0.1"), port, r);
  ASSERT_TRUE(again.ok()) << "the closed socket's slot is free again";
  open.push_back(*again);
  for (SocketId id : open) net.close(id);
  EXPECT_EQ(net.open_sockets(), 0u);
}

TEST(PosixNetwork, ASendToAnUnknownOrStillConnectingSocketIsRefusedAndAnEmptySendMovesNothing) {
  Listener ls;
  ASSERT_GE(ls.fd, 0);
  const uint16_t port = ls.port;
  PosixNetwork net;
  Recorder r;
  const uint8_t byte[] = {1};
  EXPECT_EQ(net.send(12345, byte).status(), Status(Reason::invalid_argument, 0)) << "no such socket";
  const Result<SocketId> s = net.open(IpAddress::parse("127.0.0.1"), port, r);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(net.send(*s, byte).status(), Status(Reason::invalid_argument, 0)) << "not connected yet";
  net.shutdown_send(*s);  // ignored while connecting: the socket still connects
  pump(net, [&] { return r.connected || r.errored; });
  ASSERT_TRUE(r.connected);
  ASSERT_TRUE(net.send(*s, std::span<const uint8_t>{}).ok());
  EXPECT_EQ(*net.send(*s, std::span<const uint8_t>{}), 0u);
  net.close(*s);
}

TEST(PosixNetwork, AFullSendBufferTakesWhatFitsAndTellsTheOwnerWhenItCanWriteAgain) {
  Listener ls;
  ASSERT_GE(ls.fd, 0);
  const uint16_t port = ls.port;
  PosixNetwork net;
  Recorder r;
  const Result<SocketId> s = net.open(IpAddress::parse("127.0.0.1"), port, r);
  ASSERT_TRUE(s.ok());
  pump(net, [&] { return r.connected || r.errored; });
  ASSERT_TRUE(r.connected);
  const int peer = accept(ls.fd, nullptr, nullptr);
  ASSERT_GE(peer, 0);
  // The peer reads nothing: the kernel's buffers fill, then sends take less
  // than offered, then nothing.
  const std::vector<uint8_t> chunk(64 * 1024, 0x5a);
  size_t sent = 0;
  bool short_send = false;
  for (int i = 0; i < 10'000; ++i) {
    const Result<size_t> n = net.send(*s, chunk);
    ASSERT_TRUE(n.ok()) << reason_name(n.status().reason());
    sent += *n;
    if (*n < chunk.size()) short_send = true;
    if (*n == 0) break;
  }
  ASSERT_TRUE(short_send) << "the send buffer never filled";
  EXPECT_EQ(r.writable, 0);
  // The peer drains everything: the owner hears it may write again.
  std::vector<uint8_t> sink(256 * 1024);
  size_t drained = 0;
  for (int i = 0; i < 2000 && (drained < sent || r.writable == 0); ++i) {
    const ssize_t got = recv(peer, sink.data(), sink.size(), MSG_DONTWAIT);
    if (got > 0) drained += static_cast<size_t>(got);
    net.wait(5);
  }
  EXPECT_EQ(drained, sent) << "every byte the network took arrived";
  EXPECT_GE(r.writable, 1);
  EXPECT_FALSE(r.errored);
  net.close(*s);
  ::close(peer);
}

}  // namespace
}  // namespace sublink
