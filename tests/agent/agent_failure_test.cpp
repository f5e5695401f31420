// The status `last_failure` (PROTOCOL.md section 7): why the link is down or
// was last refused, named where it happened, in the agent's and the
// server's words.
#include <gtest/gtest.h>

#include "agent/agent_rig.h"

namespace sublink::test {
namespace {

class AgentFailure : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(rig.boot().ok()); }
  std::string reason() { return std::string(rig.agent->snapshot().last_failure.reason); }
  std::string detail() { return std::string(rig.agent->snapshot().last_failure.detail); }
  AgentRig rig;
};

TEST_F(AgentFailure, NoneBeforeAnyFailure) {
  const AgentStatus s = rig.agent->snapshot();
  EXPECT_TRUE(s.last_failure.reason.empty());
  EXPECT_FALSE(s.last_failure.when.has_value());
}

TEST_F(AgentFailure, AnAttemptNamesItsAddressAndPortAndWhen) {
  rig.wall.value = WallTime{kT0, true, true};
  AttemptInfo a;
  a.address = IpAddress::parse("192.0.2.7");
  a.port = 8443;
  rig.agent->on_attempt_failed(a, Status(Reason::connect_refused, 111), {});
  EXPECT_EQ(reason(), "connect_refused");
  EXPECT_EQ(detail(), std::string("192.0.2.7:8443: ") + reason_hint(Reason::connect_refused));
  ASSERT_TRUE(rig.agent->snapshot().last_failure.when.has_value());
  EXPECT_EQ(*rig.agent->snapshot().last_failure.when, kT0) << "UTC when the clock is set";
}

TEST_F(AgentFailure, ThroughAProxyTheProxysAddressAndPortAreNamed) {
  AttemptInfo a;
  a.address = IpAddress::parse("2001:db8::3");
  a.port = 443;
  a.proxy_port = 3128;
  rig.agent->on_attempt_failed(a, Status(Reason::connect_timeout), "no answer within connect_timeout_s");
  EXPECT_EQ(reason(), "connect_timeout");
  EXPECT_EQ(detail(), "proxy [2001:db8::3]:3128 (CONNECT to port 443): no answer within connect_timeout_s");
}

TEST_F(AgentFailure, ANameThatDoesNotResolveIsNamed) {
  rig.agent->on_resolved("subscriptions.example.net", Status(Reason::dns_failed), AddressList{});
  EXPECT_EQ(reason(), "dns_failed");
  EXPECT_EQ(detail().rfind("subscriptions.example.net: ", 0), 0u) << detail();
}

TEST_F(AgentFailure, TheResolversOwnWordsComeBeforeTheHint) {
  rig.config.resolver_words = [](int32_t detail) -> const char* {
    return detail == -3 ? "Temporary failure in name resolution" : nullptr;
  };
  rig.agent->on_resolved("subscriptions.example.net", Status(Reason::dns_failed, -3), AddressList{});
  EXPECT_EQ(detail(), std::string("subscriptions.example.net: Temporary failure in name resolution - ") +
                          reason_hint(Reason::dns_failed));
  // A detail the platform has no words for keeps the hint alone.
  rig.agent->on_resolved("subscriptions.example.net", Status(Reason::dns_failed, 7), AddressList{});
  EXPECT_EQ(detail(), std::string("subscriptions.example.net: ") + reason_hint(Reason::dns_failed));
}

TEST_F(AgentFailure, TheServersRefusalStaysTheReasonThroughTheCloseThatFollows) {
  rig.link_up();
  rig.server(R"({"type":"error","code":"system_mismatch","message":"system registered to another customer"})");
  rig.channel.is_up = false;
  rig.agent->on_link_down(Status(Reason::closed_by_peer, 1008));
  EXPECT_EQ(reason(), "system_mismatch");
  EXPECT_EQ(detail(), "system registered to another customer");
}

TEST_F(AgentFailure, ALinkThatWasUpAndThenClosedSaysSo) {
  rig.link_up();
  rig.welcome(kT0);
  rig.link_down();  // connection_reset
  EXPECT_EQ(reason(), "connection_reset");
  EXPECT_EQ(detail().rfind("the link was up, then: ", 0), 0u) << detail();
  rig.link_up();
  rig.welcome(kT0);
  rig.channel.is_up = false;
  rig.agent->on_link_down(Status(Reason::closed_by_peer, 1001));
  EXPECT_EQ(detail(), "the server closed the link (WebSocket close 1001)");
}

TEST_F(AgentFailure, StatusJsonCarriesLastFailureNextAttemptAndTunnels) {
  AttemptInfo a;
  a.address = IpAddress::parse("127.0.0.1");
  a.port = 443;
  rig.agent->on_attempt_failed(a, Status(Reason::tls_alert), "handshake_failure");
  rig.link_up();
  rig.welcome(kT0);
  rig.server(R"({"type":"request","id":77,"method":"status.get"})");
  auto answer = rig.last_sent();
  const cJSON* result = answer->get("result");
  const cJSON* failure = cJSON_GetObjectItem(result, "last_failure");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(failure, "reason")), "tls_alert");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(failure, "detail")), "127.0.0.1:443: handshake_failure");
  EXPECT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(failure, "when"))) << "no clock told UTC when it failed";
  EXPECT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(result, "next_attempt"))) << "the link is up";
  const cJSON* tunnels = cJSON_GetObjectItem(result, "tunnels");
  EXPECT_TRUE(cJSON_IsArray(tunnels) && cJSON_GetArraySize(tunnels) == 0);
}

}  // namespace
}  // namespace sublink::test
