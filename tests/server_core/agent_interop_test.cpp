// The real firmware Agent against a ServerSession, message for message,
// through an in-memory link: the proof that both sides follow PROTOCOL.md.
// The device end is the agent rig's FakeChannel; this harness carries its
// messages to the session and the session's output back, in virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "server_core/session_fixture.h"

namespace sublink::test {
namespace {

class AgentInterop : public ::testing::Test {
 protected:
  AgentInterop() {
    rig.auto_ack = false;
    directory.put_system({"C-42", "SYS-7", {{"trunks", 20}, {"recording", 1}}});
    directory.put_system({"C-43", "SYS-8", {{"trunks", 5}}});
    settings.heartbeat_s = 10;
    settings.audit_s = 3600;
    settings.kid = "k1";
    mono_origin_ = rig.mono.now;
    EXPECT_TRUE(rig.boot().ok());
  }

  /// The server's clock (UTC): kT0 when the test starts, then virtual time.
  Millis utc() const { return kT0 + (rig.mono.now - mono_origin_); }

  /// A new connection: TLS named `cn`, the agent's link comes up.
  void connect(uint16_t port = 443, const std::string& cn = "SYS-7") {
    forwarded_ = rig.channel.sent.size();
    session = std::make_unique<ServerSession>(settings, directory, rig.signer.license_signer(), identities,
                                              PeerInfo{cn, "127.0.0.1:40000", port}, utc());
    session_open_ = true;
    rig.link_up(port);
    pump();
  }

  /// The network under the link breaks (no close handshake).
  void break_link() {
    rig.link_down();
    pump();
  }

  /// Carries messages both ways until nothing moves.
  void pump() {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      if (session_open_) {
        while (forwarded_ < rig.channel.sent.size()) {
          session->on_text(rig.channel.sent[forwarded_++], utc());
          moved = true;
        }
        if (!rig.channel.is_up) {
          std::string why = rig.channel.closes.empty() ? "link lost"
                                                       : "device closed " + std::to_string(rig.channel.closes.back());
          session->on_closed(utc(), why);
          session_open_ = false;
          moved = true;
        }
      }
      if (session_open_) {
        SessionOutput out = session->take_output();
        for (const std::string& m : out.messages) {
          moved = true;
          if (!drop_type_.empty() && Sent(m).type() == drop_type_) {
            ++dropped_;
            continue;
          }
          if (rig.channel.is_up) rig.server(m);
        }
        if (out.close) {
          server_closes.push_back(*out.close);
          if (rig.channel.is_up) {
            rig.channel.is_up = false;
            rig.agent->on_link_down(Status(Reason::closed_by_peer, out.close->code));
          }
          session->on_closed(utc(), "server closed");
          session_open_ = false;
          moved = true;
        }
      }
      if (!moved) return;
    }
    FAIL() << "the two sides never settle";
  }

  /// Lets `ms` of virtual time pass, stepping the agent and the session at
  /// every deadline. With `reconnect`, a channel start by the agent (after a
  /// disconnect) opens a new connection.
  void run_for(Millis ms, bool reconnect = false) {
    Millis end = rig.mono.now + ms;
    while (true) {
      Millis next = rig.agent->step(rig.mono.now);
      pump();
      if (session_open_) {
        Millis at = session->step(utc());
        pump();
        if (at != kNever) next = std::min(next, at - utc() + rig.mono.now);
      }
      if (reconnect && rig.channel.starts.size() > starts_seen_) {
        starts_seen_ = rig.channel.starts.size();
        connect();
      }
      if (next > end) break;
      rig.mono.now = std::max(next, rig.mono.now + 1);
    }
    rig.mono.now = end;
    rig.agent->step(end);
    pump();
  }

  std::vector<std::string> stored_kinds() const {
    std::vector<std::string> kinds;
    for (const DeviceEvent& e : directory.events("SYS-7")) kinds.push_back(e.kind);
    return kinds;
  }

  static size_t count(const std::vector<std::string>& v, const std::string& s) {
    return static_cast<size_t>(std::count(v.begin(), v.end(), s));
  }

  /// Asks the agent `method` and returns its answer.
  DeviceResponse ask(const std::string& method, const std::string& params = "") {
    std::optional<int64_t> id = session->request(method, params, utc());
    EXPECT_TRUE(id);
    pump();
    std::optional<DeviceResponse> r = id ? session->take_response(*id) : std::nullopt;
    EXPECT_TRUE(r) << method << " not answered";
    return r.value_or(DeviceResponse{});
  }

  AgentRig rig;
  MemoryDirectory directory;
  IdentityRegistry identities;
  SessionSettings settings;
  std::unique_ptr<ServerSession> session;
  std::vector<CloseRequest> server_closes;
  std::string drop_type_;  // server messages of this type are lost on the way
  int dropped_ = 0;

 private:
  Millis mono_origin_ = 0;
  size_t forwarded_ = 0;
  size_t starts_seen_ = 0;
  bool session_open_ = false;
};

TEST_F(AgentInterop, HelloWelcomeAndALicenseTheAgentVerifies) {
  connect();
  EXPECT_TRUE(session->welcomed());
  AgentStatus s = rig.agent->snapshot();
  EXPECT_TRUE(s.link_up);
  EXPECT_EQ(s.port, 443);
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed);
  EXPECT_EQ(rig.agent->feature_quantity("trunks"), 20u) << "asked 30, entitled 20";
  EXPECT_TRUE(rig.agent->feature_enabled("recording"));
  ASSERT_TRUE(session->info().license_serial);
  EXPECT_EQ(s.serial, *session->info().license_serial);
  EXPECT_EQ(session->info().hello.agent, "0.1.0");
  EXPECT_EQ(session->info().hello.state, "unlicensed");
  ASSERT_EQ(directory.connections().size(), 1u);
  EXPECT_EQ(directory.connections()[0].record.port, 443);
  EXPECT_TRUE(server_closes.empty());
}

TEST_F(AgentInterop, HeartbeatsAreAckedAndTheLinkStaysUp) {
  connect();
  run_for(10 * 60 * kSec);
  EXPECT_GE(rig.sent_of("heartbeat").size(), 59u);
  EXPECT_TRUE(rig.channel.drops.empty()) << "the agent never found the link dead";
  EXPECT_TRUE(server_closes.empty()) << "the server never found the device silent";
  EXPECT_TRUE(rig.agent->snapshot().link_up);
  EXPECT_GE(session->info().last_contact, utc() - 10 * kSec);
}

TEST_F(AgentInterop, AuditsAreOkWithinTheEntitlementAndOveruseBeyond) {
  connect();
  ASSERT_TRUE(rig.agent->report_usage("trunks", 12).ok());
  EXPECT_TRUE(ask("audit.now").ok);
  ASSERT_EQ(directory.audits().size(), 1u);
  EXPECT_EQ(directory.audits()[0].result, AuditResult::ok);
  EXPECT_EQ(directory.audits()[0].serial, *session->info().license_serial);
  EXPECT_FALSE(rig.agent->snapshot().audit_overuse);

  ASSERT_TRUE(rig.agent->report_usage("trunks", 25).ok());
  EXPECT_TRUE(ask("audit.now").ok);
  ASSERT_EQ(directory.audits().size(), 2u);
  EXPECT_EQ(directory.audits()[1].result, AuditResult::overuse);
  ASSERT_EQ(directory.audits()[1].over.size(), 1u);
  EXPECT_EQ(directory.audits()[1].over[0].peak, 25);
  EXPECT_EQ(directory.audits()[1].over[0].licensed, 20u);
  EXPECT_TRUE(rig.agent->snapshot().audit_overuse);
  EXPECT_EQ(session->info().last_audit, AuditResult::overuse);
  run_for(kSec);
  EXPECT_EQ(count(stored_kinds(), "audit_overuse"), 1u) << "the device's alarm reached the server";
}

TEST_F(AgentInterop, EventsArriveExactlyOnceEvenWhenAnAckIsLost) {
  connect();
  run_for(kSec);
  ASSERT_EQ(count(stored_kinds(), "license_applied"), 1u);
  EXPECT_EQ(rig.agent->snapshot().events_pending, 0u);

  // A second license is applied; its event is stored but the ack is lost.
  drop_type_ = "event_ack";
  EXPECT_TRUE(ask("license.refresh").ok);
  run_for(kSec);
  ASSERT_EQ(dropped_, 1);
  EXPECT_EQ(count(stored_kinds(), "license_applied"), 2u);
  EXPECT_EQ(rig.agent->snapshot().events_pending, 1u) << "unacknowledged: the agent keeps it";
  int64_t resent_seq = directory.events("SYS-7").back().seq;

  // The link breaks; on the next one the agent sends the batch again.
  break_link();
  drop_type_.clear();
  rig.mono.now += 60 * kSec;
  connect();
  run_for(5 * kSec);
  EXPECT_EQ(rig.agent->snapshot().events_pending, 0u);

  size_t times_sent = 0;
  for (auto& batch : rig.sent_of("event")) {
    const cJSON* e = nullptr;
    cJSON_ArrayForEach(e, batch->get("events")) {
      if (cJSON_GetNumberValue(cJSON_GetObjectItem(e, "seq")) == resent_seq) ++times_sent;
    }
  }
  EXPECT_GE(times_sent, 2u) << "the lost ack made the agent send the event again";
  const auto& stored = directory.events("SYS-7");
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].seq, static_cast<int64_t>(i + 1)) << "every event once, none missing";
  }
  std::vector<std::string> kinds = stored_kinds();
  EXPECT_EQ(count(kinds, "license_applied"), 3u) << "two on the first link, one on the second";
  EXPECT_EQ(count(kinds, "grace_started"), 1u);
  EXPECT_EQ(count(kinds, "grace_cleared"), 1u);
}

TEST_F(AgentInterop, RevokeTurnsTheFeaturesOffAtOnce) {
  connect();
  std::string serial(rig.agent->snapshot().serial);
  directory.system("SYS-7")->suspended = true;
  std::optional<int64_t> id = session->revoke(serial, "non-payment", utc());
  ASSERT_TRUE(id);
  pump();
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  std::optional<DeviceResponse> answer = session->take_response(*id);
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->ok);
  run_for(kSec);
  EXPECT_EQ(count(stored_kinds(), "license_revoked"), 1u);

  // Back on a new link the device holds nothing; the suspended system is
  // denied and the device reports the denial.
  break_link();
  connect();
  run_for(kSec);
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  EXPECT_FALSE(session->info().hello.license_serial);
  EXPECT_EQ(count(stored_kinds(), "license_denied"), 1u);
}

TEST_F(AgentInterop, DisconnectIsHonouredWithItsRetryFloor) {
  connect();
  Millis asked_at = rig.mono.now;
  ASSERT_TRUE(session->disconnect("maintenance", 120, utc()));
  pump();
  ASSERT_FALSE(rig.channel.closes.empty());
  EXPECT_EQ(rig.channel.closes.back(), 1000);
  ASSERT_FALSE(rig.channel.floors.empty());
  EXPECT_EQ(rig.channel.floors.back(), 120 * kSec);
  ASSERT_EQ(directory.connections().size(), 1u);
  EXPECT_EQ(directory.connections()[0].down_reason, "device closed 1000");
  EXPECT_TRUE(server_closes.empty()) << "the device closed, not the server";

  run_for(119 * kSec, true);
  EXPECT_TRUE(rig.channel.starts.empty()) << "no reconnection inside the floor";
  run_for(2 * kSec, true);
  ASSERT_EQ(rig.channel.starts.size(), 1u);
  EXPECT_GE(rig.channel.starts[0], asked_at + 120 * kSec);
  EXPECT_TRUE(session->welcomed()) << "the new connection is served";
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed);
}

TEST_F(AgentInterop, RequestsAreAnswered) {
  connect();
  DeviceResponse status = ask("status.get");
  ASSERT_TRUE(status.ok);
  Sent result(status.result_json);
  EXPECT_EQ(result.string("state"), "licensed");

  DeviceResponse events = ask("events.get", R"({"after":0})");
  EXPECT_TRUE(events.ok);

  DeviceResponse unknown = ask("reboot");
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.error_code, "unknown_method");

  DeviceResponse not_allowed = ask("tunnels.list");  // not in this device's allowed methods
  EXPECT_FALSE(not_allowed.ok);
  EXPECT_EQ(not_allowed.error_code, "not_allowed");

  DeviceResponse bad = ask("events.get", R"({"after":-1})");
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error_code, "bad_params");

  // The first draft's tunnel methods are gone: tunnels use binary frames.
  DeviceResponse removed = ask("tunnel.open", R"({"service":"ssh"})");
  EXPECT_FALSE(removed.ok);
  EXPECT_EQ(removed.error_code, "unknown_method");
}

TEST_F(AgentInterop, ARefusedHelloLeavesTheDeviceUnlicensed) {
  connect(443, "SYS-8");  // the certificate names another system
  ASSERT_EQ(server_closes.size(), 1u);
  EXPECT_EQ(server_closes[0].code, 1008);
  EXPECT_EQ(server_closes[0].reason, "system_mismatch");
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  EXPECT_FALSE(rig.agent->snapshot().link_up);
  bool logged = std::any_of(rig.logs.begin(), rig.logs.end(), [](const auto& l) {
    return l.first == "server error" && l.second == "system_mismatch";
  });
  EXPECT_TRUE(logged) << "the agent read the error";
  EXPECT_TRUE(directory.issued().empty());
}

TEST_F(AgentInterop, ABusyServerSetsTheDevicesRetryFloor) {
  directory.set_failing(true);
  connect();
  directory.set_failing(false);
  ASSERT_EQ(server_closes.size(), 1u);
  EXPECT_EQ(server_closes[0].code, 1008);
  ASSERT_FALSE(rig.channel.floors.empty());
  EXPECT_EQ(rig.channel.floors.back(), settings.busy_retry_s * kSec);
}

TEST_F(AgentInterop, ALongLinkKeepsAValidLicenseThroughRenewals) {
  settings.license_lifetime_ms = 3600 * kSec;
  connect();
  run_for(3 * 3600 * kSec);
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed) << "never expired on a live link";
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
  EXPECT_GE(directory.issued().size(), 6u) << "renewed every half hour";
  EXPECT_EQ(rig.agent->snapshot().serial, directory.issued().back().serial);
  std::vector<std::string> kinds = stored_kinds();
  EXPECT_EQ(count(kinds, "license_refused"), 0u) << "every renewal was accepted";
  EXPECT_EQ(count(kinds, "license_applied"), directory.issued().size());
  EXPECT_TRUE(rig.channel.drops.empty());
}

TEST_F(AgentInterop, ABlackholedServerIsFoundDeadByTheAgent) {
  connect();
  session->set_blackhole(true);
  run_for(31 * kSec);
  ASSERT_EQ(rig.channel.drops.size(), 1u) << "no frame for 3 heartbeats";
  EXPECT_EQ(rig.agent->state(), LicenseState::grace) << "features stay on in grace";
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
  ASSERT_EQ(directory.connections().size(), 1u);
  EXPECT_EQ(directory.connections()[0].down_reason, "link lost");
}

}  // namespace
}  // namespace sublink::test
