#include "hal/flash/sim_nor_flash.h"

#include <gtest/gtest.h>

#include <vector>

#include "support/process.h"

namespace sublink {
namespace {

constexpr NorGeometry kGeometry{256, 4, 8};

std::vector<uint8_t> read_all(SimNorFlash& flash, size_t offset, size_t size) {
  std::vector<uint8_t> out(size);
  EXPECT_TRUE(flash.read(offset, out).ok());
  return out;
}

TEST(SimNorFlash, StartsErasedAndProgramsOnlyClearBits) {
  SimNorFlash flash(kGeometry);
  EXPECT_EQ(read_all(flash, 0, kGeometry.size()), std::vector<uint8_t>(kGeometry.size(), 0xFF));
  const uint8_t word[4] = {0x0F, 0xF0, 0x00, 0xAA};
  ASSERT_TRUE(flash.program(8, word).ok());
  EXPECT_EQ(read_all(flash, 8, 4), std::vector<uint8_t>(word, word + 4));
  // Clearing more bits of the same word is what NOR can do.
  const uint8_t fewer[4] = {0x0E, 0xF0, 0x00, 0x0A};
  EXPECT_TRUE(flash.program(8, fewer).ok());
  // Turning a 0 back into 1 is what NOR cannot do: reported, cells unchanged.
  const uint8_t back[4] = {0xFF, 0xF0, 0x00, 0x0A};
  Status s = flash.program(8, back);
  EXPECT_EQ(s, Status(Reason::io_error, flash_detail::kNotErased));
  EXPECT_EQ(read_all(flash, 8, 4), std::vector<uint8_t>(fewer, fewer + 4));
}

TEST(SimNorFlash, RejectsMisalignedAndOutOfRangeOperations) {
  SimNorFlash flash(kGeometry);
  const uint8_t word[4] = {0, 0, 0, 0};
  EXPECT_EQ(flash.program(2, word), Status(Reason::io_error, flash_detail::kMisaligned));
  EXPECT_EQ(flash.program(0, std::span<const uint8_t>(word, 3)),
            Status(Reason::io_error, flash_detail::kMisaligned));
  EXPECT_EQ(flash.program(kGeometry.size(), word),
            Status(Reason::io_error, flash_detail::kMisaligned));
  EXPECT_EQ(flash.erase_sector(kGeometry.sector_count),
            Status(Reason::io_error, flash_detail::kMisaligned));
  uint8_t out[8];
  EXPECT_FALSE(flash.read(kGeometry.size() - 4, out).ok());
  EXPECT_FALSE(flash.read(SIZE_MAX - 2, out).ok());
}

TEST(SimNorFlash, EraseRestoresOneSectorAndCountsWear) {
  SimNorFlash flash(kGeometry);
  std::vector<uint8_t> zeros(kGeometry.size(), 0);
  ASSERT_TRUE(flash.program(0, zeros).ok());
  ASSERT_TRUE(flash.erase_sector(1).ok());
  ASSERT_TRUE(flash.erase_sector(1).ok());
  EXPECT_EQ(read_all(flash, 256, 256), std::vector<uint8_t>(256, 0xFF));
  EXPECT_EQ(read_all(flash, 0, 256), std::vector<uint8_t>(256, 0x00));
  EXPECT_EQ(read_all(flash, 512, 256), std::vector<uint8_t>(256, 0x00));
  EXPECT_EQ(flash.erase_count(1), 2u);
  EXPECT_EQ(flash.erase_count(0), 0u);
  EXPECT_EQ(flash.total_erases(), 2u);
  EXPECT_EQ(flash.total_word_programs(), kGeometry.size() / 4);
}

TEST(SimNorFlash, CutMidProgramLeavesSomeBitsAndStopsEverything) {
  SimNorFlash flash(kGeometry, 7);
  std::vector<uint8_t> zeros(64, 0);
  flash.cut_power_after(5);
  EXPECT_EQ(flash.program(0, zeros), Status(Reason::io_error, flash_detail::kPowerLost));
  EXPECT_TRUE(flash.power_lost());
  uint8_t out[4];
  EXPECT_EQ(flash.read(0, out), Status(Reason::io_error, flash_detail::kPowerLost));
  EXPECT_FALSE(flash.erase_sector(0).ok());
  flash.restore_power();
  EXPECT_EQ(read_all(flash, 0, 20), std::vector<uint8_t>(20, 0x00));  // five whole words
  const auto torn = read_all(flash, 20, 4);                           // the interrupted one
  EXPECT_NE(torn, std::vector<uint8_t>(4, 0x00));
  EXPECT_EQ(read_all(flash, 24, 40), std::vector<uint8_t>(40, 0xFF));  // never started
  EXPECT_EQ(flash.operations(), 5u);
}

TEST(SimNorFlash, CutMidEraseLeavesANeitherErasedNorProgrammedSector) {
  SimNorFlash flash(kGeometry, 3);
  std::vector<uint8_t> zeros(256, 0);
  ASSERT_TRUE(flash.program(0, zeros).ok());
  flash.cut_power_after(0);
  EXPECT_FALSE(flash.erase_sector(0).ok());
  flash.restore_power();
  const auto cells = read_all(flash, 0, 256);
  EXPECT_NE(cells, std::vector<uint8_t>(256, 0xFF));
  EXPECT_NE(cells, std::vector<uint8_t>(256, 0x00));
  // Only an erase makes the sector programmable again.
  ASSERT_TRUE(flash.erase_sector(0).ok());
  EXPECT_TRUE(flash.program(0, zeros).ok());
}

TEST(SimNorFlash, SameSeedSameTornBits) {
  std::vector<uint8_t> first;
  for (int run = 0; run < 2; ++run) {
    SimNorFlash flash(kGeometry, 42);
    flash.cut_power_after(0);
    std::vector<uint8_t> zeros(4, 0);
    EXPECT_FALSE(flash.program(0, zeros).ok());
    flash.restore_power();
    auto cells = read_all(flash, 0, 4);
    if (run == 0) first = cells;
    else EXPECT_EQ(cells, first);
  }
}

TEST(SimNorFlash, ImageFilePersistsAcrossInstances) {
  test::TempDir dir;
  const std::string image = dir.file("flash.img");
  {
    SimNorFlash flash(kGeometry);
    ASSERT_TRUE(flash.attach_image(image.c_str()).ok());
    const uint8_t word[4] = {1, 2, 3, 4};
    ASSERT_TRUE(flash.program(300, word).ok());
  }
  SimNorFlash again(kGeometry);
  ASSERT_TRUE(again.attach_image(image.c_str()).ok());
  EXPECT_EQ(read_all(again, 300, 4), (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(read_all(again, 0, 4), std::vector<uint8_t>(4, 0xFF));
  // An image of another size is not trusted: the part starts erased.
  SimNorFlash other(NorGeometry{256, 4, 4});
  ASSERT_TRUE(other.attach_image(image.c_str()).ok());
  EXPECT_EQ(read_all(other, 300, 4), std::vector<uint8_t>(4, 0xFF));
  EXPECT_FALSE(SimNorFlash(kGeometry).attach_image("/nonexistent-dir/flash.img").ok());
}

}  // namespace
}  // namespace sublink
