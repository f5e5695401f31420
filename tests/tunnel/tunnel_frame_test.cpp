// Tunnel frames as PROTOCOL.md section 6 lays them out: every type written
// and read back, the exact bytes, and every malformed shape refused.
#include "net/tunnel/tunnel_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sublink {
namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> list) {
  std::vector<uint8_t> out;
  for (int b : list) out.push_back(static_cast<uint8_t>(b));
  return out;
}

std::vector<uint8_t> written(const TunnelFrame& f) {
  std::vector<uint8_t> out(kTunnelMaxFrameBytes);
  Result<size_t> n = write_tunnel_frame(f, out);
  EXPECT_TRUE(n.ok()) << reason_name(n.status().reason());
  out.resize(n.ok() ? *n : 0);
  return out;
}

Status parse_status(const std::vector<uint8_t>& m) { return parse_tunnel_frame(m).status(); }

TEST(TunnelFrame, EveryTypeHasTheSection6Layout) {
  const std::vector<uint8_t> payload = {'G', 'E', 'T'};
  EXPECT_EQ(written(TunnelFrame::data(0x0102, payload)), bytes({0x01, 0x01, 0x02, 'G', 'E', 'T'}));
  EXPECT_EQ(written(TunnelFrame::window(7, 32768)), bytes({0x02, 0x00, 0x07, 0x00, 0x00, 0x80, 0x00}));
  EXPECT_EQ(written(TunnelFrame::fin(65535)), bytes({0x03, 0xFF, 0xFF}));
  EXPECT_EQ(written(TunnelFrame::rst(9, TunnelReset::connect_refused, "no")), bytes({0x04, 0x00, 0x09, 3, 'n', 'o'}));
  EXPECT_EQ(written(TunnelFrame::open(1, 65536, "web", "ann")),
            bytes({0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 3, 'w', 'e', 'b', 'a', 'n', 'n'}));
  EXPECT_EQ(written(TunnelFrame::open_ok(1, 2048)), bytes({0x06, 0x00, 0x01, 0x00, 0x00, 0x08, 0x00}));
}

TEST(TunnelFrame, WhatIsWrittenReadsBackTheSame) {
  const std::vector<uint8_t> payload(kTunnelMaxData, 0xA5);
  for (const TunnelFrame& f : {TunnelFrame::data(3, payload), TunnelFrame::window(4, kTunnelMaxCredit),
                               TunnelFrame::fin(5), TunnelFrame::rst(6, TunnelReset::shutdown),
                               TunnelFrame::open(7, 1, "ssh"), TunnelFrame::open_ok(8, 4096)}) {
    const std::vector<uint8_t> m = written(f);
    Result<TunnelFrame> back = parse_tunnel_frame(m);
    ASSERT_TRUE(back.ok()) << static_cast<int>(f.type);
    EXPECT_EQ(back->type, f.type);
    EXPECT_EQ(back->channel, f.channel);
    EXPECT_EQ(back->credit, f.credit);
    EXPECT_EQ(back->reason, f.reason);
    EXPECT_EQ(back->service, f.service);
    EXPECT_EQ(back->text, f.text);
    EXPECT_TRUE(std::equal(back->payload.begin(), back->payload.end(), f.payload.begin(), f.payload.end()));
  }
}

TEST(TunnelFrame, OpenCarriesTheServiceAndTheOperator) {
  // The views point into the message, which must outlive them.
  const std::vector<uint8_t> message = written(TunnelFrame::open(42, 65536, "web", "ops@vendor"));
  Result<TunnelFrame> f = parse_tunnel_frame(message);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->service, "web");
  EXPECT_EQ(f->text, "ops@vendor");
  EXPECT_EQ(f->credit, 65536u);
  const std::vector<uint8_t> no_operator = bytes({0x05, 0, 1, 0, 0, 0x10, 0, 3, 's', 's', 'h'});
  Result<TunnelFrame> anonymous = parse_tunnel_frame(no_operator);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->service, "ssh");
  EXPECT_TRUE(anonymous->text.empty());
}

// Credit 0, or a window that would overflow, is the channel's problem (RST),
// not the link's: the frame itself is well formed.
TEST(TunnelFrame, ZeroAndHugeCreditAreReadForTheChannelToJudge) {
  Result<TunnelFrame> zero = parse_tunnel_frame(bytes({0x02, 0, 1, 0, 0, 0, 0}));
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->credit, 0u);
  Result<TunnelFrame> huge = parse_tunnel_frame(bytes({0x02, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF}));
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->credit, 0xFFFFFFFFu);
}

TEST(TunnelFrame, AResetReasonFromANewerPeerIsKeptAndNamedUnknown) {
  Result<TunnelFrame> f = parse_tunnel_frame(bytes({0x04, 0, 2, 200}));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->reason, 200);
  EXPECT_STREQ(tunnel_reset_name(f->reason), "unknown");
  EXPECT_STREQ(tunnel_reset_name(static_cast<uint8_t>(TunnelReset::idle_timeout)), "idle_timeout");
  EXPECT_STREQ(tunnel_reset_name(static_cast<uint8_t>(TunnelReset::unknown_service)), "unknown_service");
}

TEST(TunnelFrame, EveryResetReasonHasItsSection6Name) {
  const char* const names[] = {"unknown_service", "not_allowed",  "connect_refused", "connect_timeout",
                               "too_many_channels", "no_memory", "flow_control",    "protocol",
                               "idle_timeout",    "local_reset",  "shutdown"};
  for (uint8_t reason = 1; reason <= 11; ++reason) {
    EXPECT_STREQ(tunnel_reset_name(reason), names[reason - 1]) << int{reason};
  }
  EXPECT_STREQ(tunnel_reset_name(0), "unknown");
  EXPECT_STREQ(tunnel_reset_name(12), "unknown");
}

TEST(TunnelFrame, EveryMalformedShapeIsAProtocolViolation) {
  const std::vector<uint8_t> too_much(kTunnelHeaderBytes + kTunnelMaxData + 1, 0x01);
  std::vector<uint8_t> long_text = {0x04, 0, 1, 8};
  long_text.resize(long_text.size() + kTunnelMaxResetText + 1, 'x');
  std::vector<uint8_t> long_operator = bytes({0x05, 0, 1, 0, 0, 1, 0, 1, 'w'});
  long_operator.resize(long_operator.size() + kTunnelMaxName + 1, 'o');
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> cases = {
      {"empty", {}},
      {"truncated header", bytes({0x01, 0x00})},
      {"unknown type 0", bytes({0x00, 0, 1, 'x'})},
      {"unknown type 7", bytes({0x07, 0, 1})},
      {"channel 0", bytes({0x01, 0, 0, 'x'})},
      {"data without payload", bytes({0x01, 0, 1})},
      {"data over 16384", too_much},
      {"window short", bytes({0x02, 0, 1, 0, 0, 1})},
      {"window long", bytes({0x02, 0, 1, 0, 0, 0, 1, 0})},
      {"open_ok short", bytes({0x06, 0, 1, 0})},
      {"fin with a body", bytes({0x03, 0, 1, 0})},
      {"rst without a reason", bytes({0x04, 0, 1})},
      {"rst text too long", long_text},
      {"rst text not UTF-8", bytes({0x04, 0, 1, 3, 0xC0, 0x80})},
      {"open short", bytes({0x05, 0, 1, 0, 0, 1})},
      {"open without a name", bytes({0x05, 0, 1, 0, 0, 1, 0, 0})},
      {"open name past the end", bytes({0x05, 0, 1, 0, 0, 1, 0, 4, 'w', 'e', 'b'})},
      {"open name not UTF-8", bytes({0x05, 0, 1, 0, 0, 1, 0, 2, 0xED, 0xA0})},
      {"open operator not UTF-8", bytes({0x05, 0, 1, 0, 0, 1, 0, 1, 'w', 0xFF})},
      {"open operator over 255 bytes", long_operator},
  };
  for (const auto& [what, message] : cases) {
    EXPECT_EQ(parse_status(message).reason(), Reason::protocol_violation) << what;
  }
}

TEST(TunnelFrame, NothingOutsideTheLimitsIsWritten) {
  std::vector<uint8_t> out(kTunnelMaxFrameBytes);
  const std::vector<uint8_t> payload(kTunnelMaxData + 1, 1);
  const std::string long_name(kTunnelMaxName + 1, 'n');
  TunnelFrame unknown_type = TunnelFrame::fin(1);
  unknown_type.type = static_cast<TunnelFrameType>(7);
  for (const TunnelFrame& bad : {TunnelFrame::data(1, {}), TunnelFrame::data(1, payload), TunnelFrame::fin(0),
                                 TunnelFrame::window(1, 0), TunnelFrame::window(1, kTunnelMaxCredit + 1),
                                 TunnelFrame::open(1, 0, "web"), TunnelFrame::open(1, kTunnelMaxCredit + 1, "web"),
                                 TunnelFrame::open(1, 10, ""), TunnelFrame::open(1, 10, long_name),
                                 TunnelFrame::open(1, 10, "web", long_name), TunnelFrame::open(1, 10, "\xFFweb"),
                                 TunnelFrame::open(1, 10, "web", "\xC0\x80"), TunnelFrame::open_ok(1, 0),
                                 TunnelFrame::rst(1, TunnelReset::protocol, "\xC0\x80"),
                                 TunnelFrame::rst(1, TunnelReset::protocol, long_name), unknown_type}) {
    EXPECT_EQ(write_tunnel_frame(bad, out).status().reason(), Reason::invalid_argument) << static_cast<int>(bad.type);
  }
  uint8_t small[4];
  EXPECT_EQ(write_tunnel_frame(TunnelFrame::window(1, 5), small).status().reason(), Reason::out_of_memory);
}

}  // namespace
}  // namespace sublink
