#include "net/lwip/lwip_hooks.h"

#include <cstdint>

#include "lwip_hooks.h"

namespace sublink {

namespace {
Random* g_random = nullptr;
SntpWallClock* g_sntp_clock = nullptr;
}  // namespace

void install_lwip_random(Random* random) { g_random = random; }

void install_lwip_sntp_clock(SntpWallClock* clock) { g_sntp_clock = clock; }

}  // namespace sublink

extern "C" uint32_t sublink_lwip_random(void) {
  uint8_t b[4] = {};
  if (sublink::g_random != nullptr) (void)sublink::g_random->fill(b);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

extern "C" void sublink_lwip_sntp_time(uint32_t sec, uint32_t us) {
  if (sublink::g_sntp_clock == nullptr) return;
  sublink::g_sntp_clock->set(static_cast<sublink::Millis>(sec) * 1000 + us / 1000);
}

extern "C" void sublink_lwip_sntp_now(uint32_t* sec, uint32_t* us) {
  // Only echoed back by the server (SNTP_CHECK_RESPONSE): a random stamp
  // makes a forged answer harder to guess than the real time would.
  *sec = sublink_lwip_random();
  *us = sublink_lwip_random() % 1000000u;
}
