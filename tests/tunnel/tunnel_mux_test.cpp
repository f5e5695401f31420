// The tunnel channel table against every rule of PROTOCOL.md section 6,
// driven as the device (accepting) and as the server (opening), with the
// frames on the wire parsed back.
#include "net/tunnel/tunnel_mux.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "tunnel/allocation_counter.h"

namespace sublink {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes frame(const TunnelFrame& f) {
  Bytes b(kTunnelMaxFrameBytes);
  Result<size_t> n = write_tunnel_frame(f, b);
  EXPECT_TRUE(n.ok());
  b.resize(n.ok() ? *n : 0);
  return b;
}

Bytes pattern(size_t n, uint8_t seed = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

struct Seen {
  TunnelFrameType type;
  uint16_t channel;
  uint32_t credit;
  uint8_t reason;
  Bytes payload;
  std::string service, op;
};

class Owner : public TunnelMuxListener {
 public:
  void on_tunnel_open(TunnelSlot slot, const TunnelFrame& open) override {
    opens.push_back(slot);
    services.emplace_back(open.service);
    operators.emplace_back(open.text);
    if (accept_at_once) mux->accept(slot);
  }
  void on_tunnel_accepted(TunnelSlot slot) override { accepted.push_back(slot); }
  void on_tunnel_readable(TunnelSlot slot) override { readable.push_back(slot); }
  void on_tunnel_closed(TunnelSlot slot, const TunnelClosed& c) override {
    closed_slots.push_back(slot);
    closed.push_back(c);
  }
  TunnelMux* mux = nullptr;
  bool accept_at_once = true;
  std::vector<TunnelSlot> opens, accepted, readable, closed_slots;
  std::vector<std::string> services, operators;
  std::vector<TunnelClosed> closed;
};

class TunnelMuxTest : public ::testing::Test {
 protected:
  void build(TunnelMuxLimits l) {
    limits = l;
    slots.assign(l.max_channels, TunnelChannel{});
    buffer.assign(TunnelMux::buffer_bytes(l), 0);
    mux.emplace(l, slots, buffer, owner);
    owner.mux = &*mux;
  }
  void SetUp() override { build({.max_channels = 4, .window = 8192, .send_queue = 4096, .idle_ms = 60000}); }

  void in(const TunnelFrame& f) { ASSERT_TRUE(mux->receive(frame(f)).ok()); }
  void open(uint16_t id, const std::string& service = "web", const std::string& op = "alice",
            uint32_t window = 65536) {
    in(TunnelFrame::open(id, window, service, op));
  }
  /// Every frame due, parsed.
  std::vector<Seen> drain(size_t max = 100000) {
    std::vector<Seen> out;
    Bytes buf(kTunnelMaxFrameBytes);
    while (out.size() < max) {
      size_t n = mux->next_frame(buf);
      if (n == 0) break;
      Result<TunnelFrame> f = parse_tunnel_frame(std::span<const uint8_t>(buf.data(), n));
      EXPECT_TRUE(f.ok()) << "the table wrote a frame the codec refuses";
      if (!f.ok()) break;
      out.push_back(Seen{f->type, f->channel, f->credit, f->reason, Bytes(f->payload.begin(), f->payload.end()),
                         std::string(f->service), std::string(f->text)});
    }
    return out;
  }
  /// Everything readable on `slot`, passed on.
  Bytes take(TunnelSlot slot) {
    Bytes got;
    while (!mux->readable(slot).empty()) {
      auto r = mux->readable(slot);
      got.insert(got.end(), r.begin(), r.end());
      mux->consume(slot, r.size());
    }
    return got;
  }
  /// The owner heard of exactly one channel's end, for `reason`.
  ::testing::AssertionResult ended_once(const char* reason) const {
    if (owner.closed.size() != 1) return ::testing::AssertionFailure() << owner.closed.size() << " ends";
    if (std::string(owner.closed[0].reason_name()) != reason) {
      return ::testing::AssertionFailure() << "ended " << owner.closed[0].reason_name();
    }
    return ::testing::AssertionSuccess();
  }
  static bool has_rst(const std::vector<Seen>& f, uint16_t ch, TunnelReset why) {
    for (const Seen& s : f) {
      if (s.type == TunnelFrameType::rst && s.channel == ch && s.reason == static_cast<uint8_t>(why)) return true;
    }
    return false;
  }

  TunnelMuxLimits limits;
  std::vector<TunnelChannel> slots;
  Bytes buffer;
  Owner owner;
  std::optional<TunnelMux> mux;
};

TEST_F(TunnelMuxTest, AnOpenIsAnsweredWithOpenOkAndTheEarlyDataIsHeldUntilThen) {
  owner.accept_at_once = false;
  open(7, "web", "alice");
  in(TunnelFrame::data(7, pattern(4096)));  // the most that may ride behind OPEN
  ASSERT_EQ(owner.opens.size(), 1u);
  EXPECT_EQ(owner.services[0], "web");
  EXPECT_EQ(owner.operators[0], "alice");
  const TunnelSlot slot = owner.opens[0];
  EXPECT_TRUE(mux->readable(slot).empty()) << "early data waits for the local connection";
  EXPECT_TRUE(drain().empty()) << "nothing goes out before the owner accepts";
  mux->accept(slot);
  auto frames = drain();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].type, TunnelFrameType::open_ok);
  EXPECT_EQ(frames[0].channel, 7);
  EXPECT_EQ(frames[0].credit, 8192u);
  EXPECT_EQ(take(slot), pattern(4096)) << "early data delivered in order";
}

TEST_F(TunnelMuxTest, EarlyDataBeyond4096ResetsTheChannel) {
  owner.accept_at_once = false;
  open(7);
  in(TunnelFrame::data(7, pattern(4000)));
  in(TunnelFrame::data(7, pattern(97)));
  auto frames = drain();
  EXPECT_TRUE(has_rst(frames, 7, TunnelReset::flow_control));
  ASSERT_TRUE(ended_once("flow_control"));
}

TEST_F(TunnelMuxTest, AnOpenOfAnIdInUseIsAProtocolError) {
  open(3);
  drain();
  open(3);
  auto frames = drain();
  EXPECT_TRUE(has_rst(frames, 3, TunnelReset::protocol));
  ASSERT_EQ(owner.closed.size(), 1u);
  EXPECT_EQ(owner.closed[0].end, TunnelClosed::End::reset_sent);
  EXPECT_EQ(mux->live_count(), 0u);
  EXPECT_EQ(owner.opens.size(), 1u) << "the second OPEN opened nothing";
}

TEST_F(TunnelMuxTest, FramesForAnUnknownChannelAreAnsweredWithRstProtocol) {
  in(TunnelFrame::data(9, pattern(10)));
  in(TunnelFrame::window(10, 100));
  in(TunnelFrame::fin(11));
  in(TunnelFrame::open_ok(12, 100));
  auto frames = drain();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_TRUE(has_rst(frames, 9, TunnelReset::protocol));
  EXPECT_TRUE(has_rst(frames, 10, TunnelReset::protocol));
  EXPECT_TRUE(has_rst(frames, 11, TunnelReset::protocol));
  EXPECT_TRUE(has_rst(frames, 12, TunnelReset::protocol));
  in(TunnelFrame::rst(13, TunnelReset::local_reset));
  EXPECT_TRUE(drain().empty()) << "an RST is never answered with an RST";
}

TEST_F(TunnelMuxTest, AFloodOfUnknownIdsIsAnsweredWithinFixedMemory) {
  for (uint16_t id = 100; id < 100 + 3 * TunnelMux::kOrphanResets; ++id) in(TunnelFrame::fin(id));
  EXPECT_EQ(drain().size(), TunnelMux::kOrphanResets);
  EXPECT_EQ(mux->orphan_resets_dropped(), 2 * TunnelMux::kOrphanResets);
}

TEST_F(TunnelMuxTest, DataBeyondTheWindowResetsWithFlowControl) {
  open(1);
  drain();
  in(TunnelFrame::data(1, pattern(8192)));
  EXPECT_TRUE(drain().empty());
  in(TunnelFrame::data(1, pattern(1)));
  EXPECT_TRUE(has_rst(drain(), 1, TunnelReset::flow_control));
}

TEST_F(TunnelMuxTest, AZeroWindowOrOneOverflowing2To31ResetsWithFlowControl) {
  open(1, "web", "", 1000);
  open(2, "web", "", kTunnelMaxCredit - 5);
  drain();
  in(TunnelFrame::window(2, 5));  // exactly 2^31-1: fine
  EXPECT_TRUE(drain().empty());
  // TunnelFrame::window refuses 0 to write; build it by hand.
  Bytes zero = {0x02, 0x00, 0x01, 0, 0, 0, 0};
  ASSERT_TRUE(mux->receive(zero).ok()) << "a zero WINDOW resets the channel, not the link";
  in(TunnelFrame::window(2, 1));
  auto frames = drain();
  EXPECT_TRUE(has_rst(frames, 1, TunnelReset::flow_control));
  EXPECT_TRUE(has_rst(frames, 2, TunnelReset::flow_control));
}

TEST_F(TunnelMuxTest, AMalformedFrameIsALinkError) {
  open(1);
  const Bytes truncated = {0x01, 0x00};
  const Bytes unknown_type = {0x09, 0x00, 0x01};
  const Bytes empty_data = {0x01, 0x00, 0x01};
  EXPECT_EQ(mux->receive(truncated).reason(), Reason::protocol_violation);
  EXPECT_EQ(mux->receive(unknown_type).reason(), Reason::protocol_violation);
  EXPECT_EQ(mux->receive(empty_data).reason(), Reason::protocol_violation);
  mux->on_link_down();
  ASSERT_TRUE(ended_once("link_lost"));
  EXPECT_TRUE(drain().empty()) << "nothing goes out on a link that is gone";
}

TEST_F(TunnelMuxTest, OpensBeyondMaxChannelsAreRefusedTooManyChannels) {
  for (uint16_t id = 1; id <= 5; ++id) open(id);
  auto frames = drain();
  EXPECT_TRUE(has_rst(frames, 5, TunnelReset::too_many_channels));
  EXPECT_EQ(mux->live_count(), 4u);
  EXPECT_EQ(owner.opens.size(), 4u);
}

TEST_F(TunnelMuxTest, FinHalfClosesEachWayAndTheIdIsFreeOnlyAfterBoth) {
  open(5);
  const TunnelSlot slot = owner.opens[0];
  drain();
  in(TunnelFrame::data(5, pattern(100)));
  in(TunnelFrame::fin(5));
  EXPECT_FALSE(mux->peer_finished(slot)) << "not before the bytes ahead of FIN are passed on";
  EXPECT_EQ(take(slot), pattern(100));
  EXPECT_TRUE(mux->peer_finished(slot));
  in(TunnelFrame::data(5, pattern(1)));
  auto frames = drain();
  EXPECT_TRUE(has_rst(frames, 5, TunnelReset::protocol)) << "DATA after the peer's FIN";

  open(6);
  const TunnelSlot s6 = owner.opens[1];
  drain();
  in(TunnelFrame::fin(6));
  EXPECT_GT(mux->send_room(s6), 0u) << "the other way stays open";
  ASSERT_EQ(mux->write(s6, pattern(300)), 300u);
  open(6);  // the id is still in use: only one FIN so far
  frames = drain();
  ASSERT_TRUE(has_rst(frames, 6, TunnelReset::protocol));

  open(8);
  const TunnelSlot s8 = owner.opens[2];
  drain();
  ASSERT_EQ(mux->write(s8, pattern(300)), 300u);
  mux->finish(s8);
  EXPECT_EQ(mux->send_room(s8), 0u) << "nothing more after finish()";
  frames = drain();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::data);
  EXPECT_EQ(frames[1].type, TunnelFrameType::fin) << "FIN follows its channel's DATA";
  EXPECT_TRUE(mux->live(s8));
  in(TunnelFrame::fin(8));
  EXPECT_FALSE(mux->live(s8));
  ASSERT_FALSE(owner.closed.empty());
  EXPECT_STREQ(owner.closed.back().reason_name(), "fin");
  EXPECT_EQ(owner.closed.back().bytes_out, 300u);
  open(8);  // free again
  EXPECT_FALSE(has_rst(drain(), 8, TunnelReset::protocol));
  EXPECT_EQ(mux->live_count(), 1u);
}

TEST_F(TunnelMuxTest, BytesHeldWhenBothFinsAreDoneStillReachTheLocalSide) {
  open(4);
  const TunnelSlot slot = owner.opens[0];
  drain();
  mux->finish(slot);
  drain();
  in(TunnelFrame::data(4, pattern(500)));
  in(TunnelFrame::fin(4));
  EXPECT_TRUE(owner.closed.empty()) << "500 bytes still to pass on";
  open(4);  // the id is free on the wire: a new channel takes another slot
  ASSERT_EQ(owner.opens.size(), 2u);
  EXPECT_NE(owner.opens[1], slot);
  EXPECT_EQ(take(slot), pattern(500));
  ASSERT_TRUE(ended_once("fin"));
  EXPECT_EQ(owner.closed[0].bytes_in, 500u);
}

TEST_F(TunnelMuxTest, AnIdleChannelIsResetAndTrafficKeepsItAlive) {
  mux->tick(1000);
  open(1);
  open(2);
  drain();
  mux->tick(50000);
  in(TunnelFrame::data(2, pattern(10)));
  mux->tick(61000);
  auto frames = drain();
  EXPECT_TRUE(has_rst(frames, 1, TunnelReset::idle_timeout));
  EXPECT_FALSE(has_rst(frames, 2, TunnelReset::idle_timeout));
  mux->tick(110000);
  EXPECT_TRUE(has_rst(drain(), 2, TunnelReset::idle_timeout));
  ASSERT_EQ(owner.closed.size(), 2u);
  EXPECT_STREQ(owner.closed[1].reason_name(), "idle_timeout");
}

TEST_F(TunnelMuxTest, DataGoesOnlyWithinThePeersCreditAndAWindowUnlocksMore) {
  open(1, "web", "", 1000);
  const TunnelSlot slot = owner.opens[0];
  drain();
  ASSERT_EQ(mux->write(slot, pattern(3000)), 3000u);
  auto frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload.size(), 1000u);
  EXPECT_EQ(mux->queued(slot), 2000u) << "held, bounded, until credit comes";
  in(TunnelFrame::window(1, 1500));
  frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  const Bytes all = pattern(3000);
  EXPECT_EQ(frames[0].payload, Bytes(all.begin() + 1000, all.begin() + 2500));
  EXPECT_EQ(mux->send_room(slot), 4096u - 500u);
}

TEST_F(TunnelMuxTest, CreditIsGrantedOnlyAsTheLocalSideTakesBytes) {
  open(1);
  const TunnelSlot slot = owner.opens[0];
  drain();
  in(TunnelFrame::data(1, pattern(8192)));
  EXPECT_TRUE(drain().empty()) << "nothing passed on: no credit";
  mux->consume(slot, 4000);
  EXPECT_TRUE(drain().empty()) << "less than half the window passed on";
  mux->consume(slot, 96);
  auto frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::window);
  EXPECT_EQ(frames[0].credit, 4096u);
  EXPECT_EQ(mux->held(slot), 4096u);
}

TEST_F(TunnelMuxTest, ControlFramesGoBeforeQueuedData) {
  open(1);
  open(2);
  const TunnelSlot a = owner.opens[0];
  drain();
  in(TunnelFrame::data(1, pattern(8192)));
  ASSERT_EQ(mux->write(a, pattern(4096)), 4096u);
  Bytes small(kTunnelMaxControlFrame + 100);  // DATA frames of 100 bytes
  ASSERT_GT(mux->next_frame(small), 0u);
  take(a);           // a WINDOW is now due
  in(TunnelFrame::fin(9));  // and an RST for an unknown channel
  EXPECT_TRUE(mux->control_due());
  auto frames = drain(2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::rst);
  EXPECT_EQ(frames[1].type, TunnelFrameType::window);
  EXPECT_EQ(drain(1)[0].type, TunnelFrameType::data);
}

TEST_F(TunnelMuxTest, DataFromSeveralChannelsIsInterleavedOneFrameAtATime) {
  build({.max_channels = 3, .window = 65536, .send_queue = 65536, .idle_ms = 0});
  open(1);
  open(2);
  open(3);
  drain();
  ASSERT_EQ(mux->write(owner.opens[0], pattern(65536)), 65536u);  // a saturated channel
  ASSERT_EQ(mux->write(owner.opens[1], pattern(65536)), 65536u);
  ASSERT_EQ(mux->write(owner.opens[2], pattern(100)), 100u);      // a small one
  auto frames = drain(3);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].channel, 1);
  EXPECT_EQ(frames[0].payload.size(), kTunnelMaxData) << "full DATA frames";
  EXPECT_EQ(frames[1].channel, 2);
  EXPECT_EQ(frames[2].channel, 3) << "the small channel waited one DATA frame per busy channel";
  frames = drain(4);
  EXPECT_EQ(frames[0].channel, 1);
  EXPECT_EQ(frames[1].channel, 2);
  EXPECT_EQ(frames[2].channel, 1);
  EXPECT_EQ(frames[3].channel, 2);
}

TEST_F(TunnelMuxTest, ResetAllSendsRstShutdownOnEveryChannel) {
  open(1);
  open(2);
  drain();
  mux->write(owner.opens[0], pattern(100));
  mux->reset_all(TunnelReset::shutdown);
  auto frames = drain();
  ASSERT_EQ(frames.size(), 2u) << "the RSTs and no DATA";
  EXPECT_TRUE(has_rst(frames, 1, TunnelReset::shutdown));
  EXPECT_TRUE(has_rst(frames, 2, TunnelReset::shutdown));
  EXPECT_EQ(owner.closed.size(), 2u);
  EXPECT_EQ(mux->live_count(), 0u);
}

TEST_F(TunnelMuxTest, FramesStillInFlightAfterAResetAreIgnoredAndTheIdCanBeReopened) {
  open(1);
  drain();
  mux->reset(owner.opens[0], TunnelReset::local_reset);
  EXPECT_TRUE(has_rst(drain(), 1, TunnelReset::local_reset));
  in(TunnelFrame::data(1, pattern(10)));
  in(TunnelFrame::fin(1));
  EXPECT_TRUE(drain().empty()) << "no RST storm for frames the peer sent before it saw ours";
  open(1);
  EXPECT_EQ(owner.opens.size(), 2u);
  in(TunnelFrame::data(1, pattern(10)));
  EXPECT_EQ(take(owner.opens[1]), pattern(10));
}

TEST_F(TunnelMuxTest, LinkDownEndsEveryChannelWithoutAFrame) {
  open(1);
  open(2);
  drain();
  mux->write(owner.opens[0], pattern(100));
  mux->on_link_down();
  EXPECT_TRUE(drain().empty());
  ASSERT_EQ(owner.closed.size(), 2u);
  EXPECT_STREQ(owner.closed[0].reason_name(), "link_lost");
  EXPECT_EQ(mux->live_count(), 0u);
  open(1);
  EXPECT_EQ(mux->live_count(), 1u) << "a new link starts with every slot free";
}

TEST_F(TunnelMuxTest, TheOpenerSendsOpenThenEarlyDataThenWaitsForOpenOk) {
  Result<TunnelSlot> s = mux->open(42, "ssh", "bob");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(mux->write(*s, pattern(4096)), 4096u);
  auto frames = drain();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::open);
  EXPECT_EQ(frames[0].service, "ssh");
  EXPECT_EQ(frames[0].op, "bob");
  EXPECT_EQ(frames[0].credit, 8192u);
  EXPECT_EQ(frames[1].payload.size(), 4096u) << "up to 4096 bytes early, no more";
  mux->write(*s, pattern(10));
  EXPECT_TRUE(drain().empty());
  in(TunnelFrame::open_ok(42, 4106));
  EXPECT_EQ(owner.accepted.size(), 1u);
  frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload.size(), 10u) << "the early data counted against the window";
  EXPECT_EQ(mux->open(42, "ssh").status().reason(), Reason::protocol_violation);
  EXPECT_EQ(mux->open(43, "").status().reason(), Reason::invalid_argument);

  Result<TunnelSlot> t = mux->open(44, "web");
  ASSERT_TRUE(t.ok());
  drain();
  in(TunnelFrame::data(44, pattern(5)));
  EXPECT_TRUE(has_rst(drain(), 44, TunnelReset::protocol)) << "DATA before OPEN_OK";
}

TEST_F(TunnelMuxTest, TunnelMemoryStaysWithinItsStatedBoundAndNothingIsAllocated) {
  // The Linux default and a board's small window.
  for (TunnelMuxLimits l : {TunnelMuxLimits{.max_channels = 8, .window = 65536, .send_queue = 16384, .idle_ms = 0},
                            TunnelMuxLimits{.max_channels = 4, .window = 2048, .send_queue = 2048, .idle_ms = 0}}) {
    build(l);
    const size_t per_channel = std::max<size_t>(l.window, kTunnelMaxEarlyData) + l.send_queue;
    EXPECT_EQ(TunnelMux::buffer_bytes(l), l.max_channels * per_channel);
    EXPECT_LE(TunnelMux::memory_bound(l), l.max_channels * (per_channel + 256) + 512)
        << "the constant: under 256 bytes per slot and 512 for the table";
    Bytes wire(kTunnelMaxFrameBytes);
    Bytes chunk(kTunnelMaxData, 0x5a);
    owner = Owner{};  // the test's own records, made room for first
    owner.mux = &*mux;
    for (auto* v : {&owner.opens, &owner.accepted, &owner.readable, &owner.closed_slots}) v->reserve(4096);
    owner.services.reserve(64);
    owner.operators.reserve(64);
    owner.closed.reserve(64);
    AllocationCounter counter;
    // Every channel full both ways: the peer sends all its credit (and the
    // early data), the local side takes nothing, the local side writes more
    // than it may send.
    const size_t most = std::max<size_t>(l.window, kTunnelMaxEarlyData);
    bool all_taken = true;
    for (uint16_t id = 1; id <= l.max_channels + 2; ++id) {
      Result<size_t> n = write_tunnel_frame(TunnelFrame::open(id, 100, "web"), wire);
      all_taken &= mux->receive(std::span<const uint8_t>(wire.data(), *n)).ok();
      size_t sent = 0;
      while (sent < most) {
        if (sent == kTunnelMaxEarlyData) {
          while (mux->next_frame(wire) > 0) {  // OPEN_OK: the peer learns the window
          }
        }
        const size_t len = std::min({chunk.size(), most - sent, kTunnelMaxEarlyData});
        n = write_tunnel_frame(TunnelFrame::data(id, std::span<const uint8_t>(chunk.data(), len)), wire);
        all_taken &= mux->receive(std::span<const uint8_t>(wire.data(), *n)).ok();
        sent += len;
      }
      while (mux->next_frame(wire) > 0) {
      }
    }
    bool within = true;
    for (TunnelSlot s = 0; s < l.max_channels; ++s) {
      while (mux->write(s, chunk) > 0) {
      }
      within &= mux->live(s) && mux->held(s) == most && mux->queued(s) <= l.send_queue;
    }
    while (mux->next_frame(wire) > 0) {
    }
    const size_t allocations = counter.count();  // before any assertion, which may allocate
    EXPECT_TRUE(all_taken);
    EXPECT_TRUE(within) << "each channel holds its window, and no more, both ways";
    EXPECT_EQ(allocations, 0u);
    EXPECT_EQ(mux->live_count(), l.max_channels) << "every channel still open: no byte beyond credit";
  }
}

TEST_F(TunnelMuxTest, APeersRstEndsTheChannelWithItsReasonAndIsNotAnswered) {
  open(3);
  const TunnelSlot slot = owner.opens[0];
  drain();
  in(TunnelFrame::data(3, pattern(10)));
  in(TunnelFrame::rst(3, TunnelReset::connect_refused, "no route"));
  ASSERT_EQ(owner.closed.size(), 1u);
  EXPECT_EQ(owner.closed[0].end, TunnelClosed::End::reset_received);
  EXPECT_STREQ(owner.closed[0].reason_name(), "connect_refused") << "the peer's reason, by its section 6 name";
  EXPECT_EQ(owner.closed[0].bytes_in, 10u);
  EXPECT_FALSE(mux->live(slot));
  EXPECT_TRUE(drain().empty()) << "an RST is never answered";
  open(3);  // RST frees the id at once
  EXPECT_EQ(owner.opens.size(), 2u);
  EXPECT_FALSE(has_rst(drain(), 3, TunnelReset::protocol));
}

TEST_F(TunnelMuxTest, APeersRstCrossingOursEndsTheIdAndOursIsNotSent) {
  open(3);
  const TunnelSlot slot = owner.opens[0];
  drain();
  mux->reset(slot, TunnelReset::local_reset);
  ASSERT_EQ(owner.closed.size(), 1u);
  in(TunnelFrame::data(3, pattern(10)));  // sent before the peer saw anything
  in(TunnelFrame::fin(3));
  EXPECT_EQ(owner.closed.size(), 1u) << "the owner hears of the channel's end once";
  in(TunnelFrame::rst(3, TunnelReset::shutdown));
  EXPECT_TRUE(drain().empty()) << "the id is free on both sides: an RST now would hit a reused id";
  EXPECT_EQ(owner.closed.size(), 1u);
  open(3);
  EXPECT_EQ(owner.opens.size(), 2u) << "the id opens again";
}

TEST_F(TunnelMuxTest, AnOpenGrantingNoWindowOrMoreThan2To31IsRefusedFlowControl) {
  Bytes zero = frame(TunnelFrame::open(1, 1, "web"));
  zero[3] = zero[4] = zero[5] = zero[6] = 0;  // the codec writes no 0 window; a peer may
  ASSERT_TRUE(mux->receive(zero).ok()) << "the channel's fault, not the link's";
  Bytes huge = frame(TunnelFrame::open(2, 1, "web"));
  huge[3] = huge[4] = huge[5] = huge[6] = 0xFF;
  ASSERT_TRUE(mux->receive(huge).ok());
  auto frames = drain();
  EXPECT_TRUE(has_rst(frames, 1, TunnelReset::flow_control));
  EXPECT_TRUE(has_rst(frames, 2, TunnelReset::flow_control));
  EXPECT_TRUE(owner.opens.empty()) << "the owner never connects for it";
  EXPECT_EQ(mux->live_count(), 0u);
}

TEST_F(TunnelMuxTest, OpenOkWindowOrFinOutOfTurnResetsTheChannel) {
  // OPEN_OK on a channel the peer opened.
  open(1);
  drain();
  in(TunnelFrame::open_ok(1, 100));
  EXPECT_TRUE(has_rst(drain(), 1, TunnelReset::protocol));
  // WINDOW and FIN before OPEN_OK, a second FIN, OPEN_OK granting 0.
  Result<TunnelSlot> a = mux->open(2, "web");
  Result<TunnelSlot> b = mux->open(3, "web");
  open(4);
  Result<TunnelSlot> c = mux->open(5, "web");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  drain();
  in(TunnelFrame::window(2, 100));
  in(TunnelFrame::fin(3));
  in(TunnelFrame::fin(4));
  in(TunnelFrame::fin(4));
  Bytes zero = frame(TunnelFrame::open_ok(5, 1));
  zero[6] = 0;
  ASSERT_TRUE(mux->receive(zero).ok());
  auto frames = drain();
  EXPECT_TRUE(has_rst(frames, 2, TunnelReset::protocol)) << "WINDOW before OPEN_OK";
  EXPECT_TRUE(has_rst(frames, 3, TunnelReset::protocol)) << "FIN before OPEN_OK";
  EXPECT_TRUE(has_rst(frames, 4, TunnelReset::protocol)) << "a second FIN";
  EXPECT_TRUE(has_rst(frames, 5, TunnelReset::flow_control)) << "OPEN_OK granting 0";
  EXPECT_TRUE(owner.accepted.empty());
  EXPECT_EQ(mux->live_count(), 0u);
}

TEST_F(TunnelMuxTest, AnOpenOkBeforeOurOpenWentOutEndsTheChannelWithoutAFrame) {
  Result<TunnelSlot> s = mux->open(9, "web");
  ASSERT_TRUE(s.ok());
  in(TunnelFrame::open_ok(9, 100));  // the peer cannot know the id yet
  ASSERT_TRUE(ended_once("protocol"));
  EXPECT_TRUE(drain().empty()) << "neither the OPEN nor an RST for an id the peer never saw";
  EXPECT_TRUE(mux->open(9, "web").ok()) << "the id is free";
}

TEST_F(TunnelMuxTest, AFinWithTheEarlyDataReachesTheOwnerOnceItAccepts) {
  owner.accept_at_once = false;
  open(7);
  in(TunnelFrame::data(7, pattern(100)));
  in(TunnelFrame::fin(7));
  const TunnelSlot slot = owner.opens[0];
  EXPECT_TRUE(owner.readable.empty()) << "nothing is readable before accept()";
  EXPECT_FALSE(mux->peer_finished(slot));
  mux->consume(slot, 50);
  EXPECT_EQ(mux->held(slot), 100u) << "early data cannot be consumed before accept()";
  mux->accept(slot);
  ASSERT_EQ(owner.readable.size(), 1u);
  EXPECT_EQ(take(slot), pattern(100));
  EXPECT_TRUE(mux->peer_finished(slot));
  auto frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::open_ok);

  open(8);  // a bare OPEN then FIN: an empty request, still delivered
  const TunnelSlot bare = owner.opens[1];
  in(TunnelFrame::fin(8));
  mux->accept(bare);
  ASSERT_EQ(owner.readable.size(), 2u);
  EXPECT_EQ(owner.readable[1], bare);
  EXPECT_TRUE(mux->peer_finished(bare));
}

TEST_F(TunnelMuxTest, AcceptOrResetOfASlotNotWaitingChangesNothing) {
  open(1);
  const TunnelSlot slot = owner.opens[0];
  drain();
  mux->accept(slot);  // already open
  mux->accept(3);     // free
  mux->accept(999);   // out of range
  EXPECT_TRUE(drain().empty()) << "no second OPEN_OK, none for a free slot";
  mux->reset(3, TunnelReset::local_reset);
  mux->reset(999, TunnelReset::local_reset);
  EXPECT_TRUE(owner.closed.empty());
  EXPECT_TRUE(drain().empty());
  mux->reset(slot, TunnelReset::local_reset);
  mux->reset(slot, TunnelReset::shutdown);  // already resetting
  mux->on_link_down();                      // before the RST went out
  EXPECT_TRUE(ended_once("local_reset")) << "the owner hears of each channel's end exactly once";
}

TEST_F(TunnelMuxTest, ASlotOutOfRangeReadsAsEmptyAndTakesNothing) {
  const TunnelSlot bad = 999;
  EXPECT_TRUE(mux->readable(bad).empty());
  EXPECT_EQ(mux->held(bad), 0u);
  EXPECT_EQ(mux->queued(bad), 0u);
  EXPECT_FALSE(mux->peer_finished(bad));
  EXPECT_FALSE(mux->live(bad));
  EXPECT_EQ(mux->send_room(bad), 0u);
  EXPECT_EQ(mux->write(bad, pattern(10)), 0u);
  EXPECT_EQ(mux->info(bad).channel, 0u);
  mux->consume(bad, 10);
  mux->finish(bad);
  mux->finish(2);  // a free slot
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(mux->write(2, pattern(10)), 0u) << "a free slot takes no bytes";
}

TEST_F(TunnelMuxTest, TheOpenerIsToldWhyItCannotOpen) {
  EXPECT_EQ(mux->open(0, "web").status().reason(), Reason::invalid_argument) << "0 is never a channel";
  EXPECT_EQ(mux->open(1, std::string(kTunnelMaxName + 1, 's')).status().reason(), Reason::invalid_argument);
  for (uint16_t id = 1; id <= 4; ++id) ASSERT_TRUE(mux->open(id, "web").ok());
  EXPECT_EQ(mux->open(5, "web").status().reason(), Reason::out_of_memory) << "every slot taken";
  EXPECT_EQ(drain().size(), 4u) << "the four OPENs, nothing for the refused ones";
}

TEST_F(TunnelMuxTest, ATableGivenTooLittleStorageRefusesEveryOpen) {
  const TunnelMuxLimits good = {.max_channels = 2, .window = 4096, .send_queue = 4096, .idle_ms = 0};
  TunnelMuxLimits bad_limits = good;
  bad_limits.window = 0;
  struct Case {
    const char* what;
    TunnelMuxLimits l;
    size_t slots, bytes;
  };
  for (const Case& c : {Case{"limits out of range", bad_limits, 2, 1 << 16},
                        Case{"too few slots", good, 1, TunnelMux::buffer_bytes(good)},
                        Case{"too small a buffer", good, 2, TunnelMux::buffer_bytes(good) - 1}}) {
    slots.assign(c.slots, TunnelChannel{});
    buffer.assign(c.bytes, 0);
    owner = Owner{};
    mux.emplace(c.l, slots, buffer, owner);
    owner.mux = &*mux;
    EXPECT_EQ(mux->capacity(), 0u) << c.what;
    open(1);
    EXPECT_TRUE(has_rst(drain(), 1, TunnelReset::too_many_channels)) << c.what;
    EXPECT_TRUE(owner.opens.empty()) << c.what;
    EXPECT_EQ(mux->open(2, "web").status().reason(), Reason::out_of_memory) << c.what;
  }
}

TEST_F(TunnelMuxTest, AnOutputBufferBelowTheLargestControlFrameGetsNoFrameAndLosesNone) {
  open(1);
  Bytes small(kTunnelMaxControlFrame - 1);
  EXPECT_EQ(mux->next_frame(small), 0u);
  EXPECT_TRUE(mux->control_due()) << "the OPEN_OK still waits";
  auto frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::open_ok);
}

TEST_F(TunnelMuxTest, NoWindowGoesOutForAnIdBothSidesFinished) {
  open(1);
  const TunnelSlot slot = owner.opens[0];
  drain();
  in(TunnelFrame::data(1, pattern(8192)));
  mux->finish(slot);
  auto frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(frames[0].type, TunnelFrameType::fin);
  mux->consume(slot, 4096);  // half the window passed on: a WINDOW is due...
  in(TunnelFrame::fin(1));   // ...but the id is now free on the wire
  EXPECT_TRUE(drain().empty()) << "a WINDOW now would reach a channel that reuses the id";
  EXPECT_FALSE(mux->peer_finished(slot)) << "4096 bytes still to pass on";
  mux->consume(slot, 1000);
  EXPECT_TRUE(owner.closed.empty());
  EXPECT_EQ(mux->held(slot), 3096u);
  const Bytes rest = take(slot);
  EXPECT_EQ(rest.size(), 3096u);
  ASSERT_TRUE(ended_once("fin"));
  EXPECT_EQ(owner.closed[0].bytes_in, 8192u);
}

TEST_F(TunnelMuxTest, BytesNobodyTakesAfterBothFinsAreDroppedAtIdleWithoutAnRst) {
  mux->tick(1000);
  open(1);
  const TunnelSlot slot = owner.opens[0];
  drain();
  in(TunnelFrame::data(1, pattern(100)));
  mux->finish(slot);
  drain();
  in(TunnelFrame::fin(1));
  EXPECT_TRUE(owner.closed.empty()) << "held for the local side";
  mux->tick(1000 + 60000);
  EXPECT_TRUE(ended_once("idle_timeout")) << "memory is not held forever for a local side that stopped";
  EXPECT_TRUE(drain().empty()) << "the id is free on the wire: no RST for it";
  EXPECT_EQ(mux->held(slot), 0u);
  open(1);
  EXPECT_EQ(owner.opens.size(), 2u);
}

TEST_F(TunnelMuxTest, AFinWaitsForItsChannelsQueuedDataAndForOpenOk) {
  open(1, "web", "", 100);
  const TunnelSlot slot = owner.opens[0];
  drain();
  ASSERT_EQ(mux->write(slot, pattern(300)), 300u);
  mux->finish(slot);
  auto frames = drain();
  ASSERT_EQ(frames.size(), 1u) << "200 bytes wait for credit, and the FIN behind them";
  EXPECT_EQ(frames[0].payload.size(), 100u);
  in(TunnelFrame::window(1, 500));
  frames = drain();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload.size(), 200u);
  EXPECT_EQ(frames[1].type, TunnelFrameType::fin);

  // The opener's FIN before OPEN_OK would be out of turn at the peer.
  Result<TunnelSlot> s = mux->open(2, "web");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(mux->control_due()) << "the OPEN is a control frame";
  mux->finish(*s);
  frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::open);
  in(TunnelFrame::open_ok(2, 100));
  frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, TunnelFrameType::fin) << "once accepted";
}

TEST_F(TunnelMuxTest, WithNoIdleLimitAQuietChannelStaysOpen) {
  build({.max_channels = 2, .window = 8192, .send_queue = 4096, .idle_ms = 0});
  mux->tick(0);
  open(1);
  drain();
  mux->tick(std::numeric_limits<Millis>::max() / 2);
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(mux->live_count(), 1u);
  EXPECT_TRUE(owner.closed.empty());
}

TEST(TunnelMuxLimits, EachLimitIsCheckedAgainstItsRange) {
  EXPECT_TRUE(check_tunnel_limits({}).ok());
  EXPECT_EQ(check_tunnel_limits({.max_channels = 0}).detail(), 1);
  EXPECT_EQ(check_tunnel_limits({.max_channels = 1025}).detail(), 1);
  EXPECT_EQ(check_tunnel_limits({.window = 0}).detail(), 2);
  EXPECT_EQ(check_tunnel_limits({.window = 0x80000000u}).detail(), 2);
  EXPECT_EQ(check_tunnel_limits({.send_queue = 0}).detail(), 3);
  EXPECT_EQ(check_tunnel_limits({.send_queue = (1u << 24) + 1}).detail(), 3);
  EXPECT_TRUE(check_tunnel_limits({.max_channels = 1024, .window = kTunnelMaxCredit, .send_queue = 1u << 24}).ok())
      << "each range's top is allowed";
  EXPECT_EQ(check_tunnel_limits({.idle_ms = -1}).detail(), 4);
}

TEST(ByteRing, KeepsOrderAcrossTheWrap) {
  uint8_t storage[10];
  ByteRing r(storage);
  const Bytes a = pattern(7);
  EXPECT_EQ(r.push(a), 7u);
  r.pop(5);
  const Bytes b = pattern(8, 100);
  EXPECT_EQ(r.push(b), 8u);
  EXPECT_EQ(r.push(b), 0u) << "full";
  Bytes out(10);
  EXPECT_EQ(r.pop_into(out), 10u);
  Bytes want = {a[5], a[6]};
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(out, want);
  EXPECT_TRUE(r.empty());
}

}  // namespace
}  // namespace sublink
