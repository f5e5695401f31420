// The TLS+WebSocket chain through its public interface: a client chain (the
// device's end, as a Link attempt drives it) against a server chain (as the
// reference server and the simulation drive it), ciphertext moved in memory.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "net/tls_ws/tls_ws_client_chain.h"
#include "net/tls_ws/tls_ws_server_chain.h"
#include "tls/tls_test_support.h"

namespace sublink::test {
namespace {

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string as_text(std::span<const uint8_t> bytes) { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }

// What the client chain reported, in order.
class ClientLog final : public TlsWsClientChainHandler {
 public:
  void on_tls_established() override { events.push_back("tls"); }
  void on_event(const WsEvent& event) override {
    switch (event.type) {
      case WsEventType::open: events.push_back("open"); break;
      case WsEventType::text: events.push_back("text:" + std::string(event.text())); break;
      case WsEventType::binary: events.push_back("binary:" + as_text(event.data)); break;
      case WsEventType::pong: events.push_back("pong:" + as_text(event.data)); break;
      case WsEventType::request: events.push_back("request"); break;
      case WsEventType::closed: events.push_back("closed"); break;
    }
  }
  std::vector<std::string> events;
};

// What the server chain reported, and its answer to the upgrade.
class ServerLog final : public TlsWsServerChainHandler {
 public:
  WsUpgradeDecision on_upgrade(std::string_view client_cn, const WsUpgradeRequestInfo& request) override {
    events.push_back("upgrade:" + std::string(client_cn));
    host = request.host;
    path = request.path;
    user_agent = request.user_agent;
    return decision;
  }
  void on_open() override { events.push_back("open"); }
  void on_text(std::string_view message) override { events.push_back("text:" + std::string(message)); }
  void on_binary(std::span<const uint8_t> message) override { events.push_back("binary:" + as_text(message)); }

  WsUpgradeDecision decision;
  std::vector<std::string> events;
  std::string host, path, user_agent;
};

class TlsWsChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(load_client(client_tls_, random_).ok());
    ASSERT_TRUE(load_server(server_tls_, random_, server_files_).ok());
    client_config_.server = "localhost";
    client_config_.path = "/sublink/v1";
    client_config_.user_agent = "sublink-test/1";
  }

  // Starts both chains (the client for `port`) and runs them to rest.
  void connect(TlsWsClientChain& client, TlsWsServerChain& server, uint16_t port = 443) {
    server.start();
    client.start(port);
    pump(client, server);
  }

  // Moves ciphertext both ways until nothing moves or a side stops taking.
  void pump(TlsWsClientChain& client, TlsWsServerChain& server) {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      if (!client.output().empty() && !server.ended()) {
        const size_t n = server.receive(client.output());
        client.consume_output(n);
        moved = moved || n > 0;
      }
      if (!server.output().empty() && !client.ended()) {
        const size_t n = client.receive(server.output());
        server.consume_output(n);
        moved = moved || n > 0;
      }
      if (!moved) return;
    }
    FAIL() << "the chains never settled";
  }

  SystemClockScope clock_;
  SeededRandom random_{7};
  TlsClientConfig client_tls_;
  TlsServerConfig server_tls_;
  ServerFiles server_files_;
  TlsWsClientChainConfig client_config_;
  WsServerConfig server_ws_;
  ClientLog client_log_;
  ServerLog server_log_;
};

TEST_F(TlsWsChainTest, HandshakeMessagesEachWayAndTheCloseHandshake) {
  TlsWsClientChain client(client_tls_, client_config_, random_, client_log_);
  TlsWsServerChain server(server_tls_, server_ws_, server_log_);
  server.start();
  client.start(8443);
  EXPECT_FALSE(client.output().empty()) << "the ClientHello is queued at start";
  pump(client, server);

  ASSERT_FALSE(client.ended()) << reason_name(client.end_status().reason()) << " " << client.end_text();
  EXPECT_TRUE(client.opened());
  EXPECT_TRUE(server.opened());
  EXPECT_EQ(client_log_.events, (std::vector<std::string>{"tls", "open"}));
  EXPECT_EQ(server_log_.events, (std::vector<std::string>{"upgrade:" + std::string(client_tls_.device_common_name()),
                                                          "open"}));
  EXPECT_EQ(server.client_cn(), client_tls_.device_common_name());
  // The upgrade request is built from the configuration and the port.
  EXPECT_EQ(server_log_.host, "localhost:8443");
  EXPECT_EQ(server_log_.path, "/sublink/v1");
  EXPECT_EQ(server_log_.user_agent, "sublink-test/1");
  EXPECT_FALSE(client.resumed());

  ASSERT_TRUE(client.send_text("hello").ok());
  ASSERT_TRUE(client.send_binary(as_bytes("raw")).ok());
  EXPECT_GT(client.queued(), 0u);
  pump(client, server);
  EXPECT_EQ(client.queued(), 0u);
  EXPECT_EQ(server_log_.events, (std::vector<std::string>{"upgrade:" + std::string(client_tls_.device_common_name()),
                                                          "open", "text:hello", "binary:raw"}));

  ASSERT_TRUE(server.send_text("welcome").ok());
  ASSERT_TRUE(server.send_binary(as_bytes("back")).ok());
  ASSERT_TRUE(client.send_ping(as_bytes("p1")).ok());
  pump(client, server);
  EXPECT_EQ(client_log_.events,
            (std::vector<std::string>{"tls", "open", "text:welcome", "binary:back", "pong:p1"}));

  ASSERT_TRUE(client.close(1000, "bye").ok());
  pump(client, server);
  ASSERT_TRUE(client.ended());
  ASSERT_TRUE(server.ended());
  EXPECT_TRUE(client.end_status().ok()) << "our close completed";
  EXPECT_TRUE(client.ended_by_websocket());
  EXPECT_TRUE(client.end_text().empty());
  EXPECT_EQ(server.end_status(), Status(Reason::closed_by_peer, 1000));
  EXPECT_EQ(client.send_text("late").reason(), Reason::connection_closed);
}

TEST_F(TlsWsChainTest, TheHostHeaderOmitsPort443AndBracketsAnIpv6Literal) {
  struct Case {
    std::string_view server;
    uint16_t port;
    std::string_view host;
  };
  for (const Case& c : {Case{"localhost", 443, "localhost"}, Case{"::1", 8443, "[::1]:8443"},
                        Case{"::1", 443, "[::1]"}, Case{"127.0.0.1", 80, "127.0.0.1:80"}}) {
    client_config_.server = c.server;
    ClientLog client_log;
    ServerLog server_log;
    TlsWsClientChain client(client_tls_, client_config_, random_, client_log);
    TlsWsServerChain server(server_tls_, server_ws_, server_log);
    connect(client, server, c.port);
    ASSERT_TRUE(client.opened()) << c.server << ": " << reason_name(client.end_status().reason()) << " "
                                 << client.end_text();
    EXPECT_EQ(server_log.host, c.host);
  }
}

TEST_F(TlsWsChainTest, ATlsFailureEndsTheClientChainWithItsReasonAndText) {
  TlsServerConfig other_tls;
  ASSERT_TRUE(load_server(other_tls, random_, {.cert = "server-other-ca.crt", .key = "server-other-ca.key"}).ok());
  TlsWsClientChain client(client_tls_, client_config_, random_, client_log_);
  TlsWsServerChain server(other_tls, server_ws_, server_log_);
  connect(client, server);

  ASSERT_TRUE(client.ended());
  EXPECT_EQ(client.end_status().reason(), Reason::cert_unknown_ca);
  EXPECT_FALSE(client.end_text().empty()) << "what the TLS layer saw, for the log";
  EXPECT_FALSE(client.ended_by_websocket());
  EXPECT_FALSE(client.opened());
  EXPECT_TRUE(client_log_.events.empty()) << "neither tls_established nor open";
  EXPECT_TRUE(server_log_.events.empty());
  EXPECT_EQ(client.send_text("x").reason(), Reason::connection_closed);
}

TEST_F(TlsWsChainTest, ARefusedUpgradeEndsWithItsReasonAndRetryAfter) {
  struct Case {
    WsUpgradeDecision decision;
    Reason reason;
    int32_t retry_after_s;
  };
  for (const Case& c : {Case{{503, 30}, Reason::upgrade_unavailable, 30}, Case{{403, -1}, Reason::upgrade_unauthorized, -1}}) {
    ClientLog client_log;
    ServerLog server_log;
    server_log.decision = c.decision;
    TlsWsClientChain client(client_tls_, client_config_, random_, client_log);
    TlsWsServerChain server(server_tls_, server_ws_, server_log);
    connect(client, server);

    ASSERT_TRUE(client.ended()) << c.decision.http_status;
    EXPECT_EQ(client.end_status().reason(), c.reason);
    EXPECT_EQ(client.retry_after_s(), c.retry_after_s);
    EXPECT_TRUE(client.ended_by_websocket());
    EXPECT_FALSE(client.opened());
    EXPECT_EQ(client_log.events, (std::vector<std::string>{"tls"})) << "TLS came up, the WebSocket never opened";
    ASSERT_TRUE(server.ended());
    EXPECT_TRUE(server.end_status().ok()) << "a refusal is the server's own orderly end";
    EXPECT_FALSE(server.opened());
  }
}

TEST_F(TlsWsChainTest, TheTransportEndingIsTheReasonUnlessTheTlsPeerAlertedFirst) {
  // Before any answer: the transport's own reason, no text.
  {
    TlsWsClientChain client(client_tls_, client_config_, random_, client_log_);
    client.start(443);
    client.transport_ended(Status(Reason::connection_reset));
    ASSERT_TRUE(client.ended());
    EXPECT_EQ(client.end_status(), Status(Reason::connection_reset));
    EXPECT_TRUE(client.end_text().empty());
  }
  // A client without a certificate: the server refuses it with an alert,
  // and the alert is the client's reason.
  {
    TlsClientConfig anonymous;
    ASSERT_TRUE(load_client(anonymous, random_, {.cert = "", .key = ""}).ok());
    ClientLog log;
    ServerLog server_log;
    TlsWsClientChain client(anonymous, client_config_, random_, log);
    TlsWsServerChain server(server_tls_, server_ws_, server_log);
    connect(client, server);
    ASSERT_TRUE(server.ended());
    ASSERT_TRUE(client.ended());
    EXPECT_FALSE(client.end_status().ok());
    EXPECT_NE(client.end_status().reason(), Reason::connection_closed) << "the alert's reason, not the close";
    EXPECT_FALSE(client.end_text().empty());
    EXPECT_TRUE(log.events.empty());
    EXPECT_TRUE(server_log.events.empty()) << "no upgrade is decided without a device certificate";
  }
  // Once open, the transport's end is the reason.
  {
    ClientLog log;
    TlsWsClientChain client(client_tls_, client_config_, random_, log);
    TlsWsServerChain server(server_tls_, server_ws_, server_log_);
    connect(client, server);
    ASSERT_TRUE(client.opened());
    client.transport_ended(Status(Reason::connection_reset));
    EXPECT_EQ(client.end_status(), Status(Reason::connection_reset));
    EXPECT_FALSE(client.ended_by_websocket());
  }
}

TEST_F(TlsWsChainTest, TheServerSaysCloseNotifyWhenItEndsTheDeviceJustStops) {
  TlsWsClientChain client(client_tls_, client_config_, random_, client_log_);
  TlsWsServerChain server(server_tls_, server_ws_, server_log_);
  connect(client, server);
  ASSERT_TRUE(client.opened());
  ASSERT_TRUE(client.output().empty());
  ASSERT_TRUE(server.output().empty());

  server.finish(Status(Reason::connection_reset));
  EXPECT_TRUE(server.ended());
  EXPECT_EQ(server.end_status(), Status(Reason::connection_reset));
  EXPECT_FALSE(server.output().empty()) << "close_notify";
  // The client reads the close_notify as the end of the session.
  (void)client.receive(server.output());
  ASSERT_TRUE(client.ended());
  EXPECT_EQ(client.end_status().reason(), Reason::connection_closed);
  EXPECT_TRUE(client.output().empty()) << "the device queues no close_notify of its own";
}

TEST_F(TlsWsChainTest, AChainNotOpenOrEndedTakesNoMessageAndSaysTheConnectionIsClosed) {
  TlsWsClientChain client(client_tls_, client_config_, random_, client_log_);
  TlsWsServerChain server(server_tls_, server_ws_, server_log_);
  server.start();
  client.start(443);
  // Before TLS is up there is no WebSocket to take a message.
  EXPECT_EQ(client.send_text("early").reason(), Reason::connection_closed);
  EXPECT_EQ(client.queued(), client.output().size()) << "only the ClientHello is queued";
  pump(client, server);
  ASSERT_TRUE(client.opened());
  ASSERT_TRUE(client.close(1001, "shutdown").ok());
  pump(client, server);
  ASSERT_TRUE(client.ended());
  EXPECT_EQ(client.send_binary(as_bytes("late")).reason(), Reason::connection_closed);
  EXPECT_EQ(client.send_ping(as_bytes("late")).reason(), Reason::connection_closed);
  EXPECT_EQ(client.close(1000, "again").reason(), Reason::connection_closed);
  EXPECT_TRUE(client.output().empty()) << "nothing more goes on the wire after the end";
  EXPECT_EQ(server.end_status(), Status(Reason::closed_by_peer, 1001));
}

TEST_F(TlsWsChainTest, AnUpgradeRequestThatCannotBeBuiltEndsTheAttemptAndSaysSo) {
  // A path that would inject a header line: the request is never written.
  client_config_.path = "/sublink/v1\r\nX-Injected: 1";
  TlsWsClientChain client(client_tls_, client_config_, random_, client_log_);
  TlsWsServerChain server(server_tls_, server_ws_, server_log_);
  connect(client, server);
  ASSERT_TRUE(client.ended());
  EXPECT_FALSE(client.end_status().ok());
  EXPECT_EQ(client.end_text(), "cannot build the upgrade request");
  EXPECT_FALSE(client.opened());
  EXPECT_TRUE(server_log_.events.empty()) << "no request reached the server";
}

TEST_F(TlsWsChainTest, AServerThatEndsTheSessionBeforeAnsweringTheUpgradeIsNamedAsSuch) {
  TlsWsClientChain client(client_tls_, client_config_, random_, client_log_);
  TlsWsServerChain server(server_tls_, server_ws_, server_log_);
  server.start();
  client.start(443);
  // Move ciphertext until the client has TLS up and its upgrade request is
  // queued; the server never gets that request.
  for (int round = 0; round < 20 && client_log_.events.empty(); ++round) {
    server.consume_output(client.receive(server.output()));
    if (!client_log_.events.empty()) break;
    client.consume_output(server.receive(client.output()));
  }
  ASSERT_EQ(client_log_.events, (std::vector<std::string>{"tls"}));
  server.finish(Status(Reason::connection_reset));  // a server going away: close_notify
  (void)client.receive(server.output());
  ASSERT_TRUE(client.ended());
  EXPECT_EQ(client.end_status().reason(), Reason::connection_closed);
  EXPECT_EQ(client.end_text(), "connection ended during the upgrade");
  EXPECT_FALSE(client.opened());
}

}  // namespace
}  // namespace sublink::test
