// Incoming traffic end to end with the real programs: an operator reaches
// services behind the real sublinkd through `sublink-server admin forward`
// on the real sublink-server, over the link the agent opened; the agent
// listens on nothing. Real services: Python's http.server with curl, an
// echo service for bulk bytes, and Debian's sshd with a real ssh login.
// Every process is stopped by PID when its owner goes out of scope.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

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

class TunnelAgentTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<ForwardingServer>(tmp_); }
  void TearDown() override {
    daemon_.reset();
    server_.reset();
  }

  // The agent with `services` ({"name":"127.0.0.1:port",...} members) and
  // `extra` configuration; returns once it is linked.
  void link(const std::string& services, const std::string& extra = "") {
    Daemon::Config config;
    config.ports = {server_->port()};
    config.extra = R"("services":{)" + services + "}" + (extra.empty() ? "" : "," + extra);
    daemon_ = std::make_unique<Daemon>(tmp_.path(), config);
    const Json s = daemon_->wait_status([](const Json& j) { return j.at("link").str() == "up"; });
    ASSERT_EQ(s.at("link").str(), "up") << s.text() << logs();
  }
  CommandResult admin(const std::string& args) { return server_->admin(args); }
  int forward(const std::string& service) { return server_->forward(service, "carol"); }
  std::vector<TunnelRecord> closed_records(size_t n) { return server_->closed_records(n); }
  std::string logs() const {
    return "\n--- server:\n" + (server_ ? server_->log() : "") + "\n--- agent:\n" + (daemon_ ? daemon_->log() : "");
  }

  TempDir tmp_;
  std::unique_ptr<ForwardingServer> server_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(TunnelAgentTest, AWebServerBehindTheAgentServesParallelPagesWholeAndTheAgentListensOnNothing) {
  TempDir site;
  uint64_t total = 0;
  const std::vector<std::string> names = make_pages(site, 6, total);
  int web = 0;
  ChildProcess http = serve_http(tmp_, site, web);
  ASSERT_FALSE(HasFailure());
  link("\"http\":\"127.0.0.1:" + std::to_string(web) + "\"");
  const int local = forward("http");
  ASSERT_NE(local, 0);
  EXPECT_EQ(fetch_pages_in_parallel(local, names, site, tmp_), "") << logs();
  // Nothing inbound on the device: sublinkd holds no listening TCP socket.
  const ShellOutput listening = run_shell("ss -Hltnp", tmp_);
  ASSERT_EQ(listening.status, 0) << listening.err;
  EXPECT_EQ(listening.out.find("pid=" + std::to_string(daemon_->pid()) + ","), std::string::npos) << listening.out;
  const std::vector<TunnelRecord> rows = closed_records(names.size());
  ASSERT_EQ(rows.size(), names.size()) << logs();
  for (const TunnelRecord& r : rows) {
    EXPECT_EQ(r.op, "carol");
    EXPECT_EQ(r.reason, "fin");
  }
  // The agent recorded each channel too, and its events reached the
  // server's records: tunnel_opened and tunnel_closed, once per channel.
  EXPECT_TRUE(eventually([&] {
    Result<std::unique_ptr<SqliteDirectory>> db = SqliteDirectory::open(server_->db_path(), 2000);
    if (!db.ok()) return false;
    Result<std::vector<DeviceEvent>> events = (*db)->events("SYS-0001");
    if (!events.ok()) return false;
    size_t opened = 0, closed = 0;
    for (const DeviceEvent& e : *events) {
      opened += e.kind == "tunnel_opened" ? 1 : 0;
      closed += e.kind == "tunnel_closed" ? 1 : 0;
    }
    return opened == names.size() && closed == names.size();
  }, 15000)) << logs();
}

TEST_F(TunnelAgentTest, FiftyMegabytesEachWayOnOneChannelAndOnFourAtOnceArriveWhole) {
  EchoService echo;
  link("\"echo\":\"127.0.0.1:" + std::to_string(echo.port()) + "\"");
  const int local = forward("echo");
  ASSERT_NE(local, 0);
  constexpr uint64_t kBytes = 50ull << 20;
  std::string why;
  EXPECT_TRUE(echo_round_trip(local, 11, kBytes, why)) << why << logs();
  std::vector<std::future<std::string>> four;
  for (uint64_t seed = 12; seed < 16; ++seed) {
    four.push_back(std::async(std::launch::async, [=] {
      std::string problem;
      return echo_round_trip(local, seed, kBytes, problem) ? std::string() : problem;
    }));
  }
  for (auto& f : four) EXPECT_EQ(f.get(), "") << logs();
  const std::vector<TunnelRecord> rows = closed_records(5);
  ASSERT_EQ(rows.size(), 5u) << logs();
  for (const TunnelRecord& r : rows) {
    EXPECT_EQ(r.bytes_in, kBytes);
    EXPECT_EQ(r.bytes_out, kBytes);
  }
}

TEST_F(TunnelAgentTest, ARealSshLoginThroughTheAgentRunsACommand) {
  const int ssh_port = free_port();
  TestSshd sshd(tmp_, ssh_port);
  link("\"ssh\":\"127.0.0.1:" + std::to_string(ssh_port) + "\"");
  const int local = forward("ssh");
  ASSERT_NE(local, 0);
  const ShellOutput login = run_shell(sshd.login_command(local, "echo through-$((6 * 7))"), tmp_);
  EXPECT_EQ(login.status, 0) << login.err << "\n" << sshd.log() << logs();
  EXPECT_EQ(login.out, "through-42\n") << login.err;
}

TEST_F(TunnelAgentTest, MaxChannelsUnknownServiceARefusedPortAndLinkLossEachReachTheOperator) {
  EchoService echo;
  ClosedPort refused;
  link("\"echo\":\"127.0.0.1:" + std::to_string(echo.port()) + "\",\"dead\":\"127.0.0.1:" +
           std::to_string(refused.port()) + "\"",
       R"("max_channels":2)");
  // A service the agent does not offer: refused at once, no channel.
  const CommandResult unknown = admin("forward SYS-0001 telnet --listen 127.0.0.1:0");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("offers no service 'telnet'"), std::string::npos) << unknown.text();
  // A local port that refuses: connect_refused.
  const int dead = forward("dead");
  int fd = connect_loopback(dead);
  EXPECT_TRUE(closed_within(fd, 5000)) << logs();
  ::close(fd);
  // max_channels 2: the third at once is refused.
  const int local = forward("echo");
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(connect_loopback(local));
  EXPECT_TRUE(closed_within(held[2], 5000)) << logs();
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(::send(held[i], "ok", 2, MSG_NOSIGNAL), 2);
    char back[2];
    EXPECT_EQ(::recv(held[i], back, 2, MSG_WAITALL), 2) << logs();
  }
  // Link loss: the operator's open connections close at once.
  ASSERT_EQ(admin("drop SYS-0001").status, 0);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(closed_within(held[i], 2000)) << logs();
  for (int h : held) ::close(h);
  const std::vector<TunnelRecord> rows = closed_records(4);
  ASSERT_EQ(rows.size(), 4u) << logs();
  EXPECT_EQ(rows[0].reason, "connect_refused");
  EXPECT_EQ(rows[3].reason, "too_many_channels");
  EXPECT_EQ(rows[1].reason, "link_lost");
  EXPECT_EQ(rows[2].reason, "link_lost");
}

}  // namespace
}  // namespace sublink::test
