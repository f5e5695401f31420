// A NOR flash in RAM for the simulation, tests, and QEMU runs: it enforces
// the NOR rules a real part silently gets wrong for you (programming a 0 back
// to 1 is reported, not ignored), counts erase cycles per sector (wear), can
// persist to an image file, and can lose power in the middle of an operation
// the way a real part does: a half-programmed word or a half-erased sector
// with unpredictable bits.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>

#include "hal/flash/nor_flash.h"

namespace sublink {

class SimNorFlash : public NorFlash {
 public:
  /// An erased flash of `geometry`, allocated here (set-up time). `seed`
  /// drives the bits left by interrupted operations, so runs repeat.
  explicit SimNorFlash(NorGeometry geometry, uint64_t seed = 1);
  ~SimNorFlash() override;
  SimNorFlash(const SimNorFlash&) = delete;
  SimNorFlash& operator=(const SimNorFlash&) = delete;

  /// Backs the flash by the image file at `path`: loads it when it exists
  /// and has the right size (else starts erased and creates it), then writes
  /// every later program and erase through to it, so state persists across
  /// runs (semihosting on QEMU, a host file in the simulation).
  Status attach_image(const char* path);

  NorGeometry geometry() const override { return geometry_; }
  Status read(size_t offset, std::span<uint8_t> out) override;
  Status program(size_t offset, std::span<const uint8_t> data) override;
  Status erase_sector(size_t sector) override;

  /// Power-cut injection: `operations` more word programs or sector erases
  /// complete, the next one is interrupted half-way, and from then on every
  /// operation (reads included) fails with kPowerLost until restore_power().
  void cut_power_after(uint64_t operations);
  /// Powers the part back on (a reboot); cancels a pending cut.
  void restore_power();
  bool power_lost() const { return power_lost_; }

  /// Word programs plus sector erases completed since construction; used to
  /// size an exhaustive power-cut sweep.
  uint64_t operations() const { return operations_; }
  /// Erase cycles of one sector since construction (wear).
  uint32_t erase_count(size_t sector) const;
  uint64_t total_erases() const { return total_erases_; }
  uint64_t total_word_programs() const { return total_programs_; }

  /// Direct access to the cells, bypassing NOR rules and power state, for
  /// tests that flip bits to model retention loss.
  std::span<uint8_t> raw() { return {cells_.get(), geometry_.size()}; }

 private:
  bool take_operation();  // false: this operation is the interrupted one
  uint8_t noise();
  void persist(size_t offset, size_t size);

  NorGeometry geometry_;
  std::unique_ptr<uint8_t[]> cells_;
  std::unique_ptr<uint32_t[]> erase_counts_;
  uint64_t rng_;
  uint64_t operations_ = 0;
  uint64_t total_erases_ = 0;
  uint64_t total_programs_ = 0;
  uint64_t budget_ = UINT64_MAX;  // operations left before the cut
  bool power_lost_ = false;
  std::FILE* image_ = nullptr;
};

}  // namespace sublink
