// The upgrade: the request on the wire and every way an answer can fail.
#include <gtest/gtest.h>

#include <string>

#include "net/websocket/ws_client.h"
#include "net/websocket/ws_handshake.h"
#include "websocket/ws_test_util.h"

namespace sublink {
namespace {

using namespace wstest;

class Handshake : public ::testing::Test {
 protected:
  WsClientConfig config() {
    WsClientConfig c;
    c.host = "cloud.example.com:8443";
    return c;
  }
  ScriptedRandom random_;
};

TEST_F(Handshake, RequestCarriesEveryRequiredHeaderExactly) {
  WsClient c(config(), random_);
  ASSERT_TRUE(c.start().ok());
  EXPECT_EQ(c.state(), WsState::connecting);
  EXPECT_EQ(string_of(c.output()),
            "GET /sublink/v1 HTTP/1.1\r\n"
            "Host: cloud.example.com:8443\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: sublink.v1\r\n"
            "User-Agent: sublink/0.1.0\r\n"
            "\r\n");
}

class CountingRandom : public Random {
 public:
  Status fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(++n_ * 37);
    return Status::Ok();
  }

 private:
  uint32_t n_ = 0;
};

std::string key_line(std::string_view request) {
  const size_t at = request.find("Sec-WebSocket-Key: ");
  return std::string(request.substr(at, request.find("\r\n", at) - at));
}

TEST_F(Handshake, EveryClientDrawsAFreshSixteenByteKey) {
  CountingRandom r;
  WsClient a(config(), r), b(config(), r);
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  const std::string ka = key_line(string_of(a.output())), kb = key_line(string_of(b.output()));
  EXPECT_NE(ka, kb);
  // base64 of 16 bytes: 22 characters and "==".
  EXPECT_EQ(ka.size(), std::string("Sec-WebSocket-Key: ").size() + 24);
  EXPECT_EQ(ka.substr(ka.size() - 2), "==");
}

TEST_F(Handshake, AcceptValueMatchesTheRfcExample) {
  char out[28];
  ASSERT_TRUE(compute_ws_accept(kSampleKey, out).ok());
  EXPECT_EQ(std::string(out, 28), kSampleAccept);
}

TEST_F(Handshake, StartFailsOnUnusableConfiguration) {
  for (auto mutate : std::initializer_list<void (*)(WsClientConfig&)>{
           [](WsClientConfig& c) { c.host = ""; },
           [](WsClientConfig& c) { c.host = "evil\r\nX-Injected: 1"; },
           [](WsClientConfig& c) { c.path = "sublink/v1"; },
           [](WsClientConfig& c) { c.path = "/a b"; },
           [](WsClientConfig& c) { c.user_agent = "ua\n"; },
           [](WsClientConfig& c) { c.subprotocol = "two words"; },
       }) {
    WsClientConfig cfg = config();
    mutate(cfg);
    WsClient c(cfg, random_);
    EXPECT_EQ(c.start().reason(), Reason::invalid_argument);
    EXPECT_TRUE(c.output().empty());
    EXPECT_EQ(c.state(), WsState::idle);
  }
  WsClient twice(config(), random_);
  ASSERT_TRUE(twice.start().ok());
  EXPECT_EQ(twice.start().reason(), Reason::invalid_argument);
}

TEST_F(Handshake, StartReportsAFailingRandomSource) {
  WsClient c(config(), random_);
  random_.fail_next = true;
  EXPECT_EQ(c.start().reason(), Reason::io_error);
  EXPECT_TRUE(c.output().empty());
}

TEST_F(Handshake, ValidAnswerOpensTheLink) {
  WsClient c(config(), random_);
  ASSERT_TRUE(c.start().ok());
  auto ev = feed_all(c, ok_response());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::open);
  EXPECT_EQ(c.state(), WsState::open);
  EXPECT_TRUE(c.failure().ok());
}

TEST_F(Handshake, HeaderNamesAndTokenValuesAreCaseInsensitive) {
  WsClient c(config(), random_);
  ASSERT_TRUE(c.start().ok());
  auto ev = feed_all(c,
                     "HTTP/1.1 101 \r\n"
                     "UPGRADE:WebSocket\r\n"
                     "connection: keep-alive, UPGRADE\r\n"
                     "sec-websocket-accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\n"
                     "SEC-WEBSOCKET-PROTOCOL: sublink.v1\r\n"
                     "Server: something\r\n"
                     "\r\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::open);
}

TEST_F(Handshake, StatusLineWithoutReasonPhraseIsAccepted) {
  WsClient c(config(), random_);
  ASSERT_TRUE(c.start().ok());
  std::string r = ok_response();
  r.replace(0, r.find("\r\n"), "HTTP/1.1 101");
  auto ev = feed_all(c, r);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::open);
}

TEST_F(Handshake, FramesInTheSameReadAsTheAnswerAreNotLost) {
  WsClient c(config(), random_);
  ASSERT_TRUE(c.start().ok());
  const Bytes wire = cat({bytes_of(ok_response()), frame(0x1, "first"), frame(0x2, "second")});
  auto ev = feed_all(c, wire);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].type, WsEventType::open);
  EXPECT_EQ(ev[1].type, WsEventType::text);
  EXPECT_EQ(ev[1].data, "first");
  EXPECT_EQ(ev[2].type, WsEventType::binary);
  EXPECT_EQ(ev[2].data, "second");
}

TEST_F(Handshake, AnswerArrivingOneByteAtATimeOpensOnce) {
  WsClient c(config(), random_);
  ASSERT_TRUE(c.start().ok());
  const Bytes wire = cat({bytes_of(ok_response()), frame(0x1, "x")});
  auto ev = feed_all(c, wire, 1);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, WsEventType::open);
  EXPECT_EQ(ev[1].data, "x");
}

struct BadAnswer {
  const char* name;
  std::string response;
};

std::string replace(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

class InvalidAnswer : public ::testing::TestWithParam<BadAnswer> {};

TEST_P(InvalidAnswer, FailsWithUpgradeInvalidAndNoCloseFrame) {
  ScriptedRandom random;
  WsClientConfig cfg;
  cfg.host = "h";
  WsClient c(cfg, random);
  ASSERT_TRUE(c.start().ok());
  c.consume_output(c.output().size());
  auto ev = feed_all(c, GetParam().response);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::closed);
  EXPECT_EQ(ev[0].status.reason(), Reason::upgrade_invalid) << reason_name(ev[0].status.reason());
  EXPECT_EQ(ev[0].close_code, 1006);
  EXPECT_EQ(c.state(), WsState::closed);
  EXPECT_EQ(c.failure().reason(), Reason::upgrade_invalid);
  EXPECT_TRUE(c.output().empty()) << "no WebSocket close before the link ever opened";
  EXPECT_EQ(c.send_text("x").reason(), Reason::connection_closed);
}

// reason-phrase = *( HTAB / SP / VCHAR / obs-text ): a tab and bytes above
// 0x7F are allowed in it.
TEST_F(Handshake, TabAndObsTextInTheReasonPhraseAreAccepted) {
  WsClient c(config(), random_);
  ASSERT_TRUE(c.start().ok());
  auto ev = feed_all(c, replace(ok_response(), "Switching Protocols", "Switching\tProtocols \xc3\xa9"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::open);
}

const std::string kOk = ok_response();

INSTANTIATE_TEST_SUITE_P(
    Handshake, InvalidAnswer,
    ::testing::Values(
        BadAnswer{"GarbageStatusLine", "garbage\r\n\r\n"},
        BadAnswer{"NotHttpFailsBeforeTheBlockEnds", "SSH-2.0-OpenSSH_9.2\r\n"},
        BadAnswer{"Http10", replace(kOk, "HTTP/1.1", "HTTP/1.0")},
        BadAnswer{"LowercaseVersion", replace(kOk, "HTTP/1.1", "http/1.1")},
        BadAnswer{"TwoDigitStatus", replace(kOk, "101 Switching", "10 Switching")},
        BadAnswer{"StatusNotFollowedBySpace", replace(kOk, "101 Switching", "101Switching")},
        BadAnswer{"StatusBelow100", replace(kOk, "101 Switching Protocols", "099 Switching Protocols")},
        BadAnswer{"StatusCutAfterOneDigit", replace(kOk, "101 Switching Protocols", "1")},
        BadAnswer{"ControlCharacterInReason", replace(kOk, "Switching", "Swi\x01" "ching")},
        BadAnswer{"DelInReason", replace(kOk, "Switching", "Swi\x7f" "ching")},
        BadAnswer{"MissingAccept", replace(kOk, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", "")},
        BadAnswer{"WrongAccept", replace(kOk, "s3pPLMBi", "s3pPLMBj")},
        BadAnswer{"AcceptInOtherCase", replace(kOk, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "S3PPLMBITXAQ9KYGZZHZRBK+XOO=")},
        BadAnswer{"RepeatedAccept", ok_response("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")},
        BadAnswer{"MissingSubprotocol", replace(kOk, "Sec-WebSocket-Protocol: sublink.v1\r\n", "")},
        BadAnswer{"WrongSubprotocol", replace(kOk, "sublink.v1", "sublink.v2")},
        BadAnswer{"TwoSubprotocols", ok_response("Sec-WebSocket-Protocol: sublink.v1\r\n")},
        BadAnswer{"UnrequestedExtension", ok_response("Sec-WebSocket-Extensions: permessage-deflate\r\n")},
        BadAnswer{"MissingUpgrade", replace(kOk, "Upgrade: websocket\r\n", "")},
        BadAnswer{"WrongUpgrade", replace(kOk, "Upgrade: websocket", "Upgrade: h2c")},
        BadAnswer{"MissingConnection", replace(kOk, "Connection: Upgrade\r\n", "")},
        BadAnswer{"ConnectionWithoutUpgradeToken", replace(kOk, "Connection: Upgrade", "Connection: keep-alive, upgraded")},
        BadAnswer{"ObsoleteLineFoldingSpace", replace(kOk, "Connection: Upgrade\r\n", "Connection:\r\n Upgrade\r\n")},
        BadAnswer{"ObsoleteLineFoldingTab", ok_response("X-Long: a\r\n\tb\r\n")},
        BadAnswer{"BareLfLineEnds", "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n"
                                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\nSec-WebSocket-Protocol: "
                                    "sublink.v1\n\r\n\r\n"},
        BadAnswer{"BareCrInValue", ok_response("X-Odd: a\rb\r\n")},
        BadAnswer{"HeaderWithoutColon", ok_response("NoColonHere\r\n")},
        BadAnswer{"SpaceBeforeColon", replace(kOk, "Upgrade: websocket", "Upgrade : websocket")},
        BadAnswer{"EmptyHeaderName", ok_response(": value\r\n")},
        BadAnswer{"NulInReason", replace(kOk, "Switching", std::string("Swi\0ching", 9))},
        BadAnswer{"HeaderBlockTooLong", "HTTP/1.1 101 OK\r\n" + std::string(5000, 'a')},
        BadAnswer{"CompleteBlockTooLong", ok_response("X-Pad: " + std::string(4200, 'p') + "\r\n")}),
    [](const auto& info) { return std::string(info.param.name); });

struct StatusCase {
  const char* name;
  std::string response;
  Reason reason;
  int32_t detail;
  int32_t retry_after;
};

class RefusedUpgrade : public ::testing::TestWithParam<StatusCase> {};

TEST_P(RefusedUpgrade, MapsTheStatusToItsReason) {
  ScriptedRandom random;
  WsClientConfig cfg;
  cfg.host = "h";
  WsClient c(cfg, random);
  ASSERT_TRUE(c.start().ok());
  c.consume_output(c.output().size());
  auto ev = feed_all(c, GetParam().response);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::closed);
  EXPECT_EQ(ev[0].status.reason(), GetParam().reason) << reason_name(ev[0].status.reason());
  EXPECT_EQ(ev[0].status.detail(), GetParam().detail);
  EXPECT_EQ(c.failure(), ev[0].status);
  EXPECT_EQ(c.retry_after_s(), GetParam().retry_after);
  EXPECT_EQ(c.state(), WsState::closed);
  EXPECT_TRUE(c.output().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Handshake, RefusedUpgrade,
    ::testing::Values(
        StatusCase{"Unauthorized401", "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
                   Reason::upgrade_unauthorized, 401, -1},
        StatusCase{"Forbidden403", "HTTP/1.1 403 Forbidden\r\n\r\n", Reason::upgrade_unauthorized, 403, -1},
        StatusCase{"Unavailable503WithRetryAfter", "HTTP/1.1 503 Service Unavailable\r\nretry-after: 120\r\n\r\n",
                   Reason::upgrade_unavailable, 120, 120},
        StatusCase{"Unavailable503WithHttpDate",
                   "HTTP/1.1 503 Service Unavailable\r\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n\r\n",
                   Reason::upgrade_unavailable, -1, -1},
        StatusCase{"Unavailable503WithoutRetryAfter", "HTTP/1.1 503 Service Unavailable\r\n\r\n",
                   Reason::upgrade_unavailable, -1, -1},
        StatusCase{"Unavailable503WithNegativeRetryAfter", "HTTP/1.1 503 x\r\nRetry-After: -5\r\n\r\n",
                   Reason::upgrade_unavailable, -1, -1},
        StatusCase{"Unavailable503WithHugeRetryAfter", "HTTP/1.1 503 x\r\nRetry-After: 99999999999999\r\n\r\n",
                   Reason::upgrade_unavailable, INT32_MAX, INT32_MAX},
        StatusCase{"Redirect302", "HTTP/1.1 302 Found\r\nLocation: https://elsewhere/\r\n\r\n",
                   Reason::upgrade_status, 302, -1},
        StatusCase{"Ok200FromAPlainWebServer", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                   Reason::upgrade_status, 200, -1},
        StatusCase{"BadRequest400", "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   Reason::upgrade_status, 400, -1}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(Handshake, RefusalArrivingOneByteAtATimeIsClassifiedTheSame) {
  WsClient c(config(), random_);
  ASSERT_TRUE(c.start().ok());
  auto ev = feed_all(c, "HTTP/1.1 503 Busy\r\nRetry-After: 30\r\n\r\n", 1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status, Status(Reason::upgrade_unavailable, 30));
}

TEST_F(Handshake, IncompleteAnswerWaitsForMoreBytes) {
  WsClient c(config(), random_);
  ASSERT_TRUE(c.start().ok());
  const std::string r = ok_response();
  auto ev = feed_all(c, std::string_view(r).substr(0, r.size() - 1));
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(c.state(), WsState::connecting);
  ev = feed_all(c, "\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::open);
}

TEST_F(Handshake, SendingBeforeTheLinkIsOpenWouldBlock) {
  WsClient c(config(), random_);
  EXPECT_EQ(c.send_text("early").reason(), Reason::would_block);
  ASSERT_TRUE(c.start().ok());
  EXPECT_EQ(c.send_text("early").reason(), Reason::would_block);
  EXPECT_EQ(c.send_binary({}).reason(), Reason::would_block);
  EXPECT_EQ(c.close(1000).reason(), Reason::would_block);
}

}  // namespace
}  // namespace sublink
