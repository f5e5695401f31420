// A channel's flow control at both ends: the sender never spends more than
// it was granted, the receiver refuses what goes beyond its window, renews
// credit as it passes bytes on, and never holds more than its window.
#include "net/tunnel/tunnel_credit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "net/tunnel/tunnel_frame.h"

namespace sublink {
namespace {

TEST(TunnelCredit, TheSenderSpendsWhatThePeerGrantedAndNoMore) {
  TunnelCredit c(65536);
  EXPECT_EQ(c.sendable(), 0u) << "nothing before the peer's window";
  c.on_peer_window(1000);
  EXPECT_EQ(c.sendable(), 1000u);
  c.on_sent(600);
  EXPECT_EQ(c.sendable(), 400u);
  c.on_sent(400);
  EXPECT_EQ(c.sendable(), 0u);
  ASSERT_TRUE(c.on_window(250).ok());
  EXPECT_EQ(c.sendable(), 250u);
  EXPECT_EQ(c.bytes_sent(), 1000u);
}

TEST(TunnelCredit, AZeroOrOverflowingWindowIsRefused) {
  TunnelCredit c(65536);
  c.on_peer_window(kTunnelMaxCredit - 10);
  EXPECT_EQ(c.on_window(0).reason(), Reason::protocol_violation);
  EXPECT_TRUE(c.on_window(10).ok()) << "up to 2^31-1 unspent";
  EXPECT_EQ(c.on_window(1).reason(), Reason::protocol_violation) << "one past 2^31-1";
  c.on_sent(100);
  EXPECT_TRUE(c.on_window(100).ok()) << "spent credit makes room again";
  EXPECT_EQ(c.sendable(), kTunnelMaxCredit);
}

TEST(TunnelCredit, DataBeyondTheWindowIsRefused) {
  TunnelCredit c(4096);
  ASSERT_TRUE(c.on_received(4000).ok());
  ASSERT_TRUE(c.on_received(96).ok());
  EXPECT_EQ(c.on_received(1).reason(), Reason::protocol_violation);
  EXPECT_EQ(c.bytes_received(), 4096u) << "the refused bytes are not counted";
}

TEST(TunnelCredit, CreditIsRenewedOnceHalfTheWindowIsPassedOn) {
  TunnelCredit c(4096);
  ASSERT_TRUE(c.on_received(4096).ok());
  EXPECT_EQ(c.held(), 4096u);
  EXPECT_EQ(c.on_passed_on(2047), 0u) << "less than half passed on";
  EXPECT_EQ(c.on_passed_on(1), 2048u) << "half: the passed-on bytes are granted again";
  EXPECT_EQ(c.held(), 2048u);
  ASSERT_TRUE(c.on_received(2048).ok());
  EXPECT_EQ(c.on_received(1).reason(), Reason::protocol_violation);
  EXPECT_EQ(c.on_passed_on(4096), 4096u);
}

// Early data (section 6): up to 4096 bytes behind OPEN, counted against the
// window the acceptor grants in OPEN_OK, even when that window is smaller.
TEST(TunnelCredit, EarlyDataCountsAgainstTheWindowGrantedInOpenOk) {
  TunnelCredit opener(65536);
  opener.allow_early_data();
  EXPECT_EQ(opener.sendable(), kTunnelMaxEarlyData);
  opener.on_sent(kTunnelMaxEarlyData);
  opener.on_peer_window(2048);  // a microcontroller's OPEN_OK
  EXPECT_EQ(opener.sendable(), 0u) << "the early bytes overran the window";
  ASSERT_TRUE(opener.on_window(2048).ok());
  EXPECT_EQ(opener.sendable(), 0u) << "the first increment pays the overrun back";
  ASSERT_TRUE(opener.on_window(1000).ok());
  EXPECT_EQ(opener.sendable(), 1000u);

  TunnelCredit acceptor(2048);
  acceptor.accept_early_data();
  ASSERT_TRUE(acceptor.on_received(kTunnelMaxEarlyData).ok()) << "early data beyond the small window is allowed";
  EXPECT_EQ(acceptor.on_received(1).reason(), Reason::protocol_violation) << "but no more than 4096";
  EXPECT_EQ(acceptor.on_passed_on(kTunnelMaxEarlyData), 0u) << "no WINDOW before OPEN_OK";
  acceptor.end_early_data();
  EXPECT_EQ(acceptor.on_received(1).reason(), Reason::protocol_violation) << "the window is spent";
  EXPECT_EQ(acceptor.on_passed_on(0), 4096u) << "everything passed on: a whole window beyond it";
  ASSERT_TRUE(acceptor.on_received(2048).ok());

  TunnelCredit large(65536);
  large.accept_early_data();
  EXPECT_EQ(large.on_received(kTunnelMaxEarlyData + 1).reason(), Reason::protocol_violation)
      << "before OPEN_OK, 4096 however large the window to come";
  ASSERT_TRUE(large.on_received(kTunnelMaxEarlyData).ok());
  large.end_early_data();
  EXPECT_TRUE(large.on_received(65536 - kTunnelMaxEarlyData).ok()) << "then the window";
}

// The server may send early data until OPEN_OK reaches it: a device that
// answers OPEN quickly (its local service is near) sends OPEN_OK while the
// rest of the early data is still on the wire, and must still take it.
TEST(TunnelCredit, EarlyDataStillInFlightWhenOpenOkGoesOutIsTaken) {
  TunnelCredit acceptor(2048);
  acceptor.accept_early_data();
  ASSERT_TRUE(acceptor.on_received(100).ok());
  acceptor.end_early_data();  // OPEN_OK sent; 3996 early bytes are on their way
  ASSERT_TRUE(acceptor.on_received(kTunnelMaxEarlyData - 100).ok()) << "still early: the server had no window yet";
  EXPECT_EQ(acceptor.held(), kTunnelMaxEarlyData) << "held within max(window, 4096)";
  EXPECT_EQ(acceptor.on_received(1).reason(), Reason::protocol_violation) << "beyond 4096 and the window: flow_control";
  EXPECT_EQ(acceptor.on_passed_on(kTunnelMaxEarlyData), 4096u) << "all passed on: a whole window beyond it";
  EXPECT_TRUE(acceptor.on_received(2048).ok());
  EXPECT_EQ(acceptor.on_received(1).reason(), Reason::protocol_violation);
}

// Both ends driven together over random sizes and a random pace of the
// receiver's reader: the receiver never holds more than its window, the
// sender never sends what the receiver would refuse, and every byte arrives.
TEST(TunnelCredit, BothEndsTogetherNeverExceedTheWindow) {
  std::mt19937 rng(7);
  for (uint32_t window : {1u, 2u, 3u, 2048u, 4096u, 65536u}) {
    TunnelCredit sender(65536), receiver(window);
    sender.on_peer_window(window);
    uint64_t to_send = 1 << 20, arrived = 0;
    while (arrived < (1u << 20)) {
      const size_t n = std::min<size_t>({sender.sendable(), to_send, std::uniform_int_distribution<size_t>(1, kTunnelMaxData)(rng)});
      if (n > 0) {
        sender.on_sent(n);
        to_send -= n;
        ASSERT_TRUE(receiver.on_received(n).ok()) << "window " << window;
        arrived += n;
      }
      ASSERT_LE(receiver.held(), window);
      const size_t read = std::uniform_int_distribution<size_t>(0, receiver.held())(rng);
      if (uint32_t more = receiver.on_passed_on(read)) {
        ASSERT_TRUE(sender.on_window(more).ok());
      }
      ASSERT_LE(receiver.held() + sender.sendable(), window) << "held plus in flight";
    }
    EXPECT_EQ(sender.bytes_sent(), 1u << 20);
  }
}

}  // namespace
}  // namespace sublink
