// Incoming traffic end to end with the real programs: an operator reaches
// services behind the real sublinkd through `sublink-server admin forward`
// on the real sublink-server, over the link the agent opened; the agent
// listens on nothing. Real services: Python's http.server with curl, an
// echo service for bulk bytes, and Debian's sshd with a real ssh login.
// Every process is stopped by PID when its owner goes out of scope.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "integration/sublinkd_rig.h"
#include "server/server_process.h"
#include "server/tunnel_support.h"
#include "support/process.h"
#include "tools/server/db/sqlite_directory.h"

namespace sublink::test {
namespace {

// CPU time `pid` has used so far (user and system), in clock ticks.
long cpu_ticks(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

// Everything `fd` receives until its EOF.
std::string read_to_end(int fd) {
  std::string got;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) got.append(buffer, static_cast<size_t>(n));
  return got;
}

// tests/peers/hash_service.py in `mode` on a free port (its log in `dir`).
ChildProcess hash_service(const TempDir& dir, const std::string& mode, const std::string& arg, int& port) {
  port = free_port();
  ChildProcess service({"/usr/bin/python3", source_path("tests/peers/hash_service.py"), std::to_string(port), mode, arg},
                       dir.file("hash-" + mode + ".log"));
  EXPECT_TRUE(wait_for_port(port, 10000)) << service.log();
  return service;
}

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

TEST_F(TunnelAgentTest, HalfCloseCarriesTheRestEachWayThroughTheRealPrograms) {
  int answer_port = 0, receipt_port = 0;
  ChildProcess answer = hash_service(tmp_, "answer", "1.5", answer_port);
  ChildProcess receipt = hash_service(tmp_, "receipt", tmp_.file("receipt"), receipt_port);
  link("\"hash\":\"127.0.0.1:" + std::to_string(answer_port) + "\",\"upload\":\"127.0.0.1:" +
       std::to_string(receipt_port) + "\"");
  std::string bytes(1 << 20, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(pattern_byte(5, i));
  std::ofstream(tmp_.file("sent")) << bytes;
  const ShellOutput sum = run_shell("sha256sum " + tmp_.file("sent"), tmp_);
  const std::string sha = sum.out.substr(0, 64);
  ASSERT_EQ(sha.size(), 64u) << sum.err;

  // The operator half-closes (as nc -N does) and reads the answer the
  // service gives only after its input's end, 1.5 s later.
  const int hash = forward("hash");
  int fd = connect_loopback(hash);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  const long cpu_before = cpu_ticks(server_->pid());
  EXPECT_EQ(read_to_end(fd), sha + "\n") << logs();
  const long cpu_spent = cpu_ticks(server_->pid()) - cpu_before;
  ::close(fd);
  EXPECT_LT(cpu_spent, sysconf(_SC_CLK_TCK) / 2)
      << "the server waits for the device's answer without spinning on the operator's half-close";

  // The service half-closes first: the operator reads its greeting to the
  // end, and the operator's bytes still reach the service after that.
  const int upload = forward("upload");
  fd = connect_loopback(upload);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_to_end(fd), "ready\n") << "the service's EOF reaches the operator" << logs();
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())) << logs();
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  EXPECT_TRUE(closed_within(fd, 10000)) << logs();
  ::close(fd);
  std::string got;
  EXPECT_TRUE(eventually(
      [&] {
        std::ifstream f(tmp_.file("receipt"));
        std::getline(f, got);
        return !got.empty();
      },
      10000));
  EXPECT_EQ(got, std::to_string(bytes.size()) + " " + sha) << "every byte after the service's FIN reached it" << logs();

  const std::vector<TunnelRecord> rows = closed_records(2);
  ASSERT_EQ(rows.size(), 2u) << logs();
  for (const TunnelRecord& r : rows) EXPECT_EQ(r.reason, "fin") << "FIN both ways, no reset";
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
