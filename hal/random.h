// Randomness for the core: WebSocket keys and masks, backoff jitter, TLS.
#pragma once

#include <cstdint>
#include <span>

#include "hal/status.h"

namespace sublink {

/// A source of cryptographically strong random bytes. Backends: getrandom(2)
/// on Linux, a hardware TRNG on a board, a seeded generator in the
/// simulation (deterministic from the seed).
class Random {
 public:
  virtual ~Random() = default;
  /// Fills `out` completely or fails.
  virtual Status fill(std::span<uint8_t> out) = 0;

  /// A uniform value in [0, bound] (inclusive); 0 when bound is 0.
  uint64_t uniform(uint64_t bound);
};

}  // namespace sublink
