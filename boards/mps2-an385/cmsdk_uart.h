// The console: UART0 of the mps2 board (ARM CMSDK APB UART at 0x40004000),
// which QEMU connects to its standard output with -nographic. Transmit
// only, polled: console lines are short and rare.
#pragma once

#include <string_view>

namespace sublink::mps2 {

/// Enables the transmitter. Call once at boot, before any write.
void uart_init();
/// Writes `text` as is, waiting while the transmit buffer is full.
void uart_write(std::string_view text);

}  // namespace sublink::mps2
