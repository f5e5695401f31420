// The board's NOR flash: a memory-mapped region (the top of SSRAM1, as a
// real part is mapped into the code space), with the rules of NOR enforced
// (program only on erased words, erase whole sectors), backed by a file on
// the host through semihosting so the records survive QEMU runs: loaded at
// boot, every program and erase written through before it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "boards/mps2-an385/semihosting.h"
#include "hal/flash/nor_flash.h"

namespace sublink::mps2 {

class SemihostingNorFlash final : public NorFlash {
 public:
  /// `cells` is the mapped region (not owned), `geometry.size()` bytes.
  SemihostingNorFlash(std::span<uint8_t> cells, NorGeometry geometry);
  ~SemihostingNorFlash() override;
  SemihostingNorFlash(const SemihostingNorFlash&) = delete;
  SemihostingNorFlash& operator=(const SemihostingNorFlash&) = delete;

  /// Backs the flash by the host file at `path`: loads it when it exists
  /// with the flash's exact size, else starts erased (all 0xFF) and creates
  /// it. io_error with flash_detail::kImageFile when the file cannot be
  /// opened, read or written. `created` says which case it was.
  Status attach_image(std::string_view path, bool& created);

  NorGeometry geometry() const override { return geometry_; }
  Status read(size_t offset, std::span<uint8_t> out) override;
  Status program(size_t offset, std::span<const uint8_t> data) override;
  Status erase_sector(size_t sector) override;

 private:
  Status persist(size_t offset, size_t size);

  std::span<uint8_t> cells_;
  NorGeometry geometry_;
  semihosting::Handle image_ = -1;
};

}  // namespace sublink::mps2
