// One tunnel channel's flow control (PROTOCOL.md section 6), the same at
// both ends: the credit this side may still spend sending DATA, granted by
// the peer, and the credit this side granted for receiving, renewed as the
// bytes are passed on. Only DATA payload counts.
//
// Driving it (the device's side of a channel; the server's mirrors it):
//   TunnelCredit c(window);            // the window this side grants
//   c.accept_early_data();             // OPEN arrived: up to 4096 bytes ride behind it
//   c.on_peer_window(open.credit);     // the server's window, from OPEN
//   ... send OPEN_OK with `window`, then c.end_early_data();
//   DATA in:   if (!c.on_received(n).ok()) RST flow_control
//   passed on: if (uint32_t more = c.on_passed_on(n)) send WINDOW(more)
//   sending:   n = min(c.sendable(), bytes queued); send DATA; c.on_sent(n)
//   WINDOW in: if (!c.on_window(inc).ok()) RST flow_control
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/status.h"

namespace sublink {

class TunnelCredit {
 public:
  /// `receive_window`: the window this side grants the peer (1..2^31-1).
  explicit TunnelCredit(uint32_t receive_window);

  // --- sending -------------------------------------------------------------
  /// The opener, before the peer's window is known (OPEN sent, OPEN_OK not
  /// yet back): up to kTunnelMaxEarlyData may go out behind OPEN.
  void allow_early_data();
  /// The peer's window (OPEN_OK for the opener, OPEN for the other side).
  /// Early data already sent counts against it; when it exceeded the window
  /// nothing more is sendable until WINDOW increments cover it.
  void on_peer_window(uint32_t window);
  /// A WINDOW increment: flow_control when it is 0 or lifts the credit
  /// still unspent above 2^31-1 (the channel is then reset).
  [[nodiscard]] Status on_window(uint32_t increment);
  /// Payload bytes that may be sent now.
  size_t sendable() const;
  /// `n` payload bytes were sent (at most sendable()).
  void on_sent(size_t n);

  // --- receiving -----------------------------------------------------------
  /// The acceptor, from OPEN until its OPEN_OK is sent: up to
  /// kTunnelMaxEarlyData may arrive before the window is granted.
  void accept_early_data();
  /// OPEN_OK was sent: what arrived early stays counted against the window,
  /// and early data the peer sent before OPEN_OK reached it (in flight now)
  /// is still taken, up to kTunnelMaxEarlyData in all.
  void end_early_data();
  /// DATA of `n` payload bytes arrived: flow_control when beyond what this
  /// side granted (the channel is then reset).
  [[nodiscard]] Status on_received(size_t n);
  /// `n` received bytes were passed on (to the local socket, or the
  /// operator). Returns the WINDOW increment to send now, or 0: credit is
  /// renewed once half the window is free again. What this side holds plus
  /// what the peer may still send never exceeds the window (early data
  /// aside), which bounds the channel's receive memory.
  [[nodiscard]] uint32_t on_passed_on(size_t n);

  /// Bytes received and not yet passed on: what this side holds.
  uint64_t held() const { return received_ - passed_on_; }
  uint64_t bytes_sent() const { return sent_; }
  uint64_t bytes_received() const { return received_; }
  uint32_t receive_window() const { return window_; }

 private:
  uint32_t window_;
  // Sending: totals since the channel opened (64 bits: a channel may carry
  // more than 4 GiB).
  uint64_t peer_granted_ = 0;
  uint64_t sent_ = 0;
  // Receiving.
  uint64_t granted_;
  uint64_t received_ = 0;
  uint64_t passed_on_ = 0;
  uint64_t early_limit_ = 0;
  bool accepting_early_ = false;
};

}  // namespace sublink
