// Scenario tests in virtual time: the real Link with real TLS (test PKI)
// over SimNetwork to SimTlsWsServer, deterministic from a seed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "hal/sim/deterministic_random.h"
#include "hal/sim/virtual_clock.h"
#include "net/link/link.h"
#include "net/sim/sim_network.h"
#include "net/sim/sim_tls_ws_server.h"
#include "net/tls/tls_time.h"
#include "sim/sim_pki.h"

namespace sublink {
namespace {

const IpAddress kServer = IpAddress::parse("10.0.0.1");
const IpAddress kDevice = IpAddress::parse("10.0.0.2");

const SimCredentials& credentials() {
  std::string error;
  const SimCredentials* c = test::sim_credentials(&error);
  EXPECT_NE(c, nullptr) << error;
  static const SimCredentials none;
  return c ? *c : none;
}

// One fixed wall time per test program, so two runs with one seed match.
Millis start_wall() {
  static const Millis t =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return t;
}

// Echoes every text as "echo:<text>" and records what it saw.
struct EchoHandler : SimServerHandler {
  SimTlsWsServer* server = nullptr;
  SimNetwork* net = nullptr;
  std::vector<std::string> log;
  std::string last_cn;
  int opens = 0, texts = 0;
  SimUpgradeDecision on_upgrade(SimSessionId, std::string_view cn, const WsUpgradeRequestInfo& r) override {
    last_cn = std::string(cn);
    log.push_back(std::to_string(net->now()) + " upgrade " + std::string(r.path));
    return {};
  }
  void on_open(SimSessionId) override { ++opens; }
  void on_text(SimSessionId id, std::string_view m) override {
    ++texts;
    // A failed echo shows as a missing one in the test's own checks.
    (void)server->send_text(id, "echo:" + std::string(m));
  }
  void on_closed(SimSessionId, Status why) override {
    log.push_back(std::to_string(net->now()) + " closed " + reason_name(why.reason()));
  }
};

class Scenario : public LinkListener {
 public:
  explicit Scenario(uint64_t seed, std::vector<uint16_t> listen_ports = {443, 8443})
      : clock_(start_wall()), net_(clock_), server_random_(seed), device_random_(seed ^ 0x5eed) {
    install_tls_wall_clock(&clock_);
    const SimCredentials& pki = credentials();
    TlsServerCredentials sc{pki.server_cert_pem, pki.server_key_pem, {}, pki.ca_pem};
    EXPECT_TRUE(server_tls_.load(sc, server_random_).ok());
    TlsClientCredentials cc{pki.ca_pem, pki.device_cert_pem, pki.device_key_pem};
    EXPECT_TRUE(device_tls_.load(cc, device_random_).ok());
    handler_.net = &net_;
    server_ = std::make_unique<SimTlsWsServer>(net_, server_tls_, WsServerConfig{}, handler_);
    handler_.server = server_.get();
    for (uint16_t p : listen_ports) server_->listen(kServer, p);
    net_.set_dns("localhost", {kServer});
    net_.set_dns_delay(0);
    net_.set_default_path(SimPath{10, 0});
    net_.set_log(&net_log);
    config_.server = "localhost";
    config_.connect.retry_min_ms = 1000;
    config_.connect.retry_max_ms = 8000;
  }
  ~Scenario() override {
    link_.reset();
    install_tls_wall_clock(nullptr);
  }

  void start() {
    link_ = std::make_unique<Link>(config_, device_tls_, net_.client(kDevice), device_random_, *this);
    net_.add_pollable([this](Millis now) { return link_->poll(now); });
    link_->start(net_.now());
  }
  // Runs until `done` or `limit` ms of virtual time passed; returns done().
  template <class F>
  bool run_until(F done, Millis limit) {
    const Millis end = net_.now() + limit;
    while (!done() && net_.now() < end) net_.run_until(std::min(end, net_.now() + 10));
    return done();
  }

  SimNetwork& net() { return net_; }
  Link& link() { return *link_; }
  LinkConfig& config() { return config_; }
  EchoHandler& handler() { return handler_; }
  Millis now() const { return net_.now(); }

  std::vector<std::string> log;  // what the link reported, with virtual times
  std::vector<std::string> net_log;
  std::vector<std::string> texts;
  std::vector<Millis> up_times;
  std::vector<uint16_t> up_ports;
  std::vector<Millis> down_times;
  std::vector<Status> failures;
  std::vector<uint16_t> failure_ports;

  void note(const std::string& s) { log.push_back(std::to_string(now()) + " " + s); }
  void on_attempt_failed(const AttemptInfo& a, Status why, std::string_view) override {
    failures.push_back(why);
    failure_ports.push_back(a.port);
    note("failed " + std::to_string(a.port) + " " + reason_name(why.reason()));
  }
  void on_round_failed(Status last, Millis retry_at) override {
    note(std::string("round failed ") + reason_name(last.reason()) + " retry " + std::to_string(retry_at));
  }
  void on_link_up(const AttemptInfo& a, bool resumed) override {
    up_times.push_back(now());
    up_ports.push_back(a.port);
    note("up " + std::to_string(a.port) + (resumed ? " resumed" : ""));
  }
  void on_text(std::string_view m) override {
    texts.emplace_back(m);
    note("text " + std::string(m));
  }
  void on_link_down(Status why) override {
    down_times.push_back(now());
    note(std::string("down ") + reason_name(why.reason()));
  }

 private:
  VirtualClock clock_;
  SimNetwork net_;
  DeterministicRandom server_random_;
  DeterministicRandom device_random_;
  TlsServerConfig server_tls_;
  TlsClientConfig device_tls_;
  EchoHandler handler_;
  std::unique_ptr<SimTlsWsServer> server_;
  LinkConfig config_;
  std::unique_ptr<Link> link_;
};

TEST(SimLink, ComesUpWithMutualTlsAndExchangesMessages) {
  Scenario s(1);
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000)) << testing::PrintToString(s.log);
  EXPECT_EQ(s.handler().last_cn, "SYS-0001");
  ASSERT_TRUE(s.link().send_text("{\"type\":\"hello\"}").ok());
  ASSERT_TRUE(s.run_until([&] { return !s.texts.empty(); }, 10'000));
  EXPECT_EQ(s.texts[0], "echo:{\"type\":\"hello\"}");
  s.link().close(1001, "shutdown");
  ASSERT_TRUE(s.run_until([&] { return s.link().idle(); }, 10'000));
  EXPECT_EQ(s.handler().log.back().substr(s.handler().log.back().find(' ')), " closed closed_by_peer");
  EXPECT_EQ(s.net().open_connections(), 0u);
}

TEST(SimLink, ALinkThatIsNotUpTakesNoMessageAndItsCloseAbandonsTheAttempts) {
  Scenario s(2);
  s.net().set_default_path(SimPath{200, 0});  // slow enough to act mid-handshake
  s.start();
  const uint8_t bytes[] = {1, 2, 3};
  // Connecting: nothing can be queued for a link that is not up.
  ASSERT_TRUE(s.run_until([&] { return s.net().open_connections() > 0; }, 10'000));
  EXPECT_FALSE(s.link().up());
  EXPECT_EQ(s.link().send_text("{}"), Status(Reason::would_block, 0));
  EXPECT_EQ(s.link().send_binary(bytes), Status(Reason::would_block, 0));
  EXPECT_EQ(s.link().send_ping(bytes), Status(Reason::would_block, 0));
  EXPECT_EQ(s.link().output_queued(), 0u);
  s.link().drop(Status(Reason::connect_timeout));  // no link to drop: the attempts go on
  EXPECT_FALSE(s.link().idle());
  // close() before the link is up abandons every attempt: no link comes up
  // later, every socket is closed, and there was no link to report down.
  s.link().close(1001, "shutdown");
  EXPECT_TRUE(s.link().idle());
  s.run_until([] { return false; }, 30'000);
  EXPECT_TRUE(s.up_times.empty()) << testing::PrintToString(s.log);
  EXPECT_TRUE(s.down_times.empty());
  EXPECT_EQ(s.net().open_connections(), 0u);
  EXPECT_EQ(s.handler().opens, 0);
}

TEST(SimLink, CloseWhileTheNameIsResolvingStartsNoAttemptAndStartResumes) {
  Scenario s(3);
  s.net().set_dns_delay(500);
  s.start();
  s.link().close(1001, "shutdown");
  EXPECT_TRUE(s.link().idle());
  s.run_until([] { return false; }, 5'000);
  EXPECT_EQ(s.net().open_connections(), 0u) << "the lookup was cancelled: no attempt follows it";
  EXPECT_TRUE(s.failures.empty()) << testing::PrintToString(s.log);
  s.link().start(s.now());
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000)) << testing::PrintToString(s.log);
}

TEST(SimLink, DropEndsAnOpenLinkWithItsReasonAndANewRoundBringsItBack) {
  Scenario s(4);
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000));
  s.link().drop(Status(Reason::connect_timeout));
  EXPECT_FALSE(s.link().up());
  ASSERT_EQ(s.down_times.size(), 1u);
  EXPECT_EQ(s.log.back().substr(s.log.back().find(' ')), " down connect_timeout");
  const Millis dropped_at = s.now();
  ASSERT_TRUE(s.run_until([&] { return s.up_times.size() == 2; }, 20'000)) << testing::PrintToString(s.log);
  EXPECT_GT(s.up_times[1], dropped_at);
}

TEST(SimLink, RefusedFirstPortFailsOverToTheSecondAtOnce) {
  Scenario s(2, {8443});
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000));
  ASSERT_EQ(s.failures.size(), 1u);
  EXPECT_EQ(s.failures[0].reason(), Reason::connect_refused);
  EXPECT_EQ(s.failure_ports[0], 443);
  EXPECT_EQ(s.up_ports[0], 8443);
  // A refusal costs one round trip, not a stagger: 20 ms, then 4 round trips.
  EXPECT_EQ(s.up_times[0], 20 + 80);
}

TEST(SimLink, BlackholedFirstPortIsOvertakenAfterTheStagger) {
  Scenario s(3);
  s.net().set_port_mode(kServer, 443, SimPortMode::blackhole);
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000));
  EXPECT_EQ(s.up_ports[0], 8443);
  // 8443 starts stagger_ms (300) after 443, then needs 4 round trips.
  EXPECT_EQ(s.up_times[0], 300 + 80);
}

// Two silent ports hold their attempts until connect_timeout_s; the third
// port's attempt needs a third slot.
void blackhole_two_of_three_ports(Scenario& s, size_t max_parallel_attempts) {
  s.config().connect.ports = {443, 8443, 9443};
  s.config().connect.port_count = 3;
  s.config().max_parallel_attempts = max_parallel_attempts;
  s.net().set_port_mode(kServer, 443, SimPortMode::blackhole);
  s.net().set_port_mode(kServer, 8443, SimPortMode::blackhole);
}

// With two slots the third port waits for one: it starts when 443 times
// out (connect_timeout_s, 5 s), and wins. (It used to fail at once as
// out_of_memory, so a server reachable only on the third port was never
// reached.)
TEST(SimLink, AnAttemptBeyondMaxParallelAttemptsWaitsForASlot) {
  Scenario s(31, {9443});
  blackhole_two_of_three_ports(s, 2);
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 20'000)) << testing::PrintToString(s.log);
  EXPECT_EQ(s.up_ports[0], 9443);
  EXPECT_EQ(s.up_times[0], 5000 + 80);
  for (const Status& f : s.failures) EXPECT_EQ(f.reason(), Reason::connect_timeout) << testing::PrintToString(s.log);
}

TEST(SimLink, MaxParallelAttemptsThatFitEveryPortLetTheThirdWin) {
  Scenario s(32, {9443});
  blackhole_two_of_three_ports(s, 3);
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000)) << testing::PrintToString(s.log);
  EXPECT_EQ(s.up_ports[0], 9443);
  EXPECT_EQ(s.up_times[0], 600 + 80);
  EXPECT_TRUE(s.failures.empty());
}

TEST(SimLink, OneAttemptAtATimeStillReconnects) {
  Scenario s(33);
  s.config().max_parallel_attempts = 1;
  s.config().connect.stagger_ms = 0;
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000)) << testing::PrintToString(s.log);
  s.net().restart(kServer, 2'000);
  ASSERT_TRUE(s.run_until([&] { return s.up_times.size() == 2; }, 120'000)) << testing::PrintToString(s.log);
  ASSERT_TRUE(s.link().send_text("again").ok());
  ASSERT_TRUE(s.run_until([&] { return !s.texts.empty(); }, 10'000));
  EXPECT_EQ(s.texts.back(), "echo:again");
  s.link().close(1000);
  ASSERT_TRUE(s.run_until([&] { return s.link().idle(); }, 10'000));
}

TEST(SimLink, LatencyGivesTheExpectedTimeToUp) {
  Scenario s(4);
  s.net().set_default_path(SimPath{100, 0});
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000));
  // TCP (1 RTT) + full TLS 1.2 handshake (2 RTT) + WebSocket upgrade (1 RTT).
  EXPECT_EQ(s.up_times[0], 4 * 200);
}

TEST(SimLink, LinkLossThenReconnectAfterBackoff) {
  Scenario s(5);
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000));
  s.net().set_link_down(kDevice, true);
  const Millis lost_at = s.now();
  ASSERT_EQ(s.down_times.size(), 1u);
  EXPECT_EQ(s.down_times[0], lost_at);
  s.run_until([] { return false; }, 5'000);
  EXPECT_EQ(s.up_times.size(), 1u) << "no link while the host's link is down";
  s.net().set_link_down(kDevice, false);
  ASSERT_TRUE(s.run_until([&] { return s.up_times.size() == 2; }, 60'000)) << testing::PrintToString(s.log);
  EXPECT_GT(s.up_times[1], lost_at + 5'000);
  EXPECT_EQ(s.handler().opens, 2);
}

TEST(SimLink, ServerRestartDropsTheLinkAndItComesBack) {
  Scenario s(6);
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000));
  const Millis restart_at = s.now();
  s.net().restart(kServer, 4'000);
  ASSERT_TRUE(s.run_until([&] { return s.up_times.size() == 2; }, 120'000)) << testing::PrintToString(s.log);
  ASSERT_EQ(s.down_times.size(), 1u);
  EXPECT_GE(s.up_times[1], restart_at + 4'000);
  ASSERT_TRUE(s.link().send_text("after restart").ok());
  ASSERT_TRUE(s.run_until([&] { return !s.texts.empty(); }, 10'000));
  EXPECT_EQ(s.texts.back(), "echo:after restart");
}

// A run with refusals, latency, bandwidth and a restart; returns every log.
std::vector<std::string> scripted_run(uint64_t seed) {
  Scenario s(seed, {8443});
  s.net().set_default_path(SimPath{100, 128'000});
  s.start();
  s.run_until([&] { return s.link().up(); }, 30'000);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(s.link().send_text("message " + std::to_string(i)).ok());
    s.run_until([] { return false; }, 1'000);
  }
  s.net().restart(kServer, 2'000);
  s.run_until([&] { return s.up_times.size() == 2; }, 120'000);
  std::vector<std::string> all = s.log;
  all.insert(all.end(), s.net_log.begin(), s.net_log.end());
  all.insert(all.end(), s.handler().log.begin(), s.handler().log.end());
  return all;
}

TEST(SimLink, SameSeedGivesTheIdenticalEventLog) {
  const std::vector<std::string> a = scripted_run(42);
  const std::vector<std::string> b = scripted_run(42);
  ASSERT_GT(a.size(), 20u);
  EXPECT_EQ(a, b);
}

TEST(SimLink, AnHourOfEchoesInVirtualTime) {
  Scenario s(7);
  s.net().set_default_path(SimPath{100, 128'000});
  const auto wall_start = std::chrono::steady_clock::now();
  s.start();
  ASSERT_TRUE(s.run_until([&] { return s.link().up(); }, 10'000));
  const Millis up_at = s.now();
  int sent = 0;
  while (s.now() < up_at + 3'600'000) {
    ASSERT_TRUE(s.link().send_text("{\"type\":\"heartbeat\",\"seq\":" + std::to_string(sent) + "}").ok());
    ++sent;
    s.run_until([] { return false; }, 60'000);
  }
  const auto wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - wall_start).count();
  std::printf("[ sim      ] 1 h of virtual time, %d echoes, in %lld ms of wall time\n", sent,
              static_cast<long long>(wall_ms));
  EXPECT_EQ(sent, 60);
  EXPECT_EQ(static_cast<int>(s.texts.size()), sent);
  EXPECT_EQ(s.up_times.size(), 1u);
  EXPECT_EQ(s.net().open_connections(), 1u);
}

}  // namespace
}  // namespace sublink
