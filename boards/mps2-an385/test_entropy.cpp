#include "boards/mps2-an385/test_entropy.h"

#include <cstring>

#include "boards/mps2-an385/semihosting.h"
#include "boards/mps2-an385/systick_clock.h"
#include "mbedtls/sha256.h"

namespace sublink::mps2 {

namespace {

// LAN9118 FREE_RUN: a 25 MHz counter of QEMU's virtual clock, and the MAC
// address registers (through MAC_CSR). Read directly: entropy is gathered
// before the netif exists.
uint32_t lan9118_free_run() { return *reinterpret_cast<volatile uint32_t*>(0x4020009Cu); }

void absorb(mbedtls_sha256_context& sha, uint32_t value) {
  uint8_t b[4];
  std::memcpy(b, &value, sizeof b);
  mbedtls_sha256_update_ret(&sha, b, sizeof b);
}

}  // namespace

InsecureTestEntropy::InsecureTestEntropy() {
  mbedtls_sha256_context sha;
  mbedtls_sha256_init(&sha);
  mbedtls_sha256_starts_ret(&sha, 0);
  absorb(sha, semihosting::host_time());
  // Each trap leaves the emulator for the host; how long that takes shows
  // in the sub-millisecond SysTick count and the chip's counter.
  for (int i = 0; i < 64; ++i) {
    absorb(sha, semihosting::host_clock());
    absorb(sha, SysTickClock::sub_tick());
    absorb(sha, lan9118_free_run());
    absorb(sha, static_cast<uint32_t>(uptime_ms()));
  }
  mbedtls_sha256_finish_ret(&sha, seed_);
  mbedtls_sha256_free(&sha);
}

Status InsecureTestEntropy::fill(std::span<uint8_t> out) {
  while (!out.empty()) {
    uint8_t block[32];
    uint8_t input[sizeof seed_ + sizeof counter_];
    std::memcpy(input, seed_, sizeof seed_);
    std::memcpy(input + sizeof seed_, &counter_, sizeof counter_);
    ++counter_;
    if (mbedtls_sha256_ret(input, sizeof input, block, 0) != 0) return Status(Reason::io_error, 0);
    const size_t n = out.size() < sizeof block ? out.size() : sizeof block;
    std::memcpy(out.data(), block, n);
    out = out.subspan(n);
  }
  return Status::Ok();
}

}  // namespace sublink::mps2
