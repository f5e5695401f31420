// An open link: messages, masking, fragmentation, limits, violations and
// the close handshake, all through WsClient's public interface.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "net/websocket/ws_client.h"
#include "websocket/ws_test_util.h"

namespace sublink {
namespace {

using namespace wstest;

class OpenLink : public ::testing::Test {
 protected:
  void open(size_t max_message = 65536, size_t receive_buffer = 4096) {
    cfg_.host = "cloud.example.com";
    cfg_.max_message_bytes = max_message;
    cfg_.receive_buffer_bytes = receive_buffer;
    client_ = std::make_unique<WsClient>(cfg_, random_);
    ASSERT_TRUE(client_->start().ok());
    client_->consume_output(client_->output().size());
    auto ev = feed_all(*client_, ok_response());
    ASSERT_EQ(ev.size(), 1u);
    ASSERT_EQ(ev[0].type, WsEventType::open);
  }
  void SetUp() override { open(); }

  std::vector<Got> feed(const Bytes& wire, size_t chunk = SIZE_MAX) { return feed_all(*client_, wire, chunk); }

  // The link failed with `reason` and queued exactly one close with `code`.
  void expect_failed(const std::vector<Got>& ev, Reason reason, uint16_t code) {
    ASSERT_FALSE(ev.empty());
    const Got& last = ev.back();
    EXPECT_EQ(last.type, WsEventType::closed);
    EXPECT_EQ(last.status.reason(), reason) << reason_name(last.status.reason());
    EXPECT_EQ(last.close_code, code);
    EXPECT_FALSE(last.by_peer);
    EXPECT_EQ(client_->state(), WsState::closed);
    EXPECT_EQ(client_->failure().reason(), reason);
    auto sent = take_frames(*client_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].opcode(), 0x8);
    EXPECT_EQ(sent[0].close_code(), code);
    EXPECT_TRUE(sent[0].masked);
    // Nothing more comes out of a failed link, whatever arrives.
    EXPECT_EQ(client_->feed(bytes_of("\x81\x01x")), 3u);
    WsEvent e;
    EXPECT_FALSE(client_->next_event(e));
    EXPECT_EQ(client_->send_text("late").reason(), Reason::connection_closed);
    EXPECT_TRUE(client_->output().empty());
  }

  ScriptedRandom random_;
  WsClientConfig cfg_;
  std::unique_ptr<WsClient> client_;
};

TEST_F(OpenLink, TextAndBinaryMessagesArriveWhole) {
  const Bytes binary{0x00, 0xFF, 0x10, 0x80};
  auto ev = feed(cat({frame(0x1, "{\"type\":\"welcome\"}"), raw_frame(0x82, binary), frame(0x1, "")}));
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].type, WsEventType::text);
  EXPECT_EQ(ev[0].data, "{\"type\":\"welcome\"}");
  EXPECT_EQ(ev[1].type, WsEventType::binary);
  EXPECT_EQ(Bytes(ev[1].data.begin(), ev[1].data.end()), binary);
  EXPECT_EQ(ev[2].type, WsEventType::text);
  EXPECT_EQ(ev[2].data, "");
}

TEST_F(OpenLink, EveryLengthEncodingIsRead) {
  for (size_t n : {size_t{125}, size_t{126}, size_t{65535}, size_t{65536}}) {
    const std::string payload(n, 'a');
    auto ev = feed(raw_frame(0x81, bytes_of(payload)));
    ASSERT_EQ(ev.size(), 1u) << n;
    EXPECT_EQ(ev[0].data.size(), n);
  }
  // A non-minimal 64-bit length for a short payload is still a length.
  auto ev = feed(raw_frame(0x81, bytes_of("short"), 127));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "short");
}

TEST_F(OpenLink, FramesArrivingOneByteAtATimeGiveTheSameEvents) {
  const Bytes wire = cat({frame(0x1, "hel", false), frame(0x9, "p"), frame(0x0, "lo"), raw_frame(0x82, Bytes(300, 7)),
                          frame(0xA, "pong!"), close_frame(1001, "bye")});
  auto ev = feed(wire, 1);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].data, "hello");
  EXPECT_EQ(ev[1].type, WsEventType::binary);
  EXPECT_EQ(ev[1].data, std::string(300, '\7'));
  EXPECT_EQ(ev[2].type, WsEventType::pong);
  EXPECT_EQ(ev[2].data, "pong!");
  EXPECT_EQ(ev[3].type, WsEventType::closed);
  EXPECT_EQ(ev[3].close_code, 1001);
  EXPECT_EQ(ev[3].close_reason, "bye");
}

TEST_F(OpenLink, MessageViewStaysValidWhileMoreBytesAreFed) {
  ASSERT_EQ(client_->feed(frame(0x1, "first")), 7u);
  WsEvent e;
  ASSERT_TRUE(client_->next_event(e));
  const Bytes more = frame(0x1, "second");
  ASSERT_EQ(client_->feed(more), more.size());
  EXPECT_EQ(e.text(), "first");
  ASSERT_TRUE(client_->next_event(e));
  EXPECT_EQ(e.text(), "second");
  EXPECT_FALSE(client_->next_event(e));
}

TEST_F(OpenLink, SentFramesAreMaskedWithAFreshKeyEach) {
  ASSERT_TRUE(client_->send_text("Hello, sublink").ok());
  ASSERT_TRUE(client_->send_text("Hello, sublink").ok());
  const Bytes bin{1, 2, 3, 4, 5};
  ASSERT_TRUE(client_->send_binary(bin).ok());
  ASSERT_TRUE(client_->send_ping(bytes_of("pp")).ok());
  auto sent = take_frames(*client_);
  ASSERT_EQ(sent.size(), 4u);
  std::set<std::string> keys;
  for (const auto& f : sent) {
    EXPECT_TRUE(f.masked);
    EXPECT_TRUE(f.fin());
    EXPECT_EQ(f.first & 0x70, 0);
    keys.insert(std::string(f.key, f.key + 4));
  }
  EXPECT_EQ(keys.size(), 4u) << "a mask key must never be reused";
  EXPECT_EQ(sent[0].opcode(), 0x1);
  EXPECT_EQ(string_of(sent[0].payload), "Hello, sublink");
  EXPECT_NE(string_of(sent[0].wire_payload), "Hello, sublink");
  EXPECT_NE(sent[0].wire_payload, sent[1].wire_payload);
  EXPECT_EQ(sent[2].opcode(), 0x2);
  EXPECT_EQ(sent[2].payload, bin);
  EXPECT_EQ(sent[3].opcode(), 0x9);
  EXPECT_EQ(string_of(sent[3].payload), "pp");
}

TEST_F(OpenLink, SentLengthsUseTheShortestEncoding) {
  struct Case {
    size_t n;
    size_t header;
  };
  for (Case c : {Case{0, 6}, Case{125, 6}, Case{126, 8}, Case{65535, 8}, Case{65536, 14}}) {
    ASSERT_TRUE(client_->send_binary(Bytes(c.n, 0xAB)).ok()) << c.n;
    auto sent = take_frames(*client_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].header_length, c.header) << c.n;
    EXPECT_EQ(sent[0].payload, Bytes(c.n, 0xAB));
  }
}

TEST_F(OpenLink, PingIsAnsweredWithTheSamePayload) {
  auto ev = feed(frame(0x9, "are you there"));
  EXPECT_TRUE(ev.empty());
  auto sent = take_frames(*client_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].opcode(), 0xA);
  EXPECT_TRUE(sent[0].masked);
  EXPECT_EQ(string_of(sent[0].payload), "are you there");
}

TEST_F(OpenLink, FragmentsReassembleWithControlFramesInBetween) {
  auto ev = feed(cat({frame(0x1, "{\"a\":", false), frame(0x9, "1"), frame(0x0, "12", false), frame(0xA, "x"),
                      frame(0x0, "", false), frame(0x0, "3}")}));
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, WsEventType::pong);  // control frames are not held back
  EXPECT_EQ(ev[0].data, "x");
  EXPECT_EQ(ev[1].type, WsEventType::text);
  EXPECT_EQ(ev[1].data, "{\"a\":123}");
  auto sent = take_frames(*client_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].opcode(), 0xA);
  EXPECT_EQ(string_of(sent[0].payload), "1");
}

TEST_F(OpenLink, FragmentedBinaryReassembles) {
  auto ev = feed(cat({raw_frame(0x02, Bytes{1, 2}), raw_frame(0x00, Bytes{3}), raw_frame(0x80, Bytes{4, 5})}));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::binary);
  EXPECT_EQ(ev[0].data, std::string("\1\2\3\4\5"));
}

struct Violation {
  const char* name;
  Bytes wire;
};

class ProtocolViolation : public OpenLink, public ::testing::WithParamInterface<Violation> {};

TEST_P(ProtocolViolation, FailsWith1002) {
  auto ev = feed(GetParam().wire);
  expect_failed(ev, Reason::protocol_violation, 1002);
}

TEST_P(ProtocolViolation, FailsWith1002WhenFedOneByteAtATime) {
  auto ev = feed(GetParam().wire, 1);
  expect_failed(ev, Reason::protocol_violation, 1002);
}

Bytes close_payload(std::initializer_list<uint8_t> p) { return raw_frame(0x88, Bytes(p)); }

INSTANTIATE_TEST_SUITE_P(
    Frames, ProtocolViolation,
    ::testing::Values(
        Violation{"Rsv1", raw_frame(0xC1, bytes_of("x"))}, Violation{"Rsv2", raw_frame(0xA1, bytes_of("x"))},
        Violation{"Rsv3", raw_frame(0x91, bytes_of("x"))},
        Violation{"ReservedDataOpcode3", raw_frame(0x83, bytes_of("x"))},
        Violation{"ReservedDataOpcode7", raw_frame(0x87, {})},
        Violation{"ReservedControlOpcodeB", raw_frame(0x8B, {})},
        Violation{"ReservedControlOpcodeF", raw_frame(0x8F, {})},
        Violation{"MaskedServerFrame", raw_frame(0x81, bytes_of("hi"), -1, 0x01020304u)},
        Violation{"FragmentedPing", raw_frame(0x09, bytes_of("p"))},
        Violation{"FragmentedClose", raw_frame(0x08, Bytes{0x03, 0xE8})},
        Violation{"PingOver125", raw_frame(0x89, Bytes(126, 'p'))},
        Violation{"PongWith64BitLength", raw_frame(0x8A, Bytes(3, 'p'), 127)},
        Violation{"ContinuationWithoutStart", frame(0x0, "orphan")},
        Violation{"TextInsideFragmentedText", cat({frame(0x1, "a", false), frame(0x1, "b")})},
        Violation{"BinaryInsideFragmentedText", cat({frame(0x1, "a", false), frame(0x2, "b")})},
        Violation{"ContinuationAfterCompleteMessage", cat({frame(0x1, "a"), frame(0x0, "b")})},
        Violation{"LengthTopBitSet", Bytes{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1}},
        Violation{"CloseWithOneBytePayload", close_payload({0x03})},
        Violation{"CloseCode0", close_payload({0, 0})}, Violation{"CloseCode999", close_payload({0x03, 0xE7})},
        Violation{"CloseCode1004", close_payload({0x03, 0xEC})},
        Violation{"CloseCode1005", close_payload({0x03, 0xED})},
        Violation{"CloseCode1006", close_payload({0x03, 0xEE})},
        Violation{"CloseCode1015", close_payload({0x03, 0xF7})},
        Violation{"CloseCode1016", close_payload({0x03, 0xF8})},
        Violation{"CloseCode1100", close_payload({0x04, 0x4C})},
        Violation{"CloseCode2000", close_payload({0x07, 0xD0})},
        Violation{"CloseCode2999", close_payload({0x0B, 0xB7})},
        Violation{"CloseCode5000", close_payload({0x13, 0x88})},
        Violation{"CloseCode65535", close_payload({0xFF, 0xFF})}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(OpenLink, ViolationAfterGoodMessagesStillDeliversThem) {
  auto ev = feed(cat({frame(0x1, "ok"), raw_frame(0xC1, bytes_of("x")), frame(0x1, "never")}));
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].data, "ok");
  expect_failed(ev, Reason::protocol_violation, 1002);
}

class ValidCloseCode : public OpenLink, public ::testing::WithParamInterface<uint16_t> {};

TEST_P(ValidCloseCode, ServerCloseIsEchoedWithTheSameCode) {
  const uint16_t code = GetParam();
  auto ev = feed(close_frame(code, "reason"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::closed);
  EXPECT_TRUE(ev[0].by_peer);
  EXPECT_EQ(ev[0].close_code, code);
  EXPECT_EQ(ev[0].close_reason, "reason");
  EXPECT_EQ(ev[0].status, Status(Reason::closed_by_peer, code));
  EXPECT_EQ(client_->state(), WsState::closed);
  auto sent = take_frames(*client_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].opcode(), 0x8);
  EXPECT_EQ(sent[0].close_code(), code);
  EXPECT_EQ(client_->send_text("after").reason(), Reason::connection_closed);
  EXPECT_EQ(client_->send_ping().reason(), Reason::connection_closed);
  EXPECT_EQ(client_->close(1000).reason(), Reason::connection_closed);
  EXPECT_TRUE(feed(frame(0x9, "ping after close")).empty());
  EXPECT_TRUE(client_->output().empty()) << "nothing is sent after close";
}

INSTANTIATE_TEST_SUITE_P(Close, ValidCloseCode,
                         ::testing::Values(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                                           3000, 3999, 4000, 4999));

TEST_F(OpenLink, ServerCloseWithoutCodeIsEchoedAs1000AndReportedAs1005) {
  auto ev = feed(raw_frame(0x88, {}));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].close_code, 1005);
  EXPECT_TRUE(ev[0].by_peer);
  auto sent = take_frames(*client_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].close_code(), 1000);
}

TEST_F(OpenLink, CloseReasonThatIsNotUtf8FailsWith1007) {
  auto ev = feed(close_frame(1000, "\xC0\xAF"));
  expect_failed(ev, Reason::invalid_payload, 1007);
}

TEST_F(OpenLink, ServerCloseInsideAFragmentedMessageEndsIt) {
  auto ev = feed(cat({frame(0x1, "part", false), close_frame(1001)}));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::closed);
  EXPECT_EQ(ev[0].close_code, 1001);
}

TEST_F(OpenLink, ClientCloseWaitsForTheServersClose) {
  ASSERT_TRUE(client_->close(1001, "shutting down").ok());
  EXPECT_EQ(client_->state(), WsState::closing);
  auto sent = take_frames(*client_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].opcode(), 0x8);
  EXPECT_EQ(sent[0].close_code(), 1001);
  EXPECT_EQ(string_of(sent[0].payload).substr(2), "shutting down");
  EXPECT_EQ(client_->send_text("x").reason(), Reason::connection_closed);
  EXPECT_EQ(client_->close(1000).reason(), Reason::connection_closed);

  // Data still in flight from the server is delivered; pings are no longer answered.
  auto ev = feed(cat({frame(0x1, "in flight"), frame(0x9, "p")}));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "in flight");
  EXPECT_TRUE(client_->output().empty());

  ev = feed(close_frame(1001));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::closed);
  EXPECT_FALSE(ev[0].by_peer);
  EXPECT_TRUE(ev[0].status.ok());
  EXPECT_EQ(ev[0].close_code, 1001);
  EXPECT_EQ(client_->state(), WsState::closed);
  EXPECT_TRUE(client_->output().empty()) << "the server's answer is not echoed again";
}

TEST_F(OpenLink, CloseRejectsCodesAndReasonsThatMayNotBeSent) {
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 2000, 5000}) {
    EXPECT_EQ(client_->close(code).reason(), Reason::invalid_argument) << code;
  }
  EXPECT_EQ(client_->close(1000, std::string(124, 'r')).reason(), Reason::invalid_argument);
  EXPECT_EQ(client_->close(1000, "\xED\xA0\x80").reason(), Reason::invalid_argument);
  EXPECT_EQ(client_->state(), WsState::open);
  EXPECT_TRUE(client_->output().empty());
  EXPECT_TRUE(client_->close(1000, std::string(123, 'r')).ok());
}

TEST_F(OpenLink, SendRejectsInvalidArguments) {
  EXPECT_EQ(client_->send_text("\xFF").reason(), Reason::invalid_argument);
  EXPECT_EQ(client_->send_text("\xE2\x82").reason(), Reason::invalid_argument);
  EXPECT_EQ(client_->send_ping(Bytes(126, 0)).reason(), Reason::invalid_argument);
  EXPECT_EQ(client_->send_text(std::string(65537, 'a')).reason(), Reason::out_of_memory);
  EXPECT_EQ(client_->send_binary(Bytes(65537, 0)).reason(), Reason::out_of_memory);
  EXPECT_TRUE(client_->output().empty());
}

TEST_F(OpenLink, FullOutputWouldBlockButCloseStillFits) {
  Status s;
  int sent = 0;
  while ((s = client_->send_binary(Bytes(10000, 1))).ok()) ++sent;
  EXPECT_EQ(s.reason(), Reason::would_block);
  EXPECT_GE(sent, 6);
  // A ping from the server cannot take the close frame's room either.
  feed(frame(0x9, std::string(125, 'p')));
  ASSERT_TRUE(client_->close(1001, std::string(123, 'z')).ok());
  auto frames = take_frames(*client_);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().opcode(), 0x8);
  EXPECT_EQ(frames.back().close_code(), 1001);
}

TEST_F(OpenLink, DrainingOutputMakesRoomAgain) {
  while (client_->send_binary(Bytes(30000, 1)).ok()) {
  }
  client_->consume_output(client_->output().size());
  EXPECT_TRUE(client_->send_binary(Bytes(30000, 1)).ok());
}

class SizeLimit : public OpenLink {
 protected:
  void SetUp() override { open(1000); }
};

TEST_F(SizeLimit, MessageOfExactlyTheLimitIsAccepted) {
  auto ev = feed(frame(0x1, std::string(1000, 'm')));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data.size(), 1000u);
  ev = feed(cat({frame(0x2, std::string(600, 'm'), false), frame(0x0, std::string(400, 'n'))}));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data.size(), 1000u);
  EXPECT_TRUE(client_->send_text(std::string(1000, 'x')).ok());
  EXPECT_EQ(client_->send_text(std::string(1001, 'x')).reason(), Reason::out_of_memory);
}

TEST_F(SizeLimit, OneByteOverFailsWith1009FromTheHeaderAlone) {
  const Bytes f = frame(0x1, std::string(1001, 'm'));
  auto ev = feed(Bytes(f.begin(), f.begin() + 4));  // header only: 0x81 0x7E 0x03 0xE9
  expect_failed(ev, Reason::message_too_big, 1009);
}

TEST_F(SizeLimit, FragmentsAddingUpToOneOverFailWith1009) {
  auto ev = feed(cat({frame(0x1, std::string(600, 'm'), false), frame(0x0, std::string(401, 'n'))}));
  expect_failed(ev, Reason::message_too_big, 1009);
}

TEST_F(SizeLimit, HugeSixtyFourBitLengthFailsAtOnce) {
  auto ev = feed(Bytes{0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  expect_failed(ev, Reason::message_too_big, 1009);
}

// Text messages (sublink/1) and binary ones (tunnel frames, whose size the
// tunnel window sets) each have their own limit.
class BinaryLimit : public OpenLink {
 protected:
  void SetUp() override {
    cfg_.max_binary_message_bytes = 4099;
    open(1000);
  }
};

TEST_F(BinaryLimit, BinaryMessagesTakeTheirOwnLimit) {
  auto ev = feed(frame(0x2, std::string(4099, 'b')));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data.size(), 4099u);
  ev = feed(cat({frame(0x2, std::string(4000, 'b'), false), frame(0x0, std::string(99, 'c'))}));
  ASSERT_EQ(ev.size(), 1u) << "fragments add up to the binary limit";
  EXPECT_EQ(ev[0].data.size(), 4099u);
  ev = feed(frame(0x1, std::string(1000, 't')));
  ASSERT_EQ(ev.size(), 1u) << "a text message of the text limit still arrives";
}

TEST_F(BinaryLimit, TextKeepsItsOwnLimit) {
  auto ev = feed(frame(0x1, std::string(1001, 't')));
  expect_failed(ev, Reason::message_too_big, 1009);
}

TEST_F(BinaryLimit, BinaryOneByteOverFailsWith1009) {
  auto ev = feed(cat({frame(0x2, std::string(4000, 'b'), false), frame(0x0, std::string(100, 'c'))}));
  expect_failed(ev, Reason::message_too_big, 1009);
}

// A device that accepts 64 KiB messages but writes at most 1000 bytes.
class SmallSendLimit : public OpenLink {
 protected:
  void SetUp() override {
    cfg_.max_send_message_bytes = 1000;
    open();
  }
};

TEST_F(SmallSendLimit, SendsUpToTheSendLimitAndReceivesUpToTheMessageLimit) {
  EXPECT_TRUE(client_->send_text(std::string(1000, 's')).ok());
  client_->consume_output(client_->output().size());
  EXPECT_EQ(client_->send_text(std::string(1001, 's')).reason(), Reason::out_of_memory);
  EXPECT_EQ(client_->send_binary(Bytes(1001, 0)).reason(), Reason::out_of_memory);
  auto ev = feed(frame(0x1, std::string(65536, 'r')));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data.size(), 65536u);
}

TEST_F(SmallSendLimit, TheOutputQueueHoldsOneLargestMessage) {
  ASSERT_TRUE(client_->send_binary(Bytes(1000, 1)).ok());
  EXPECT_EQ(client_->send_binary(Bytes(1000, 1)).reason(), Reason::would_block);
  // The close frame's room is kept, and a ping is still answered.
  feed(frame(0x9, std::string(125, 'p')));
  ASSERT_TRUE(client_->close(1001, std::string(123, 'z')).ok());
  auto frames = take_frames(*client_);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[1].opcode(), 0xA);
  EXPECT_EQ(frames[2].close_code(), 1001);
}

TEST(SendLimit, ATinySendLimitStillLeavesRoomForAPongAndTheClose) {
  wstest::ScriptedRandom random;
  WsClientConfig cfg;
  cfg.host = "cloud.example.com";
  cfg.max_send_message_bytes = 1;
  WsClient client(cfg, random);
  ASSERT_TRUE(client.start().ok());
  client.consume_output(client.output().size());
  ASSERT_EQ(feed_all(client, ok_response()).size(), 1u);
  EXPECT_EQ(client.send_text("ab").reason(), Reason::out_of_memory);
  ASSERT_TRUE(client.send_text("a").ok());
  feed_all(client, frame(0x9, std::string(125, 'p')));
  ASSERT_TRUE(client.close(1000, std::string(123, 'z')).ok());
  auto frames = take_frames(client);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[1].payload.size(), 125u);
  EXPECT_EQ(frames[2].close_code(), 1000);
}

class SmallReceiveBuffer : public OpenLink {
 protected:
  void SetUp() override { open(20000, 256); }
};

TEST_F(SmallReceiveBuffer, LargeMessagesStreamThroughASmallBuffer) {
  std::string big;
  for (int i = 0; big.size() < 19000; ++i) big += "κόσμε-" + std::to_string(i);
  const Bytes wire = cat({frame(0x1, big), frame(0x9, "x"), frame(0x1, "tail")});
  const size_t first = client_->feed(wire);
  ASSERT_LT(first, wire.size()) << "feed takes only what the buffer holds";
  ASSERT_GT(first, 0u);
  auto ev = feed_all(*client_, std::span<const uint8_t>(wire).subspan(first));
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].data, big);
  EXPECT_EQ(ev[1].data, "tail");
  auto sent = take_frames(*client_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].opcode(), 0xA);
}

}  // namespace
}  // namespace sublink
