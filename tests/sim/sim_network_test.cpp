// SimNetwork through its public interface, with a recording client and a
// plain byte server: timing, faults and ordering.
#include "net/sim/sim_network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sublink {
namespace {

const IpAddress kServer = IpAddress::parse("10.0.0.1");
const IpAddress kDevice = IpAddress::parse("10.0.0.2");

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

struct Recorder : SocketEvents {
  SimNetwork* net = nullptr;
  std::vector<std::string> log;
  std::string received;
  AddressList resolved;
  void add(const std::string& s) { log.push_back(std::to_string(net->now()) + " " + s); }
  void on_resolved(ResolveId, Status status, const AddressList& a) override {
    resolved = a;
    add(std::string("resolved ") + reason_name(status.reason()) + " " + std::to_string(a.count));
  }
  void on_connected(SocketId id) override { add("connected " + std::to_string(id)); }
  void on_received(SocketId, std::span<const uint8_t> b) override {
    received.append(reinterpret_cast<const char*>(b.data()), b.size());
    add("received " + std::to_string(b.size()));
  }
  void on_writable(SocketId id) override { add("writable " + std::to_string(id)); }
  void on_socket_error(SocketId id, Status s) override {
    add("error " + std::to_string(id) + " " + reason_name(s.reason()));
  }
};

// Echoes what it gets; records closes.
struct EchoServer : SimConnectionHandler {
  std::vector<std::string> log;
  SimConnection* last = nullptr;
  void on_data(SimConnection& c, std::span<const uint8_t> b) override { c.send(b); }
  void on_closed(SimConnection&, Status why) override { log.push_back(reason_name(why.reason())); last = nullptr; }
};

struct NetFixture : ::testing::Test {
  VirtualClock clock{1'700'000'000'000};
  SimNetwork net{clock};
  Recorder rec;
  EchoServer echo;
  SimSocketDriver* driver = nullptr;
  // Connects the device to the echo server (socket 1, established at 200)
  // and returns the server's end.
  SimConnection& connected() {
    EXPECT_TRUE(driver->open(kServer, 443, rec).ok());
    net.run_until(200);
    EXPECT_NE(echo.last, nullptr);
    return *echo.last;
  }
  void SetUp() override {
    rec.net = &net;
    driver = &net.client(kDevice);
    net.set_default_path(SimPath{100, 0});
    net.listen(kServer, 443, [this](SimConnection& c) {
      c.set_handler(&echo);
      echo.last = &c;
    });
  }
};

TEST_F(NetFixture, ConnectTakesOneRoundTripAndEchoAnother) {
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(1000);
  ASSERT_EQ(rec.log.size(), 1u);
  EXPECT_EQ(rec.log[0], "200 connected 1");
  ASSERT_EQ(*driver->send(1, bytes_of("ping")), 4u);
  net.run_until(5000);
  EXPECT_EQ(rec.log.back(), "1200 received 4");
  EXPECT_EQ(rec.received, "ping");
}

TEST_F(NetFixture, BandwidthDelaysBigTransfers) {
  net.set_path(kDevice, kServer, SimPath{100, 128'000});
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(200);
  // 16000 bytes at 128 kbit/s: 1000 ms on the wire and 100 ms latency each
  // way, sent at 200: at the server at 1300, back at 2400.
  std::string blob(16000, 'b');
  ASSERT_EQ(*driver->send(1, bytes_of(blob)), blob.size());
  net.run_until(10'000);
  EXPECT_EQ(rec.log.back(), "2400 received 16000");
}

TEST_F(NetFixture, WindowBoundsBytesInFlightThenWritable) {
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(200);
  std::string blob(SimNetwork::kWindowBytes + 10, 'w');
  EXPECT_EQ(*driver->send(1, bytes_of(blob)), SimNetwork::kWindowBytes);
  EXPECT_EQ(*driver->send(1, bytes_of("x")), 0u);
  net.run_until(400);
  EXPECT_NE(std::find(rec.log.begin(), rec.log.end(), "300 writable 1"), rec.log.end());
}

TEST_F(NetFixture, DnsAnswersInOrderFailsWhenToldAndForUnknownNames) {
  net.set_dns("sub.example", {kServer, kDevice});
  ASSERT_TRUE(driver->resolve("sub.example", rec).ok());
  net.run_until(100);
  ASSERT_EQ(rec.resolved.count, 2u);
  EXPECT_EQ(rec.resolved.items[0], kServer);
  net.set_dns_failure("sub.example", true);
  ASSERT_TRUE(driver->resolve("sub.example", rec).ok());
  ASSERT_TRUE(driver->resolve("nobody.example", rec).ok());
  ASSERT_TRUE(driver->resolve("10.9.8.7", rec).ok());
  net.run_until(200);
  ASSERT_EQ(rec.log.size(), 4u);
  // Answers take the default 5 ms DNS delay from the time asked (100).
  EXPECT_EQ(rec.log[1], "105 resolved dns_failed 0");
  EXPECT_EQ(rec.log[2], "105 resolved dns_failed 0");
  EXPECT_EQ(rec.log[3], "105 resolved ok 1");
}

TEST_F(NetFixture, PortModes) {
  net.set_port_mode(kServer, 444, SimPortMode::blackhole);
  net.set_port_mode(kServer, 445, SimPortMode::accept_silent);
  net.set_port_mode(kServer, 443, SimPortMode::normal);
  ASSERT_TRUE(driver->open(kServer, 8443, rec).ok());  // nobody listens
  ASSERT_TRUE(driver->open(kServer, 444, rec).ok());
  ASSERT_TRUE(driver->open(kServer, 445, rec).ok());
  net.run_until(300);
  ASSERT_EQ(*driver->send(3, bytes_of("hello?")), 6u);
  net.run_until(60'000);
  EXPECT_EQ(rec.log, (std::vector<std::string>{"200 error 1 connect_refused", "200 connected 3"}));
  EXPECT_EQ(driver->open_sockets(), 2u) << "the blackholed and the silent socket stay open";
  driver->close(2);
  driver->close(3);
  net.run_until(61'000);
  EXPECT_EQ(net.open_connections(), 0u);
}

TEST_F(NetFixture, BlackholeSilencesAnEstablishedConnection) {
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(200);
  net.set_blackhole(kServer, true);
  ASSERT_TRUE(driver->send(1, bytes_of("lost")).ok());
  net.run_until(10'000);
  EXPECT_EQ(rec.received, "");
  net.set_blackhole(kServer, false);
  ASSERT_TRUE(driver->send(1, bytes_of("back")).ok());
  net.run_until(20'000);
  EXPECT_EQ(rec.received, "back");
}

TEST_F(NetFixture, LinkLossResetsBothEndsAndRefusesConnectsUntilBack) {
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(200);
  net.set_link_down(kDevice, true);
  EXPECT_EQ(rec.log.back(), "200 error 1 connection_reset");
  EXPECT_EQ(echo.log, std::vector<std::string>{"connection_reset"});
  EXPECT_EQ(driver->open(kServer, 443, rec).status().reason(), Reason::connect_unreachable);
  net.set_link_down(kDevice, false);
  EXPECT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(1000);
  EXPECT_EQ(rec.log.back(), "400 connected 3");
}

TEST_F(NetFixture, ServerRestartResetsThenRefusesThenAccepts) {
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(200);
  net.restart(kServer, 1000);
  EXPECT_EQ(rec.log.back(), "200 error 1 connection_reset");
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(1300);
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(2000);
  ASSERT_EQ(rec.log.size(), 4u);
  EXPECT_EQ(rec.log[2], "400 error 2 connect_refused");
  EXPECT_EQ(rec.log[3], "1500 connected 3");
}

TEST_F(NetFixture, ServerCloseArrivesAfterItsData) {
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(200);
  ASSERT_NE(echo.last, nullptr);
  echo.last->send(bytes_of("bye"));
  echo.last->close();
  net.run_until(1000);
  EXPECT_EQ(rec.log[1], "300 received 3");
  EXPECT_EQ(rec.log[2], "300 error 1 connection_closed");
  EXPECT_EQ(net.open_connections(), 0u);
  EXPECT_EQ(net.queued_events(), 0u);
}

TEST_F(NetFixture, HostPowerLossVanishesSilentlyAndTheRebootedHostResets) {
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(200);
  ASSERT_NE(echo.last, nullptr);
  SimConnection* server_end = echo.last;
  ASSERT_TRUE(driver->resolve("10.9.8.7", rec).ok());  // its answer would come at 205
  net.set_host_power(kDevice, false);
  EXPECT_FALSE(net.host_powered(kDevice));
  EXPECT_EQ(driver->open_sockets(), 0u);
  EXPECT_EQ(driver->open(kServer, 443, rec).status().reason(), Reason::connect_unreachable);
  net.run_until(1000);
  EXPECT_EQ(rec.log, std::vector<std::string>{"200 connected 1"}) << "a dead host hears nothing";
  EXPECT_TRUE(echo.log.empty()) << "no FIN, no RST: the server does not know";
  server_end->send(bytes_of("anyone?"));  // lost while the host is off
  net.run_until(2000);
  EXPECT_TRUE(echo.log.empty());
  net.set_host_power(kDevice, true);
  server_end->send(bytes_of("still there?"));  // the new boot knows no such connection
  net.run_until(3000);
  EXPECT_EQ(echo.log, std::vector<std::string>{"connection_reset"});
  EXPECT_EQ(rec.received, "");
  EXPECT_EQ(net.open_connections(), 0u);
}

TEST_F(NetFixture, RemovedPollableIsNotCalledAgain) {
  int calls = 0;
  const uint64_t id = net.add_pollable([&calls](Millis) {
    ++calls;
    return kNever;
  });
  net.run_until(10);
  const int before = calls;
  EXPECT_GT(before, 0);
  net.remove_pollable(id);
  net.run_until(20);
  EXPECT_EQ(calls, before);
}

TEST_F(NetFixture, EventsAtTheSameTimeRunInSchedulingOrder) {
  std::string order;
  for (char c : std::string("abcdef")) net.at(50, [&order, c] { order.push_back(c); });
  net.at(10, [&order] { order.push_back('0'); });
  EXPECT_EQ(net.next_event_time(), 10);
  net.run_until(49);
  EXPECT_EQ(order, "0");
  net.run_until(50);
  EXPECT_EQ(order, "0abcdef");
  EXPECT_EQ(clock.now_ms(), 50);
}

TEST_F(NetFixture, EachOwnerHearsOnlyItsOwnSocketsAndLookups) {
  // Two owners on one host's driver (the link and a tunnel channel): every
  // event goes to the owner that asked, with the handle it was given.
  Recorder other;
  other.net = &net;
  net.set_dns("sub.example", {kServer});
  const Result<SocketId> mine = driver->open(kServer, 443, rec);
  const Result<SocketId> theirs = driver->open(kServer, 443, other);
  ASSERT_TRUE(mine.ok());
  ASSERT_TRUE(theirs.ok());
  EXPECT_NE(*mine, *theirs);
  const Result<ResolveId> my_lookup = driver->resolve("sub.example", rec);
  const Result<ResolveId> their_lookup = driver->resolve("nobody.example", other);
  ASSERT_TRUE(my_lookup.ok());
  ASSERT_TRUE(their_lookup.ok());
  EXPECT_NE(*my_lookup, *their_lookup);
  net.run_until(200);
  EXPECT_EQ(rec.log, (std::vector<std::string>{"5 resolved ok 1", "200 connected " + std::to_string(*mine)}));
  EXPECT_EQ(other.log,
            (std::vector<std::string>{"5 resolved dns_failed 0", "200 connected " + std::to_string(*theirs)}));
  ASSERT_EQ(*driver->send(*theirs, bytes_of("tunnel")), 6u);
  ASSERT_EQ(*driver->send(*mine, bytes_of("link")), 4u);
  net.run_until(1000);
  EXPECT_EQ(rec.received, "link");
  EXPECT_EQ(other.received, "tunnel");
  // One owner closing its socket leaves the other's open.
  driver->close(*theirs);
  EXPECT_EQ(driver->open_sockets(), 1u);
  ASSERT_EQ(*driver->send(*mine, bytes_of("!")), 1u);
  net.run_until(2000);
  EXPECT_EQ(rec.received, "link!");
}

TEST_F(NetFixture, CancelledLookupIsNeverAnswered) {
  net.set_dns("sub.example", {kServer});
  const Result<ResolveId> first = driver->resolve("sub.example", rec);
  const Result<ResolveId> second = driver->resolve("sub.example", rec);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  driver->cancel_resolve(*first);
  EXPECT_EQ(driver->pending_lookups(), 1u);
  net.run_until(100);
  EXPECT_EQ(rec.log, std::vector<std::string>{"5 resolved ok 1"});
  EXPECT_EQ(driver->pending_lookups(), 0u);
}

TEST_F(NetFixture, AServerEndThatClosedSendsNothingAndClosingAgainIsHarmless) {
  SimConnection* server_end = &connected();
  server_end->close();
  EXPECT_EQ(server_end->send(bytes_of("late")), 0u) << "no bytes after the FIN";
  server_end->close();
  server_end->reset();
  net.run_until(1000);
  EXPECT_EQ(rec.log, (std::vector<std::string>{"200 connected 1", "300 error 1 connection_closed"}))
      << "one FIN, no RST after it";
  EXPECT_EQ(rec.received, "");
  EXPECT_EQ(net.open_connections(), 0u);
}

TEST_F(NetFixture, AServerResetArrivesAfterItsDataAsConnectionReset) {
  SimConnection* server_end = &connected();
  ASSERT_EQ(server_end->send(bytes_of("partial")), 7u);
  server_end->reset();
  server_end->reset();  // already gone: nothing more
  EXPECT_EQ(server_end->send(bytes_of("x")), 0u);
  net.run_until(1000);
  EXPECT_EQ(rec.log, (std::vector<std::string>{"200 connected 1", "300 received 7", "300 error 1 connection_reset"}));
  EXPECT_EQ(driver->open_sockets(), 0u);
  EXPECT_EQ(net.open_connections(), 0u);
}

TEST_F(NetFixture, ARefusingPortRefusesEvenWithAListener) {
  net.set_port_mode(kServer, 443, SimPortMode::refuse);  // a firewall reject in front of the server
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(1000);
  EXPECT_EQ(rec.log, std::vector<std::string>{"200 error 1 connect_refused"});
  EXPECT_EQ(echo.last, nullptr) << "the listener never saw it";
}

// A SYN to a server whose own link is down gets no answer at all: the
// client's connect timeout, not the network, ends it.
TEST_F(NetFixture, ASynToAServerWhoseLinkIsDownIsNeverAnswered) {
  net.set_link_down(kServer, true);
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(60'000);
  EXPECT_TRUE(rec.log.empty());
  EXPECT_EQ(driver->open_sockets(), 1u);
  driver->close(1);
  net.run_until(61'000);
  EXPECT_EQ(net.open_connections(), 0u);
}

TEST_F(NetFixture, DnsFailsWhileTheDevicesLinkIsDownAndAPoweredOffAskerHearsNothing) {
  net.set_dns("sub.example", {kServer});
  net.set_link_down(kDevice, true);
  ASSERT_TRUE(driver->resolve("sub.example", rec).ok());
  net.run_until(100);
  EXPECT_EQ(rec.log, std::vector<std::string>{"5 resolved dns_failed 0"});
  net.set_link_down(kDevice, false);
  ASSERT_TRUE(driver->resolve("sub.example", rec).ok());
  net.set_host_power(kDevice, false);
  net.run_until(1000);
  EXPECT_EQ(rec.log.size(), 1u) << "the answer to a host that lost power goes nowhere";
  EXPECT_EQ(driver->pending_lookups(), 0u);
}

// A server that writes more than the window gets a short send, then
// on_writable once the client has taken half of it.
TEST_F(NetFixture, AServerSendBeyondTheWindowIsShortThenWritable) {
  struct Pusher : SimConnectionHandler {
    int writable = 0;
    void on_data(SimConnection&, std::span<const uint8_t>) override {}
    void on_writable(SimConnection&) override { ++writable; }
    void on_closed(SimConnection&, Status) override {}
  } pusher;
  SimConnection* server_end = nullptr;
  net.listen(kServer, 8443, [&](SimConnection& c) {
    c.set_handler(&pusher);
    server_end = &c;
  });
  ASSERT_TRUE(driver->open(kServer, 8443, rec).ok());
  net.run_until(200);
  ASSERT_NE(server_end, nullptr);
  const std::string blob(SimNetwork::kWindowBytes + 100, 's');
  EXPECT_EQ(server_end->send(bytes_of(blob)), SimNetwork::kWindowBytes);
  EXPECT_EQ(server_end->send(bytes_of("more")), 0u);
  EXPECT_EQ(pusher.writable, 0);
  net.run_until(1000);
  EXPECT_EQ(rec.received.size(), SimNetwork::kWindowBytes);
  EXPECT_EQ(pusher.writable, 1);
  EXPECT_EQ(server_end->send(bytes_of("more")), 4u);
}

}  // namespace
}  // namespace sublink

namespace sublink {
namespace {

TEST_F(NetFixture, AStoppedSocketHoldsItsBytesAndTheServersCloseUntilResumedInChunksOfAtMost16K) {
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(200);
  ASSERT_NE(echo.last, nullptr);
  driver->set_receiving(1, false);
  std::string blob(40000, 'z');
  echo.last->send(bytes_of(blob));
  echo.last->close();
  net.run_until(1000);
  EXPECT_EQ(rec.log.size(), 1u) << "nothing delivered while stopped, the close neither";
  driver->set_receiving(1, true);
  ASSERT_EQ(rec.log.size(), 5u);
  EXPECT_EQ(rec.log[1], "1000 received 16384");
  EXPECT_EQ(rec.log[2], "1000 received 16384");
  EXPECT_EQ(rec.log[3], "1000 received 7232");
  EXPECT_EQ(rec.log[4], "1000 error 1 connection_closed") << "the close after the held bytes";
  EXPECT_EQ(rec.received, blob);
}

TEST_F(NetFixture, ShutdownSendClosesTheServersEndAndStillReceives) {
  ASSERT_TRUE(driver->open(kServer, 443, rec).ok());
  net.run_until(200);
  SimConnection* c = echo.last;
  ASSERT_NE(c, nullptr);
  driver->shutdown_send(1);
  c->send(bytes_of("late"));
  net.run_until(1000);
  EXPECT_EQ(echo.log, std::vector<std::string>{"connection_closed"}) << "the server saw the FIN";
  EXPECT_EQ(rec.received, "late") << "this end still receives";
}

}  // namespace
}  // namespace sublink
