// Installing what lwIP's hooks (config/lwip_hooks.h) forward to: the random
// source and the clock SNTP sets. One lwIP stack per program, so these are
// process-wide, like lwIP itself.
#pragma once

#include "hal/random.h"
#include "net/lwip/sntp_wall_clock.h"

namespace sublink {

/// LWIP_RAND() draws from `random` (nullptr: lwIP gets zeros, which only a
/// test may accept). Must outlive its use.
void install_lwip_random(Random* random);

/// SNTP answers set `clock`; nullptr drops them. Must outlive its use.
void install_lwip_sntp_clock(SntpWallClock* clock);

}  // namespace sublink
