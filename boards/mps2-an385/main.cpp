#include "boards/mps2-an385/board_exit.h"
#include "boards/mps2-an385/cmsdk_uart.h"
#include "boards/mps2-an385/console.h"
#include "boards/mps2-an385/semihosting.h"
#include "boards/mps2-an385/systick_clock.h"

using namespace sublink;
using namespace sublink::mps2;

int main() {
  uart_init();
  SysTickClock clock;
  char cmdline[256];
  int n = semihosting::command_line(cmdline);
  ConsoleLine().add("boot; cmdline ").add(n >= 0 ? std::string_view(cmdline, static_cast<size_t>(n)) : "?").emit();
  ConsoleLine().add("host time ").add_utc(int64_t{semihosting::host_time()} * 1000).emit();
  Millis start = clock.now_ms();
  while (clock.now_ms() - start < 200) __asm__ volatile("wfi");
  ConsoleLine().add("200 ms later: ").add_int(clock.now_ms()).emit();
  board_exit(7, "boot test");
}
