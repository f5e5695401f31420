// The A/B record store on NOR flash (hal/flash) over an arbitrary flash
// image: whatever the cells hold (torn entries, flipped bits, foreign data,
// forged headers), then one write, uncut on one copy of the image and cut
// by a power loss at an input-chosen operation on another. Input: the image
// (kImageBytes, 0xFF beyond the input), then the record to write, its
// length, the cut point, then the value.
//
// Invariants (hal/storage.h): a read returns a value of at most
// max_record_size or says not found / corrupt; a write on any image
// succeeds, reads back as written and changes no other record; after a
// power cut during the write the record holds its previous value or the
// new one (before a first commit: nothing, or the new one), nothing else
// changed, and the store takes the next write.
#include <cstring>
#include <optional>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "hal/flash/flash_record_store.h"
#include "hal/flash/sim_nor_flash.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

constexpr NorGeometry kGeometry{256, 4, 6};
constexpr FlashLayout kLayout{0, 3, 96};
constexpr size_t kImageBytes = 256 * 6;

// What a read said: a value, or why there is none.
struct Reading {
  bool ok = false;
  int32_t detail = 0;
  std::vector<uint8_t> value;
  bool operator==(const Reading&) const = default;
};

Reading read(FlashRecordStore& store, RecordId id) {
  uint8_t buffer[kLayout.max_record_size];
  Result<size_t> got = store.read(id, buffer);
  Reading r;
  if (got.ok()) {
    check(*got <= kLayout.max_record_size);
    r.ok = true;
    r.value.assign(buffer, buffer + *got);
  } else {
    check(is_not_found(got.status()) || is_corrupt(got.status()));
    r.detail = got.status().detail();
  }
  return r;
}

void load(SimNorFlash& flash, std::span<const uint8_t> image) {
  std::span<uint8_t> cells = flash.raw();
  std::memset(cells.data(), 0xFF, cells.size());
  std::memcpy(cells.data(), image.data(), image.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t image_size = size < kImageBytes ? size : kImageBytes;
  const std::span<const uint8_t> image(data, image_size);
  std::span<const uint8_t> rest(data + image_size, size - image_size);
  const auto target = static_cast<RecordId>(rest.empty() ? 0 : rest[0] % kLayout.record_count);
  const size_t length = rest.size() < 2 ? 5 : rest[1] % (kLayout.max_record_size + 1);
  const uint32_t cut = rest.size() < 3 ? 0 : rest[2];
  std::vector<uint8_t> value(length);
  for (size_t i = 0; i < length; ++i) value[i] = rest.size() > 3 + i ? rest[3 + i] : static_cast<uint8_t>(i * 37);

  SimNorFlash flash(kGeometry);
  load(flash, image);
  FlashRecordStore store(flash, kLayout);
  check(store.layout_status().ok());
  Reading before[kLayout.record_count];
  for (size_t id = 0; id < kLayout.record_count; ++id) {
    before[id] = read(store, static_cast<RecordId>(id));
    check(read(store, static_cast<RecordId>(id)) == before[id]);  // reading changes nothing
  }

  // Uncut: the write succeeds, reads back, and touches no other record.
  const uint64_t ops_before = flash.operations();
  check(store.write(target, value).ok());
  const uint64_t ops = flash.operations() - ops_before;
  for (size_t id = 0; id < kLayout.record_count; ++id) {
    Reading now = read(store, static_cast<RecordId>(id));
    if (id == static_cast<size_t>(target)) {
      check(now.ok && now.value == value);
    } else {
      check(now == before[id]);
    }
  }

  // Cut: power goes at an operation of the same write on the same image.
  SimNorFlash cut_flash(kGeometry, cut + 1);
  load(cut_flash, image);
  FlashRecordStore cut_store(cut_flash, kLayout);
  for (size_t id = 0; id < kLayout.record_count; ++id) (void)read(cut_store, static_cast<RecordId>(id));
  cut_flash.cut_power_after(cut % (ops + 1));
  const bool completed = cut_store.write(target, value).ok();
  cut_flash.restore_power();
  FlashRecordStore rebooted(cut_flash, kLayout);
  for (size_t id = 0; id < kLayout.record_count; ++id) {
    Reading now = read(rebooted, static_cast<RecordId>(id));
    if (id != static_cast<size_t>(target)) {
      check(now == before[id]);
    } else if (completed) {
      check(now.ok && now.value == value);
    } else if (before[id].ok) {
      check((now.ok && now.value == value) || now == before[id]);
    } else {
      // Nothing committed yet: a first write cut before its commit may
      // also read as corrupt (Reason::storage_corrupt says so).
      check((now.ok && now.value == value) || !now.ok);
    }
  }
  check(rebooted.write(target, value).ok());
  Reading last = read(rebooted, target);
  check(last.ok && last.value == value);
  return 0;
}
