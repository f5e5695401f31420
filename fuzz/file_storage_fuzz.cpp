// File storage (hal/linux/file_storage) under power loss, on the in-memory
// file system of tests/storage/crash_file_ops.h that keeps only what a
// journaling file system promises. The input is a history: writes (record,
// size, content), power cuts at any syscall or written byte with any of the
// four survivor models, reboots, and damaged generation files whose bytes
// come from the input.
//
// Invariants (hal/storage.h): after every power cut each record reads as its
// last committed value or, for the record being written, the new one; never
// a mix, never nothing once a value was committed; a write after recovery
// succeeds and reads back. A damaged file makes a read return a value of at
// most max_record_size, or not found / corrupt, never a crash, and the
// record takes the next write.
#include <map>
#include <optional>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "hal/linux/file_storage.h"
#include "storage/crash_file_ops.h"

using namespace sublink;
using sublink::fuzz::check;
using sublink::test::CrashFileOps;

namespace {

constexpr size_t kMaxRecord = 64;
constexpr const char* kRoot = "/var";
constexpr const char* kDir = "/var/state";

// Takes input bytes in order; zeros once they run out.
struct Input {
  const uint8_t* data;
  size_t size;
  size_t at = 0;
  bool empty() const { return at >= size; }
  uint8_t byte() { return at < size ? data[at++] : 0; }
};

std::optional<std::vector<uint8_t>> read(FileStorage& storage, RecordId id) {
  uint8_t buffer[kMaxRecord];
  Result<size_t> got = storage.read(id, buffer);
  if (!got.ok()) {
    check(is_not_found(got.status()) || is_corrupt(got.status()));
    return std::nullopt;
  }
  check(*got <= kMaxRecord);
  return std::vector<uint8_t>(buffer, buffer + *got);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  CrashFileOps fs(kRoot);
  std::map<int, std::vector<uint8_t>> committed;  // record -> last value whose write returned Ok
  for (int round = 0; round < 8 && !in.empty(); ++round) {
    const uint8_t command = in.byte();
    if (command % 4 == 3) {
      // A damaged generation file: its bytes come from the input.
      const auto id = static_cast<RecordId>(in.byte() % 6);
      std::vector<uint8_t> content(in.byte() % 96);
      for (uint8_t& b : content) b = in.byte();
      fs.put_file(std::string(kDir) + "/" + record_name(id) + ((command & 4) ? ".b" : ".a"), content);
      FileStorage storage(fs, kDir, kMaxRecord);
      if (!storage.open().ok()) continue;
      (void)read(storage, id);
      // Nothing is known about the record any more but what the next write puts there.
      std::vector<uint8_t> value(in.byte() % (kMaxRecord + 1), command);
      check(storage.write(id, value).ok());
      check(read(storage, id) == value);
      committed[static_cast<int>(id)] = value;
      continue;
    }
    // A run of writes cut by a power loss after `cut` operations.
    const uint32_t cut = in.byte() | (in.byte() << 8);
    const auto survivor = static_cast<CrashFileOps::Survivor>(command % 4 == 0 ? (command >> 2) % 4 : command % 4);
    fs.cut_power_after(cut);
    std::optional<int> in_flight;
    std::vector<uint8_t> in_flight_value;
    {
      FileStorage storage(fs, kDir, kMaxRecord);
      if (storage.open().ok()) {
        const size_t writes = 1 + in.byte() % 8;
        for (size_t w = 0; w < writes; ++w) {
          const int id = in.byte() % 6;
          std::vector<uint8_t> value(in.byte() % (kMaxRecord + 1));
          const uint8_t seed = in.byte();
          for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<uint8_t>(seed + i * 13 + round);
          if (storage.write(static_cast<RecordId>(id), value).ok()) {
            committed[id] = value;
          } else {
            check(fs.power_lost());
            in_flight = id;
            in_flight_value = value;
            break;
          }
        }
      } else {
        check(fs.power_lost());
      }
    }
    fs.cut_power_after(UINT64_MAX);
    fs.reboot(survivor);
    FileStorage rebooted(fs, kDir, kMaxRecord);
    check(rebooted.open().ok());
    for (int id = 0; id < 6; ++id) {
      const std::optional<std::vector<uint8_t>> got = read(rebooted, static_cast<RecordId>(id));
      const auto previous = committed.find(id);
      const bool was_committed = previous != committed.end();
      if (in_flight == id && got == in_flight_value) {
        committed[id] = in_flight_value;  // the cut write made it
        continue;
      }
      if (was_committed) {
        check(got == previous->second);
      } else {
        check(!got.has_value());
      }
    }
    // Recovery: the next write goes through.
    const int id = in.byte() % 6;
    std::vector<uint8_t> value(in.byte() % (kMaxRecord + 1), static_cast<uint8_t>(round));
    check(rebooted.write(static_cast<RecordId>(id), value).ok());
    check(read(rebooted, static_cast<RecordId>(id)) == value);
    committed[id] = value;
  }
  return 0;
}
