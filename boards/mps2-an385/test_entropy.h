// INSECURE, TEST-ONLY randomness for the mps2-an385 board, which has no
// hardware entropy source. TLS keys, WebSocket masks and TCP sequence
// numbers drawn from it are guessable by anyone who can estimate the boot
// time: it exists so the real agent can be tested under QEMU, and nowhere
// else. The board only builds with -DSUBLINK_INSECURE_TEST_ENTROPY=ON,
// which is a configure error in a release build (see README.md), and the
// console banner says so on every boot.
#pragma once

#include <cstdint>
#include <span>

#include "hal/random.h"

#if !defined(SUBLINK_INSECURE_TEST_ENTROPY)
#error "test_entropy.h is for test builds only (-DSUBLINK_INSECURE_TEST_ENTROPY=ON)"
#endif

namespace sublink::mps2 {

class InsecureTestEntropy final : public Random {
 public:
  /// Seeds from what varies between runs on an emulator: the host's clock
  /// (semihosting SYS_TIME and SYS_CLOCK), the jitter of SysTick across
  /// semihosting traps (host scheduling), the Ethernet chip's free-running
  /// counter and its MAC address, hashed with SHA-256. Call after the
  /// SysTick clock started.
  InsecureTestEntropy();

  /// SHA-256 in counter mode over the seed: uniform-looking, not secret.
  Status fill(std::span<uint8_t> out) override;

 private:
  uint8_t seed_[32] = {};
  uint64_t counter_ = 0;
};

}  // namespace sublink::mps2
