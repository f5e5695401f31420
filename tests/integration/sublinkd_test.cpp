// The real daemon (sublinkd) against an independent sublink/1 server
// (tests/peers/sublink1_server.py, written from PROTOCOL.md alone) on
// loopback. What the daemon does is read from two places a user relies on:
// the server's journal of every frame, and `sublinkctl status --json`.
// Time bounds are lower bounds taken from the server's own clock (the daemon
// must not be early); upper bounds are only generous timeouts.
#include <gtest/gtest.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <chrono>

#include "integration/sublinkd_rig.h"

namespace sublink::test {
namespace {

bool licensed_and_up(const Json& s) { return s.at("state").str() == "licensed" && s.at("link").str() == "up"; }

class SublinkdTest : public ::testing::Test {
 protected:
  void start(PeerServer::Options server_options = {}, Daemon::Config config = {}) {
    server = std::make_unique<PeerServer>(dir.path(), std::move(server_options));
    if (config.ports.empty()) config.ports = {server->port()};
    daemon = std::make_unique<Daemon>(dir.path(), config);
  }

  Json wait_licensed() {
    Json s = daemon->wait_status(licensed_and_up);
    EXPECT_TRUE(licensed_and_up(s)) << "status: " << s.text() << "\n" << context();
    return s;
  }

  /// The connect record of the n-th link the server accepted (1-based).
  std::optional<Record> link(int64_t n, int timeout_ms = 15000) {
    return server->wait_for([n](const Record& r) { return r.is("connect") && r.conn() == n; }, timeout_ms);
  }

  std::string context() const {
    std::string s;
    if (daemon) s += "--- sublinkd log ---\n" + daemon->log();
    if (server) s += "--- server journal ---\n" + server->journal_text();
    return s;
  }

  void TearDown() override {
    // The daemon first, so it sees the server to the end.
    daemon.reset();
    server.reset();
  }

  TempDir dir;
  std::unique_ptr<PeerServer> server;
  std::unique_ptr<Daemon> daemon;
};

TEST_F(SublinkdTest, LinkUpSendsHelloThenLicenseRequestAndBecomesLicensed) {
  start();
  Json s = wait_licensed();
  ASSERT_TRUE(licensed_and_up(s));
  EXPECT_EQ(s.at("port").num(), server->port());
  EXPECT_EQ(feature_list(s.at("license.features")), "seats=5,trunks=1") << s.text();
  EXPECT_FALSE(s.at("alarm").is_true());
  EXPECT_TRUE(s.at("grace_elapsed_s").is_number()) << s.text();
  EXPECT_TRUE(s.at("grace_remaining_s").is_number()) << s.text();
  EXPECT_TRUE(s.at("events_pending").is_number()) << s.text();
  auto license = server->records("license");
  ASSERT_EQ(license.size(), 1u) << context();
  EXPECT_EQ(s.at("license.serial").str(), license[0].json.at("serial").str());

  auto up = server->records("upgrade");
  ASSERT_FALSE(up.empty());
  EXPECT_EQ(up[0].json.at("path").str(), "/sublink/v1");
  auto c = link(1);
  ASSERT_TRUE(c) << context();
  EXPECT_EQ(c->json.at("cn").str(), "SYS-0001");
  EXPECT_EQ(c->json.at("tls").str(), "TLSv1.2");
  EXPECT_EQ(c->json.at("subprotocol").str(), "sublink.v1");
  EXPECT_EQ(c->json.at("user_agent").str().rfind("sublink/", 0), 0u) << c->json.text();

  std::vector<Record> received;
  for (auto& r : server->records("recv")) {
    if (r.conn() == 1) received.push_back(r);
  }
  ASSERT_GE(received.size(), 2u) << context();
  Json hello = received[0].msg();
  EXPECT_EQ(received[0].type(), "hello");
  EXPECT_EQ(hello.at("proto").num(), 1);
  EXPECT_EQ(hello.at("customer_id").str(), "CUST-1");
  EXPECT_EQ(hello.at("system_id").str(), "SYS-0001");
  EXPECT_FALSE(hello.at("agent").str().empty()) << hello.text();
  EXPECT_TRUE(hello.at("fw").is_string()) << hello.text();
  EXPECT_EQ(hello.at("role").str(), "primary");
  EXPECT_GE(hello.at("boot").num(), 0) << hello.text();
  EXPECT_TRUE(hello.at("time").is_null() || hello.at("time").is_number()) << hello.text();
  EXPECT_EQ(hello.at("state").str(), "unlicensed");
  EXPECT_EQ(hello.at("grace_elapsed_s").num(), 0) << hello.text();
  EXPECT_TRUE(hello.at("license_serial").is_null()) << hello.text();

  // The request may go right behind hello, before the welcome.
  EXPECT_EQ(received[1].type(), "license_request") << received[1].json.text();
  EXPECT_EQ(feature_list(received[1].msg().at("features")), "seats=5,trunks=1");
}

TEST_F(SublinkdTest, HeartbeatsCountUpAtTheWelcomeIntervalAndAuditsAreAcked) {
  PeerServer::Options fast;
  fast.heartbeat_s = 1;
  fast.audit_s = 2;
  start(fast);
  wait_licensed();
  ASSERT_TRUE(eventually([&] { return server->records("recv", "heartbeat").size() >= 4; }, 20000)) << context();
  auto beats = server->records("recv", "heartbeat");
  for (size_t i = 1; i < beats.size(); ++i) {
    EXPECT_GT(beats[i].msg().at("seq").num(), beats[i - 1].msg().at("seq").num()) << context();
    EXPECT_TRUE(beats[i].msg().at("uptime_s").is_number()) << beats[i].json.text();
  }
  // Never faster than heartbeat_s (receive times may bunch by a little).
  int64_t span = beats[3].t() - beats[0].t();
  EXPECT_GE(span, 3 * 1000 - 300) << context();
  // Each heartbeat is answered (the last answer may still be on its way).
  EXPECT_GE(server->records("send", "heartbeat_ack").size() + 1, beats.size());

  ASSERT_TRUE(eventually([&] { return server->records("recv", "license_audit").size() >= 2; }, 20000)) << context();
  auto audits = server->records("recv", "license_audit");
  EXPECT_GE(audits[1].t() - audits[0].t(), 2000 - 300) << context();
  Json audit = audits[0].msg();
  EXPECT_TRUE(audit.at("from").is_number() && audit.at("to").is_number()) << audit.text();
  EXPECT_GT(audit.at("usage").size(), 0u) << audit.text();
  auto acks = server->records("send", "audit_ack");
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks[0].msg().at("status").str(), "ok") << acks[0].json.text();
}

TEST_F(SublinkdTest, ServerGoneMeansGraceAndItsReturnRestoresTheLinkAndDeliversEventsOnce) {
  start();
  wait_licensed();
  ASSERT_TRUE(server->command(R"({"cmd":"stop_listening","drop":true})"));

  Json s = daemon->wait_status([](const Json& j) { return j.at("state").str() == "grace"; });
  EXPECT_EQ(s.at("state").str(), "grace") << s.text() << context();
  EXPECT_EQ(s.at("link").str(), "down");
  EXPECT_GT(s.at("grace_remaining_s").num(), 0) << s.text();
  EXPECT_EQ(feature_list(s.at("license.features")), "seats=5,trunks=1") << "features stay on in grace";
  s = daemon->wait_status([](const Json& j) { return j.at("alarm").is_true(); });
  EXPECT_TRUE(s.at("alarm").is_true()) << "grace_alarm_delay_s is 1: " << s.text();
  // The alarm as an operator reads it says how long, how long is left and why.
  const std::string text = daemon->status_text();
  EXPECT_NE(text.find("alarm:    RAISED: no link for "), std::string::npos) << text;
  EXPECT_NE(text.find(", the licensed features turn off in "), std::string::npos) << text;
  EXPECT_NE(text.find("; last failure "), std::string::npos) << text;
  EXPECT_EQ(text.find("see the log"), std::string::npos) << text;

  ASSERT_TRUE(server->command(R"({"cmd":"listen"})"));
  s = daemon->wait_status([](const Json& j) { return licensed_and_up(j) && !j.at("alarm").is_true(); }, 20000);
  EXPECT_TRUE(licensed_and_up(s)) << s.text() << context();
  EXPECT_FALSE(s.at("alarm").is_true());

  s = daemon->wait_status([](const Json& j) { return j.at("events_pending").num() == 0; });
  EXPECT_EQ(s.at("events_pending").num(), 0) << s.text();
  auto kinds_stored = [&] {
    std::multiset<std::string> kinds;
    for (auto& r : server->records("event_stored")) kinds.insert(r.json.at("event.kind").str());
    return kinds;
  };
  ASSERT_TRUE(eventually([&] { return kinds_stored().count("grace_cleared") > 0; }, 10000)) << context();
  auto kinds = kinds_stored();
  EXPECT_EQ(kinds.count("grace_started"), 1u) << context();
  EXPECT_EQ(kinds.count("grace_alarm"), 1u) << context();
  EXPECT_EQ(kinds.count("grace_cleared"), 1u) << context();
  // Acknowledged events are not sent again.
  EXPECT_TRUE(server->records("event_duplicate").empty()) << context();
}

TEST_F(SublinkdTest, RevokeTurnsTheFeaturesOffAtOnce) {
  start();
  Json before = wait_licensed();
  auto r = server->command(R"({"cmd":"revoke","reason":"test revoke"})");
  ASSERT_TRUE(r && r->json.at("ok").is_true()) << context();
  EXPECT_EQ(r->json.at("detail.serial").str(), before.at("license.serial").str());

  Json s = daemon->wait_status([](const Json& j) { return j.at("state").str() != "licensed"; });
  EXPECT_EQ(s.at("state").str(), "unlicensed") << s.text() << context();
  EXPECT_EQ(feature_list(s.at("license.features")), "") << s.text();
  EXPECT_EQ(s.at("link").str(), "up") << "a revoke is no reason to drop the link";

  auto revoke = server->records("send", "license_revoke");
  ASSERT_EQ(revoke.size(), 1u);
  int64_t id = revoke[0].msg().at("id").num();
  auto answer = server->wait_for([id](const Record& x) { return x.is("recv", "response") && x.msg().at("re").num() == id; });
  ASSERT_TRUE(answer) << "license_revoke must be answered with a response\n" << context();
  EXPECT_TRUE(answer->msg().at("ok").is_true()) << answer->json.text();
  auto revoked = server->wait_for(
      [](const Record& x) { return x.is("event_stored") && x.json.at("event.kind").str() == "license_revoked"; });
  EXPECT_TRUE(revoked) << context();
}

// PROTOCOL.md section 4: license_revoke with serial "*" revokes whatever
// is held, and the answer names it; with nothing held it is not_held.
// PROTOCOL.md section 2 on the real daemon: its wall clock reads 1970 (an
// RTC lost at power-up; libfaketime from Debian stands in for it) and no
// NTP answers. sublinkd waits ntp_wait_s, links with certificate dates
// checked against its build time, is licensed, and from then on trusts the
// server's time; the status says which clock.
// The daemon's wall clock reads 1970 (libfaketime preloaded), its
// monotonic clock runs true. False, with the reason, when libfaketime is
// missing.
::testing::AssertionResult wall_clock_in_1970(Daemon::Config& config) {
  const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
  if (access(kFaketime, R_OK) != 0) {
    return ::testing::AssertionFailure() << kFaketime << " is missing: toolchain/deps.sh test installs libfaketime";
  }
  // Under AddressSanitizer the preloaded library comes before ASan's
  // runtime, which ASan refuses unless told the order is intended.
  const char* asan = getenv("ASAN_OPTIONS");
  config.env = {std::string("LD_PRELOAD=") + kFaketime, "FAKETIME=@1970-01-01 00:00:10",
                "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_NO_CACHE=1",
                std::string("ASAN_OPTIONS=") + (asan && *asan ? std::string(asan) + ":" : "") + "verify_asan_link_order=0"};
  return ::testing::AssertionSuccess();
}

TEST_F(SublinkdTest, AWallClockIn1970WaitsNtpWaitThenLinksOnTheBuildTimeAndTrustsTheServersTime) {
  Daemon::Config config;
  config.extra = R"("ntp": ["127.0.0.1:9"], "ntp_wait_s": 2)";
  ASSERT_TRUE(wall_clock_in_1970(config));
  start({}, config);
  const Json s = wait_licensed();
  EXPECT_EQ(s.at("clock").at("source").str(), "server") << s.text();
  EXPECT_TRUE(s.at("clock").at("trusted").is_true()) << s.text();
  const std::string log = daemon->log();
  const size_t waiting = log.find("no usable clock: waiting for NTP before the first link, at most: 2 s");
  const size_t gave_up = log.find("no NTP answer in time");
  const size_t build = log.find("clock=build");
  const size_t server_time = log.find("clock=server");
  ASSERT_NE(waiting, std::string::npos) << context();
  ASSERT_NE(gave_up, std::string::npos) << context();
  ASSERT_NE(build, std::string::npos) << context();
  ASSERT_NE(server_time, std::string::npos) << context();
  EXPECT_LT(waiting, gave_up);
  EXPECT_LT(gave_up, server_time);
  // The first connection came only after the wait.
  EXPECT_EQ(log.rfind("connecting to", waiting), std::string::npos) << context();
  EXPECT_GT(log.find("connecting to"), gave_up) << context();
}

// While the first round waits for NTP (a wall clock that cannot be used,
// ntp_wait_s), status says so and when the round starts at the latest.
TEST_F(SublinkdTest, StatusShowsTheWaitForAUsableClockBeforeTheFirstRound) {
  Daemon::Config config;
  config.extra = R"("ntp": ["127.0.0.1:9"], "ntp_wait_s": 60)";
  ASSERT_TRUE(wall_clock_in_1970(config));
  start({}, config);
  const Json s = daemon->wait_status([](const Json& j) { return j.at("next_attempt").at("waiting_for_clock").is_true(); });
  ASSERT_TRUE(s.at("next_attempt").at("waiting_for_clock").is_true()) << s.text() << context();
  EXPECT_GT(s.at("next_attempt").at("in_s").num(), 0) << s.text();
  EXPECT_LE(s.at("next_attempt").at("in_s").num(), 60) << s.text();
  EXPECT_EQ(s.at("link").str(), "down") << s.text();
  const std::string text = daemon->status_text();
  EXPECT_NE(text.find("first attempt when the clock is set by NTP, at the latest in "), std::string::npos) << text;
}

TEST_F(SublinkdTest, RevokeOfStarRevokesWhateverIsHeldAndNamesIt) {
  start();
  const std::string held = wait_licensed().at("license.serial").str();
  ASSERT_FALSE(held.empty());
  auto r = server->command(R"({"cmd":"revoke","serial":"*","reason":"test revoke"})");
  ASSERT_TRUE(r && r->json.at("ok").is_true()) << context();

  Json s = daemon->wait_status([](const Json& j) { return j.at("state").str() != "licensed"; });
  EXPECT_EQ(s.at("state").str(), "unlicensed") << s.text() << context();
  EXPECT_TRUE(s.at("license").is_null()) << s.text();
  auto revoke = server->records("send", "license_revoke");
  ASSERT_EQ(revoke.size(), 1u);
  EXPECT_EQ(revoke[0].msg().at("serial").str(), "*");
  int64_t id = revoke[0].msg().at("id").num();
  auto answer = server->wait_for([id](const Record& x) { return x.is("recv", "response") && x.msg().at("re").num() == id; });
  ASSERT_TRUE(answer) << context();
  EXPECT_TRUE(answer->msg().at("ok").is_true()) << answer->json.text();
  EXPECT_EQ(answer->msg().at("result.serial").str(), held) << answer->json.text();

  // Nothing held now (the entitlements were cleared, so no new grant).
  ASSERT_TRUE(server->command(R"({"cmd":"revoke","serial":"*"})"));
  auto again = server->wait_for([id](const Record& x) {
    return x.is("recv", "response") && x.msg().at("re").num() > id;
  });
  ASSERT_TRUE(again) << context();
  EXPECT_FALSE(again->msg().at("ok").is_true()) << again->json.text();
  EXPECT_EQ(again->msg().at("error.code").str(), "not_held") << again->json.text();
}

TEST_F(SublinkdTest, PushedGrantReplacesTheLicenseButOlderOrNotYetValidOnesAreRefused) {
  start();
  std::string first = wait_licensed().at("license.serial").str();
  ASSERT_TRUE(server->command(R"({"cmd":"grant","features":{"seats":3,"trunks":1}})"));
  Json s = daemon->wait_status([&](const Json& j) { return j.at("license.serial").str() != first; });
  EXPECT_EQ(feature_list(s.at("license.features")), "seats=3,trunks=1") << s.text() << context();
  std::string second = s.at("license.serial").str();
  EXPECT_EQ(s.at("state").str(), "licensed");

  // The first grant again, exact bytes and a valid signature, but older.
  ASSERT_TRUE(server->command(R"({"cmd":"grant","replay":0})"));
  // Valid only an hour from now by the server's clock.
  ASSERT_TRUE(server->command(R"({"cmd":"grant","features":{"seats":9,"trunks":2},"not_before_in_s":3600})"));
  // A request answered after both pushes shows the daemon has handled them.
  ASSERT_TRUE(server->command(R"({"cmd":"request","method":"status.get","id":77})"));
  auto answer =
      server->wait_for([](const Record& x) { return x.is("recv", "response") && x.msg().at("re").num() == 77; });
  ASSERT_TRUE(answer) << context();
  s = daemon->status();
  EXPECT_EQ(s.at("license.serial").str(), second) << s.text() << context();
  EXPECT_EQ(feature_list(s.at("license.features")), "seats=3,trunks=1") << s.text();
}

TEST_F(SublinkdTest, DisconnectRetryAfterIsAFloorForTheNextConnect) {
  start();
  wait_licensed();
  ASSERT_TRUE(server->command(R"({"cmd":"disconnect","retry_after_s":4,"reason":"maintenance"})"));
  auto sent = server->wait_message("send", "disconnect");
  ASSERT_TRUE(sent);
  auto closed = server->wait_for([](const Record& r) { return r.is("closed") && r.conn() == 1; });
  ASSERT_TRUE(closed) << context();
  EXPECT_EQ(closed->json.at("code").num(), 1000) << "the device closes with 1000 after disconnect";

  auto again = link(2, 20000);
  ASSERT_TRUE(again) << context();
  RecordProperty("reconnect_after_ms", std::to_string(again->t() - sent->t()));
  EXPECT_GE(again->t() - sent->t(), 4000 - 10) << "reconnected before retry_after_s\n" << context();
  EXPECT_TRUE(licensed_and_up(daemon->wait_status(licensed_and_up)));
}

TEST_F(SublinkdTest, ServerRequestsAreAnswered) {
  start();
  wait_licensed();
  auto r = server->command(R"({"cmd":"request","method":"status.get","id":4242})");
  ASSERT_TRUE(r && r->json.at("ok").is_true()) << context();
  auto answer =
      server->wait_for([](const Record& x) { return x.is("recv", "response") && x.msg().at("re").num() == 4242; });
  ASSERT_TRUE(answer) << context();
  EXPECT_TRUE(answer->msg().at("ok").is_true()) << answer->json.text();
  EXPECT_EQ(answer->msg().at("result.state").str(), "licensed") << answer->json.text();

  server->command(R"({"cmd":"request","method":"no.such.method","id":4243})");
  answer = server->wait_for([](const Record& x) { return x.is("recv", "response") && x.msg().at("re").num() == 4243; });
  ASSERT_TRUE(answer) << context();
  EXPECT_FALSE(answer->msg().at("ok").is_true()) << answer->json.text();
  EXPECT_EQ(answer->msg().at("error.code").str(), "unknown_method") << answer->json.text();
}

TEST_F(SublinkdTest, SilentServerIsDeclaredDeadAfterThreeHeartbeatIntervals) {
  PeerServer::Options fast;
  fast.heartbeat_s = 1;
  start(fast);
  wait_licensed();
  ASSERT_TRUE(server->wait_message("send", "heartbeat_ack", 1)) << context();
  auto hole = server->command(R"({"cmd":"blackhole"})");
  ASSERT_TRUE(hole);
  int64_t last_frame = 0;
  for (auto& r : server->records("send")) {
    if (r.conn() == 1 && r.t() <= hole->t()) last_frame = std::max(last_frame, r.t());
  }

  auto again = link(2, 20000);
  ASSERT_TRUE(again) << context();
  int64_t silent_for = again->t() - last_frame;
  RecordProperty("silent_ms", std::to_string(silent_for));
  EXPECT_GE(silent_for, 3 * 1000 - 10) << "declared dead too early\n" << context();
  EXPECT_LT(silent_for, 3 * 1000 + 8000) << context();
  EXPECT_TRUE(licensed_and_up(daemon->wait_status(licensed_and_up))) << context();
}

TEST_F(SublinkdTest, SigtermClosesTheLinkWith1001AndExitsZero) {
  start();
  wait_licensed();
  int status = daemon->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status << "\n" << context();
  auto closed = server->wait_for([](const Record& r) { return r.is("closed") && r.conn() == 1; });
  ASSERT_TRUE(closed) << context();
  EXPECT_EQ(closed->json.at("code").num(), 1001) << context();
}

TEST_F(SublinkdTest, SighupReloadsTheDeviceCertificate) {
  start();
  wait_licensed();
  auto first = link(1);
  ASSERT_TRUE(first);
  // A second valid device certificate (new key, same CN, known serial).
  const std::string& pki = rig_pki_dir();
  const std::string d = dir.path();
  std::string make = "cd '" + d + "' && umask 077 && " +
                     "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out new.key 2>/dev/null && " +
                     "openssl req -new -key new.key -subj /CN=SYS-0001 -out new.csr 2>/dev/null && " +
                     "printf 'basicConstraints=critical,CA:false\\nkeyUsage=critical,digitalSignature\\n"
                     "extendedKeyUsage=clientAuth\\n' > new.ext && " +
                     "openssl x509 -req -in new.csr -CA '" + pki + "/ca.crt' -CAkey '" + pki +
                     "/ca.key' -set_serial 0x5EED0001 -days 30 -extfile new.ext -out new.crt 2>/dev/null && " +
                     "chmod 0644 new.crt && mv new.key device.key && mv new.crt device.crt";
  ASSERT_EQ(run_command(make), 0);
  ASSERT_NE(first->json.at("serial").str(), "5EED0001");

  ASSERT_EQ(kill(daemon->pid(), SIGHUP), 0);
  // The log names the reload; give the daemon a moment either way.
  eventually([&] { return daemon->log().find("reloaded") != std::string::npos; }, 3000);
  ASSERT_TRUE(daemon->running()) << "SIGHUP must not end the daemon\n" << context();
  ASSERT_TRUE(server->command(R"({"cmd":"drop"})"));

  auto second = link(2, 20000);
  ASSERT_TRUE(second) << context();
  EXPECT_EQ(second->json.at("serial").str(), "5EED0001") << context();
  EXPECT_EQ(second->json.at("cn").str(), "SYS-0001");
  EXPECT_TRUE(licensed_and_up(daemon->wait_status(licensed_and_up))) << context();
}

TEST_F(SublinkdTest, RefusedFirstPortFallsThroughToTheSecond) {
  ClosedPort closed;
  const int refused = closed.port();
  server = std::make_unique<PeerServer>(dir.path(), PeerServer::Options{});
  Daemon::Config config;
  config.ports = {refused, server->port()};
  daemon = std::make_unique<Daemon>(dir.path(), config);
  Json s = wait_licensed();
  EXPECT_EQ(s.at("port").num(), server->port()) << s.text();
  auto c = link(1);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->json.at("port").num(), server->port());
}

TEST_F(SublinkdTest, RestartKeepsTheLicenseAndCountsTheBoot) {
  start();
  Json s = wait_licensed();
  std::string serial = s.at("license.serial").str();
  ASSERT_FALSE(serial.empty()) << s.text();
  auto hello1 = server->wait_message("recv", "hello", 1);
  ASSERT_TRUE(hello1);
  int status = daemon->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  // From now on the server grants nothing: the license must come from state_dir.
  ASSERT_TRUE(server->command(R"({"cmd":"entitle","features":{}})"));
  daemon->restart();
  auto hello2 = server->wait_message("recv", "hello", 2, 20000);
  ASSERT_TRUE(hello2) << context();
  EXPECT_EQ(hello2->msg().at("boot").num(), hello1->msg().at("boot").num() + 1) << context();
  EXPECT_EQ(hello2->msg().at("license_serial").str(), serial) << hello2->json.text();
  // Down since the stop, so grace; what matters is that a license is held.
  EXPECT_NE(hello2->msg().at("state").str(), "unlicensed") << hello2->json.text();

  s = wait_licensed();
  EXPECT_EQ(s.at("license.serial").str(), serial) << s.text();
  EXPECT_EQ(feature_list(s.at("license.features")), "seats=5,trunks=1") << s.text();
}

// PROTOCOL.md section 5: no pattern of kills stops grace. Licensed, then
// the server is gone for good, and sublinkd is killed (SIGKILL) about every
// second and started again at once. checkpoint_s is an hour, so only the
// unclean-stop rule (grace_checkpoint_s 2, charged per start after a kill)
// moves grace: the alarm (due 8 s after the server went) and the expiry
// (20 s) must come no later than that schedule plus one
// grace_checkpoint_s, plus 1.5 s for observing them through sublinkctl;
// and no earlier than the schedule less 2 s per start (what may be charged).
TEST_F(SublinkdTest, KillLoopEverySecondReachesGraceAlarmAndExpiryOnSchedule) {
  Daemon::Config config;
  config.grace_period_s = 20;
  config.grace_alarm_delay_s = 8;
  config.checkpoint_s = 3600;
  config.extra = R"("grace_checkpoint_s": 2)";
  start({}, config);
  wait_licensed();
  server.reset();  // stopped by PID: unreachable from now on
  using Clock = std::chrono::steady_clock;
  const Clock::time_point gone = Clock::now();
  auto since = [&](Clock::time_point t) { return std::chrono::duration<double>(t - gone).count(); };
  double alarm_at = -1;
  double expired_at = -1;
  int starts = 0;
  int starts_before_alarm = 0;
  while (expired_at < 0 && since(Clock::now()) < 60) {
    const Clock::time_point started = Clock::now();
    while (Clock::now() - started < std::chrono::milliseconds(1000)) {
      Json s = daemon->status();
      if (s && s.at("alarm").is_true() && alarm_at < 0) {
        alarm_at = since(Clock::now());
        starts_before_alarm = starts;
      }
      if (s && s.at("state").str() == "expired") {
        expired_at = since(Clock::now());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (expired_at >= 0) break;
    ASSERT_TRUE(daemon->running()) << daemon->log();
    kill(daemon->pid(), SIGKILL);
    daemon->restart();
    ++starts;
  }
  ASSERT_GE(alarm_at, 0) << "no grace alarm in 60 s of a kill loop\n" << daemon->log();
  ASSERT_GE(expired_at, 0) << "grace never expired in 60 s of a kill loop\n" << daemon->log();
  EXPECT_LE(alarm_at, 8 + 2 + 1.5);
  EXPECT_LE(expired_at, 20 + 2 + 1.5);
  EXPECT_GE(alarm_at, 8 - 2.0 * starts_before_alarm - 0.5);
  EXPECT_GE(expired_at, 20 - 2.0 * starts - 0.5);
  std::printf("[ kill loop ] %d SIGKILLs: grace alarm after %.1f s (due 8), expired after %.1f s (due 20)\n", starts,
              alarm_at, expired_at);
  Json s = daemon->status();
  EXPECT_EQ(s.at("state").str(), "expired") << s.text();
}

}  // namespace
}  // namespace sublink::test
