/* What lwIP, built with the project's lwipopts.h, calls outside itself.
 * net/lwip/lwip_hooks.cpp implements them by forwarding to what the board
 * installed there (sublink::install_lwip_random, install_lwip_sntp_clock);
 * the board implements sys_now() and sublink_lwip_assert. Plain C: lwIP is
 * C code. */
#ifndef SUBLINK_LWIP_HOOKS_H
#define SUBLINK_LWIP_HOOKS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** 32 random bits (DNS query ids, ephemeral ports, TCP sequence numbers). */
uint32_t sublink_lwip_random(void);

/** SNTP got an answer: `sec` seconds and `us` microseconds since 1970 UTC. */
void sublink_lwip_sntp_time(uint32_t sec, uint32_t us);

/** The time SNTP stamps its request with (only echoed back by the server,
 * so an unset clock is fine). */
void sublink_lwip_sntp_now(uint32_t* sec, uint32_t* us);

/** A failed lwIP assertion: reports `what` at `file`:`line` and does not
 * return. Implemented by the board. */
void sublink_lwip_assert(const char* what, const char* file, int line) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
