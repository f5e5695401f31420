#include "hal/flash/flash_record_store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "firmware/grace/grace_record.h"  // its size only (constants)
#include "hal/flash/sim_nor_flash.h"
#include "storage/storage_script.h"
#include "support/process.h"

namespace sublink {
namespace {

using test::holds_previous_or_new;
using test::kNamedRecords;
using test::pattern;

constexpr NorGeometry kSmall{256, 4, 20};  // 300-byte records: 2 sectors per slot
constexpr FlashLayout kSmallLayout{0, 5, 300};

std::vector<uint8_t> read_value(Storage& s, RecordId id) {
  std::vector<uint8_t> buffer(s.max_record_size());
  Result<size_t> got = s.read(id, buffer);
  EXPECT_TRUE(got.ok()) << record_name(id) << " detail " << got.status().detail();
  if (!got.ok()) return {};
  buffer.resize(*got);
  return buffer;
}

TEST(FlashRecordStore, FreshFlashIsNotFound) {
  SimNorFlash flash(kSmall);
  FlashRecordStore store(flash, kSmallLayout);
  ASSERT_TRUE(store.layout_status().ok());
  std::vector<uint8_t> buffer(300);
  for (RecordId id : kNamedRecords) {
    Result<size_t> got = store.read(id, buffer);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(is_not_found(got.status()));
    EXPECT_FALSE(is_corrupt(got.status()));
  }
}

TEST(FlashRecordStore, RoundTripsAndSurvivesANewInstance) {
  SimNorFlash flash(kSmall);
  {
    FlashRecordStore store(flash, kSmallLayout);
    for (RecordId id : kNamedRecords) {
      ASSERT_TRUE(store.write(id, pattern(10 + 20 * static_cast<size_t>(id), 100)).ok());
    }
  }
  FlashRecordStore again(flash, kSmallLayout);  // a reboot
  for (RecordId id : kNamedRecords) {
    EXPECT_EQ(read_value(again, id), pattern(10 + 20 * static_cast<size_t>(id), 100));
  }
}

TEST(FlashRecordStore, EveryRecordIsIndependent) {
  SimNorFlash flash(kSmall);
  FlashRecordStore store(flash, kSmallLayout);
  for (RecordId id : kNamedRecords) {
    ASSERT_TRUE(store.write(id, pattern(33, static_cast<uint32_t>(id))).ok());
  }
  // Many rewrites of one record, across slot switches, touch no other.
  for (uint32_t i = 0; i < 50; ++i) {
    ASSERT_TRUE(store.write(RecordId::events, pattern(i * 7 % 300, 1000 + i)).ok());
    EXPECT_EQ(read_value(store, RecordId::events), pattern(i * 7 % 300, 1000 + i));
  }
  for (RecordId id : kNamedRecords) {
    if (id == RecordId::events) continue;
    EXPECT_EQ(read_value(store, id), pattern(33, static_cast<uint32_t>(id)));
  }
}

TEST(FlashRecordStore, MaxSizeEmptyAndTooBig) {
  SimNorFlash flash(kSmall);
  FlashRecordStore store(flash, kSmallLayout);
  EXPECT_EQ(store.max_record_size(), 300u);
  ASSERT_TRUE(store.write(RecordId::license, pattern(300, 1)).ok());
  EXPECT_EQ(read_value(store, RecordId::license), pattern(300, 1));
  EXPECT_EQ(store.write(RecordId::license, pattern(301, 2)),
            Status(Reason::storage_too_big));
  EXPECT_EQ(read_value(store, RecordId::license), pattern(300, 1));  // untouched
  std::vector<uint8_t> small(299);
  Result<size_t> got = store.read(RecordId::license, small);
  EXPECT_EQ(got.status(), Status(Reason::storage_too_big));
  ASSERT_TRUE(store.write(RecordId::license, {}).ok());
  got = store.read(RecordId::license, small);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 0u);  // empty is a value, not "not found"
}

TEST(FlashRecordStore, RejectsIdsOutsideTheLayout) {
  SimNorFlash flash(kSmall);
  FlashRecordStore store(flash, FlashLayout{0, 3, 100});
  uint8_t buffer[8];
  const uint8_t value[1] = {1};
  EXPECT_EQ(store.write(RecordId::events, value),
            Status(Reason::storage_bad_record_id));
  EXPECT_EQ(store.read(static_cast<RecordId>(200), buffer).status(),
            Status(Reason::storage_bad_record_id));
  EXPECT_TRUE(store.write(RecordId::usage, value).ok());
}

TEST(FlashRecordStore, ReportsALayoutThatDoesNotFit) {
  SimNorFlash flash(kSmall);
  EXPECT_EQ(FlashRecordStore::sectors_needed(kSmall, kSmallLayout), 20u);
  FlashRecordStore too_big(flash, FlashLayout{1, 5, 300});
  EXPECT_EQ(too_big.layout_status(), Status(Reason::storage_no_space));
  uint8_t buffer[8];
  EXPECT_FALSE(too_big.read(RecordId::license, buffer).ok());
  SimNorFlash odd(NorGeometry{256, 3, 20});
  EXPECT_EQ(FlashRecordStore(odd, kSmallLayout).layout_status().reason(),
            Reason::invalid_argument);
}

TEST(FlashRecordStore, GarbageIsCorruptNotFound) {
  SimNorFlash flash(kSmall);
  FlashRecordStore store(flash, kSmallLayout);
  flash.raw()[5] = 0x12;  // something, but no committed entry, in license slot A
  std::vector<uint8_t> buffer(300);
  EXPECT_TRUE(is_corrupt(store.read(RecordId::license, buffer).status()));
  EXPECT_TRUE(is_not_found(store.read(RecordId::grace, buffer).status()));
  // And a write recovers the record.
  ASSERT_TRUE(store.write(RecordId::license, pattern(20, 5)).ok());
  EXPECT_EQ(read_value(store, RecordId::license), pattern(20, 5));
}

// Flips every bit of the two entries of a record, one at a time: the read
// is always one of the two values, the older one exactly when the newer
// entry was hit, and a following write always works.
TEST(FlashRecordStore, EverySingleBitFlipIsDetectedAndFallsBack) {
  const auto v1 = pattern(37, 1);
  const auto v2 = pattern(50, 2);
  const size_t h = flash_entry::header_size(kSmall.word_size);
  const size_t v2_start = h + 40;  // v1 entry: header + 37 bytes padded to 40
  const size_t v2_end = v2_start + h + 50;
  for (size_t bit = 0; bit < v2_end * 8; ++bit) {
    SimNorFlash flash(kSmall);
    FlashRecordStore store(flash, kSmallLayout);
    ASSERT_TRUE(store.write(RecordId::grace, v1).ok());
    ASSERT_TRUE(store.write(RecordId::grace, v2).ok());
    const size_t grace_slot_a = 2 * 2 * kSmall.sector_size;
    flash.raw()[grace_slot_a + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    const size_t byte = bit / 8;
    const bool padding = (byte >= 24 && byte < h - 4) || (byte >= h + 37 && byte < v2_start) ||
                         (byte >= v2_start + 24 && byte < v2_start + h - 4);
    const auto got = read_value(store, RecordId::grace);
    if (byte >= v2_start && !padding) {
      EXPECT_EQ(got, v1) << "bit " << bit;
      // A damaged payload under a committed header is damage, not a cut
      // write: the reader is told the value it got is not the newest.
      if (byte >= v2_start + h) EXPECT_TRUE(store.read_fell_back(RecordId::grace)) << "bit " << bit;
    } else {
      EXPECT_EQ(got, v2) << "bit " << bit;
      EXPECT_FALSE(store.read_fell_back(RecordId::grace)) << "bit " << bit;
    }
    const auto v3 = pattern(12, 3);
    ASSERT_TRUE(store.write(RecordId::grace, v3).ok()) << "bit " << bit;
    EXPECT_EQ(read_value(store, RecordId::grace), v3) << "bit " << bit;
  }
}

TEST(FlashRecordStore, AFlippedOnlyCopyIsCorrupt) {
  SimNorFlash flash(kSmall);
  FlashRecordStore store(flash, kSmallLayout);
  ASSERT_TRUE(store.write(RecordId::boot, pattern(8, 9)).ok());
  flash.raw()[4 * 2 * 2 * kSmall.sector_size + flash_entry::header_size(4) + 3] ^= 0x10;  // boot, slot A, payload
  std::vector<uint8_t> buffer(300);
  EXPECT_TRUE(is_corrupt(store.read(RecordId::boot, buffer).status()));
}

// Builds a committed entry by hand, as an older firmware or a tool would.
void put_entry(SimNorFlash& flash, size_t offset, RecordId id, uint32_t sequence,
               const std::vector<uint8_t>& payload) {
  const size_t w = flash.geometry().word_size;
  std::vector<uint8_t> bytes(flash_entry::header_size(w) + (payload.size() + w - 1) / w * w, 0xFF);
  flash_entry::encode_header(bytes, w, id, sequence, payload);
  std::copy(payload.begin(), payload.end(), bytes.begin() + flash_entry::header_size(w));
  ASSERT_TRUE(flash.program(offset, bytes).ok());
}

TEST(FlashRecordStore, SequenceWrapsAround) {
  const size_t slot = 2 * kSmall.sector_size;  // one slot = 2 sectors
  {
    SimNorFlash flash(kSmall);
    put_entry(flash, 0, RecordId::license, 0xFFFFFFFFu, pattern(10, 1));
    put_entry(flash, slot, RecordId::license, 0, pattern(10, 2));  // wrapped: newer
    FlashRecordStore store(flash, kSmallLayout);
    EXPECT_EQ(read_value(store, RecordId::license), pattern(10, 2));
  }
  {
    SimNorFlash flash(kSmall);
    put_entry(flash, 0, RecordId::license, 0, pattern(10, 2));
    put_entry(flash, slot, RecordId::license, 0xFFFFFFFFu, pattern(10, 1));
    FlashRecordStore store(flash, kSmallLayout);
    EXPECT_EQ(read_value(store, RecordId::license), pattern(10, 2));
  }
  {
    // The store itself wraps: it writes past 0xFFFFFFFF and keeps the order.
    SimNorFlash flash(kSmall);
    put_entry(flash, 0, RecordId::license, 0xFFFFFFFEu, pattern(10, 1));
    FlashRecordStore store(flash, kSmallLayout);
    for (uint32_t i = 0; i < 40; ++i) {
      ASSERT_TRUE(store.write(RecordId::license, pattern(100, 10 + i)).ok());
      ASSERT_EQ(read_value(store, RecordId::license), pattern(100, 10 + i)) << i;
    }
  }
}

TEST(FlashRecordStore, EntryOfAnotherRecordIsIgnored) {
  SimNorFlash flash(kSmall);
  put_entry(flash, 0, RecordId::grace, 5, pattern(10, 1));  // in license's slot
  FlashRecordStore store(flash, kSmallLayout);
  std::vector<uint8_t> buffer(300);
  EXPECT_TRUE(is_corrupt(store.read(RecordId::license, buffer).status()));
}

// The crucial property: a power cut at every single flash operation of a
// scripted history, on two geometries.
struct SweepCase {
  NorGeometry geometry;
  FlashLayout layout;
  std::vector<size_t> sizes;
};

void sweep_every_operation(const SweepCase& c) {
  const auto script = test::make_script(c.sizes, 6);
  uint64_t total = 0;
  {
    SimNorFlash flash(c.geometry);
    FlashRecordStore store(flash, c.layout);
    ASSERT_EQ(test::run_script(store, script), script.size());
    total = flash.operations();
  }
  ASSERT_GT(total, script.size());
  std::printf("[ sweep    ] %llu flash operations, each one cut\n", static_cast<unsigned long long>(total));
  for (uint64_t cut = 0; cut <= total; ++cut) {
    SimNorFlash flash(c.geometry, cut);
    flash.cut_power_after(cut);
    size_t failed;
    {
      FlashRecordStore store(flash, c.layout);
      failed = test::run_script(store, script);
    }
    ASSERT_EQ(failed == script.size(), cut == total) << "cut " << cut;
    flash.restore_power();
    FlashRecordStore rebooted(flash, c.layout);
    ASSERT_TRUE(holds_previous_or_new(rebooted, script, failed, true)) << "cut " << cut;
    ASSERT_TRUE(test::writes_after_recovery(rebooted, static_cast<uint32_t>(cut)))
        << "cut " << cut;
  }
}

TEST(FlashRecordStore, PowerCutAtEveryOperationKeepsPreviousOrNew) {
  sweep_every_operation({kSmall, kSmallLayout, {0, 1, 17, 300, 64, 5, 123}});
}

TEST(FlashRecordStore, PowerCutAtEveryOperationWideWords) {
  // 16-byte program unit (STM32-style quad words), one-sector slots.
  sweep_every_operation({NorGeometry{512, 16, 10}, FlashLayout{0, 5, 200}, {3, 200, 0, 40, 99}});
}

// A stored value that holds bytes shaped like a committed entry of its own
// record (a newer sequence, both CRCs, a zero commit word): a power cut in
// the middle of writing it must still leave the old value or the new one,
// never the forged entry's 10 bytes. Found by fuzz/flash_store_fuzz.cpp
// (fuzz/findings/flash_store-payload-read-as-entry): the payload used to be
// programmed before its header, and the reader resynchronised into it.
TEST(FlashRecordStore, AValueShapedLikeAnEntryIsNeverReadAsOneAfterACut) {
  const size_t w = kSmall.word_size;
  const std::vector<uint8_t> forged_value(10, 0x00);
  std::vector<uint8_t> forged(flash_entry::header_size(w));
  flash_entry::encode_header(forged, w, RecordId::license, 1000, forged_value);
  forged.insert(forged.end(), forged_value.begin(), forged_value.end());
  std::vector<uint8_t> value = pattern(8, 7);  // the forged entry sits word-aligned in the slot
  value.insert(value.end(), forged.begin(), forged.end());
  while (value.size() % w != 0) value.push_back(0x5A);
  value.insert(value.end(), 20, 0x11);
  const std::vector<uint8_t> old_value = pattern(40, 3);

  uint64_t before = 0, after = 0;
  {
    SimNorFlash flash(kSmall);
    FlashRecordStore store(flash, kSmallLayout);
    ASSERT_TRUE(store.write(RecordId::license, old_value).ok());
    before = flash.operations();
    ASSERT_TRUE(store.write(RecordId::license, value).ok());
    after = flash.operations();
    EXPECT_EQ(read_value(store, RecordId::license), value);
  }
  for (uint64_t cut = before; cut < after; ++cut) {
    SimNorFlash flash(kSmall, cut);
    {
      FlashRecordStore store(flash, kSmallLayout);
      ASSERT_TRUE(store.write(RecordId::license, old_value).ok());
    }
    flash.cut_power_after(cut - before);
    {
      FlashRecordStore store(flash, kSmallLayout);
      (void)store.write(RecordId::license, value);
    }
    flash.restore_power();
    FlashRecordStore rebooted(flash, kSmallLayout);
    const std::vector<uint8_t> got = read_value(rebooted, RecordId::license);
    EXPECT_TRUE(got == old_value || got == value) << "cut after " << cut - before << " operations: read "
                                                  << got.size() << " bytes";
  }
}

// Cuts again while recovering from a cut: random points over a long
// history, with a check after every reboot.
TEST(FlashRecordStore, RepeatedRandomCutsNeverLoseACommittedValue) {
  std::mt19937 rng(2024);
  SimNorFlash flash(kSmall, 99);
  std::vector<std::optional<std::vector<uint8_t>>> committed(5);
  std::vector<uint8_t> buffer(300);
  for (int round = 0; round < 400; ++round) {
    flash.cut_power_after(rng() % 400);
    FlashRecordStore store(flash, kSmallLayout);
    for (uint32_t i = 0;; ++i) {
      const auto id = static_cast<RecordId>(rng() % 5);
      const auto value = pattern(rng() % 301, static_cast<uint32_t>(round * 1000 + i));
      if (!store.write(id, value).ok()) {
        flash.restore_power();
        FlashRecordStore rebooted(flash, kSmallLayout);
        Result<size_t> got = rebooted.read(id, buffer);
        const auto& previous = committed[static_cast<size_t>(id)];
        if (got.ok()) {
          std::vector<uint8_t> now(buffer.begin(), buffer.begin() + *got);
          ASSERT_TRUE(now == value || (previous && now == *previous)) << "round " << round;
          committed[static_cast<size_t>(id)] = now;  // what the device now holds
        } else {
          ASSERT_FALSE(previous.has_value()) << "round " << round;
        }
        break;
      }
      committed[static_cast<size_t>(id)] = value;
    }
    FlashRecordStore check(flash, kSmallLayout);
    for (size_t r = 0; r < 5; ++r) {
      if (!committed[r]) continue;
      EXPECT_EQ(read_value(check, static_cast<RecordId>(r)), *committed[r]) << "round " << round;
    }
  }
}

TEST(FlashRecordStore, ImageBackedStatePersistsAcrossRuns) {
  test::TempDir dir;
  const std::string image = dir.file("nor.img");
  {
    SimNorFlash flash(kSmall);
    ASSERT_TRUE(flash.attach_image(image.c_str()).ok());
    FlashRecordStore store(flash, kSmallLayout);
    ASSERT_TRUE(store.write(RecordId::boot, pattern(4, 77)).ok());
  }
  SimNorFlash flash(kSmall);
  ASSERT_TRUE(flash.attach_image(image.c_str()).ok());
  FlashRecordStore store(flash, kSmallLayout);
  EXPECT_EQ(read_value(store, RecordId::boot), pattern(4, 77));
}

// A measurement, not a requirement: erase cycles per write for the grace
// checkpoint on a 4 KiB-sector part, which bounds the flash lifetime.
TEST(FlashRecordStore, WearFigure) {
  const NorGeometry part{4096, 4, 10};
  SimNorFlash flash(part);
  FlashRecordStore store(flash, FlashLayout{0, 5, 4096 - flash_entry::header_size(4)});
  constexpr int kWrites = 2000;
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_TRUE(store.write(RecordId::grace, pattern(64, static_cast<uint32_t>(i))).ok());
  }
  uint32_t worst = 0;
  for (size_t s = 0; s < part.sector_count; ++s) worst = std::max(worst, flash.erase_count(s));
  const double per_write = static_cast<double>(flash.total_erases()) / kWrites;
  std::printf("[ wear     ] 64-byte record, 4 KiB sectors: %.4f erases/write, "
              "worst sector %u erases after %d writes (%.0f writes per 100k-cycle sector)\n",
              per_write, worst, kWrites, 100000.0 * kWrites / std::max(worst, 1u));
  RecordProperty("erases_per_write", std::to_string(per_write));
  EXPECT_EQ(read_value(store, RecordId::grace), pattern(64, kWrites - 1));
}

}  // namespace
}  // namespace sublink

namespace sublink {
namespace {

// What grace_checkpoint_s (default 60 s) costs the board's NOR flash: a day
// of grace is 1440 writes of the grace record. Measured on the mps2-an385
// layout (4 KiB sectors, one sector per slot) and the simulation's (three
// sectors per slot): the most-erased sector's erases per day, and the years
// of uninterrupted grace to reach a typical 100,000-cycle endurance.
TEST(FlashRecordStore, GraceCheckpointsEveryMinuteWearTheFlashForDecadesNotYears) {
  struct Board {
    const char* name;
    NorGeometry geometry;
    FlashLayout layout;
  };
  const Board boards[] = {{"mps2-an385", {4096, 4, 32}, {0, 5, 4096 - 32}}, {"sim", {4096, 4, 64}, {0, 5, 8192}}};
  for (const Board& b : boards) {
    SimNorFlash flash(b.geometry);
    FlashRecordStore store(flash, b.layout);
    ASSERT_TRUE(store.layout_status().ok());
    std::vector<uint8_t> record(kGraceRecordSize, 0x5A);
    const int writes_per_day = 24 * 60;  // one per grace_checkpoint_s of 60 s
    const int days = 10;
    for (int i = 0; i < writes_per_day * days; ++i) {
      record[0] = static_cast<uint8_t>(i);
      ASSERT_TRUE(store.write(RecordId::grace, record).ok());
    }
    uint32_t worst = 0;
    for (size_t s = 0; s < b.geometry.sector_count; ++s) worst = std::max(worst, flash.erase_count(s));
    const double per_day = static_cast<double>(worst) / days;
    const double years = 100000.0 / per_day / 365.0;
    std::printf("[ wear     ] %s: grace record %zu bytes, %d writes a day: %.1f erases a day on the most-worn "
                "sector, 100k cycles in %.0f years of uninterrupted grace\n",
                b.name, kGraceRecordSize, writes_per_day, per_day, years);
    EXPECT_GE(years, 10.0) << b.name;
  }
}

}  // namespace
}  // namespace sublink
