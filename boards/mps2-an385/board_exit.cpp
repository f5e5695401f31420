#include "boards/mps2-an385/board_exit.h"

#include "boards/mps2-an385/console.h"
#include "boards/mps2-an385/heap_monitor.h"
#include "boards/mps2-an385/semihosting.h"
#include "boards/mps2-an385/stack_monitor.h"
#include "net/tls/tls_arena.h"

namespace sublink::mps2 {

void board_exit(int status, std::string_view why) {
  ConsoleLine().add("tls_arena_peak ").add_uint(TlsArena::peak_bytes()).emit();
  ConsoleLine().add("stack_peak ").add_uint(stack_peak_bytes()).emit();
  ConsoleLine().add("heap_peak ").add_uint(heap_used_bytes()).emit();
  ConsoleLine().add("exit ").add_int(status).add(" ").add(why).emit();
  semihosting::exit(status);
}

}  // namespace sublink::mps2
