// The connection policy on real sockets (PROTOCOL.md section 1): refused
// ports fail over at once, a port that takes TCP but never speaks TLS is
// overtaken after stagger_ms, and dead servers get a growing, jittered
// backoff.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "link/link_harness.h"

namespace sublink::test {
namespace {

std::vector<std::string> tls_peer_args() {
  return {"--cert", pki_dir() + "/server.crt", "--key", pki_dir() + "/server.key", "--ca", pki_dir() + "/ca.crt"};
}

// A listening socket nobody accepts on: the kernel completes the TCP
// handshake, then nothing ever answers the ClientHello.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 8);
  }
  ~SilentListener() { close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(LinkPolicy, RefusedFirstPortFailsOverAtOnce) {
  TempDir tmp;
  int good = free_port();
  auto peer = start_ws_peer(good, tls_peer_args(), tmp.file("peer.log"));
  LinkHarness::Options o;
  o.server = "127.0.0.1";
  o.ports = {static_cast<uint16_t>(free_port()), static_cast<uint16_t>(good)};
  o.stagger_ms = 5000;  // a failover that waited for the stagger would show
  LinkHarness h(o);
  ASSERT_TRUE(h.run_until([&] { return h.ups == 1; }, 10000)) << h.dump();
  EXPECT_EQ(h.up_port, good);
  ASSERT_EQ(h.attempt_failures.size(), 1u) << h.dump();
  EXPECT_EQ(h.attempt_failures[0].reason(), Reason::connect_refused);
  EXPECT_EQ(h.failure_ports[0], o.ports[0]);
  Millis second = h.first("step connecting " + std::to_string(good));
  ASSERT_GE(second, 0);
  EXPECT_LT(second, 2500) << h.dump();
}

TEST(LinkPolicy, SilentFirstPortIsOvertakenAfterStagger) {
  TempDir tmp;
  SilentListener silent;
  int good = free_port();
  auto peer = start_ws_peer(good, tls_peer_args(), tmp.file("peer.log"));
  LinkHarness::Options o;
  o.server = "127.0.0.1";
  o.ports = {silent.port(), static_cast<uint16_t>(good)};
  o.stagger_ms = 300;
  o.connect_timeout_ms = 8000;
  LinkHarness h(o);
  ASSERT_TRUE(h.run_until([&] { return h.ups == 1; }, 10000)) << h.dump();
  EXPECT_EQ(h.up_port, good);
  Millis first_tcp = h.first("step tcp_connected " + std::to_string(silent.port()));
  Millis second = h.first("step connecting " + std::to_string(good));
  ASSERT_GE(first_tcp, 0) << h.dump();  // the first port did accept TCP
  EXPECT_GE(second, 300) << h.dump();   // the second waited for the stagger
  EXPECT_LT(h.first("up "), 8000);      // ...not for the first one's timeout
  EXPECT_TRUE(h.attempt_failures.empty()) << h.dump();  // superseded, not failed
}

TEST(LinkPolicy, DeadServerBackoffGrowsWithJitter) {
  LinkHarness::Options o;
  o.server = "127.0.0.1";
  o.ports = {static_cast<uint16_t>(free_port()), static_cast<uint16_t>(free_port())};
  o.retry_min_ms = 50;
  o.retry_max_ms = 400;
  LinkHarness h(o);
  ASSERT_TRUE(h.run_until([&] { return h.round_waits.size() >= 12; }, 20000)) << h.dump();
  // Bounds 50, 100, 200, 400, 400, ...: every wait within its bound.
  Millis bound = 50;
  for (size_t i = 0; i < h.round_waits.size(); ++i) {
    EXPECT_GE(h.round_waits[i], 0);
    EXPECT_LE(h.round_waits[i], bound) << "round " << i;
    bound = std::min<Millis>(bound * 2, 400);
  }
  // Jitter: the capped waits differ, and some exceed the first bound.
  std::vector<Millis> capped(h.round_waits.begin() + 4, h.round_waits.end());
  EXPECT_GT(*std::max_element(capped.begin(), capped.end()), 50);
  EXPECT_NE(*std::max_element(capped.begin(), capped.end()), *std::min_element(capped.begin(), capped.end()));
  for (auto& f : h.attempt_failures) EXPECT_EQ(f.reason(), Reason::connect_refused);
}

}  // namespace
}  // namespace sublink::test
