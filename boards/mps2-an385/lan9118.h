// The board's Ethernet: an SMSC LAN9118 (QEMU models it at 0x40200000,
// interrupt 13) as an lwIP netif. Frames go through the chip's FIFOs word
// by word (programmed I/O, no DMA); the interrupt only says "frames
// arrived" and the loop moves them into lwIP, so lwIP never runs in an
// interrupt.
#pragma once

#include <cstdint>

struct netif;

namespace sublink::mps2 {

class Lan9118 {
 public:
  /// Resets the chip, reads its MAC address, enables transmit and receive
  /// and the receive interrupt, and adds it to lwIP as the default netif
  /// (IPv4 address, mask and gateway all zero until DHCP or set_static()).
  /// False when the chip does not answer (no NIC on the machine).
  bool start(netif& nif);

  /// Moves every received frame into lwIP (netif->input). Call from the
  /// loop; returns the number of frames taken.
  unsigned poll(netif& nif);

  /// True when the interrupt reported frames since the last poll().
  static bool frames_pending();

  const uint8_t* mac() const { return mac_; }

 private:
  uint8_t mac_[6] = {};
};

}  // namespace sublink::mps2
