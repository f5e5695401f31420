// HttpConnect against a real proxy: Debian's tinyproxy on loopback, with a
// tiny echo server in the test as the tunnel's target.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "net/proxy/http_connect.h"
#include "proxy/print_status.h"
#include "support/process.h"

namespace sublink {
namespace {

using test::ChildProcess;
using test::TempDir;

// Accepts connections on a loopback port and echoes every byte back.
class EchoServer {
 public:
  explicit EchoServer(bool v6 = false) {
    fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_addr = in6addr_loopback;
      ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      socklen_t len = sizeof a;
      getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
      port_ = ntohs(a.sin6_port);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      socklen_t len = sizeof a;
      getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
      port_ = ntohs(a.sin_port);
    }
    ok_ = ok_ && listen(fd_, 8) == 0;
    thread_ = std::thread([this] { run(); });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }
  int connections() const { return connections_; }

 private:
  void run() {
    std::vector<std::thread> peers;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      peers.emplace_back([this, c] {
        char buf[4096];
        while (!stop_) {
          pollfd q{c, POLLIN, 0};
          if (poll(&q, 1, 50) <= 0) continue;
          ssize_t n = recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          for (ssize_t off = 0; off < n;) {
            ssize_t w = send(c, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
            if (w <= 0) break;
            off += w;
          }
        }
        close(c);
      });
    }
    for (auto& t : peers) t.join();
  }

  int fd_ = -1;
  bool ok_ = false;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// tinyproxy on 127.0.0.1 with CONNECT allowed to `allowed_port` only.
class Tinyproxy {
 public:
  Tinyproxy(uint16_t allowed_port, bool basic_auth) : port_(static_cast<uint16_t>(test::free_port())) {
    const std::string conf = dir_.file("tinyproxy.conf");
    std::ofstream out(conf);
    out << "Port " << port_ << "\n"
        << "Listen 127.0.0.1\n"
        << "Timeout 10\n"
        << "MaxClients 8\n"
        << "LogLevel Info\n"
        << "Allow 127.0.0.1\n"
        << "ConnectPort " << allowed_port << "\n";
    // tinyproxy's BasicAuth takes [-a-z0-9._] only; the URL below
    // percent-encodes the '.' to exercise the decoding on a real peer.
    if (basic_auth) out << "BasicAuth sublink s3cr3t.pw\n";
    out.close();
    process_ = ChildProcess({"tinyproxy", "-d", "-c", conf}, dir_.file("tinyproxy.log"));
    up_ = test::wait_for_port(port_, 5000);
  }
  bool up() const { return up_; }
  uint16_t port() const { return port_; }
  std::string log() const { return process_.log(); }

 private:
  TempDir dir_;
  uint16_t port_;
  ChildProcess process_;
  bool up_ = false;
};

// A blocking client: the small socket pump a driver would be.
class ProxyClient {
 public:
  explicit ProxyClient(uint16_t proxy_port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(proxy_port);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~ProxyClient() { close(fd_); }

  // Sends the CONNECT request and feeds the answer until it is decided.
  Status open_tunnel(HttpConnect& http) {
    if (!connected_) return Status(Reason::connect_refused);
    if (!send_all(http.request())) return Status(Reason::io_error);
    uint8_t buf[512];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return Status(Reason::connection_closed);
      Status s = http.feed(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
      if (s.reason() != Reason::would_block) return s;
    }
  }

  bool send_all(std::span<const uint8_t> data) {
    for (size_t off = 0; off < data.size();) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  std::string receive_exactly(size_t want) {
    std::string got;
    char buf[4096];
    while (got.size() < want) {
      ssize_t n = recv(fd_, buf, std::min(sizeof buf, want - got.size()), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

ProxyUrl url(const std::string& s) {
  Result<ProxyUrl> r = parse_proxy_url(s);
  EXPECT_TRUE(r.ok()) << s;
  return *r;
}

// Sends `payload` through an open tunnel and expects it echoed back whole.
void expect_echo(ProxyClient& client, HttpConnect& http, const std::string& payload) {
  std::string echoed(http.leftover().begin(), http.leftover().end());
  ASSERT_TRUE(client.send_all(bytes(payload)));
  echoed += client.receive_exactly(payload.size() - echoed.size());
  EXPECT_EQ(echoed.size(), payload.size());
  EXPECT_TRUE(echoed == payload) << "tunnel corrupted the bytes";
}

TEST(HttpConnectTinyproxy, TunnelCarriesBytesBothWays) {
  EchoServer echo;
  ASSERT_TRUE(echo.ok());
  Tinyproxy proxy(echo.port(), false);
  ASSERT_TRUE(proxy.up()) << proxy.log();

  ProxyClient client(proxy.port());
  HttpConnect http(url("http://127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1", echo.port());
  ASSERT_EQ(client.open_tunnel(http), Status()) << proxy.log();
  EXPECT_EQ(http.status(), 200);
  expect_echo(client, http, "hello through the tunnel");
  // Binary and bigger than one segment: every byte value, many times.
  std::string big;
  for (int i = 0; i < 48 * 1024; ++i) big.push_back(static_cast<char>(i * 7 + 3));
  expect_echo(client, http, big);
  EXPECT_EQ(echo.connections(), 1);
}

TEST(HttpConnectTinyproxy, TunnelToAnIpv6Target) {
  EchoServer echo(true);
  if (!echo.ok()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  Tinyproxy proxy(echo.port(), false);
  ASSERT_TRUE(proxy.up()) << proxy.log();
  ProxyClient client(proxy.port());
  HttpConnect http(url("http://127.0.0.1:" + std::to_string(proxy.port())), "::1", echo.port());
  ASSERT_EQ(client.open_tunnel(http), Status()) << proxy.log();
  expect_echo(client, http, "over v6");
}

TEST(HttpConnectTinyproxy, CorrectCredentialsOpenTheTunnel) {
  EchoServer echo;
  Tinyproxy proxy(echo.port(), true);
  ASSERT_TRUE(proxy.up()) << proxy.log();
  ProxyClient client(proxy.port());
  HttpConnect http(url("http://sublink:s3cr3t%2Epw@127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1",
                   echo.port());
  ASSERT_EQ(client.open_tunnel(http), Status()) << proxy.log();
  expect_echo(client, http, "authenticated");
}

TEST(HttpConnectTinyproxy, MissingOrWrongCredentialsGet407) {
  EchoServer echo;
  Tinyproxy proxy(echo.port(), true);
  ASSERT_TRUE(proxy.up()) << proxy.log();
  const std::string port = std::to_string(proxy.port());
  {
    ProxyClient client(proxy.port());
    HttpConnect http(url("http://127.0.0.1:" + port), "127.0.0.1", echo.port());
    EXPECT_EQ(client.open_tunnel(http), Status(Reason::proxy_auth_required, 407));
  }
  // tinyproxy 1.11 answers wrong credentials with 401, not 407; for a
  // CONNECT both mean the proxy refused our credentials.
  for (const std::string& u : {"http://sublink:wrong@127.0.0.1:" + port, "http://other:s3cr3t%2Epw@127.0.0.1:" + port}) {
    ProxyClient client(proxy.port());
    HttpConnect http(url(u), "127.0.0.1", echo.port());
    Status s = client.open_tunnel(http);
    EXPECT_EQ(s.reason(), Reason::proxy_auth_required) << u;
    EXPECT_TRUE(s.detail() == 407 || s.detail() == 401) << u << " " << s.detail();
  }
  EXPECT_EQ(echo.connections(), 0) << "nothing reached the target";
}

TEST(HttpConnectTinyproxy, PortNotAllowedByTheProxyFailsWithItsStatus) {
  EchoServer echo;
  EchoServer other;
  Tinyproxy proxy(echo.port(), false);
  ASSERT_TRUE(proxy.up()) << proxy.log();
  ProxyClient client(proxy.port());
  HttpConnect http(url("http://127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1", other.port());
  Status s = client.open_tunnel(http);
  EXPECT_EQ(s.reason(), Reason::proxy_status) << proxy.log();
  EXPECT_EQ(s.detail(), 403);
  EXPECT_EQ(other.connections(), 0);
}

TEST(HttpConnectTinyproxy, UnreachableTargetFailsWithTheProxysStatus) {
  const auto dead_port = static_cast<uint16_t>(test::free_port());
  Tinyproxy proxy(dead_port, false);
  ASSERT_TRUE(proxy.up()) << proxy.log();
  // Nothing listens on the allowed port: the proxy reports it, not a hang.
  ProxyClient client(proxy.port());
  HttpConnect http(url("http://127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1", dead_port);
  Status s = client.open_tunnel(http);
  EXPECT_EQ(s.reason(), Reason::proxy_status) << proxy.log();
  EXPECT_GE(s.detail(), 400);
}

}  // namespace
}  // namespace sublink
