#include "hal/flash/sim_nor_flash.h"

#include <cstring>

namespace sublink {

SimNorFlash::SimNorFlash(NorGeometry geometry, uint64_t seed)
    : geometry_(geometry),
      cells_(new uint8_t[geometry.size()]),
      erase_counts_(new uint32_t[geometry.sector_count]()),
      rng_(seed ^ 0x9E3779B97F4A7C15ull) {
  std::memset(cells_.get(), 0xFF, geometry_.size());
}

SimNorFlash::~SimNorFlash() {
  if (image_ != nullptr) std::fclose(image_);
}

Status SimNorFlash::attach_image(const char* path) {
  if (image_ != nullptr) std::fclose(image_);
  image_ = std::fopen(path, "r+b");
  if (image_ != nullptr) {
    std::fseek(image_, 0, SEEK_END);
    const long length = std::ftell(image_);
    std::fseek(image_, 0, SEEK_SET);
    const bool fits = length >= 0 && static_cast<size_t>(length) == geometry_.size() &&
                      std::fread(cells_.get(), 1, geometry_.size(), image_) == geometry_.size();
    // An image of another geometry is not trusted: start from an erased part.
    if (!fits) std::memset(cells_.get(), 0xFF, geometry_.size());
  } else {
    image_ = std::fopen(path, "w+b");
    if (image_ == nullptr) return Status(Reason::io_error, flash_detail::kImageFile);
  }
  persist(0, geometry_.size());
  return std::ferror(image_) ? Status(Reason::io_error, flash_detail::kImageFile) : Status::Ok();
}

void SimNorFlash::persist(size_t offset, size_t size) {
  if (image_ == nullptr) return;
  std::fseek(image_, static_cast<long>(offset), SEEK_SET);
  std::fwrite(cells_.get() + offset, 1, size, image_);
  std::fflush(image_);
}

uint8_t SimNorFlash::noise() {
  // splitmix64: cheap, seeded, good enough to make leftover bits look random.
  uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<uint8_t>(z ^ (z >> 31));
}

bool SimNorFlash::take_operation() {
  if (budget_ == 0) {
    power_lost_ = true;
    return false;
  }
  if (budget_ != UINT64_MAX) --budget_;
  ++operations_;
  return true;
}

void SimNorFlash::cut_power_after(uint64_t operations) { budget_ = operations; }

void SimNorFlash::restore_power() {
  power_lost_ = false;
  budget_ = UINT64_MAX;
}

uint32_t SimNorFlash::erase_count(size_t sector) const {
  return sector < geometry_.sector_count ? erase_counts_[sector] : 0;
}

Status SimNorFlash::read(size_t offset, std::span<uint8_t> out) {
  if (power_lost_) return Status(Reason::io_error, flash_detail::kPowerLost);
  if (offset > geometry_.size() || out.size() > geometry_.size() - offset) {
    return Status(Reason::io_error, flash_detail::kMisaligned);
  }
  std::memcpy(out.data(), cells_.get() + offset, out.size());
  return Status::Ok();
}

Status SimNorFlash::program(size_t offset, std::span<const uint8_t> data) {
  if (power_lost_) return Status(Reason::io_error, flash_detail::kPowerLost);
  const size_t w = geometry_.word_size;
  if (offset % w != 0 || data.size() % w != 0 || offset > geometry_.size() ||
      data.size() > geometry_.size() - offset) {
    return Status(Reason::io_error, flash_detail::kMisaligned);
  }
  for (size_t i = 0; i < data.size(); i += w) {
    uint8_t* cell = cells_.get() + offset + i;
    for (size_t k = 0; k < w; ++k) {
      if ((cell[k] & data[i + k]) != data[i + k]) {
        // A real part would AND the bits and keep going; the simulation
        // reports it, because it is always a bug in the caller.
        return Status(Reason::io_error, flash_detail::kNotErased);
      }
    }
    if (!take_operation()) {
      // Cut mid-program: some of the bits meant to clear did.
      for (size_t k = 0; k < w; ++k) cell[k] &= static_cast<uint8_t>(data[i + k] | noise());
      persist(offset + i, w);
      return Status(Reason::io_error, flash_detail::kPowerLost);
    }
    for (size_t k = 0; k < w; ++k) cell[k] &= data[i + k];
    ++total_programs_;
    persist(offset + i, w);
  }
  return Status::Ok();
}

Status SimNorFlash::erase_sector(size_t sector) {
  if (power_lost_) return Status(Reason::io_error, flash_detail::kPowerLost);
  if (sector >= geometry_.sector_count) return Status(Reason::io_error, flash_detail::kMisaligned);
  uint8_t* cells = cells_.get() + sector * geometry_.sector_size;
  if (!take_operation()) {
    // Cut mid-erase: some cells already reached 1, the rest did not.
    for (size_t k = 0; k < geometry_.sector_size; ++k) cells[k] |= noise();
    persist(sector * geometry_.sector_size, geometry_.sector_size);
    return Status(Reason::io_error, flash_detail::kPowerLost);
  }
  std::memset(cells, 0xFF, geometry_.sector_size);
  ++erase_counts_[sector];
  ++total_erases_;
  persist(sector * geometry_.sector_size, geometry_.sector_size);
  return Status::Ok();
}

}  // namespace sublink
