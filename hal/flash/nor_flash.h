// Raw NOR flash as a board exposes it: erase a sector to all 0xFF, program
// aligned words (programming can only clear bits), read anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "hal/status.h"

namespace sublink {

/// Shape of a flash region. Offsets passed to NorFlash are relative to the
/// region start; the region is sector_count * sector_size bytes.
struct NorGeometry {
  size_t sector_size = 4096;  // erase unit in bytes
  size_t word_size = 4;       // program unit in bytes (power of two)
  size_t sector_count = 0;

  size_t size() const { return sector_size * sector_count; }
};

/// Details (with Reason::io_error) that flash backends report. Negative so
/// they never collide with an errno; distinct from the storage reasons' wire
/// numbers (storage_wire_detail).
namespace flash_detail {
/// A program or erase outside the region, or not word-aligned.
inline constexpr int32_t kMisaligned = -1101;
/// A program tried to turn a 0 bit back into 1 without an erase.
inline constexpr int32_t kNotErased = -1102;
/// The simulated power went off; nothing more happens until it is restored.
inline constexpr int32_t kPowerLost = -1103;
/// The backing image file could not be read or written (detail of errno
/// comes from the platform when it has one).
inline constexpr int32_t kImageFile = -1104;
}  // namespace flash_detail

class NorFlash {
 public:
  virtual ~NorFlash() = default;

  virtual NorGeometry geometry() const = 0;

  /// Reads `out.size()` bytes at `offset` (any alignment).
  virtual Status read(size_t offset, std::span<uint8_t> out) = 0;

  /// Programs `data` at `offset`; both offset and size are multiples of the
  /// word size. Each word may be programmed once after an erase: bits can go
  /// from 1 to 0 only. Blocks until the words are programmed.
  virtual Status program(size_t offset, std::span<const uint8_t> data) = 0;

  /// Sets every byte of sector `sector` to 0xFF. Blocks until erased.
  virtual Status erase_sector(size_t sector) = 0;
};

}  // namespace sublink
