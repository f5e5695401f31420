#include "boards/mps2-an385/semihosting_nor_flash.h"

#include <cstring>

namespace sublink::mps2 {

namespace {
Status image_error() { return Status(Reason::io_error, flash_detail::kImageFile); }
Status misaligned() { return Status(Reason::io_error, flash_detail::kMisaligned); }
}  // namespace

SemihostingNorFlash::SemihostingNorFlash(std::span<uint8_t> cells, NorGeometry geometry)
    : cells_(cells.first(geometry.size() <= cells.size() ? geometry.size() : cells.size())), geometry_(geometry) {
  if (cells_.size() < geometry.size()) geometry_.sector_count = cells_.size() / geometry.sector_size;
}

SemihostingNorFlash::~SemihostingNorFlash() {
  if (image_ >= 0) semihosting::close(image_);
}

Status SemihostingNorFlash::attach_image(std::string_view path, bool& created) {
  if (image_ >= 0) semihosting::close(image_);
  const size_t size = geometry_.size();
  created = false;
  image_ = semihosting::open(path, semihosting::Mode::read_write_binary);
  if (image_ >= 0 && semihosting::length(image_) == static_cast<long>(size)) {
    const long n = semihosting::read(image_, cells_.first(size));
    if (n != static_cast<long>(size)) return image_error();
    return Status::Ok();
  }
  // Missing or of another size (another layout): a fresh, erased part.
  if (image_ >= 0) semihosting::close(image_);
  image_ = semihosting::open(path, semihosting::Mode::create_read_write_binary);
  if (image_ < 0) return image_error();
  std::memset(cells_.data(), 0xFF, size);
  created = true;
  return persist(0, size);
}

Status SemihostingNorFlash::persist(size_t offset, size_t size) {
  if (image_ < 0) return Status::Ok();  // RAM only: the records last until reset
  if (!semihosting::seek(image_, offset)) return image_error();
  if (!semihosting::write(image_, cells_.subspan(offset, size))) return image_error();
  return Status::Ok();
}

Status SemihostingNorFlash::read(size_t offset, std::span<uint8_t> out) {
  if (offset > geometry_.size() || out.size() > geometry_.size() - offset) return misaligned();
  std::memcpy(out.data(), cells_.data() + offset, out.size());
  return Status::Ok();
}

Status SemihostingNorFlash::program(size_t offset, std::span<const uint8_t> data) {
  const size_t w = geometry_.word_size;
  if (offset % w != 0 || data.size() % w != 0 || offset > geometry_.size() ||
      data.size() > geometry_.size() - offset) {
    return misaligned();
  }
  // A real part silently ANDs; a bit going from 0 back to 1 is a bug in
  // the caller, reported before anything changes.
  for (size_t i = 0; i < data.size(); ++i) {
    if ((cells_[offset + i] & data[i]) != data[i]) return Status(Reason::io_error, flash_detail::kNotErased);
  }
  for (size_t i = 0; i < data.size(); ++i) cells_[offset + i] &= data[i];
  return persist(offset, data.size());
}

Status SemihostingNorFlash::erase_sector(size_t sector) {
  if (sector >= geometry_.sector_count) return misaligned();
  const size_t offset = sector * geometry_.sector_size;
  std::memset(cells_.data() + offset, 0xFF, geometry_.sector_size);
  return persist(offset, geometry_.sector_size);
}

}  // namespace sublink::mps2
