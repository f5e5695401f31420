#include "hal/random.h"

namespace sublink {

uint64_t Random::uniform(uint64_t bound) {
  if (bound == 0) return 0;
  if (bound == UINT64_MAX) bound--;  // keep span below computable
  const uint64_t span = bound + 1;
  // Rejection sampling: no modulo bias.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % span);
  for (;;) {
    uint8_t b[8];
    if (!fill(b).ok()) return 0;
    uint64_t v = 0;
    for (uint8_t x : b) v = (v << 8) | x;
    if (v < limit) return v % span;
  }
}

}  // namespace sublink
