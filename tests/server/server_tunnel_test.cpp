// One link's tunnel channels on the server: the ids it allocates, its
// ceiling, and what it does with frames only a server may send.
#include "server_core/server_tunnel.h"

#include <gtest/gtest.h>

#include <vector>

namespace sublink {
namespace {

struct Heard final : ServerTunnelObserver {
  void on_channel_accepted(ServerTunnel&, TunnelSlot, uint64_t owner) override { accepted.push_back(owner); }
  void on_channel_readable(ServerTunnel&, TunnelSlot, uint64_t) override {}
  void on_channel_closed(ServerTunnel&, TunnelSlot, uint64_t owner, const TunnelClosed& c) override {
    closed.push_back(owner);
    reasons.push_back(c.reason_name());
  }
  std::vector<uint64_t> accepted;
  std::vector<uint64_t> closed;
  std::vector<std::string> reasons;
};

ServerTunnelLimits small(uint16_t channels) {
  ServerTunnelLimits l;
  l.max_channels = channels;
  l.window = 4096;
  l.send_queue = 4096;
  return l;
}

// Every frame the tunnel has due, parsed.
std::vector<TunnelFrame> drain(ServerTunnel& t, std::vector<std::vector<uint8_t>>& storage) {
  std::vector<TunnelFrame> out;
  for (;;) {
    std::vector<uint8_t> buffer(kTunnelMaxFrameBytes);
    const size_t n = t.mux().next_frame(buffer);
    if (n == 0) return out;
    buffer.resize(n);
    storage.push_back(std::move(buffer));
    Result<TunnelFrame> f = parse_tunnel_frame(storage.back());
    EXPECT_TRUE(f.ok());
    if (f.ok()) out.push_back(*f);
  }
}

std::vector<uint8_t> frame(const TunnelFrame& f) {
  std::vector<uint8_t> out(kTunnelMaxFrameBytes);
  out.resize(*write_tunnel_frame(f, out));
  return out;
}

TEST(ServerTunnelTest, ChannelsGetIdsFromOneUpAndOpenCarriesServiceOperatorAndWindow) {
  Heard heard;
  ServerTunnel t(small(4), heard);
  Result<TunnelSlot> a = t.open("http", "alice", 11);
  Result<TunnelSlot> b = t.open("ssh", "", 12);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(t.mux().channel_id(*a), 1);
  EXPECT_EQ(t.mux().channel_id(*b), 2);
  EXPECT_EQ(t.service(*a), "http");
  EXPECT_EQ(t.op(*a), "alice");
  std::vector<std::vector<uint8_t>> keep;
  const std::vector<TunnelFrame> frames = drain(t, keep);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::open);
  EXPECT_EQ(frames[0].service, "http");
  EXPECT_EQ(frames[0].text, "alice");
  EXPECT_EQ(frames[0].credit, 4096u) << "the server's window";
  // The device accepts: the owner hears it.
  ASSERT_TRUE(t.receive(frame(TunnelFrame::open_ok(1, 8192)), 0).ok());
  EXPECT_EQ(heard.accepted, std::vector<uint64_t>{11});
}

TEST(ServerTunnelTest, NoMoreChannelsThanItsCeilingAndNoBadNames) {
  Heard heard;
  ServerTunnel t(small(2), heard);
  ASSERT_TRUE(t.open("a", "", 1).ok());
  ASSERT_TRUE(t.open("b", "", 2).ok());
  EXPECT_EQ(t.open("c", "", 3).status().reason(), Reason::out_of_memory);
  ServerTunnel u(small(2), heard);
  EXPECT_EQ(u.open("", "", 1).status().reason(), Reason::invalid_argument);
  EXPECT_EQ(u.open(std::string(256, 's'), "", 1).status().reason(), Reason::invalid_argument);
  EXPECT_EQ(u.open("a", std::string(256, 'o'), 1).status().reason(), Reason::invalid_argument);
}

TEST(ServerTunnelTest, IdsGoRoundSoAFreedIdRestsAndZeroIsNeverUsed) {
  Heard heard;
  ServerTunnel t(small(2), heard);
  std::vector<std::vector<uint8_t>> keep;
  // One channel stays open on id 1 the whole time: the round skips it.
  Result<TunnelSlot> held = t.open("keep", "", 1);
  ASSERT_TRUE(held.ok());
  uint16_t last = 1;
  for (int i = 0; i < 65536; ++i) {
    Result<TunnelSlot> s = t.open("x", "", 100);
    ASSERT_TRUE(s.ok()) << i;
    const uint16_t id = t.mux().channel_id(*s);
    ASSERT_NE(id, 0);
    ASSERT_NE(id, 1) << "in use";
    ASSERT_EQ(id, last == 65535 ? 2 : last + 1) << "the next id in turn";
    last = id;
    t.mux().reset(*s, TunnelReset::local_reset);
    keep.clear();
    (void)drain(t, keep);  // the RST goes out: the id is free again
  }
}

TEST(ServerTunnelTest, AnOpenFromTheDeviceIsRefusedAsAProtocolError) {
  Heard heard;
  ServerTunnel t(small(2), heard);
  ASSERT_TRUE(t.receive(frame(TunnelFrame::open(9, 4096, "http")), 0).ok()) << "a channel fault, not a link fault";
  std::vector<std::vector<uint8_t>> keep;
  const std::vector<TunnelFrame> frames = drain(t, keep);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::rst);
  EXPECT_EQ(frames[0].channel, 9);
  EXPECT_EQ(frames[0].reason, static_cast<uint8_t>(TunnelReset::protocol));
  EXPECT_TRUE(heard.closed.empty()) << "no operator owned it";
  const uint8_t truncated[] = {0x01, 0x00};
  EXPECT_FALSE(t.receive(truncated, 0).ok()) << "malformed: the link closes with 1002";
}

TEST(ServerTunnelTest, LinkLossEndsEveryChannelForItsOwner) {
  Heard heard;
  ServerTunnel t(small(4), heard);
  ASSERT_TRUE(t.open("a", "", 7).ok());
  ASSERT_TRUE(t.open("b", "", 8).ok());
  t.on_link_down();
  EXPECT_EQ(heard.closed, (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(heard.reasons, (std::vector<std::string>{"link_lost", "link_lost"}));
  EXPECT_EQ(t.mux().live_count(), 0u);
}

}  // namespace
}  // namespace sublink
