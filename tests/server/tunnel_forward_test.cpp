// The server's half of the tunnels (PROTOCOL.md section 6) with the real
// sublink-server, its admin command line and real loopback services, and a
// test device (tunnel_device.py) written from the protocol text that checks
// the server on the wire: it reports any DATA beyond the window it granted,
// early data beyond 4096 bytes, an OPEN of an id in use or a malformed
// frame as a VIOLATION line. Every process is stopped by PID.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <regex>
#include <string>
#include <vector>

#include "integration/sublinkd_rig.h"
#include "server/server_process.h"
#include "server/tunnel_support.h"
#include "support/process.h"
#include "tools/server/db/sqlite_directory.h"

namespace sublink::test {
namespace {

class TunnelForwardTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<ForwardingServer>(tmp_); }
  void TearDown() override {
    device_.reset();
    server_.reset();
  }

  void link(const std::vector<std::string>& services, int window = 65536, int max_channels = 8,
            const std::vector<std::string>& extra = {}) {
    device_ = std::make_unique<TestDevice>(tmp_, server_->port(), services, window, max_channels, extra);
    ASSERT_TRUE(device_->welcomed()) << logs();
  }
  CommandResult admin(const std::string& args) { return server_->admin(args); }
  int forward(const std::string& service, const std::string& op = "alice") { return server_->forward(service, op); }
  std::vector<TunnelRecord> closed_records(size_t n) { return server_->closed_records(n); }

  std::string logs() const {
    return "--- server:\n" + (server_ ? server_->log() : "") + "\n--- device:\n" + (device_ ? device_->log() : "");
  }
  /// A device (--no-credit) whose service takes nothing more after the
  /// first window, and an operator connection to it through a forward
  /// that sent until the server stopped reading it (up to 100 MB; `sent`
  /// gets the bytes). Its descriptor, or -1 (a test failure) when no
  /// connection was made.
  int stalled_operator(const EchoService& echo, uint64_t& sent) {
    link({"echo=127.0.0.1:" + std::to_string(echo.port())}, 65536, 8, {"--no-credit"});
    const int fd = connect_loopback(forward("echo"), 2000);
    EXPECT_GE(fd, 0) << logs();
    std::vector<uint8_t> block(64 * 1024, 0x5a);
    for (int i = 0; fd >= 0 && i < 1600; ++i) {
      const ssize_t n = ::send(fd, block.data(), block.size(), MSG_NOSIGNAL);
      if (n <= 0) break;  // the send timeout: the server stopped reading
      sent += static_cast<uint64_t>(n);
    }
    return fd;
  }
  void expect_no_violation() {
    EXPECT_EQ(device_->log().find("VIOLATION"), std::string::npos) << logs();
  }

  TempDir tmp_;
  std::unique_ptr<ForwardingServer> server_;
  std::unique_ptr<TestDevice> device_;
};

TEST_F(TunnelForwardTest, ParallelPagesOfARealWebServerArriveWholeAndEveryChannelIsRecorded) {
  // Pages of several sizes, some far beyond one window, served by Python's
  // http.server behind the device; fetched at once through one forward.
  TempDir site;
  uint64_t pages = 0;
  const std::vector<std::string> names = make_pages(site, 6, pages);
  int web = 0;
  ChildProcess http = serve_http(tmp_, site, web);
  ASSERT_FALSE(HasFailure());
  link({"http=127.0.0.1:" + std::to_string(web)});
  const int local = forward("http");
  ASSERT_NE(local, 0);

  EXPECT_EQ(fetch_pages_in_parallel(local, names, site, tmp_), "") << logs();
  expect_no_violation();
  EXPECT_NE(device_->log().find("open 1 http alice"), std::string::npos) << "OPEN names the operator\n" << logs();

  const std::vector<TunnelRecord> rows = closed_records(names.size());
  ASSERT_EQ(rows.size(), names.size()) << "one channel per TCP connection\n" << logs();
  uint64_t from_device = 0;
  for (const TunnelRecord& r : rows) {
    EXPECT_EQ(r.service, "http");
    EXPECT_EQ(r.op, "alice");
    EXPECT_TRUE(r.closed.has_value());
    EXPECT_EQ(r.reason, "fin") << "a page fetched whole ends with FIN both ways";
    EXPECT_GT(r.bytes_in, 0u) << "the request went in";
    from_device += r.bytes_out;
  }
  EXPECT_GT(from_device, pages) << "every page and its headers came out";
  EXPECT_LT(from_device, pages + 6 * 1024) << "and nothing more";
}

TEST_F(TunnelForwardTest, BytesEachWayArriveWholeOnOneChannelAndOnFourAtOnceWithinTheWindow) {
  EchoService echo;
  link({"echo=127.0.0.1:" + std::to_string(echo.port())}, 65536);
  const int local = forward("echo");
  ASSERT_NE(local, 0);
  constexpr uint64_t kBytes = 16ull << 20;
  std::string why;
  EXPECT_TRUE(echo_round_trip(local, 1, kBytes, why)) << why << "\n" << logs();
  std::vector<std::future<std::string>> four;
  for (uint64_t seed = 2; seed < 6; ++seed) {
    four.push_back(std::async(std::launch::async, [=] {
      std::string problem;
      return echo_round_trip(local, seed, kBytes, problem) ? std::string() : problem;
    }));
  }
  for (auto& f : four) EXPECT_EQ(f.get(), "") << logs();
  // Control first: the heartbeats' answers are not held behind the DATA.
  // Saturated until four heartbeats (1 s apart) were answered: a fast
  // machine moves the 80 MiB above in less time than that.
  uint64_t channels = 5;
  while (device_->heartbeat_rtts().size() < 4 && channels < 40) {
    ++channels;
    EXPECT_TRUE(echo_round_trip(local, channels, kBytes, why)) << why << "\n" << logs();
  }
  expect_no_violation();
  const std::vector<int> rtts = device_->heartbeat_rtts();
  ASSERT_GE(rtts.size(), 4u) << logs();
  EXPECT_LT(*std::max_element(rtts.begin(), rtts.end()), 1000) << logs();
  const std::vector<TunnelRecord> rows = closed_records(channels);
  ASSERT_EQ(rows.size(), channels) << logs();
  for (const TunnelRecord& r : rows) {
    EXPECT_EQ(r.bytes_in, kBytes);
    EXPECT_EQ(r.bytes_out, kBytes);
    EXPECT_EQ(r.reason, "fin");
  }
}

TEST_F(TunnelForwardTest, WhenTheLinkDropsTheOperatorsConnectionsCloseAtOnce) {
  EchoService echo;
  link({"echo=127.0.0.1:" + std::to_string(echo.port())});
  const int local = forward("echo");
  ASSERT_NE(local, 0);
  std::vector<int> operators;
  for (int i = 0; i < 3; ++i) {
    const int fd = connect_loopback(local);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::send(fd, "ping", 4, MSG_NOSIGNAL), 4);
    char back[4];
    ASSERT_EQ(::recv(fd, back, 4, MSG_WAITALL), 4) << logs();
    operators.push_back(fd);
  }
  ASSERT_TRUE(eventually([&] { return admin("tunnels --json").out.find("\"channel\":3") != std::string::npos; },
                         5000));
  // The device vanishes (no close handshake): the server sees its socket
  // end and closes every operator connection on that link.
  device_->kill();
  for (int fd : operators) {
    EXPECT_TRUE(closed_within(fd, 3000)) << logs();
    ::close(fd);
  }
  const std::vector<TunnelRecord> rows = closed_records(3);
  ASSERT_EQ(rows.size(), 3u);
  for (const TunnelRecord& r : rows) EXPECT_EQ(r.reason, "link_lost");
  // The forward stays for the next link; a connection meanwhile is refused.
  const int late = connect_loopback(local);
  ASSERT_GE(late, 0) << "the forward still listens";
  EXPECT_TRUE(closed_within(late, 3000)) << "no link: reset at once";
  ::close(late);
  EXPECT_NE(server_->log().find("is not linked"), std::string::npos) << server_->log();
}

TEST_F(TunnelForwardTest, ADropOfTheLinkByTheOperatorClosesItsChannelsToo) {
  EchoService echo;
  link({"echo=127.0.0.1:" + std::to_string(echo.port())});
  const int local = forward("echo");
  const int fd = connect_loopback(local);
  ASSERT_EQ(::send(fd, "x", 1, MSG_NOSIGNAL), 1);
  char back = 0;
  ASSERT_EQ(::recv(fd, &back, 1, 0), 1) << logs();
  ASSERT_EQ(admin("drop SYS-0001").status, 0);
  EXPECT_TRUE(closed_within(fd, 2000)) << logs();
  ::close(fd);
}

TEST_F(TunnelForwardTest, RefusalsReachTheOperatorAndTheRecordsWithTheirReason) {
  EchoService echo;
  ClosedPort refused;
  link({"echo=127.0.0.1:" + std::to_string(echo.port()), "dead=127.0.0.1:" + std::to_string(refused.port())},
       65536, 2);
  // A local port that refuses: the device answers RST connect_refused, and
  // the operator's connection is reset.
  const int dead = forward("dead");
  int fd = connect_loopback(dead);
  EXPECT_TRUE(closed_within(fd, 3000)) << logs();
  ::close(fd);
  // max_channels (2 here): the third channel at once is refused.
  const int local = forward("echo");
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(connect_loopback(local));
  EXPECT_TRUE(closed_within(held[2], 3000)) << "the third: too_many_channels\n" << logs();
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(::send(held[i], "ok", 2, MSG_NOSIGNAL), 2);
    char back[2];
    EXPECT_EQ(::recv(held[i], back, 2, MSG_WAITALL), 2) << "the first two flow\n" << logs();
  }
  for (int h : held) ::close(h);
  const std::vector<TunnelRecord> rows = closed_records(4);
  ASSERT_EQ(rows.size(), 4u) << logs();
  EXPECT_EQ(rows[0].reason, "connect_refused");
  EXPECT_EQ(rows[0].service, "dead");
  EXPECT_EQ(rows[3].reason, "too_many_channels");
  EXPECT_EQ(rows[1].reason, "fin");
  expect_no_violation();
}

TEST_F(TunnelForwardTest, AForwardThatCannotBeIsRefusedAtOnceWithOneLine) {
  // Not linked.
  CommandResult r = admin("forward SYS-0001 http --listen 127.0.0.1:0");
  EXPECT_EQ(r.status, 1) << r.text();
  EXPECT_EQ(r.err, "sublink-server admin: SYS-0001 is not linked\n");
  EchoService echo;
  link({"echo=127.0.0.1:" + std::to_string(echo.port())});
  // A service its hello did not offer.
  r = admin("forward SYS-0001 ssh --listen 127.0.0.1:0");
  EXPECT_EQ(r.status, 1) << r.text();
  EXPECT_EQ(r.err, "sublink-server admin: SYS-0001 offers no service 'ssh' (its services: echo)\n");
  // Bad usage: exit 2, like every admin command.
  r = admin("forward SYS-0001 echo --listen 0.0.0.0:8080");
  EXPECT_EQ(r.status, 2) << r.text();
  EXPECT_NE(r.err.find("loopback only"), std::string::npos) << r.err;
  // A port already taken.
  const int local = forward("echo");
  r = admin("forward SYS-0001 echo --listen 127.0.0.1:" + std::to_string(local));
  EXPECT_EQ(r.status, 1) << r.text();
  EXPECT_NE(r.err.find("already listens"), std::string::npos) << r.err;
  EXPECT_TRUE(server_->records().empty()) << "no channel was opened";
}

TEST_F(TunnelForwardTest, TunnelsListsOpenChannelsAndForwardCloseResetsThem) {
  EchoService echo;
  link({"echo=127.0.0.1:" + std::to_string(echo.port())});
  const int local = forward("echo", "bob");
  const int fd = connect_loopback(local);
  ASSERT_EQ(::send(fd, "hello", 5, MSG_NOSIGNAL), 5);
  char back[5];
  ASSERT_EQ(::recv(fd, back, 5, MSG_WAITALL), 5) << logs();
  const CommandResult listed = admin("tunnels --json");
  ASSERT_EQ(listed.status, 0) << listed.text();
  const Json j = Json::parse(listed.out);
  ASSERT_EQ(j.at("forwards").size(), 1u) << listed.out;
  EXPECT_EQ(j.at("forwards").item(0).at("listen").str(), "127.0.0.1:" + std::to_string(local));
  EXPECT_EQ(j.at("forwards").item(0).at("operator").str(), "bob");
  ASSERT_EQ(j.at("channels").size(), 1u) << listed.out;
  const Json c = j.at("channels").item(0);
  EXPECT_EQ(c.at("system_id").str(), "SYS-0001");
  EXPECT_EQ(c.at("channel").num(), 1);
  EXPECT_EQ(c.at("service").str(), "echo");
  EXPECT_EQ(c.at("operator").str(), "bob");
  EXPECT_EQ(c.at("bytes_in").num(), 5);
  EXPECT_EQ(c.at("bytes_out").num(), 5);
  EXPECT_GE(c.at("age_s").num(), 0);
  const CommandResult table = admin("tunnels");
  EXPECT_NE(table.out.find("SYS-0001"), std::string::npos) << table.out;

  CommandResult r = admin("forward --close 127.0.0.1:" + std::to_string(local));
  EXPECT_EQ(r.status, 0) << r.text();
  EXPECT_TRUE(closed_within(fd, 2000)) << "its channel is reset";
  ::close(fd);
  EXPECT_LT(connect_loopback(local, 1000), 0) << "nothing listens there any more";
  r = admin("forward --close 127.0.0.1:" + std::to_string(local));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no forward listens on"), std::string::npos) << r.err;
  const std::vector<TunnelRecord> rows = closed_records(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].reason, "shutdown");
  EXPECT_NE(device_->log().find("rst-received 1 shutdown"), std::string::npos) << logs();
}

TEST_F(TunnelForwardTest, ADeviceThatGrantsNoMoreCreditStopsTheServerReadingTheOperator) {
  // The device's service takes nothing more after the first window: the
  // server must hold at most its send queue, never read the operator's
  // bytes without bound.
  EchoService echo;
  uint64_t sent = 0;
  const int fd = stalled_operator(echo, sent);
  ASSERT_GE(fd, 0);
  EXPECT_LT(sent, 32ull << 20) << "the operator was stopped, the bytes were not buffered\n" << logs();
  const Json j = Json::parse(admin("tunnels --json").out);
  ASSERT_EQ(j.at("channels").size(), 1u);
  EXPECT_LE(j.at("channels").item(0).at("bytes_in").num(), 65536) << "no DATA beyond the window";
  expect_no_violation();
  ::close(fd);
}

TEST_F(TunnelForwardTest, AnOperatorWhoResetsAStalledChannelEndsItAtOnce) {
  // The device grants no more credit, so the server no longer reads the
  // operator and has nothing to write to it: the operator's reset must
  // still end the channel (RST to the device, the record closed), not leave
  // it open until the device's idle timeout.
  EchoService echo;
  uint64_t sent = 0;
  const int fd = stalled_operator(echo, sent);
  ASSERT_GE(fd, 0);
  const linger reset_on_close{1, 0};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close), 0);
  ::close(fd);
  const std::vector<TunnelRecord> rows = closed_records(1);
  ASSERT_EQ(rows.size(), 1u) << logs();
  ASSERT_TRUE(rows[0].closed.has_value()) << "the channel is still open\n" << logs();
  EXPECT_EQ(rows[0].reason, "local_reset");
  EXPECT_EQ(Json::parse(admin("tunnels --json").out).at("channels").size(), 0u);
  EXPECT_TRUE(eventually([&] { return device_->log().find("rst-received 1 local_reset") != std::string::npos; },
                         5000))
      << logs();
  expect_no_violation();
}

TEST_F(TunnelForwardTest, ARealSshLoginRunsACommandThroughTheForward) {
  const int ssh_port = free_port();
  TestSshd sshd(tmp_, ssh_port);
  link({"ssh=127.0.0.1:" + std::to_string(ssh_port)});
  const int local = forward("ssh");
  ASSERT_NE(local, 0);
  const ShellOutput login = run_shell(sshd.login_command(local, "echo tunnel-$((6 * 7)); uname -s"), tmp_);
  EXPECT_EQ(login.status, 0) << login.err << "\n" << sshd.log() << logs();
  EXPECT_EQ(login.out, "tunnel-42\nLinux\n") << login.err;
  expect_no_violation();
  const std::vector<TunnelRecord> rows = closed_records(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].service, "ssh");
  EXPECT_EQ(rows[0].reason, "fin");
}

TEST_F(TunnelForwardTest, AFrameForAnUnknownChannelIsResetAndAMalformedOneClosesTheLink) {
  link({}, 65536, 8, {"--probe"});
  EXPECT_TRUE(eventually([&] { return device_->log().find("close 1002") != std::string::npos; }, 5000)) << logs();
  EXPECT_NE(device_->log().find("rst-received 77 protocol"), std::string::npos) << logs();
  EXPECT_NE(server_->log().find("malformed tunnel frame"), std::string::npos) << logs();
}

}  // namespace
}  // namespace sublink::test
