// Reset and exception entry of the mps2-an385 image: the vector table the
// core reads at address 0, RAM set-up before any C++ runs, and the fault
// handlers, which report on the console and end the run (a fault on a test
// board is a failed test, not something to limp on from).
#include <cstdint>

#include "boards/mps2-an385/board_exit.h"
#include "boards/mps2-an385/console.h"
#include "boards/mps2-an385/stack_monitor.h"

extern "C" {
extern uint32_t __data_load[];
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];
extern uint32_t __stack_top[];
void __libc_init_array();
int main();
void reset_handler();
void systick_handler();
void lan9118_irq_handler();
void fault_handler();
}

namespace {

const char* exception_name(uint32_t number) {
  switch (number) {
    case 2: return "nmi";
    case 3: return "hardfault";
    case 4: return "memmanage";
    case 5: return "busfault";
    case 6: return "usagefault";
    default: return "unexpected interrupt";
  }
}

}  // namespace

// Every fault and unexpected interrupt: the frame the core stacked, to
// report the exception number and the PC it interrupted.
extern "C" [[noreturn]] void fault_report(const uint32_t* frame) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  const uint32_t number = ipsr & 0x1FFu;
  sublink::mps2::ConsoleLine()
      .add(exception_name(number))
      .add(" (exception ")
      .add_uint(number)
      .add(") at pc ")
      .add_uint(frame[6])
      .emit();
  sublink::mps2::board_exit(sublink::mps2::kExitFault, exception_name(number));
}

extern "C" __attribute__((naked)) void fault_handler() { __asm__ volatile("mrs r0, msp\n b fault_report"); }

namespace {

using Handler = void (*)();

constexpr int kIrqCount = 32;  // AN385: external interrupts 0..31
constexpr int kLan9118Irq = 13;

struct VectorTable {
  void* initial_sp;
  Handler system[15];
  Handler irq[kIrqCount];
};

constexpr VectorTable make_table() {
  VectorTable t{};
  t.initial_sp = __stack_top;
  Handler system[15] = {reset_handler, fault_handler, fault_handler, fault_handler, fault_handler,
                        fault_handler, nullptr,       nullptr,       nullptr,       nullptr,
                        fault_handler, fault_handler, nullptr,       fault_handler, systick_handler};
  for (int i = 0; i < 15; ++i) t.system[i] = system[i];
  for (int i = 0; i < kIrqCount; ++i) t.irq[i] = i == kLan9118Irq ? lan9118_irq_handler : fault_handler;
  return t;
}

}  // namespace

// newlib's __libc_init_array calls these around the init arrays; with
// -nostartfiles there is no crti.o to provide them, and nothing to do.
// Static destructors never run (the image ends through semihosting), but
// registering them with __cxa_atexit needs the handle.
extern "C" {
void* __dso_handle = nullptr;
}

extern "C" void _init() {}
extern "C" void _fini() {}

__attribute__((section(".isr_vector"), used)) const VectorTable g_vectors = make_table();

extern "C" void reset_handler() {
  for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (uint32_t* p = __bss_start; p < __bss_end;) *p++ = 0;
  // Usage, bus and memory faults get their own handlers rather than all
  // escalating to HardFault (SCB->SHCSR).
  *reinterpret_cast<volatile uint32_t*>(0xE000ED24u) |= (1u << 16) | (1u << 17) | (1u << 18);
  sublink::mps2::paint_stack();
  __libc_init_array();
  main();
  sublink::mps2::board_exit(sublink::mps2::kExitFault, "main returned");
}
