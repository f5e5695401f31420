#include "net/tunnel/tunnel_credit.h"

#include <algorithm>

#include "net/tunnel/tunnel_frame.h"

namespace sublink {

TunnelCredit::TunnelCredit(uint32_t receive_window) : window_(receive_window), granted_(receive_window) {}

void TunnelCredit::allow_early_data() { peer_granted_ = std::max<uint64_t>(peer_granted_, kTunnelMaxEarlyData); }

void TunnelCredit::on_peer_window(uint32_t window) { peer_granted_ = window; }

Status TunnelCredit::on_window(uint32_t increment) {
  if (increment == 0) return Status(Reason::protocol_violation, 0);
  // What is still unspent may be "negative" when early data overran the
  // window; the increment first pays that back.
  const int64_t unspent = static_cast<int64_t>(peer_granted_) - static_cast<int64_t>(sent_);
  if (unspent + static_cast<int64_t>(increment) > static_cast<int64_t>(kTunnelMaxCredit)) {
    return Status(Reason::protocol_violation, static_cast<int32_t>(increment & 0x7FFFFFFF));
  }
  peer_granted_ += increment;
  return Status::Ok();
}

size_t TunnelCredit::sendable() const {
  return peer_granted_ > sent_ ? static_cast<size_t>(std::min<uint64_t>(peer_granted_ - sent_, SIZE_MAX)) : 0;
}

void TunnelCredit::on_sent(size_t n) { sent_ += n; }

void TunnelCredit::accept_early_data() {
  accepting_early_ = true;
  early_limit_ = kTunnelMaxEarlyData;
}

void TunnelCredit::end_early_data() {
  // The peer may send early data until OPEN_OK reaches it, so DATA still in
  // flight when OPEN_OK goes out is early too: up to kTunnelMaxEarlyData in
  // all stays allowed beside the window. What this side holds stays within
  // max(window, kTunnelMaxEarlyData).
  accepting_early_ = false;
}

Status TunnelCredit::on_received(size_t n) {
  // Before OPEN_OK the peer knows no window yet: 4096 bytes, however large
  // the window this side is about to grant.
  const uint64_t limit = accepting_early_ ? early_limit_ : std::max(granted_, early_limit_);
  if (received_ + n > limit) return Status(Reason::protocol_violation, static_cast<int32_t>(n));
  received_ += n;
  return Status::Ok();
}

uint32_t TunnelCredit::on_passed_on(size_t n) {
  passed_on_ += std::min<uint64_t>(n, received_ - passed_on_);
  if (accepting_early_) return 0;  // OPEN_OK carries the window
  // The peer may have at most a window in flight or held here: granted
  // never runs ahead of passed_on + window, which bounds this side's memory
  // for the channel by its window. Renew once half of it is free again.
  const uint64_t target = passed_on_ + window_;
  if (target <= granted_) return 0;
  const uint64_t increment = std::min<uint64_t>(target - granted_, kTunnelMaxCredit);
  if (increment < (uint64_t{window_} + 1) / 2) return 0;
  granted_ += increment;
  return static_cast<uint32_t>(increment);
}

}  // namespace sublink
