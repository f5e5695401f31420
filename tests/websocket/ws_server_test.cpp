// WsServer through its public interface: our WsClient against it in memory
// (every event type both ways), and hostile client input.
#include "net/websocket/ws_server.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hal/sim/deterministic_random.h"
#include "net/websocket/ws_client.h"

namespace sublink {
namespace {

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// A masked client frame built by hand, for input WsClient never sends.
std::string client_frame(uint8_t first_byte, std::string_view payload, bool masked = true) {
  std::string f;
  f.push_back(static_cast<char>(first_byte));
  const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
  const uint8_t m = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(m | payload.size()));
  } else {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  }
  if (masked) f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ (masked ? mask[i & 3] : 0)));
  return f;
}

const char* kRequest =
    "GET /sublink/v1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: chat, sublink.v1\r\n\r\n";

struct Pair {
  DeterministicRandom random{7};
  WsClientConfig client_config;
  WsServerConfig server_config;
  std::unique_ptr<WsClient> client;
  std::unique_ptr<WsServer> server;
  std::vector<WsEvent> client_events;
  std::vector<std::string> client_texts;
  std::vector<WsEvent> server_events;
  std::vector<std::string> server_texts;
  // Decision on the upgrade request: 101, or the refusal status.
  int decision = 101;
  int32_t retry_after = -1;

  explicit Pair(size_t max_message = 65536) {
    client_config.host = "example.com";
    client_config.max_message_bytes = max_message;
    server_config.max_message_bytes = max_message;
    client = std::make_unique<WsClient>(client_config, random);
    server = std::make_unique<WsServer>(server_config);
  }

  // Moves bytes both ways until nothing changes.
  void pump() {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      auto to_server = client->output();
      if (!to_server.empty()) {
        size_t n = server->feed(to_server);
        client->consume_output(n);
        moved = moved || n > 0;
      }
      WsEvent se;
      while (server->next_event(se)) {
        moved = true;
        if (se.type == WsEventType::request) {
          if (decision == 101) EXPECT_TRUE(server->accept().ok());
          else EXPECT_TRUE(server->refuse(decision, retry_after).ok());
        }
        if (se.type == WsEventType::text) server_texts.emplace_back(se.text());
        server_events.push_back(se);
      }
      auto to_client = server->output();
      if (!to_client.empty()) {
        size_t n = client->feed(to_client);
        server->consume_output(n);
        moved = moved || n > 0;
      }
      WsEvent ce;
      while (client->next_event(ce)) {
        moved = true;
        if (ce.type == WsEventType::text) client_texts.emplace_back(ce.text());
        client_events.push_back(ce);
      }
      if (!moved) return;
    }
  }
  void open() {
    ASSERT_TRUE(client->start().ok());
    pump();
    ASSERT_EQ(client->state(), WsState::open);
    ASSERT_EQ(server->state(), WsState::open);
  }
};

TEST(WsServer, AcceptsOurClientAndReportsItsRequest) {
  Pair p;
  p.open();
  ASSERT_EQ(p.server_events.size(), 1u);
  EXPECT_EQ(p.server_events[0].type, WsEventType::request);
  ASSERT_EQ(p.client_events.size(), 1u);
  EXPECT_EQ(p.client_events[0].type, WsEventType::open);
}

TEST(WsServer, TextAndBinaryBothWays) {
  Pair p;
  p.open();
  ASSERT_TRUE(p.client->send_text("{\"type\":\"hello\"}").ok());
  const uint8_t blob[] = {1, 0, 7, 0xFF};
  ASSERT_TRUE(p.client->send_binary(blob).ok());
  std::string big(35000, 'x');  // the 16-bit length form, many reads
  ASSERT_TRUE(p.client->send_text(big).ok());
  p.pump();
  ASSERT_EQ(p.server_texts.size(), 2u);
  EXPECT_EQ(p.server_texts[0], "{\"type\":\"hello\"}");
  EXPECT_EQ(p.server_texts[1], big);
  bool saw_binary = false;
  for (auto& e : p.server_events) saw_binary = saw_binary || e.type == WsEventType::binary;
  EXPECT_TRUE(saw_binary);

  ASSERT_TRUE(p.server->send_text("{\"type\":\"welcome\"}").ok());
  ASSERT_TRUE(p.server->send_binary(blob).ok());
  ASSERT_TRUE(p.server->send_text(big).ok());
  p.pump();
  ASSERT_EQ(p.client_texts.size(), 2u);
  EXPECT_EQ(p.client_texts[0], "{\"type\":\"welcome\"}");
  EXPECT_EQ(p.client_texts[1], big);
  EXPECT_EQ(p.client_events[2].type, WsEventType::binary);
}

TEST(WsServer, PingsAreAnsweredBothWays) {
  Pair p;
  p.open();
  const uint8_t a[] = {'a'};
  ASSERT_TRUE(p.client->send_ping(a).ok());
  p.pump();
  ASSERT_EQ(p.client_events.back().type, WsEventType::pong);
  const uint8_t b[] = {'b', 'c'};
  ASSERT_TRUE(p.server->send_ping(b).ok());
  p.pump();
  EXPECT_EQ(p.client_events.back().type, WsEventType::pong) << "the client reports no ping, only answers it";
  // The server's ping was answered: feed a ping the other way and look for
  // the server's pong event from the client's answer.
  size_t pongs = 0;
  for (auto& e : p.server_events) pongs += e.type == WsEventType::pong;
  EXPECT_EQ(pongs, 1u);
}

TEST(WsServer, ReassemblesFragmentsWithInterleavedPing) {
  Pair p;
  p.open();
  std::string wire = client_frame(0x01, "hel") + client_frame(0x89, "p") + client_frame(0x00, "lo ") +
                     client_frame(0x80, "w\xC3\xA9");
  p.server->feed(bytes_of(wire));
  WsEvent e;
  ASSERT_TRUE(p.server->next_event(e));
  ASSERT_EQ(e.type, WsEventType::text);
  EXPECT_EQ(e.text(), "hello w\xC3\xA9");
  EXPECT_FALSE(p.server->output().empty()) << "the ping got its pong";
}

TEST(WsServer, CloseStartedByClient) {
  Pair p;
  p.open();
  ASSERT_TRUE(p.client->close(1001, "shutdown").ok());
  p.pump();
  const WsEvent& e = p.server_events.back();
  EXPECT_EQ(e.type, WsEventType::closed);
  EXPECT_EQ(e.close_code, 1001);
  EXPECT_TRUE(e.by_peer);
  EXPECT_EQ(e.status.reason(), Reason::closed_by_peer);
  EXPECT_EQ(p.client_events.back().type, WsEventType::closed);
  EXPECT_TRUE(p.client_events.back().status.ok());
  EXPECT_EQ(p.client->state(), WsState::closed);
}

TEST(WsServer, CloseStartedByServer) {
  Pair p;
  p.open();
  ASSERT_TRUE(p.server->close(1008, "policy").ok());
  EXPECT_EQ(p.server->send_text("late").reason(), Reason::connection_closed);
  p.pump();
  EXPECT_EQ(p.client_events.back().close_code, 1008);
  EXPECT_EQ(p.client_events.back().close_reason, "policy");
  EXPECT_EQ(p.server_events.back().type, WsEventType::closed);
  EXPECT_TRUE(p.server_events.back().status.ok());
  EXPECT_EQ(p.server->state(), WsState::closed);
}

TEST(WsServer, RefusalWith503CarriesRetryAfter) {
  Pair p;
  p.decision = 503;
  p.retry_after = 30;
  ASSERT_TRUE(p.client->start().ok());
  p.pump();
  ASSERT_EQ(p.client->state(), WsState::closed);
  EXPECT_EQ(p.client->failure().reason(), Reason::upgrade_unavailable);
  EXPECT_EQ(p.client->retry_after_s(), 30);
  EXPECT_EQ(p.server->state(), WsState::closed);
}

TEST(WsServer, RefusalWith401And403IsUnauthorized) {
  for (int status : {401, 403}) {
    Pair p;
    p.decision = status;
    ASSERT_TRUE(p.client->start().ok());
    p.pump();
    EXPECT_EQ(p.client->failure(), Status(Reason::upgrade_unauthorized, status));
  }
}

TEST(WsServer, RefuseRejectsANonErrorStatus) {
  WsServer server{WsServerConfig{}};
  server.feed(bytes_of(kRequest));
  WsEvent e;
  ASSERT_TRUE(server.next_event(e));
  EXPECT_EQ(server.refuse(200).reason(), Reason::invalid_argument);
  EXPECT_EQ(server.refuse(302).reason(), Reason::invalid_argument);
  EXPECT_TRUE(server.refuse(503, 5).ok());
  EXPECT_EQ(server.accept().reason(), Reason::invalid_argument);
}

TEST(WsServer, RequestFieldsAndRfcAcceptValue) {
  WsServer server{WsServerConfig{}};
  server.feed(bytes_of(kRequest));
  WsEvent e;
  ASSERT_TRUE(server.next_event(e));
  ASSERT_EQ(e.type, WsEventType::request);
  EXPECT_EQ(e.request.path, "/sublink/v1");
  EXPECT_EQ(e.request.host, "example.com");
  EXPECT_EQ(e.request.protocols, "chat, sublink.v1");
  ASSERT_TRUE(server.accept().ok());
  std::string answer(reinterpret_cast<const char*>(server.output().data()), server.output().size());
  // The RFC 6455 section 1.3 example key and accept value.
  EXPECT_NE(answer.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Sec-WebSocket-Protocol: sublink.v1\r\n"), std::string::npos);
  EXPECT_EQ(answer.rfind("HTTP/1.1 101 ", 0), 0u);
}

// A proxy or another client may spell the same request differently:
// several tokens per header, tabs around them, in any case (RFC 9110 5.6.1).
TEST(WsServer, ListHeadersWithSeveralTokensAndTabsAreUnderstood) {
  std::string request = kRequest;
  const auto replace = [&](std::string_view from, std::string_view to) {
    const size_t at = request.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    request.replace(at, from.size(), to);
  };
  replace("Upgrade: websocket", "Upgrade: h2c,\tWebSocket");
  replace("Connection: keep-alive, Upgrade", "Connection: keep-alive,upgrade\t");
  replace("Sec-WebSocket-Protocol: chat, sublink.v1", "Sec-WebSocket-Protocol: chat ,\tsublink.v1\t");
  WsServer server{WsServerConfig{}};
  server.feed(bytes_of(request));
  WsEvent e;
  ASSERT_TRUE(server.next_event(e));
  ASSERT_EQ(e.type, WsEventType::request) << request;
  ASSERT_TRUE(server.accept().ok());
  EXPECT_EQ(server.state(), WsState::open);
}

TEST(WsServer, ARefusalWithAStatusOfNoNameOfItsOwnStillSaysItsClass) {
  for (const auto& [status, phrase] : {std::pair{429, "Client Error"}, std::pair{599, "Server Error"}}) {
    WsServer server{WsServerConfig{}};
    server.feed(bytes_of(kRequest));
    WsEvent e;
    ASSERT_TRUE(server.next_event(e));
    ASSERT_TRUE(server.refuse(status, 60).ok());
    const std::string answer(reinterpret_cast<const char*>(server.output().data()), server.output().size());
    EXPECT_EQ(answer.rfind("HTTP/1.1 " + std::to_string(status) + " " + phrase + "\r\n", 0), 0u) << answer;
    EXPECT_NE(answer.find("Retry-After: 60\r\n"), std::string::npos) << answer;
  }
  WsServer server{WsServerConfig{}};
  EXPECT_EQ(server.refuse(503).reason(), Reason::invalid_argument) << "no request to refuse yet";
  server.feed(bytes_of(kRequest));
  WsEvent e;
  ASSERT_TRUE(server.next_event(e));
  EXPECT_EQ(server.refuse(600).reason(), Reason::invalid_argument) << "not an HTTP error status";
  EXPECT_TRUE(server.output().empty()) << "a refused refusal sends nothing";
}

// Hostile or broken requests: answered with an HTTP error, then closed.
struct BadRequest {
  std::string from, to;
  int status;
};

TEST(WsServer, BadRequestsGetTheMatchingHttpError) {
  const std::vector<BadRequest> cases = {
      {"Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", 426},
      {"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Key: short==", 400},
      {"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==", 400},
      {"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 400},
      {"Host: example.com\r\n", "", 400},
      {"Upgrade: websocket\r\n", "", 400},
      {"Connection: keep-alive, Upgrade", "Connection: keep-alive", 400},
      {"GET ", "POST ", 405},
      {"HTTP/1.1\r\nHost", "HTTP/1.0\r\nHost", 400},
      {"Sec-WebSocket-Protocol: chat, sublink.v1\r\n", "", 400},
      {"Sec-WebSocket-Protocol: chat, sublink.v1", "Sec-WebSocket-Protocol: sublink.v2", 400},
      {"Host: example.com\r\n", "Host: example.com\r\n Folded: yes\r\n", 400},
      {"Host: example.com\r\n", "Host: example.com\r\nHost: other\r\n", 400},
      // The request line: exactly "GET SP origin-form SP HTTP/1.1", nothing hidden in it.
      {"GET /sublink/v1 HTTP/1.1", "GET /sublink/v1", 400},
      {"GET /sublink/v1 HTTP/1.1", "GET", 400},
      {"GET /sublink/v1 HTTP/1.1", "GET sublink/v1 HTTP/1.1", 400},
      {"GET /sublink/v1 HTTP/1.1", "GET  HTTP/1.1", 400},
      {"GET /sublink/v1 HTTP/1.1", std::string("GET /sublink/v1\0 HTTP/1.1", 25), 400},
      // A key of the right length that is not base64 of 16 bytes, and two keys.
      {"dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=A", 400},
      {"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 400},
      // Two versions, even both 13, are not one version 13.
      {"Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n", 426},
      // A header name that is not an RFC 9110 token.
      {"Host: example.com\r\n", "Host: example.com\r\nX(Odd): 1\r\n", 400},
      {"Host: example.com\r\n", "Host: example.com\r\nX\x7fOdd: 1\r\n", 400},
  };
  for (const BadRequest& c : cases) {
    std::string request = kRequest;
    const size_t at = request.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    request.replace(at, c.from.size(), c.to);
    WsServer server{WsServerConfig{}};
    server.feed(bytes_of(request));
    WsEvent e;
    ASSERT_TRUE(server.next_event(e)) << c.to;
    EXPECT_EQ(e.type, WsEventType::closed) << c.to;
    EXPECT_EQ(e.status, Status(Reason::upgrade_invalid, c.status)) << c.to;
    std::string answer(reinterpret_cast<const char*>(server.output().data()), server.output().size());
    EXPECT_EQ(answer.rfind("HTTP/1.1 " + std::to_string(c.status) + " ", 0), 0u) << answer;
    if (c.status == 426) {
      EXPECT_NE(answer.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
    }
    EXPECT_EQ(server.state(), WsState::closed);
  }
}

TEST(WsServer, OversizedRequestHeaderIsRefusedWith431) {
  WsServerConfig config;
  config.max_header_bytes = 256;
  WsServer server{config};
  std::string request = "GET / HTTP/1.1\r\nX-Filler: " + std::string(400, 'a');
  server.feed(bytes_of(request));
  WsEvent e;
  ASSERT_TRUE(server.next_event(e));
  EXPECT_EQ(e.status, Status(Reason::upgrade_invalid, 431));
}

TEST(WsServer, IncompleteRequestWaits) {
  WsServer server{WsServerConfig{}};
  std::string request = kRequest;
  server.feed(bytes_of(std::string_view(request).substr(0, 40)));
  WsEvent e;
  EXPECT_FALSE(server.next_event(e));
  server.feed(bytes_of(std::string_view(request).substr(40)));
  EXPECT_TRUE(server.next_event(e));
  EXPECT_EQ(e.type, WsEventType::request);
}

// Frames a hostile client may send once open.
struct BadFrame {
  std::string wire;
  Reason reason;
  uint16_t code;
};

TEST(WsServer, HostileFramesFailWithTheRightCloseCode) {
  const std::vector<BadFrame> cases = {
      {client_frame(0x81, "unmasked", false), Reason::protocol_violation, 1002},
      {client_frame(0x81, "\xC0\xAF"), Reason::invalid_payload, 1007},
      {client_frame(0x01, "a") + client_frame(0x81, "b"), Reason::protocol_violation, 1002},
      {client_frame(0x80, "orphan continuation"), Reason::protocol_violation, 1002},
      {client_frame(0xC1, "rsv"), Reason::protocol_violation, 1002},
      {client_frame(0x83, "opcode 3"), Reason::protocol_violation, 1002},
      {client_frame(0x09, "fragmented ping"), Reason::protocol_violation, 1002},
      {client_frame(0x88, "\x03\xEC"), Reason::protocol_violation, 1002},  // code 1004
      {client_frame(0x88, "x"), Reason::protocol_violation, 1002},
      {client_frame(0x82, std::string(200, 'z')), Reason::message_too_big, 1009},
  };
  for (const BadFrame& c : cases) {
    Pair p(128);
    p.open();
    p.server->feed(bytes_of(c.wire));
    WsEvent e;
    ASSERT_TRUE(p.server->next_event(e));
    EXPECT_EQ(e.type, WsEventType::closed);
    EXPECT_EQ(e.status.reason(), c.reason) << reason_name(e.status.reason());
    EXPECT_EQ(e.close_code, c.code);
    // The client sees the server's close frame with that code.
    p.client->feed(p.server->output());
    WsEvent ce;
    ASSERT_TRUE(p.client->next_event(ce));
    EXPECT_EQ(ce.type, WsEventType::closed);
    EXPECT_EQ(ce.close_code, c.code);
  }
}

TEST(WsServer, SendLimitsAndStates) {
  Pair p(16);
  EXPECT_EQ(p.server->send_text("early").reason(), Reason::would_block);
  p.open();
  EXPECT_EQ(p.server->send_text(std::string(17, 'a')).reason(), Reason::out_of_memory);
  EXPECT_EQ(p.server->send_text("\xFF").reason(), Reason::invalid_argument);
  EXPECT_EQ(p.server->close(1005).reason(), Reason::invalid_argument);
  EXPECT_TRUE(p.server->send_text(std::string(16, 'a')).ok());
}

}  // namespace
}  // namespace sublink
