#include "boards/mps2-an385/systick_clock.h"

#include "lwip/arch.h"

namespace sublink::mps2 {

namespace {

struct SysTick {
  volatile uint32_t ctrl;
  volatile uint32_t load;
  volatile uint32_t val;
  volatile uint32_t calib;
};
SysTick& systick() { return *reinterpret_cast<SysTick*>(0xE000E010u); }

constexpr uint32_t kEnable = 1u << 0;
constexpr uint32_t kTickInt = 1u << 1;
constexpr uint32_t kCpuClock = 1u << 2;

// Written by the interrupt only; read with the interrupt masked, since a
// 64-bit store is two instructions on Cortex-M3.
volatile uint64_t g_ticks = 0;

}  // namespace

SysTickClock::SysTickClock() {
  systick().load = kCpuHz / 1000 - 1;
  systick().val = 0;
  systick().ctrl = kEnable | kTickInt | kCpuClock;
}

Millis uptime_ms() {
  uint32_t primask;
  __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
  const uint64_t t = g_ticks;
  __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
  return static_cast<Millis>(t);
}

Millis SysTickClock::now_ms() { return uptime_ms(); }

uint32_t SysTickClock::sub_tick() { return systick().val; }

}  // namespace sublink::mps2

extern "C" void systick_handler() { sublink::mps2::g_ticks = sublink::mps2::g_ticks + 1; }

// lwIP's time base (NO_SYS=1): the low 32 bits; lwIP's timers handle the wrap.
extern "C" u32_t sys_now(void) { return static_cast<u32_t>(sublink::mps2::uptime_ms()); }
