// The few C library system calls newlib needs on this board: the heap
// (_sbrk over the linker's bounded .heap region, with its high-water mark),
// console output for anything that writes to stdout or stderr, and the
// exit path; and the C library functions the board replaces to keep them
// out of the image: abort(), assert() and strtod(). Files are not opened
// through the C library: board code uses semihosting directly, so the
// other calls fail.
#include <errno.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>

#include "boards/mps2-an385/board_exit.h"
#include "boards/mps2-an385/cmsdk_uart.h"
#include "boards/mps2-an385/console.h"
#include "boards/mps2-an385/decimal_number.h"
#include "boards/mps2-an385/heap_monitor.h"

extern "C" uint8_t __heap_start[];
extern "C" uint8_t __heap_end[];

namespace {
uint8_t* g_break = __heap_start;
}

namespace sublink::mps2 {

size_t heap_used_bytes() { return static_cast<size_t>(g_break - __heap_start); }
size_t heap_size_bytes() { return static_cast<size_t>(__heap_end - __heap_start); }

}  // namespace sublink::mps2

extern "C" {

void* _sbrk(ptrdiff_t increment) {
  if (increment > __heap_end - g_break || increment < __heap_start - g_break) {
    errno = ENOMEM;
    return reinterpret_cast<void*>(-1);
  }
  uint8_t* previous = g_break;
  g_break += increment;
  return previous;
}

int _write(int fd, const char* data, int size) {
  if (fd != 1 && fd != 2) {
    errno = EBADF;
    return -1;
  }
  sublink::mps2::uart_write({data, static_cast<size_t>(size)});
  return size;
}

int _read(int, char*, int) {
  errno = EBADF;
  return -1;
}

int _close(int) {
  errno = EBADF;
  return -1;
}

int _lseek(int, int, int) {
  errno = ESPIPE;
  return -1;
}

int _fstat(int, struct stat* st) {
  st->st_mode = S_IFCHR;
  return 0;
}

int _isatty(int fd) { return fd <= 2; }

int _getpid() { return 1; }

// time() has no source here: the board's wall clock is the SNTP clock the
// TLS layer and the agent are given (Mbed TLS only keeps time() as the
// default it replaces at start-up).
int _gettimeofday(struct timeval*, void*) {
  errno = ENOSYS;
  return -1;
}

int _kill(int, int) {
  sublink::mps2::board_exit(sublink::mps2::kExitFault, "abort");
}

// abort() (a failed allocation, a corrupted TLS arena) and failed assert()s
// end the run as a fault directly: newlib's versions go through signal
// handling and stdio's FILE machinery to say the same.
void abort() { sublink::mps2::board_exit(sublink::mps2::kExitFault, "abort"); }

// cJSON's numbers: see decimal_number.h.
double strtod(const char* text, char** end) {
  const char* stop = text;
  const double value = sublink::mps2::parse_decimal(text, &stop);
  if (end != nullptr) *end = const_cast<char*>(stop);
  return value;
}

void __assert_func(const char* file, int line, const char*, const char* expression) {
  sublink::mps2::ConsoleLine()
      .add("assertion ")
      .add(expression)
      .add(" failed at ")
      .add(file)
      .add(":")
      .add_int(line)
      .emit();
  sublink::mps2::board_exit(sublink::mps2::kExitFault, "assertion");
}

void _exit(int status) { sublink::mps2::board_exit(status, "exit"); }

}  // extern "C"
