/* lwIP's port header for sublink targets (GCC with newlib or glibc): the
 * C library provides the integer types and errno values; diagnostics are
 * compiled out; a failed assertion goes to the board through
 * sublink_lwip_assert (lwip_hooks.h), which reports it and stops. */
#ifndef SUBLINK_LWIP_ARCH_CC_H
#define SUBLINK_LWIP_ARCH_CC_H

#include <stdint.h>

#include "lwip_hooks.h"

#define LWIP_PLATFORM_DIAG(x) do { } while (0)
/* Without the assertion's message: the file and line name it (the text is
 * at that line of lwIP's source), and the messages would be 5 KB of
 * strings in a small image. */
#define LWIP_PLATFORM_ASSERT(x) sublink_lwip_assert("failed", __FILE__, __LINE__)
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_NO_CTYPE_H 0

#endif
