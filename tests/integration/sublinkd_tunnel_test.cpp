// Tunnels (PROTOCOL.md section 6) through the real daemon: the independent
// Python server opens channels over the link (tests/peers/sublink1_tunnel.py)
// to real local services on loopback, Python's http.server and an echo
// server, and checks every byte by its SHA-256 and the window on the wire.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "integration/sublinkd_rig.h"
#include "support/process.h"

namespace sublink::test {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string sha256_of(const std::string& path) {
  std::string out;
  if (FILE* p = popen(("sha256sum '" + path + "'").c_str(), "r")) {
    char buf[128] = {};
    if (fgets(buf, sizeof buf, p) != nullptr) out = buf;
    pclose(p);
  }
  return out.substr(0, out.find(' '));
}

size_t open_fds(pid_t pid) {
  size_t n = 0;
  if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n;
}

class SublinkdTunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The web page: 3 MB of random bytes, its SHA-256 computed here.
    std::mt19937 rng(12);
    std::string blob(3 << 20, '\0');
    for (char& c : blob) c = static_cast<char>(rng());
    const std::string www = dir.file("www");
    ASSERT_EQ(system(("mkdir -p '" + www + "'").c_str()), 0);
    std::ofstream(www + "/blob") << blob;
    blob_sha = sha256_of(www + "/blob");
    ASSERT_EQ(blob_sha.size(), 64u);

    web_port = free_port();
    web = std::make_unique<ChildProcess>(
        std::vector<std::string>{kPython, "-m", "http.server", std::to_string(web_port), "--bind", "127.0.0.1",
                                 "--directory", www},
        dir.file("web.log"));
    echo_port = free_port();
    echo = std::make_unique<ChildProcess>(
        std::vector<std::string>{kPython, source_path("tests/peers/echo_server.py"), std::to_string(echo_port)},
        dir.file("echo.log"));
    ASSERT_TRUE(wait_for_port(web_port, 10000) && wait_for_port(echo_port, 10000));
  }

  void start(int heartbeat_s = 60, std::string extra = "") {
    PeerServer::Options options;
    options.heartbeat_s = heartbeat_s;
    server = std::make_unique<PeerServer>(dir.path(), options);
    Daemon::Config config;
    config.ports = {server->port()};
    config.extra = R"("services": {"web": "127.0.0.1:)" + std::to_string(web_port) + R"(", "echo": "127.0.0.1:)" +
                   std::to_string(echo_port) + R"(", "closed": "127.0.0.1:)" + std::to_string(closed.port()) +
                   R"("}, "max_channels": 4)" + (extra.empty() ? "" : ", " + extra);
    daemon = std::make_unique<Daemon>(dir.path(), config);
    Json s = daemon->wait_status([](const Json& j) { return j && j.at("link").str() == "up"; });
    ASSERT_EQ(s.at("link").str(), "up") << context();
  }

  void tunnel(const std::string& fields) {
    auto r = server->command(R"({"cmd":"tunnel",)" + fields + "}");
    ASSERT_TRUE(r && r->json.at("ok").is_true()) << (r ? r->json.text() : "no answer") << context();
  }

  std::optional<Record> result(int64_t channel, int timeout_ms = 60000) {
    return server->wait_for(
        [channel](const Record& r) { return r.is("tunnel_result") && r.json.at("channel").num() == channel; },
        timeout_ms);
  }

  std::string context() const {
    std::string s;
    if (daemon) s += "--- sublinkd log ---\n" + daemon->log();
    if (server) s += "--- server journal (tail) ---\n" + server->journal_text().substr(
                         server->journal_text().size() > 20000 ? server->journal_text().size() - 20000 : 0);
    return s;
  }

  void TearDown() override {
    daemon.reset();
    server.reset();
    if (web) web->stop();
    if (echo) echo->stop();
  }

  TempDir dir;
  ClosedPort closed;
  int web_port = 0, echo_port = 0;
  std::string blob_sha;
  std::unique_ptr<ChildProcess> web, echo;
  std::unique_ptr<PeerServer> server;
  std::unique_ptr<Daemon> daemon;
};

TEST_F(SublinkdTunnelTest, PagesFetchedThroughTheLinkArriveWholeSeveralAtOnce) {
  start();
  Json hello = server->wait_message("recv", "hello")->msg();
  EXPECT_EQ(hello.at("services").text(), R"(["web","echo","closed"])");
  for (int ch = 1; ch <= 3; ++ch) {
    tunnel(R"("channel":)" + std::to_string(ch) +
           R"(,"service":"web","operator":"ops@vendor","http":true,"request":"GET /blob HTTP/1.0\r\n\r\n")");
  }
  for (int ch = 1; ch <= 3; ++ch) {
    auto r = result(ch);
    ASSERT_TRUE(r) << context();
    EXPECT_EQ(r->json.at("reason").str(), "fin") << r->json.text();
    EXPECT_EQ(r->json.at("status_line").str(), "HTTP/1.0 200 OK") << r->json.text();
    EXPECT_EQ(r->json.at("sha256").str(), blob_sha) << "channel " << ch;
    EXPECT_EQ(r->json.at("violations").size(), 0u) << r->json.text();
    EXPECT_EQ(r->json.at("device_window").num(), 524288) << "the Linux default tunnel_window_bytes";
  }
  // Both ends of each channel are in the device's audit trail.
  EXPECT_TRUE(eventually(
      [&] {
        size_t closed_events = 0;
        for (auto& e : server->records("event_stored")) closed_events += e.json.at("event.kind").str() == "tunnel_closed";
        return closed_events == 3;
      },
      15000))
      << context();
}

TEST_F(SublinkdTunnelTest, BytesGoBothWaysThroughAnEchoServiceWithinTheWindow) {
  start(60, R"("tunnel_window_bytes": 8192)");
  tunnel(R"("channel":7,"service":"echo","request_size":2000000,"window":16384)");
  auto r = result(7);
  ASSERT_TRUE(r) << context();
  EXPECT_EQ(r->json.at("reason").str(), "fin") << r->json.text();
  EXPECT_EQ(r->json.at("received").num(), 2000000);
  EXPECT_EQ(r->json.at("sha256").str(), r->json.at("request_sha256").str());
  EXPECT_EQ(r->json.at("violations").size(), 0u) << "the device never sent beyond the window: " << r->json.text();
  EXPECT_EQ(r->json.at("device_window").num(), 8192);
  // The server never sent beyond the device's window either, or the device
  // would have reset the channel (flow_control) rather than echo it all.
}

TEST_F(SublinkdTunnelTest, RefusedOpensCarryTheirReason) {
  start();
  tunnel(R"("channel":1,"service":"telnet")");
  tunnel(R"("channel":2,"service":"closed")");
  auto unknown = result(1, 15000);
  auto refused = result(2, 15000);
  ASSERT_TRUE(unknown && refused) << context();
  EXPECT_EQ(unknown->json.at("reason").str(), "unknown_service");
  EXPECT_EQ(refused->json.at("reason").str(), "connect_refused");
}

TEST_F(SublinkdTunnelTest, HeartbeatsStayOnTimeWhileAChannelIsSaturated) {
  start(1);
  auto first = server->wait_message("recv", "heartbeat");
  ASSERT_TRUE(first) << context();
  // 3 MB pulled slowly (a small window the server renews after a pause):
  // the channel always has data waiting for credit or for the link.
  for (int ch = 1; ch <= 2; ++ch) {
    tunnel(R"("channel":)" + std::to_string(ch) +
           R"(,"service":"web","http":true,"request":"GET /blob HTTP/1.0\r\n\r\n","read_delay_s":0.02)");
  }
  auto r1 = result(1, 120000);
  auto r2 = result(2, 120000);
  ASSERT_TRUE(r1 && r2) << context();
  EXPECT_EQ(r1->json.at("sha256").str(), blob_sha);
  EXPECT_EQ(r2->json.at("sha256").str(), blob_sha);
  const int64_t from = first->t();
  const int64_t to = std::max(r1->t(), r2->t());
  int64_t last = from, worst = 0;
  for (auto& h : server->records("recv", "heartbeat")) {
    if (h.t() < from || h.t() > to) continue;
    worst = std::max(worst, h.t() - last);
    last = h.t();
  }
  worst = std::max(worst, to - last);
  EXPECT_GT(to - from, 3000) << "the transfer lasted long enough to tell";
  EXPECT_LE(worst, 1500) << "heartbeat_s 1: the longest gap between heartbeats while the channels flowed";
}

TEST_F(SublinkdTunnelTest, StatusListsAnOpenChannelAndLinkLossOrSighupLeaveNothingBehind) {
  start();
  // The daemon's steady descriptors (a status query holds one for a moment).
  size_t fds_before = SIZE_MAX;
  for (int i = 0; i < 6; ++i) {
    fds_before = std::min(fds_before, open_fds(daemon->pid()));
    usleep(50 * 1000);
  }
  tunnel(R"("channel":5,"service":"echo","operator":"alice","request_size":10,"fin":false,"timeout_s":8)");
  Json s = daemon->wait_status([](const Json& j) { return j && j.at("tunnels").size() == 1; });
  ASSERT_EQ(s.at("tunnels").size(), 1u) << s.text();
  EXPECT_EQ(s.at("tunnels").item(0).at("service").str(), "echo");
  EXPECT_EQ(s.at("tunnels").item(0).at("operator").str(), "alice");
  EXPECT_EQ(s.at("tunnels").item(0).at("bytes_in").num(), 10);
  EXPECT_TRUE(eventually([&] { return open_fds(daemon->pid()) > fds_before; }, 2000)) << "the local socket is open";

  // SIGHUP (certificates reloaded) keeps the channel and adds nothing.
  ASSERT_EQ(kill(daemon->pid(), SIGHUP), 0);
  ASSERT_TRUE(eventually([&] { return daemon->log().find("reloaded") != std::string::npos; }, 10000));
  EXPECT_EQ(daemon->status().at("tunnels").size(), 1u);

  // The link drops: the channel is gone on both sides, its socket closed.
  ASSERT_TRUE(server->command(R"({"cmd":"drop"})"));
  auto r = result(5, 15000);
  ASSERT_TRUE(r) << context();
  EXPECT_EQ(r->json.at("reason").str(), "link_lost");
  Json again = daemon->wait_status([](const Json& j) { return j && j.at("link").str() == "up"; });
  ASSERT_EQ(again.at("link").str(), "up");
  EXPECT_EQ(again.at("tunnels").size(), 0u);
  EXPECT_TRUE(eventually([&] { return open_fds(daemon->pid()) <= fds_before; }, 5000))
      << open_fds(daemon->pid()) << " descriptors, " << fds_before << " before the channel";
}

TEST_F(SublinkdTunnelTest, AMalformedFrameClosesTheLinkWith1002) {
  start();
  ASSERT_TRUE(server->command(R"({"cmd":"send_binary","hex":"0100"})"));
  auto closed_record = server->wait_for([](const Record& r) { return r.is("closed"); }, 15000);
  ASSERT_TRUE(closed_record) << context();
  EXPECT_EQ(closed_record->json.at("code").num(), 1002) << closed_record->json.text();
}

}  // namespace
}  // namespace sublink::test
