#include "boards/mps2-an385/stack_monitor.h"

#include <cstdint>

extern "C" uint32_t __stack_bottom[];
extern "C" uint32_t __stack_top[];

namespace sublink::mps2 {

namespace {
constexpr uint32_t kPaint = 0x5AB5C0DEu;
}

void paint_stack() {
  uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  // Leave the words just below sp alone: this function's own frame.
  for (uint32_t* p = __stack_bottom; p < sp - 16; ++p) *p = kPaint;
}

size_t stack_peak_bytes() {
  const uint32_t* p = __stack_bottom;
  while (p < __stack_top && *p == kPaint) ++p;
  return static_cast<size_t>(reinterpret_cast<const uint8_t*>(__stack_top) - reinterpret_cast<const uint8_t*>(p));
}

size_t stack_size_bytes() {
  return static_cast<size_t>(reinterpret_cast<const uint8_t*>(__stack_top) -
                             reinterpret_cast<const uint8_t*>(__stack_bottom));
}

}  // namespace sublink::mps2
