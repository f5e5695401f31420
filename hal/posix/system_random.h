// Linux backend of the Random facade: the kernel CSPRNG.
#pragma once

#include "hal/random.h"

namespace sublink {

class SystemRandom final : public Random {
 public:
  /// getrandom(2); blocks only before the kernel pool is first seeded.
  Status fill(std::span<uint8_t> out) override;
};

}  // namespace sublink
