#include "boards/mps2-an385/lan9118.h"

#include <cstring>

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

namespace sublink::mps2 {

namespace {

// Register offsets (LAN9118 data sheet, 32-bit bus).
constexpr uint32_t kBase = 0x40200000u;
constexpr uint32_t kRxDataFifo = 0x00;
constexpr uint32_t kTxDataFifo = 0x20;
constexpr uint32_t kRxStatusFifo = 0x40;
constexpr uint32_t kIdRev = 0x50;
constexpr uint32_t kIrqCfg = 0x54;
constexpr uint32_t kIntSts = 0x58;
constexpr uint32_t kIntEn = 0x5C;
constexpr uint32_t kByteTest = 0x64;
constexpr uint32_t kTxCfg = 0x70;
constexpr uint32_t kHwCfg = 0x74;
constexpr uint32_t kRxFifoInf = 0x7C;
constexpr uint32_t kTxFifoInf = 0x80;
constexpr uint32_t kPmtCtrl = 0x84;
constexpr uint32_t kTxStatusFifo = 0x48;
constexpr uint32_t kMacCsrCmd = 0xA4;
constexpr uint32_t kMacCsrData = 0xA8;

// MAC registers, reached through MAC_CSR_CMD/DATA.
constexpr uint32_t kMacCr = 1;
constexpr uint32_t kMacAddrH = 2;
constexpr uint32_t kMacAddrL = 3;

constexpr uint32_t kCsrBusy = 1u << 31;
constexpr uint32_t kCsrRead = 1u << 30;
constexpr uint32_t kMacCrTxEn = 1u << 3;
constexpr uint32_t kMacCrRxEn = 1u << 2;
constexpr uint32_t kHwCfgSoftReset = 1u << 0;
constexpr uint32_t kPmtReady = 1u << 0;
constexpr uint32_t kTxOn = 1u << 1;
constexpr uint32_t kIrqEnable = 1u << 8;
constexpr uint32_t kIrqActiveHigh = 1u << 4;
constexpr uint32_t kIrqPushPull = 1u << 0;
constexpr uint32_t kIntRxStatusLevel = 1u << 3;  // RSFL: a frame's status is waiting
constexpr uint32_t kRxErrorSummary = 1u << 15;
constexpr uint32_t kTxFirstSegment = 1u << 13;
constexpr uint32_t kTxLastSegment = 1u << 12;
constexpr uint32_t kByteTestValue = 0x87654321u;

constexpr int kIrqNumber = 13;
constexpr size_t kMaxFrame = 1536;

volatile uint32_t& reg(uint32_t offset) { return *reinterpret_cast<volatile uint32_t*>(kBase + offset); }
// A read for its side effect (popping a FIFO).
uint32_t load(uint32_t offset) { return reg(offset); }

uint32_t mac_read(uint32_t index) {
  reg(kMacCsrCmd) = kCsrBusy | kCsrRead | index;
  while (reg(kMacCsrCmd) & kCsrBusy) {
  }
  return reg(kMacCsrData);
}

void mac_write(uint32_t index, uint32_t value) {
  reg(kMacCsrData) = value;
  reg(kMacCsrCmd) = kCsrBusy | index;
  while (reg(kMacCsrCmd) & kCsrBusy) {
  }
}

volatile bool g_frames_pending = false;

// One frame at a time through this word-aligned buffer: the FIFOs move
// 32-bit words, lwIP's pbuf chains are byte-aligned pieces.
uint32_t g_frame[kMaxFrame / 4];

err_t transmit(netif* /*nif*/, pbuf* p) {
  if (p->tot_len > kMaxFrame) return ERR_BUF;
  const uint16_t length = pbuf_copy_partial(p, g_frame, p->tot_len, 0);
  const uint32_t words = (length + 3u) / 4u;
  // Wait for room (2 command words + data): the FIFO drains at wire speed.
  while ((reg(kTxFifoInf) & 0xFFFFu) < words * 4u + 8u) {
  }
  reg(kTxDataFifo) = kTxFirstSegment | kTxLastSegment | length;  // command A
  reg(kTxDataFifo) = (uint32_t{length} << 16) | length;         // command B: tag, length
  for (uint32_t i = 0; i < words; ++i) reg(kTxDataFifo) = g_frame[i];
  // Nobody reads per-frame transmit status: drain it so it never fills.
  while ((reg(kTxFifoInf) >> 16) & 0xFFu) (void)load(kTxStatusFifo);
  return ERR_OK;
}

err_t netif_setup(netif* nif) {
  nif->name[0] = 'e';
  nif->name[1] = 'n';
  nif->output = etharp_output;
  nif->linkoutput = transmit;
  nif->mtu = 1500;
  nif->hwaddr_len = ETH_HWADDR_LEN;
  nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  return ERR_OK;
}

}  // namespace

bool Lan9118::start(netif& nif) {
  if (reg(kByteTest) != kByteTestValue) return false;
  (void)load(kIdRev);
  reg(kHwCfg) = kHwCfgSoftReset;
  for (int i = 0; i < 100000 && (reg(kHwCfg) & kHwCfgSoftReset); ++i) {
  }
  for (int i = 0; i < 100000 && !(reg(kPmtCtrl) & kPmtReady); ++i) {
  }
  if (!(reg(kPmtCtrl) & kPmtReady)) return false;

  const uint32_t low = mac_read(kMacAddrL);
  const uint32_t high = mac_read(kMacAddrH);
  for (int i = 0; i < 4; ++i) mac_[i] = static_cast<uint8_t>(low >> (8 * i));
  mac_[4] = static_cast<uint8_t>(high);
  mac_[5] = static_cast<uint8_t>(high >> 8);

  // Unicast to us plus broadcast (ARP, DHCP offers): clears promiscuous.
  mac_write(kMacCr, kMacCrTxEn | kMacCrRxEn);
  reg(kTxCfg) = kTxOn;
  reg(kIntSts) = 0xFFFFFFFFu;
  reg(kIntEn) = kIntRxStatusLevel;
  reg(kIrqCfg) = kIrqEnable | kIrqActiveHigh | kIrqPushPull;
  // NVIC: enable the line.
  reinterpret_cast<volatile uint32_t*>(0xE000E100u)[kIrqNumber / 32] = 1u << (kIrqNumber % 32);

  if (netif_add(&nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, nullptr, netif_setup, ethernet_input) == nullptr) {
    return false;
  }
  std::memcpy(nif.hwaddr, mac_, sizeof mac_);
  netif_set_default(&nif);
  netif_set_link_up(&nif);
  netif_set_up(&nif);
  return true;
}

unsigned Lan9118::poll(netif& nif) {
  g_frames_pending = false;
  unsigned frames = 0;
  while ((reg(kRxFifoInf) >> 16) & 0xFFu) {
    const uint32_t status = reg(kRxStatusFifo);
    const uint32_t length = (status >> 16) & 0x3FFFu;  // with the 4-byte FCS
    const uint32_t words = (length + 3u) / 4u;
    const bool usable = !(status & kRxErrorSummary) && length > 4 && length <= kMaxFrame;
    for (uint32_t i = 0; i < words; ++i) {
      const uint32_t w = reg(kRxDataFifo);
      if (usable) g_frame[i] = w;
    }
    if (!usable) continue;
    const uint16_t frame_length = static_cast<uint16_t>(length - 4);
    pbuf* p = pbuf_alloc(PBUF_RAW, frame_length, PBUF_POOL);
    if (p == nullptr) continue;  // out of buffers: the frame is lost, TCP resends
    pbuf_take(p, g_frame, frame_length);
    if (nif.input(p, &nif) != ERR_OK) pbuf_free(p);
    ++frames;
  }
  return frames;
}

bool Lan9118::frames_pending() { return g_frames_pending; }

}  // namespace sublink::mps2

// Interrupt 13: note the frames and acknowledge; the loop moves them.
extern "C" void lan9118_irq_handler() {
  sublink::mps2::reg(sublink::mps2::kIntSts) = sublink::mps2::kIntRxStatusLevel;
  sublink::mps2::g_frames_pending = true;
}
