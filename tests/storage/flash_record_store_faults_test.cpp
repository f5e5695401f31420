// FlashRecordStore when the flash part misbehaves while powered: a read that
// fails (a bus error, a busy part), cells that change between the scan and
// the read, a worn sector that does not hold the bits programmed, and flash
// images damaged in the ways a scan has to tell apart. Each must give the
// part's own error or fall back to an intact value; never a mix of two
// values, never "nothing stored" for a record that was written.
#include <gtest/gtest.h>

#include <functional>

#include "hal/flash/flash_record_store.h"
#include "hal/flash/sim_nor_flash.h"
#include "storage/storage_script.h"

namespace sublink {
namespace {

using test::pattern;

constexpr NorGeometry kGeometry{256, 4, 20};  // 300-byte records: 2 sectors per slot
constexpr FlashLayout kLayout{0, 5, 300};
constexpr Status kBusError{Reason::io_error, 5};

// A SimNorFlash whose reads can fail, and whose programs can be altered on
// their way to the cells.
class FaultyFlash : public NorFlash {
 public:
  explicit FaultyFlash(SimNorFlash& cells) : cells_(cells) {}

  /// The `nth` (1-based) read from now on fails with kBusError.
  void fail_read(int nth) { failing_read_ = nth; }
  /// Called before each read reaches the cells, with the read's offset and size.
  std::function<void(size_t, size_t)> before_read;
  /// Called with each program's data; may change what reaches the cells.
  std::function<void(size_t, std::vector<uint8_t>&)> on_program;
  int reads = 0;

  NorGeometry geometry() const override { return cells_.geometry(); }
  Status read(size_t offset, std::span<uint8_t> out) override {
    ++reads;
    if (before_read) before_read(offset, out.size());
    if (failing_read_ > 0 && --failing_read_ == 0) return kBusError;
    return cells_.read(offset, out);
  }
  Status program(size_t offset, std::span<const uint8_t> data) override {
    std::vector<uint8_t> bytes(data.begin(), data.end());
    if (on_program) on_program(offset, bytes);
    return cells_.program(offset, bytes);
  }
  Status erase_sector(size_t sector) override { return cells_.erase_sector(sector); }

 private:
  SimNorFlash& cells_;
  int failing_read_ = 0;
};

class FlashFaults : public ::testing::Test {
 protected:
  Result<std::vector<uint8_t>> read(RecordId id) {
    std::vector<uint8_t> buffer(kLayout.max_record_size);
    Result<size_t> got = store_.read(id, buffer);
    if (!got.ok()) return got.status();
    buffer.resize(*got);
    return buffer;
  }
  std::vector<uint8_t> value(RecordId id) {
    Result<std::vector<uint8_t>> got = read(id);
    EXPECT_TRUE(got.ok()) << "detail " << got.status().detail();
    return got.ok() ? *got : std::vector<uint8_t>{};
  }
  // Byte offset of `slot` (0 = A, 1 = B) of `id` in kLayout.
  static size_t slot_at(RecordId id, int slot) {
    return (static_cast<size_t>(id) * 2 + static_cast<size_t>(slot)) * 2 * kGeometry.sector_size;
  }

  SimNorFlash cells_{kGeometry};
  FaultyFlash flash_{cells_};
  FlashRecordStore store_{flash_, kLayout};
};

// A read of the part failing at any point of a record's read or write (the
// scan of either slot, a payload CRC, the erased check, the copy out, the
// read-back after programming) is that error, as it is: never "corrupt"
// (the agent would set the record aside) nor "nothing stored".
TEST_F(FlashFaults, EveryFailedFlashReadIsThePartsErrorAndLosesNothing) {
  const auto v1 = pattern(120, 1);
  ASSERT_TRUE(store_.write(RecordId::license, v1).ok());
  flash_.reads = 0;
  ASSERT_EQ(value(RecordId::license), v1);
  const int reads_per_read = flash_.reads;
  ASSERT_GE(reads_per_read, 5);
  for (int nth = 1; nth <= reads_per_read; ++nth) {
    flash_.fail_read(nth);
    EXPECT_EQ(read(RecordId::license).status(), kBusError) << "read " << nth << " of " << reads_per_read;
  }
  // The second write of a record, from the same starting point each time.
  const auto v2 = pattern(120, 2);
  auto second_write = [&](int failing_read, int* reads) {
    SimNorFlash cells(kGeometry);
    FaultyFlash flash(cells);
    FlashRecordStore store(flash, kLayout);
    EXPECT_TRUE(store.write(RecordId::license, v1).ok());
    flash.reads = 0;
    flash.fail_read(failing_read);
    const Status s = store.write(RecordId::license, v2);
    if (reads) *reads = flash.reads;
    std::vector<uint8_t> buffer(kLayout.max_record_size);
    Result<size_t> got = store.read(RecordId::license, buffer);
    EXPECT_TRUE(got.ok()) << "read " << failing_read;
    buffer.resize(got.ok() ? *got : 0);
    return std::make_pair(s, buffer);
  };
  int reads_per_write = 0;
  ASSERT_TRUE(second_write(0, &reads_per_write).first.ok());
  ASSERT_GE(reads_per_write, 5);
  for (int nth = 1; nth <= reads_per_write; ++nth) {
    const auto [status, now] = second_write(nth, nullptr);
    EXPECT_EQ(status, kBusError) << "read " << nth << " of " << reads_per_write;
    // A failed read before programming leaves the previous value; one in
    // the read-back comes after the entry was committed.
    EXPECT_TRUE(now == v1 || now == v2) << "read " << nth;
  }
}

// Cells that change between the scan and the copy out (a disturbed read, a
// failing part) are caught by checking the bytes handed out again.
TEST_F(FlashFaults, ACellChangingAfterTheScanIsCorruptNeverAMixedValue) {
  const auto v1 = pattern(100, 1);
  ASSERT_TRUE(store_.write(RecordId::grace, v1).ok());
  const size_t payload = slot_at(RecordId::grace, 0) + flash_entry::header_size(4);
  flash_.before_read = [&](size_t offset, size_t size) {
    // The copy out reads the whole payload at once, the scan's CRC in 64-byte chunks.
    if (offset == payload && size == v1.size()) cells_.raw()[payload + 10] ^= 0x01;
  };
  Result<std::vector<uint8_t>> got = read(RecordId::grace);
  EXPECT_TRUE(is_corrupt(got.status())) << got.status().detail();
}

// A worn sector that does not hold what was programmed must not report the
// write as done; the record still reads as the value before it, and the
// reader is told that a newer entry was there.
TEST_F(FlashFaults, AWornSectorThatDropsBitsFailsTheWriteAndKeepsThePreviousValue) {
  const auto v1 = pattern(40, 1);
  ASSERT_TRUE(store_.write(RecordId::usage, v1).ok());
  const auto v2 = pattern(40, 2);
  size_t at = 0;
  while (v2[at] == 0) ++at;
  const uint8_t stuck = static_cast<uint8_t>(v2[at] & -v2[at]);  // its lowest set bit
  flash_.on_program = [&](size_t, std::vector<uint8_t>& bytes) {
    if (bytes == v2) bytes[at] &= static_cast<uint8_t>(~stuck);  // one payload bit stuck at 0
  };
  EXPECT_TRUE(is_corrupt(store_.write(RecordId::usage, v2)));
  flash_.on_program = nullptr;
  EXPECT_EQ(value(RecordId::usage), v1);
  EXPECT_TRUE(store_.read_fell_back(RecordId::usage));
  ASSERT_TRUE(store_.write(RecordId::usage, pattern(40, 3)).ok());
  EXPECT_EQ(value(RecordId::usage), pattern(40, 3));
  EXPECT_FALSE(store_.read_fell_back(RecordId::usage));
}

// Garbage in the second slot of a record never written is something stored
// that does not check out: corrupt, not a fresh device.
TEST_F(FlashFaults, GarbageOnlyInTheSecondSlotIsCorrupt) {
  cells_.raw()[slot_at(RecordId::boot, 1) + 300] = 0x00;
  EXPECT_TRUE(is_corrupt(read(RecordId::boot).status()));
  // The next write still works and is read back.
  ASSERT_TRUE(store_.write(RecordId::boot, pattern(8, 1)).ok());
  EXPECT_EQ(value(RecordId::boot), pattern(8, 1));
}

// Once the log moved to slot B and slot A's entries are all damaged, writes
// go on appending in B (the slot that holds the value), numbered past every
// committed header A still has.
TEST_F(FlashFaults, WritesContinueInTheSecondSlotWhenTheFirstHoldsNothingValid) {
  uint32_t tag = 1;
  // 200-byte entries: 2 fit a 512-byte slot with their headers (3 do not).
  for (; tag <= 3; ++tag) ASSERT_TRUE(store_.write(RecordId::events, pattern(200, tag)).ok());
  const size_t a = slot_at(RecordId::events, 0), b = slot_at(RecordId::events, 1);
  const size_t entry = flash_entry::header_size(4) + 200;
  ASSERT_NE(cells_.raw()[b], 0xFF) << "the third write moved to slot B";
  // Damage the payload of both entries in A: headers stay committed.
  cells_.raw()[a + flash_entry::header_size(4)] ^= 0x01;
  cells_.raw()[a + entry + flash_entry::header_size(4)] ^= 0x01;
  EXPECT_EQ(value(RecordId::events), pattern(200, 3));
  ASSERT_TRUE(store_.write(RecordId::events, pattern(200, 4)).ok());
  EXPECT_EQ(value(RecordId::events), pattern(200, 4));
  EXPECT_NE(cells_.raw()[b + entry], 0xFF) << "appended in B after its first entry";
  EXPECT_FALSE(store_.read_fell_back(RecordId::events));
}

// Junk after the last committed entry (a write cut inside its header
// fields) is never programmed over: the next write erases the other slot
// and goes there, and the value before it stays readable throughout.
TEST_F(FlashFaults, JunkAfterTheLastEntryMovesTheNextWriteToTheOtherSlot) {
  const auto v1 = pattern(20, 1);
  ASSERT_TRUE(store_.write(RecordId::grace, v1).ok());
  const size_t a = slot_at(RecordId::grace, 0), b = slot_at(RecordId::grace, 1);
  const size_t end = flash_entry::header_size(4) + 20;
  cells_.raw()[a + end + 1] = 0x53;  // a torn first word of the next header
  EXPECT_EQ(value(RecordId::grace), v1);
  const auto v2 = pattern(20, 2);
  ASSERT_TRUE(store_.write(RecordId::grace, v2).ok());
  EXPECT_NE(cells_.raw()[b], 0xFF) << "written to slot B";
  EXPECT_EQ(cells_.raw()[a + end + 1], 0x53) << "slot A untouched";
  EXPECT_EQ(value(RecordId::grace), v2);
}

// The geometry and layout are checked once: a flash the store cannot drive
// is refused with invalid_argument, by read and write alike, before any
// flash access.
TEST(FlashRecordStoreGeometry, AGeometryTheStoreCannotDriveIsRefused) {
  struct Case {
    const char* what;
    NorGeometry geometry;
    FlashLayout layout;
  };
  const Case cases[] = {
      {"word size 0", {256, 0, 20}, kLayout},
      {"word size not a power of two", {256, 3, 20}, kLayout},
      {"word size above the largest supported", {4096, 64, 20}, kLayout},
      {"sector size 0", {0, 4, 20}, kLayout},
      {"sector not a whole number of words", {250, 8, 20}, kLayout},
      {"more records than ids", {256, 4, 200}, {0, kMaxRecordIds + 1, 300}},
  };
  for (const Case& c : cases) {
    SimNorFlash cells({256, 4, 20});
    FaultyFlash probe(cells);
    struct Shaped : NorFlash {
      NorGeometry shape;
      FaultyFlash& inner;
      Shaped(NorGeometry g, FaultyFlash& f) : shape(g), inner(f) {}
      NorGeometry geometry() const override { return shape; }
      Status read(size_t o, std::span<uint8_t> out) override { return inner.read(o, out); }
      Status program(size_t o, std::span<const uint8_t> d) override { return inner.program(o, d); }
      Status erase_sector(size_t s) override { return inner.erase_sector(s); }
    } flash(c.geometry, probe);
    FlashRecordStore store(flash, c.layout);
    EXPECT_EQ(store.layout_status(), Status(Reason::invalid_argument)) << c.what;
    std::vector<uint8_t> buffer(300);
    EXPECT_EQ(store.read(RecordId::license, buffer).status(), Status(Reason::invalid_argument)) << c.what;
    EXPECT_EQ(store.write(RecordId::license, pattern(4, 1)), Status(Reason::invalid_argument)) << c.what;
    EXPECT_EQ(probe.reads, 0) << c.what;
  }
  // sectors_needed() tells a board how much flash to reserve, whatever the geometry says.
  EXPECT_EQ(FlashRecordStore::sectors_needed({0, 0, 0}, kLayout), 0u);
}

}  // namespace
}  // namespace sublink
