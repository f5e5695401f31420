#include "boards/mps2-an385/cmsdk_uart.h"

#include <cstdint>

namespace sublink::mps2 {

namespace {

struct CmsdkUart {
  volatile uint32_t data;
  volatile uint32_t state;     // bit 0: transmit buffer full
  volatile uint32_t ctrl;      // bit 0: transmit enable
  volatile uint32_t intstatus;
  volatile uint32_t bauddiv;   // at least 16
};

CmsdkUart& uart0() { return *reinterpret_cast<CmsdkUart*>(0x40004000u); }

constexpr uint32_t kTxFull = 1u << 0;
constexpr uint32_t kTxEnable = 1u << 0;

}  // namespace

void uart_init() {
  uart0().bauddiv = 16;
  uart0().ctrl = kTxEnable;
}

void uart_write(std::string_view text) {
  for (char c : text) {
    while (uart0().state & kTxFull) {
    }
    uart0().data = static_cast<uint8_t>(c);
  }
}

}  // namespace sublink::mps2
