// A Random that is reproducible from a seed, for the virtual-time
// simulation and tests: the same seed gives the same run. Not for devices.
#pragma once

#include <cstdint>

#include "hal/random.h"

namespace sublink {

class DeterministicRandom final : public Random {
 public:
  explicit DeterministicRandom(uint64_t seed);
  Status fill(std::span<uint8_t> out) override;
  uint64_t next();

 private:
  uint64_t s_[4];
};

}  // namespace sublink
