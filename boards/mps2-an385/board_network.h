// The board's network as an appliance installer configures it: the LAN9118
// under lwIP with a static address and default route or DHCP, the DNS
// servers (configured ones win, then DHCP's, then 8.8.8.8), and the wall
// clock from SNTP (or from the debugger host when configured so). Prints
// the "ip" and "time synced" milestones.
#pragma once

#include <cstdint>

#include "boards/mps2-an385/board_config.h"
#include "boards/mps2-an385/lan9118.h"
#include "hal/clock.h"
#include "lwip/netif.h"
#include "net/lwip/sntp_wall_clock.h"

namespace sublink::mps2 {

class BoardNetwork {
 public:
  /// Brings lwIP and the NIC up with `config` (which must outlive this).
  /// SNTP starts once the address is known. False when there is no NIC.
  bool start(const BoardConfig& config, SntpWallClock& clock);

  /// Moves received frames into lwIP, runs lwIP's timers, and reports the
  /// address and the first time answer when they arrive.
  void poll();

  /// Milliseconds until lwIP's next timer (at most `limit`).
  Millis sleep_ms(Millis limit) const;

  /// True once the interface has an address.
  bool has_address() const { return address_reported_; }
  /// True once the wall clock is set (certificate checks can start).
  bool time_known() const;

 private:
  void on_address();
  void apply_dns();

  const BoardConfig* config_ = nullptr;
  SntpWallClock* clock_ = nullptr;
  Lan9118 nic_;
  netif netif_{};
  bool address_reported_ = false;
  unsigned answers_reported_ = 0;
  char ntp_name_[kMaxConfigServer + 1] = {};
};

}  // namespace sublink::mps2
